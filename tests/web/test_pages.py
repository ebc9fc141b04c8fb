"""The management pages over HTTP (Litestar's TestClient), on every backend: who may
see and do what, forms from the command schema, CSRF, languages, the vendored htmx.
The same behaviour in a real browser: test_pages_browser.py."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient
from web_support import ROLES, ROOT, csrf_of, first_contact, log_in, open_ledger

from customer_ledger import CustomerLedger
from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.schema import command_params
from customer_ledger.cli import demo
from customer_ledger.errors import UnknownCustomer
from customer_ledger.formats.jsonl import parse_command
from customer_ledger.web.forms import field_of, form_fields
from customer_ledger.web.i18n import COMMAND_ZH, FIELD_ZH
from customer_ledger.web.pages import CSP, HTMX, STATIC_DIR, _safe_next, pages_router
from customer_ledger.web.site import create_site

FIXTURE = Path(__file__).parent.parent / "fixtures" / "register.csv"


def register_with_a_bad_row() -> bytes:
    """The fixture register's first row as S001, and as S002 with a score of 9 (row 3)."""
    rows = list(csv.reader(io.StringIO(FIXTURE.read_text("utf-8-sig"))))
    header, good = rows[0], rows[1]
    bad = list(good)
    good[0], bad[0] = "S001", "S002"
    bad[header.index("满意度评分")] = "9"
    out = io.StringIO()
    csv.writer(out).writerows([header, good, bad])
    return out.getvalue().encode("utf-8")


def test_htmx_is_the_pinned_file_its_sums_name() -> None:
    sums = dict(
        reversed(line.split()) for line in (STATIC_DIR / "SHA256SUMS").read_text().splitlines()
    )
    assert list(sums) == [HTMX]
    assert hashlib.sha256((STATIC_DIR / HTMX).read_bytes()).hexdigest() == sums[HTMX]
    assert b'version:"2.0.10"' in (STATIC_DIR / HTMX).read_bytes()


