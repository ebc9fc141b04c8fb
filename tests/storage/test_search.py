"""Search that finds people and history, without personal data in clear (docs/storage.md).

Given customers with contacts (names, phones in the forms people write them, e-mail,
WeChat) and a history of interactions and complaints, on memory, SQLite and
PostgreSQL, when a person searches by part of a contact's name, a phone in another
spelling, an e-mail in another case, or words of an interaction, then the customers
found are exactly those a plaintext search over the decrypted profiles finds; the
stores hold only HMACs of the personal values; a forgotten customer is no longer
found by them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability.support import store_url

from customer_ledger import Contact, CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.privacy.keys import MASTER_KEY_ENV
from customer_ledger.projections.search import fold, personal_terms, query_groups

ADMIN = Actor("admin-1", "admin")
PEOPLE = [
    # number, company, contact, phone, e-mail, WeChat, what was discussed
    ("K001", "华东物流有限公司", "张三丰", "138 1234 5678", "zhang.sf@hd-logistics.cn", "zsf_88", "续约谈判"),  # noqa: E501
    ("K002", "明德科技有限公司", "李四", "(0512) 6666-1234 转 808", "LISI@MINGDE.COM", "lisi-md", "报价单确认"),  # noqa: E501
    ("K003", "恒通贸易公司", "王五", "+86 139-8765-4321", "wangwu@ht.com", "ww_trade", "投诉物流延迟"),  # noqa: E501
    ("K004", "张氏餐饮", "张伟", "0755 8888 9999", "zhangwei@zs.com", "zw2024", "delivery schedule"),  # noqa: E501
]  # fmt: skip


def record_people(ledger: CustomerLedger) -> None:
    for number, company, name, phone, email, wechat, topic in PEOPLE:
        ledger.first_contact(number, name=company, type="company", actor=ADMIN)
        contact = Contact("c1", name, phone=phone, email=email, wechat=wechat)
        ledger.add_contact(number, contact=contact, actor=ADMIN)
        ledger.log_interaction(number, channel="phone", topic=topic, actor=ADMIN)
    ledger.first_contact("P001", name="赵六", type="individual", actor=ADMIN)


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def people(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    backend = request.param
    url = "memory://" if backend == "memory" else store_url(backend, request, tmp_path)
    ledger = CustomerLedger.open(url)
    record_people(ledger)
    yield ledger
    ledger.close()


def plaintext_search(ledger: CustomerLedger, text: str) -> list[str]:
    """The reference: the same rules over the decrypted profiles, no HMAC, no index."""
    found = []
    needle = fold(text)
    for number in sorted(ledger.numbers()):
        profile = ledger.profile(number, actor=ADMIN, unmasked=True, why="reference")
        terms = personal_terms(profile)
        clear = fold(" ".join([profile.name] if profile.type.value == "company" else []))
        history = "".join(fold(" ".join(e.summary_en.split()) + e.summary_zh) for e in
                          ledger.timeline(number, limit=1000).items)  # fmt: skip
        shown_name = ledger.profile(number, actor=ADMIN).name.lower()
        if (
            text.lower() in shown_name
            or text.lower() in number.lower()
            or (needle and (needle in clear or needle in history))
            or any(group and group <= terms for group in query_groups(text))
        ):
            found.append(number)
    return found


def found(ledger: CustomerLedger, text: str) -> list[str]:
    return [p.number for p in ledger.search(text=text, actor=ADMIN, limit=100).items]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("张", ["K001", "K004"]),  # a surname: the contacts' names, and a company's
        ("三丰", ["K001"]),  # part of a name
        ("张三丰", ["K001"]),
        ("13812345678", ["K001"]), ("138-1234-5678", ["K001"]),  # a phone, any spelling
        ("051266661234", ["K002"]), ("+86 13987654321", ["K003"]),
        ("lisi@mingde.com", ["K002"]), ("ZHANG.SF@HD-LOGISTICS.CN", ["K001"]),  # e-mail
        ("zsf_88", ["K001"]),  # WeChat
        ("续约", ["K001"]), ("物流", ["K001", "K003"]), ("delivery", ["K004"]),  # history
        ("赵六", ["P001"]),  # an individual's own name, masked in the listing
        ("nobody", []),
    ],
)  # fmt: skip
def test_search_finds_people_by_contacts_and_history(
    people: CustomerLedger, text: str, numbers: list[str]
) -> None:
    assert found(people, text) == numbers


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_blind_index_search_equals_a_plaintext_search(
    people: CustomerLedger, data: st.DataObject
) -> None:
    person = data.draw(st.sampled_from(PEOPLE))
    value = data.draw(st.sampled_from(person[1:]))
    start = data.draw(st.integers(0, max(0, len(value) - 2)))
    text = data.draw(st.sampled_from([value, value[start : start + 2], value.upper()]))
    if not fold(text):
        return
    assert found(people, text) == plaintext_search(people, text)


def test_no_personal_value_is_stored_in_clear_and_forgetting_removes_its_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.db"
    with CustomerLedger.open(f"sqlite:///{path}") as ledger:
        record_people(ledger)
        assert found(ledger, "张三丰") == ["K001"]
        ledger.forget("K001", actor=ADMIN, reason="the customer asked")
        assert found(ledger, "张三丰") == found(ledger, "13812345678") == []
        assert found(ledger, "续约") == ["K001"]  # the history, not personal, stays
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.suffix != ".master-key")
    for value in ("张三丰", "13812345678", "zhang.sf", "lisi@mingde", "zsf_88", "李四"):
        assert value.encode() not in data, value
    with sqlite3.connect(path) as conn:
        number = "SELECT customer_id FROM profile_live WHERE number = 'K001'"
        (k001,) = conn.execute(number).fetchone()
        keys = "SELECT count(*) FROM profile_live_keys WHERE customer_id = ?"
        assert conn.execute(keys, (k001,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM profile_live_keys").fetchone()[0] > 0


def test_a_reader_without_the_master_key_finds_by_clear_text_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)  # the key in a file beside the store
    path = tmp_path / "ledger.db"
    with CustomerLedger.open(f"sqlite:///{path}") as ledger:
        record_people(ledger)
        ledger.refresh()  # (a reader without the key cannot catch the views up)
    (tmp_path / "ledger.db.master-key").rename(tmp_path / "elsewhere")
    with CustomerLedger.open(f"sqlite:///{path}", read_only=True) as reader:
        assert found(reader, "续约") == ["K001"]
        assert found(reader, "张三丰") == []
