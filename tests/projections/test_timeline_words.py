"""Timelines and exports people read: Chinese throughout in Chinese, and a profile
update shows each changed field's old → new value (``ProfileUpdated`` v2 records the
old values; release 0.1's events, which did not, still read ``field → new``)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spreadsheet_support import (  # noqa: F401
    each_store,
    memory_ledger,
    postgres_database,
    postgres_url_factory,
)
from strategies import at
from v1_fixture import v1_stored_events

from customer_ledger import Contact, CustomerLedger
from customer_ledger.domain.customer import PERSONAL_PROFILE_FIELDS, Customer
from customer_ledger.formats.spreadsheets.exports import ExportRequest, export
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.projections.timeline import PROFILE_FIELDS_ZH, describe
from customer_ledger.storage.mapper import CattrsMapper

PUBLIC_FIELDS = sorted(set(PROFILE_FIELDS_ZH) - PERSONAL_PROFILE_FIELDS - {"type"})
VALUES = st.sampled_from(["电商", "制造业", "杭州市", "50-100人", "展会", None])


def a_company(ledger: CustomerLedger) -> CustomerLedger:
    ledger.first_contact("A001", name="*科技有限公司", type="company", industry="制造业",
                         occurred_at=at(0))  # fmt: skip
    return ledger


def summaries(ledger: CustomerLedger) -> list[tuple[str, str]]:
    return [(e.summary_en, e.summary_zh) for e in ledger.timeline("A001").items]


def test_an_update_shows_old_and_new_values_in_both_languages() -> None:
    # given a company in 制造业 with no region
    ledger = a_company(memory_ledger())
    # when its industry and region change
    ledger.update_profile("A001", changes={"industry": "电商", "region": "杭州市"},
                          occurred_at=at(1))  # fmt: skip
    # then its timeline names each field with its old and new value
    assert summaries(ledger)[-1] == (
        "Profile updated: industry 制造业 → 电商, region (none) → 杭州市",
        "档案更新：行业 制造业 → 电商，地区 （空） → 杭州市",
    )


def test_a_type_change_reads_in_the_records_words_and_personal_fields_by_name_alone() -> None:
    ledger = memory_ledger()
    ledger.first_contact("A001", name="王先生", type="individual", occurred_at=at(0))
    ledger.update_profile("A001", changes={"type": "company", "name": "王氏商行"},
                          occurred_at=at(1))  # fmt: skip
    en, zh = summaries(ledger)[-1]
    assert zh == "档案更新：客户名称，客户类型 个人 → 企业"
    assert en == "Profile updated: name, type individual → company"
    assert "王" not in en + zh  # an individual's name is personal: never quoted


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(PUBLIC_FIELDS), VALUES, min_size=1), max_size=4))
def test_each_update_shows_the_values_it_replaced(updates: list[dict[str, Any]]) -> None:
    # given a company and a run of profile updates
    ledger = a_company(memory_ledger())
    shown: dict[str, Any] = {"industry": "制造业"}
    for day, update in enumerate(updates, start=1):
        changed = {k: v for k, v in update.items() if shown.get(k) != v}
        if not changed:
            continue
        ledger.update_profile("A001", changes=update, occurred_at=at(day))
        # then the entry's Chinese names each changed field in Chinese, old → new
        zh = summaries(ledger)[-1][1]
        for field, new in changed.items():
            old = shown.get(field)
            assert f"{PROFILE_FIELDS_ZH[field]} {old or '（空）'} → {new or '（空）'}" in zh
        assert not re.search(r"[a-z_]{4,}", zh), zh  # no English field name in Chinese
        shown.update(changed)


def test_release_0_1s_updates_decode_without_old_values_and_read_as_before() -> None:
    (stored,) = [s for s in v1_stored_events() if s.topic.endswith(".ProfileUpdated")]
    event: Any = CattrsMapper().to_domain_event(stored)
    assert type(event) is Customer.ProfileUpdated and event.previous is None  # type: ignore[attr-defined]
    assert describe(event) == (
        "Profile updated: region → 上海市, size → (none)",
        "档案更新：地区 → 上海市，规模 → （空）",
    )


def test_the_timeline_rebuilt_equals_the_timeline_kept_live(
    each_store: CustomerLedger,  # noqa: F811 - the fixture
) -> None:
    # given updates recorded while the timeline was kept live
    ledger = a_company(each_store)
    ledger.update_profile("A001", changes={"industry": "电商"}, occurred_at=at(1))
    ledger.update_profile("A001", changes={"industry": "零售", "size": "50-100人"},
                          occurred_at=at(2))  # fmt: skip
    live = ledger.timeline("A001").items
    # when the timeline is rebuilt from the log
    ledger.rebuild(["timeline"])
    # then it is the same, old → new values and all
    assert ledger.timeline("A001").items == live
    assert live[-1].summary_zh == "档案更新：行业 电商 → 零售，规模 （空） → 50-100人"


def exported(
    ledger: CustomerLedger, source: str, lang: Lang = Lang.ZH
) -> dict[str, dict[str, str]]:
    out = io.BytesIO()
    export(ledger, source, out, request=ExportRequest(as_of=ledger.clock(), lang=lang))
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    return {row[1] if source == "analytics" else row[0]: dict(zip(rows[0], row, strict=True))
            for row in rows[1:]}  # fmt: skip


def test_the_profile_export_keeps_every_contact_and_revenue_in_each_currency() -> None:
    # given a company with two contacts and purchases in two currencies
    ledger = a_company(memory_ledger())
    zhang = Contact("c1", "张三", title="经理", phone="13812345678", primary=True)
    li = Contact("c2", "李四", title="总监", phone="(010) 8765-4321", email="lisi@xyz.com")
    ledger.add_contact("A001", contact=zhang, occurred_at=at(1))
    ledger.add_contact("A001", contact=li, occurred_at=at(1))
    ledger.record_purchase("A001", product="A", amount="1000", occurred_at=at(2))
    ledger.record_purchase("A001", product="B", amount="50.5", currency="USD", occurred_at=at(3))
    # when the profiles are exported in Chinese and in English
    zh, en = exported(ledger, "profiles")["A001"], exported(ledger, "profiles", Lang.EN)["A001"]
    # then the second contact is there too (masked), and revenue is totalled per currency
    assert (zh["主要联系人"], zh["电话"]) == ("张三", "138****5678")
    assert zh["其他联系人"] == "李四（总监），010****4321，l***@xyz.com"
    assert en["other contacts"] == "李四 (总监), 010****4321, l***@xyz.com"
    assert (zh["历史交易金额"], zh["各币种交易金额"]) == ("1000", "1000 CNY；50.5 USD")
    assert en["revenue by currency"] == "1000 CNY; 50.5 USD"


def test_the_chinese_analytics_export_gives_risk_reasons_in_chinese(tmp_path: Path) -> None:
    # given a customer with an open complaint and a low score
    ledger = a_company(memory_ledger())
    ledger.file_complaint("A001", complaint="K1", subject="物流延迟", occurred_at=at(1))
    ledger.rate_satisfaction("A001", score=1, occurred_at=at(2))
    # when analytics are exported in Chinese
    reasons = exported(ledger, "analytics")["A001"]["风险原因"]
    # then each reason is Chinese, label and detail
    assert "投诉未解决：投诉 K1（物流延迟）自" in reasons and "起未解决" in reasons
    assert "满意度低：最近满意度 1/5" in reasons
    assert not re.search(r"[A-Za-z]{3,}", reasons.replace("K1", "")), reasons


@pytest.mark.parametrize("lang", [Lang.ZH, Lang.EN])
def test_the_timeline_export_carries_the_update_summaries(lang: Lang) -> None:
    ledger = a_company(memory_ledger())
    ledger.update_profile("A001", changes={"industry": "电商"}, occurred_at=at(1))
    out = io.BytesIO()
    export(ledger, "timeline", out, request=ExportRequest(as_of=ledger.clock(), lang=lang))
    text = out.getvalue().decode("utf-8-sig")
    assert ("行业 制造业 → 电商" if lang is Lang.ZH else "industry 制造业 → 电商") in text