def test_pages_need_a_login_and_say_where_to_come_back(site: TestClient[Any]) -> None:
    answer = site.get("/customers/A001?x=1", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fcustomers%2FA001%3Fx%3D1"
    assert site.get("/api/me").status_code == 401  # the API still authenticates itself


def test_a_wrong_password_shows_the_rule_and_sets_no_session(site: TestClient[Any]) -> None:
    answer = site.post("/login", data={"name": "sales", "password": "wrong password"})
    assert answer.status_code == 401 and "not_authenticated" in answer.text
    assert "customer_ledger_session" not in answer.cookies


def test_login_never_redirects_off_the_site(site: TestClient[Any]) -> None:
    for bad in ("//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/x"):
        answer = site.post(
            "/login",
            data={"name": "sales", "password": "sales password", "next": bad},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/customers", bad


@given(st.text(max_size=30))
def test_any_next_is_a_path_of_this_site(value: str) -> None:
    target = _safe_next(value)
    assert target.startswith("/") and not target.startswith("//") and "\\" not in target
    assert urlsplit(target).netloc == "" and urlsplit(target).scheme == ""


def test_every_page_has_the_policy_and_no_inline_script(site: TestClient[Any]) -> None:
    log_in(site, "admin")
    first_contact(site, csrf_of(site.get("/customers").text))
    for path in (
        "/customers", "/customers/K001", "/customers/new", "/customers/K001/replay?version=1",
        "/status", "/reminders", "/audit", "/import", "/export", "/users", "/analytics",
        "/customers/K001/do/log_interaction",
    ):  # fmt: skip
        answer = site.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", answer.text, re.S)
        assert scripts and all('src="/static/' in attrs and not body for attrs, body in scripts)
        assert not re.search(r"\son[a-z]+=", answer.text), path  # no inline handlers
        assert all(
            re.search(rf'<label for="{name}"', answer.text)
            for name in re.findall(r'<(?:input|select) id="([^"]+)"', answer.text)
        ), path


def test_chinese_first_english_on_request_and_remembered(site: TestClient[Any]) -> None:
    log_in(site, "sales")
    assert "<h1>客户</h1>" in site.get("/customers").text
    english = site.get("/customers?lang=en")
    assert "<h1>Customers</h1>" in english.text
    assert "<h1>Status board</h1>" in site.get("/status").text  # the cookie remembers
    assert "<h1>状态看板</h1>" in site.get("/status?lang=zh").text


def test_a_form_records_once_however_often_it_is_sent(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "sales")
    assert first_contact(site, csrf).url.path == "/customers/K001"
    form = site.get("/customers/K001/do/log_interaction").text
    command_id = re.search(r'name="command_id" value="([^"]+)"', form)
    assert command_id and command_id.group(1).startswith("web:")
    data = {
        "csrf_token": csrf, "command_id": command_id.group(1), "channel": "phone",
        "topic": "询价", "occurred_at": "2024-03-02",
    }  # fmt: skip
    first = site.post("/customers/K001/do/log_interaction", data=data)
    again = site.post("/customers/K001/do/log_interaction", data=data)
    assert "done=recorded" in str(first.url) and "done=replayed" in str(again.url)
    assert [type(e).__name__ for e in ledger.history("K001")] == [
        "FirstContacted", "InteractionLogged",
    ]  # fmt: skip
    assert "询价" in site.get("/customers/K001").text


def test_a_rule_error_is_shown_beside_its_field_and_records_nothing(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    answer = site.post(
        "/customers/K001/do/rate_satisfaction",
        data={"csrf_token": csrf, "command_id": "t:2", "score": "9"},
    )
    assert answer.status_code == 422
    field = re.search(r'<div class="field invalid">(.*?)</div>', answer.text, re.S)
    assert field and 'for="f-score"' in field.group(1)
    assert "satisfaction_out_of_range" in field.group(1)
    assert 'value="9"' in field.group(1) and 'value="t:2"' in answer.text  # kept, same id
    assert len(ledger.history("K001")) == 1


def test_a_post_without_the_csrf_token_is_refused_and_recorded(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    log_in(site, "sales")
    answer = first_contact(site, "forged")
    assert answer.status_code == 403 and "permission_denied" in answer.text
    with pytest.raises(UnknownCustomer):
        ledger.customer_id("K001")
    assert any(e.kind == "denied" and "/customers/new" in e.summary for e in ledger.audit_log())


def test_an_auditor_can_neither_record_nor_unmask(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    with TestClient(site.app) as admin:
        first = log_in(admin, "admin")
        first_contact(admin, first)
        admin.post(
            "/customers/K001/do/add_contact",
            data={"csrf_token": first, "command_id": "t:c", "contact_id": "K001-1",
                  "name": "王五", "phone": "13812345678"},
        )  # fmt: skip
    csrf = log_in(site, "auditor")
    page = site.get("/customers/K001").text
    assert "138****5678" in page and "13812345678" not in page
    assert 'action="/customers/K001/reveal"' not in page and "/do/" not in page
    assert 'href="/customers/new"' not in site.get("/customers").text
    refused = site.post("/customers/K001/reveal", data={"csrf_token": csrf, "why": "curious"})
    assert refused.status_code == 403 and "13812345678" not in refused.text
    write = site.post(
        "/customers/K001/do/tag", data={"csrf_token": csrf, "command_id": "a", "tag": "x"}
    )
    assert write.status_code == 403
    assert len(ledger.history("K001")) == 2
    kinds = [(e.actor, e.kind) for e in ledger.audit_log("K001")]
    assert ("auditor", "denied") in kinds


def test_show_phone_needs_a_reason_and_is_in_the_audit_log(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    site.post(
        "/customers/K001/do/add_contact",
        data={"csrf_token": csrf, "command_id": "t:c", "contact_id": "K001-1", "name": "王五",
              "phone": "13812345678"},
    )  # fmt: skip
    without = site.post("/customers/K001/reveal", data={"csrf_token": csrf, "why": ""})
    assert without.status_code == 422 and "13812345678" not in without.text
    shown = site.post("/customers/K001/reveal", data={"csrf_token": csrf, "why": "回访客户"})
    assert shown.status_code == 200 and "13812345678" in shown.text
    assert 'hx-trigger="every' not in shown.text.split('id="live"')[1][:200]  # not re-masked
    audit = site.get("/audit?number=K001").text
    assert "回访客户" in audit


def test_show_phone_from_the_page_is_one_read_however_often_the_page_is_reloaded(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    """The page's form is sent by htmx, which swaps the unmasked page in and leaves the
    address the customer's page: a reload asks for that page, masked, and records
    nothing. A refusal comes back as an error page htmx swaps in (htmx swaps no 4xx)."""
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    site.post(
        "/customers/K001/do/add_contact",
        data={"csrf_token": csrf, "command_id": "t:c", "contact_id": "K001-1", "name": "王五",
              "phone": "13812345678"},
    )  # fmt: skip
    page = site.get("/customers/K001").text
    form = re.search(r'<form [^>]*id="reveal"[^>]*>', page)
    assert form and 'hx-post="/customers/K001/reveal"' in form.group(0)
    assert 'hx-target="#main"' in form.group(0) and 'hx-select="#main"' in form.group(0)
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://testserver/customers/K001"}
    shown = site.post(
        "/customers/K001/reveal", data={"csrf_token": csrf, "why": "回访客户"}, headers=htmx
    )
    assert shown.status_code == 200 and "13812345678" in shown.text
    for _ in range(3):  # the reader reloads the page
        reloaded = site.get("/customers/K001")
        assert "13812345678" not in reloaded.text and "138****5678" in reloaded.text
    reads = [e for e in ledger.audit_log("K001") if e.kind == "read"]
    assert [(e.actor, e.why) for e in reads] == [("sales", "回访客户")]
    refused = site.post(
        "/customers/K001/reveal", data={"csrf_token": csrf, "why": " "}, headers=htmx
    )
    assert refused.status_code == 200 and 'id="main"' in refused.text
    assert 'data-rule="invalid_value"' in refused.text and "13812345678" not in refused.text
    assert len([e for e in ledger.audit_log("K001") if e.kind == "read"]) == 1


def test_time_travel_shows_the_customer_as_it_stood(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "manager")
    first_contact(site, csrf)
    site.post(
        "/customers/K001/do/churn",
        data={"csrf_token": csrf, "command_id": "t:x", "reason": "moved away",
              "occurred_at": "2024-04-01"},
    )  # fmt: skip
    assert ledger.profile("K001", actor="manager").stage.value == "churned"
    then = site.get("/customers/K001/replay?as_of=2024-03-15").text
    assert re.search(r'id="replay-stage">线索<', then)
    before = site.get("/customers/K001/replay?as_of=2024-02-01")
    assert "not_yet_known" in before.text


def test_import_a_sheet_dry_run_then_confirm(
    site: TestClient[Any], ledger: CustomerLedger, tmp_path: Path
) -> None:
    csrf = log_in(site, "manager")
    files = {"file": ("register.csv", register_with_a_bad_row(), "text/csv")}
    dry = site.post("/import", data={"csrf_token": csrf, "format": "csv"}, files=files)
    assert dry.status_code == 200, dry.text
    assert "S001" not in list(ledger.numbers())
    upload = re.search(r'name="upload" value="([0-9a-f]+)"', dry.text)
    assert upload and re.search(r"<td>3</td>", dry.text)  # the bad row, numbered as the sheet
    failures = dry.text.split('id="failures"')[1].split("</table>")[0]
    assert "<td>3</td><td>S002</td>" in failures and "satisfaction_out_of_range" in failures
    assert re.search(r'<td class="wrap">[^<]*9[^<]*</td>', failures)  # the reason, not None
    results = dry.text.split('id="results"')[1].split("</table>")[0]
    assert re.search(r"<tr><td>2</td><td>S001</td><td>首次接触（新建客户）, ", results)
    with TestClient(site.app) as other:
        theirs = log_in(other, "sales")
        stolen = other.post(
            "/import",
            data={"csrf_token": theirs, "format": "csv", "upload": upload.group(1), "confirm": "1"},
            files={"file": ("", b"", "application/octet-stream")},
        )
        assert stolen.status_code == 422 and "S001" not in list(ledger.numbers())
    done = site.post(
        "/import",
        data={"csrf_token": csrf, "format": "csv", "upload": upload.group(1), "confirm": "1"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert done.status_code == 200 and "S001" in list(ledger.numbers())
    assert not list((tmp_path / "attachments" / "imports").iterdir())  # the upload is gone


def test_users_are_for_admins(site: TestClient[Any], ledger: CustomerLedger) -> None:
    csrf = log_in(site, "admin")
    added = site.post(
        "/users",
        data={"csrf_token": csrf, "name": "li", "role": "service", "password": "li password"},
    )
    assert added.status_code == 200 and ">li<" in added.text
    short = site.post("/users/li/password", data={"csrf_token": csrf, "password": "short"})
    assert short.status_code == 422 and ledger.users.authenticate("li", "li password")
    site.post("/users/li/password", data={"csrf_token": csrf, "password": "新的密码 password"})
    assert ledger.users.authenticate("li", "新的密码 password")
    site.post("/users/li/disable", data={"csrf_token": csrf})
    assert ledger.users.active("li") is None
    other = TestClient(site.app)
    with other:
        log_in(other, "sales")
        assert other.get("/users").status_code == 403


def test_analytics_shows_the_reports_charts_and_gives_the_report(site: TestClient[Any]) -> None:
    csrf = log_in(site, "manager")
    first_contact(site, csrf)
    site.post(
        "/customers/K001/do/file_complaint",
        data={"csrf_token": csrf, "command_id": "t:k", "complaint": "K1", "subject": "迟到",
              "occurred_at": "2024-05-01"},
    )  # fmt: skip
    page = site.get("/analytics?as_of=2024-06-01")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3 and "<script>" not in page.text.split("<svg", 1)[1]
    assert ">K001<" in page.text and "投诉未解决" in page.text  # the churn reason, in words
    report = site.get("/analytics/report?as_of=2024-06-01")
    assert report.headers["content-disposition"] == 'attachment; filename="report-2024-06-01.html"'
    assert "客户分析报告" in report.text


@pytest.mark.parametrize("command", [c for c in COMMANDS])
def test_every_command_has_a_form_of_its_schema_fields(command: str) -> None:
    names = {f.name for f in form_fields(command)}
    expected = set(command_params(command)) - {"command_id"}
    if command == "first_contact":
        expected.add("customer")
    assert names == expected
    assert all(name in FIELD_ZH for name in names) and command in COMMAND_ZH  # 中文 first


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMANDS), st.text(max_size=40), st.text(max_size=80))
def test_an_error_is_placed_only_at_a_field_of_its_form(
    command: str, rule: str, message: str
) -> None:
    found = field_of(command, rule, message)
    assert found is None or found in {f.name for f in form_fields(command)}


def test_an_attachment_is_kept_by_its_hash_and_given_out_checked(
    ledger: CustomerLedger, tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    with TestClient(create_site(ledger, secret=b"k" * 32, attachments=folder)) as site:
        csrf = log_in(site, "sales")
        first_contact(site, csrf)
        content = "合同扫描件".encode() * 100
        sent = site.post(
            "/customers/K001/attachments",
            data={"csrf_token": csrf, "command_id": "t:a", "name": "合同.pdf"},
            files={"file": ("scan.pdf", content, "application/pdf")},
        )
        assert sent.status_code == 200 and "合同.pdf" in sent.text
        sha256 = hashlib.sha256(content).hexdigest()
        (attachment,) = ledger.profile("K001", actor="sales").attachments
        assert (attachment.sha256, attachment.uri) == (sha256, f"attachments/{sha256}")
        assert (folder / sha256[:2] / sha256).read_bytes() == content
        got = site.get(f"/customers/K001/attachments/{sha256}?why=核对合同")
        assert got.status_code == 200 and got.content == content
        assert "attachment;" in got.headers["content-disposition"]
        assert any(e.why == "核对合同" for e in ledger.audit_log("K001"))
        assert site.get(f"/customers/K001/attachments/{sha256}").status_code == 422  # no why
        (folder / sha256[:2] / sha256).write_bytes(b"swapped")
        damaged = site.get(f"/customers/K001/attachments/{sha256}?why=again")
        assert damaged.status_code == 500 and "attachment_damaged" in damaged.text
        assert b"swapped" not in damaged.content
        other = site.get(f"/customers/K001/attachments/{'0' * 64}?why=x")
        assert other.status_code == 404 and "attachment_missing" in other.text
    with TestClient(create_site(ledger, secret=b"k" * 32, attachments=folder)) as site:
        csrf = log_in(site, "auditor")
        assert site.get(f"/customers/K001/attachments/{sha256}?why=x").status_code == 403
        refused = site.post(
            "/customers/K001/attachments", data={"csrf_token": csrf},
            files={"file": ("x.txt", b"auditor's", "text/plain")},
        )  # fmt: skip
        assert refused.status_code == 403
        assert not (folder / hashlib.sha256(b"auditor's").hexdigest()[:2]).exists()


def test_the_list_pages_through_the_view_with_its_filters(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    for i in range(27):
        line = {"command": "first_contact", "customer": f"P{i:03}", "name": f"公司{i}",
                "type": "company", "occurred_at": "2024-01-02"}  # fmt: skip
        parse_command(line, actor=ROOT).run(ledger)
    parse_command({"command": "tag", "customer": "P003", "tag": "展会"}, actor=ROOT).run(ledger)
    log_in(site, "sales")
    first = site.get("/customers?sort=number")
    assert first.text.count('<tr><td><a href="/customers/P') == 25
    assert re.search(r'data-stage="lead">线索 <strong>27</strong>', first.text)
    following = re.search(r'<a href="([^"]+)" rel="next">', first.text)
    assert following
    second = site.get(following.group(1).replace("&amp;", "&"))
    assert re.findall(r'<a href="/customers/(P\d+)">', second.text) == ["P025", "P026"]
    assert 'rel="next"' not in second.text and "第一页" in second.text
    tagged = site.get("/customers?tag=展会")
    assert re.findall(r'<a href="/customers/(P\d+)">', tagged.text) == ["P003"]
    backwards = site.get("/customers?sort=number&descending=1")
    assert re.findall(r'<a href="/customers/(P\d+)">', backwards.text)[0] == "P026"


def test_export_downloads_with_the_pages_session(site: TestClient[Any]) -> None:
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    page = site.get("/export").text
    assert 'action="/api/export/profiles"' in page
    download = site.get("/api/export/profiles?format=csv&lang=zh")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="profiles.csv"'
    assert "K001" in download.content.decode("utf-8-sig")


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_the_demo_customers_for_every_role(
    ledger: CustomerLedger, role: str, tmp_path: Path
) -> None:
    demo.record(ledger, actor=ROOT)
    with TestClient(create_site(ledger, secret=b"k" * 32, attachments=tmp_path)) as site:
        log_in(site, role)
        numbers = list(ledger.numbers())
        paths = ["/customers", "/customers?lang=en", "/status?as_of=2023-10-25", "/reminders",
                 "/analytics?as_of=2023-10-25", "/analytics?as_of=2023-10-25&lang=en",
                 "/audit", "/import", "/export", "/customers/new"]  # fmt: skip
        for number in numbers:
            paths += [f"/customers/{number}", f"/customers/{number}?lang=en",
                      f"/customers/{number}/replay?as_of=2023-10-12",
                      f"/customers/{number}/replay?version=1"]  # fmt: skip
        for path in paths:
            answer = site.get(path)
            assert answer.status_code == 200, (path, answer.text[-500:])
        assert site.get("/users").status_code == (200 if role == "admin" else 403)
        for command in COMMANDS:
            if command != "first_contact":
                assert site.get(f"/customers/A001/do/{command}").status_code == 200


def test_a_bad_request_or_a_bug_is_a_page_without_a_traceback(
    site: TestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = log_in(site, "sales")
    bad = site.post("/import", content=b"\xff\xfe", headers={"content-type": "multipart/form-data"})
    assert bad.status_code == 400 and "<h1>错误</h1>" in bad.text, bad.text
    assert csrf and "Traceback" not in bad.text

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr(CustomerLedger, "board", broken)
    crash = site.get("/status")
    assert crash.status_code == 500 and "internal_error" in crash.text
    assert "secret" not in crash.text and "Traceback" not in crash.text


def test_the_customer_pages_poll_is_answered_204_until_the_customer_changes(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    page = site.get("/customers/K001").text
    assert 'hx-get="/customers/K001?live=1" hx-trigger="every 1s"' in page
    assert site.get("/customers/K001?live=1").status_code == 204
    parse_command({"command": "tag", "customer": "K001", "tag": "新"}, actor=ROOT).run(ledger)
    changed = site.get("/customers/K001?live=1")
    assert changed.status_code == 200 and 'hx-get="/customers/K001?live=2"' in changed.text
    assert ">新</span>" in changed.text


def test_the_demo_day_timeline_marks_reminders_and_board(
    ledger: CustomerLedger, tmp_path: Path
) -> None:
    demo.record(ledger, actor=ROOT)
    with TestClient(create_site(ledger, secret=b"k" * 32, attachments=tmp_path)) as site:
        log_in(site, "sales")
        w002 = site.get("/customers/W002").text
        timeline = w002.split('id="timeline"')[1]
        late = re.findall(r'<li data-kind="(\w+)" class="late-entry">.*?</li>', timeline, re.S)
        assert late and "补录" in timeline and "root" in timeline
        assert timeline.index("2023-02-01") < timeline.index("2023-01-15")  # newest first
        a001 = site.get("/customers/A001").text
        today = ledger.business_time(None).astimezone(ledger.timezone).date()
        left = (date(2024, 8, 14) - today).days
        words = "已到期" if left < 0 else f"剩余天数: {left}"
        mark = "soon" if left <= 30 else "muted"
        assert f'<td>2024-08-14 <span class="{mark}">{words}</span></td>' in a001
        due = site.get("/reminders?as_of=2024-07-20&within_days=30").text
        assert re.search(r"2024-08-14</td><td class=\"num\">25</td><td>合同到期</td>", due)
        line = {"command": "schedule_reminder", "customer": "C003", "reminder": "R1",
                "subject": "回访", "due_on": "2024-08-01"}  # fmt: skip
        parse_command(line, actor=ROOT).run(ledger)
        overdue = site.get("/reminders?as_of=2024-08-10&within_days=30").text
        assert 'class="overdue"' in overdue and "已逾期" in overdue
        leads = site.get("/status?stage=prospect").text.split("<tbody>")[1]
        assert re.findall(r'<a href="/customers/(\w+)">', leads) == ["C003"]
        board = site.get("/status?as_of=2023-10-25").text
        assert re.search(r"流失风险 <strong>1</strong>", board)
        at_risk = board.split("<h2>有流失风险</h2>")[1].split("</section>")[0]
        assert "B002" in at_risk


@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(
    command=st.sampled_from([c for c in COMMANDS if c != "first_contact"]),
    values=st.dictionaries(
        st.sampled_from(sorted({f.name for c in COMMANDS for f in form_fields(c)})),
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(["2024-01-01", "9", "-1", "yes", "否", "1e9", "13812345678"]),
        ),
        max_size=6,
    ),
)
def test_any_form_input_records_or_is_refused_with_its_rule(
    memory_site: tuple[TestClient[Any], CustomerLedger, str],
    command: str,
    values: dict[str, str],
) -> None:
    """Whatever is typed into any command's form: recorded (303 to the customer), or a
    page naming the rule with nothing recorded; never a crash."""
    site, ledger, csrf = memory_site
    before = len(ledger.history("K001"))
    data = {**values, "csrf_token": csrf, "command_id": f"h:{uuid.uuid4()}"}
    answer = site.post(f"/customers/K001/do/{command}", data=data, follow_redirects=False)
    if answer.status_code == 303:
        assert len(ledger.history("K001")) > before
    else:
        assert 400 <= answer.status_code < 500, answer.text[-400:]
        assert re.search(r'data-rule="[a-z_]+"', answer.text)
        assert len(ledger.history("K001")) == before


@pytest.fixture(scope="module")
def memory_site() -> Iterator[tuple[TestClient[Any], CustomerLedger, str]]:
    ledger = open_ledger("memory://")
    with TestClient(create_site(ledger, secret=b"k" * 32)) as site:
        csrf = log_in(site, "admin")
        assert first_contact(site, csrf).status_code == 200
        yield site, ledger, csrf
    ledger.close()


@pytest.mark.parametrize("path", ["/customers", "/customers?stage=lead", "/status", "/audit"])
def test_a_polled_page_is_answered_204_until_what_it_shows_changes(
    site: TestClient[Any], ledger: CustomerLedger, path: str
) -> None:
    """So a keyboard user's focus in the table is not lost to a swap every two seconds."""
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    page = site.get(path).text
    poll = re.search(r'<div id="live" hx-get="([^"]+)"', page)
    assert poll and "live=" in poll.group(1)
    url = poll.group(1).replace("&amp;", "&")
    assert site.get(url).status_code == 204
    assert site.get(url).status_code == 204
    line = {"command": "first_contact", "customer": "K002", "name": "赵六", "type": "individual"}
    parse_command(line, actor=ROOT).run(ledger)
    changed = site.get(url)
    assert changed.status_code == 200 and "K002" in changed.text
    fresh = re.search(r'<div id="live" hx-get="([^"]+)"', changed.text)
    assert fresh and fresh.group(1) != poll.group(1)
    assert site.get(fresh.group(1).replace("&amp;", "&")).status_code == 204


def test_every_page_sends_a_stranger_to_the_login_page(site: TestClient[Any]) -> None:
    """Every page's path is the pages' own (``PUBLIC``), not the API's 401."""
    for route in pages_router().routes:
        if "GET" not in route.methods or route.path in ("/login", "/"):
            continue  # (the home page sends everyone to the list, which sends them on)
        path = re.sub(r"\{(\w+):\w+\}", lambda m: "A001" if m.group(1) == "number" else "x",
                      route.path)  # fmt: skip
        answer = site.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login"), path


def test_duplicates_are_listed_and_merged_once_by_a_manager(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    for number in ("D001", "D002"):
        line = {"command": "first_contact", "customer": number, "name": "华东贸易有限公司",
                "type": "company", "allow_duplicate": True}  # fmt: skip
        parse_command(line, actor=ROOT).run(ledger)
    with TestClient(site.app) as sales:
        log_in(sales, "sales")
        listed = sales.get("/duplicates").text
        assert "D001 · D002" in listed and "企业同名" in listed
        assert 'action="/duplicates/merge"' not in listed  # sales may not merge
    csrf = log_in(site, "manager")
    page = site.get("/duplicates").text
    command_id = re.search(r'name="command_id" value="([^"]+)"', page)
    assert command_id
    data = {"csrf_token": csrf, "command_id": command_id.group(1), "number": "D002",
            "into": "D001", "reason": "同一家公司录入两次"}  # fmt: skip
    without = site.post("/duplicates/merge", data={**data, "reason": ""})
    assert without.status_code == 422 and "D002" in without.text
    merged = site.post("/duplicates/merge", data=data)
    again = site.post("/duplicates/merge", data=data)
    assert merged.url.path == "/customers/D001" and again.url.path == "/customers/D001"
    assert [type(e).__name__ for e in ledger.history("D002")][-1] == "MergedIntoCustomer"
    assert [type(e).__name__ for e in ledger.history("D001")].count("CustomerAbsorbed") == 1
    assert "D001 · D002" not in site.get("/duplicates").text


def test_an_admin_rebuilds_the_duplicate_index_from_the_page(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    """As ``customer-ledger reindex-duplicates``: a store whose index lost a customer's
    keys (recorded before the index existed) shows the group again once rebuilt. Only a
    role allowed ``reindex_duplicates`` (admin) is offered it or may; a refusal, and a
    form without its CSRF token, are recorded and change nothing."""
    for number in ("D001", "D002"):
        line = {"command": "first_contact", "customer": number, "name": "华东贸易有限公司",
                "type": "company", "allow_duplicate": True}  # fmt: skip
        parse_command(line, actor=ROOT).run(ledger)
    ledger.keys.index_many([(ledger.customer_id("D002"), "D002", ())])  # an older store
    for role in ("sales", "service", "manager", "auditor"):
        with TestClient(site.app) as other:
            theirs = log_in(other, role)
            assert 'action="/duplicates/reindex"' not in other.get("/duplicates").text
            refused = other.post("/duplicates/reindex", data={"csrf_token": theirs})
            assert refused.status_code == 403, role
            assert 'data-rule="permission_denied"' in refused.text
            assert any(
                e.kind == "denied" and e.actor == role and "reindex_duplicates" in e.summary
                for e in ledger.audit_log()
            ), role
    csrf = log_in(site, "admin")
    page = site.get("/duplicates").text
    assert "D001 · D002" not in page and 'action="/duplicates/reindex"' in page
    assert site.post("/duplicates/reindex", data={"csrf_token": "forged"}).status_code == 403
    assert "D001 · D002" not in site.get("/duplicates").text  # (the forged one did nothing)
    done = site.post("/duplicates/reindex", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/duplicates?reindexed=2"
    after = site.get(done.headers["location"]).text
    assert re.search(r'id="reindexed">[^<]*重建[^<]*2</p>', after)
    assert "D001 · D002" in after
    assert [type(e).__name__ for e in ledger.history("D002")] == ["FirstContacted"]


def test_what_a_customer_record_says_is_shown_as_text_never_markup(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    line = {"command": "first_contact", "customer": "X001", "name": evil, "type": "company"}
    parse_command(line, actor=ROOT).run(ledger)
    parse_command({"command": "tag", "customer": "X001", "tag": evil}, actor=ROOT).run(ledger)
    log_in(site, "sales")
    for path in ("/customers", "/customers/X001", "/status", "/audit", "/duplicates"):
        text = site.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in site.get("/customers/X001").text
