"""A sales team's day on the pages, over HTTP: what is due leads to the form that does
it, filled in; each row of a customer's file offers what the role may do with it; the
list, the reminders, the audit log and the charts read in Chinese."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from test_pages import register_with_a_bad_row
from web_support import ROOT, csrf_of, log_in

from customer_ledger import CustomerLedger
from customer_ledger.cli import demo
from customer_ledger.formats.jsonl import parse_command


@pytest.fixture
def store_url() -> str:
    """What the pages offer does not depend on the store: the memory one only."""
    return "memory://"


@pytest.fixture
def day(ledger: CustomerLedger) -> CustomerLedger:
    """The demo customers, with a scheduled reminder and an open complaint on C003."""
    demo.record(ledger, actor=ROOT)
    for line in (
        {"command": "schedule_reminder", "customer": "C003", "reminder": "R1",
         "subject": "寄送案例", "due_on": "2024-08-01"},
        {"command": "file_complaint", "customer": "C003", "complaint": "K7",
         "subject": "演示推迟", "occurred_at": "2024-05-20"},
    ):  # fmt: skip
        parse_command(line, actor=ROOT).run(ledger)
    return ledger


def links(html: str) -> list[str]:
    return [a.replace("&amp;", "&") for a in re.findall(r'<a class="act" href="([^"]+)"', html)]


def test_each_row_of_a_customer_offers_what_the_role_may_do_with_it(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    log_in(site, "service")
    offered = links(site.get("/customers/C003").text)
    assert "/customers/C003/do/resolve_complaint?complaint=K7" in offered
    assert "/customers/C003/do/complete_reminder?reminder=R1" in offered
    assert "/customers/C003/do/update_contact?contact_id=C003-1" in offered
    with TestClient(site.app) as sales:
        log_in(sales, "sales")  # sales may not resolve a complaint nor terminate a contract
        theirs = links(sales.get("/customers/C003").text)
        assert not [a for a in theirs if "resolve_complaint" in a]
        a001 = links(sales.get("/customers/A001").text)
        assert "/customers/A001/do/renew_contract?contract=A001-2023-08-15" in a001
        assert not [a for a in a001 if "terminate_contract" in a]


def test_an_offered_action_opens_its_form_filled_in_and_records_once(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    csrf = log_in(site, "service")
    form = site.get("/customers/C003/do/resolve_complaint?complaint=K7").text
    assert re.search(r'<input id="f-complaint" name="complaint" value="K7"', form)
    command_id = re.search(r'name="command_id" value="([^"]+)"', form)
    assert command_id
    sent = {"csrf_token": csrf_of(form) or csrf, "command_id": command_id.group(1),
            "complaint": "K7", "resolution": "已改期演示", "satisfaction": "4"}  # fmt: skip
    done = site.post("/customers/C003/do/resolve_complaint", data=sent)
    assert done.url.path == "/customers/C003" and "done=recorded" in str(done.url)
    assert not [a for a in links(done.text) if "resolve_complaint" in a]  # resolved now
    assert [c.status.value for c in day.profile("C003", actor="service").complaints] == ["resolved"]


def test_what_is_due_leads_to_the_form_that_does_it(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    log_in(site, "sales")
    due = site.get("/reminders?as_of=2024-07-20&within_days=30").text
    rows = due.split("<tbody>")[1]
    assert "合同 A001-2023-08-15 到期" in rows  # the ledger's words, in Chinese
    assert "/customers/A001/do/renew_contract?contract=A001-2023-08-15" in rows
    assert "/customers/C003/do/complete_reminder?reminder=R1" in rows
    english = site.get("/reminders?as_of=2024-07-20&within_days=30&lang=en").text
    assert "contract A001-2023-08-15 expires" in english
    with TestClient(site.app) as auditor:
        log_in(auditor, "auditor")  # may do none of it: no links
        theirs = auditor.get("/reminders?as_of=2024-07-20&within_days=30").text
        assert "/do/" not in theirs.split("<tbody>")[1]


def test_a_customer_page_puts_the_days_commonest_records_first(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    log_in(site, "sales")
    head = site.get("/customers/C003").text.split('<div class="columns">')[0]
    assert re.findall(r'href="/customers/C003/do/(\w+)"', head) == [
        "log_interaction", "schedule_reminder",
    ]  # fmt: skip
    with TestClient(site.app) as auditor:
        log_in(auditor, "auditor")
        head = auditor.get("/customers/C003").text.split('<div class="columns">')[0]
        assert "/do/" not in head and "/replay" in head


def test_a_grade_is_chosen_from_the_grades_and_cleared_by_the_empty_choice(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    csrf = log_in(site, "manager")
    form = site.get("/customers/C003/do/assign_grade").text
    choice = re.search(r'<select id="f-grade" name="grade"[^>]*>(.*?)</select>', form, re.S)
    assert choice and re.findall(r'<option value="(\w*)"', choice.group(1)) == ["", "A", "B", "C"]
    for grade, command_id, expected in (("A", "t:a", "A"), ("", "t:clear", None)):
        sent = {"csrf_token": csrf, "command_id": command_id, "grade": grade}
        assert "done=recorded" in str(site.post("/customers/C003/do/assign_grade", data=sent).url)
        profile = day.profile("C003", actor="manager")
        assert (profile.grade.value if profile.grade else None) == expected


def test_the_list_audit_and_charts_read_in_chinese(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    log_in(site, "admin")
    sort = site.get("/customers").text.split('id="f-sort"')[1].split("</select>")[0]
    assert re.findall(r">([^<]+)</option>", sort) == [
        "编号", "姓名", "阶段", "营收", "最近互动", "首次接触",
    ]  # fmt: skip
    audit = site.get("/audit?number=C003").text
    assert "投诉 K7：演示推迟" in audit and "<td>修改</td>" in audit
    assert "complaint K7" not in audit.lower()
    charts = site.get("/analytics?as_of=2024-07-20").text
    funnel = charts.split('id="chart-funnel"')[1].split("</section>")[0]
    assert "线索" in funnel and "各生命周期阶段的客户数" in funnel and ">lead<" not in funnel
    english = site.get("/analytics?as_of=2024-07-20&lang=en").text
    assert "customers per lifecycle stage" in english


def test_a_form_that_replaces_a_whole_contact_says_so_before_it_is_sent(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    log_in(site, "sales")
    chinese = site.get("/customers/C003/do/update_contact?contact_id=C003-1").text
    assert re.search(r'<p class="warn" role="note" id="note">整条联系人信息会被替换', chinese)
    english = site.get("/customers/C003/do/update_contact?contact_id=C003-1&lang=en").text
    assert "Replaces the whole contact" in english
    assert 'id="note"' not in site.get("/customers/C003/do/log_interaction").text


def test_an_import_tells_the_format_by_the_files_name_and_takes_only_known_layouts(
    site: TestClient[Any], day: CustomerLedger
) -> None:
    csrf = log_in(site, "manager")
    form = site.get("/import").text
    choice = form.split('id="i-layout"')[1].split("</select>")[0]
    layouts = re.findall(r'<option value="(\w+)"', choice)
    assert layouts == ["auto", "register", "worksheet"] and "按表头自动识别" in form
    sheet = {"file": ("register.csv", register_with_a_bad_row(), "text/csv")}
    dry = site.post("/import", data={"csrf_token": csrf}, files=sheet)  # format: by its name
    assert dry.status_code == 200 and 'name="format" value="csv"' in dry.text
    before = sorted(day.numbers())
    for data, name in (
        ({"csrf_token": csrf}, "register.txt"),
        ({"csrf_token": csrf, "format": "csv", "layout": "ledger"}, "register.csv"),
    ):
        refused = site.post("/import", data=data, files={"file": (name, b"x", "text/plain")})
        assert refused.status_code == 422 and 'data-rule="invalid_value"' in refused.text
    assert sorted(day.numbers()) == before
