"""The JSON API, through Litestar's TestClient, on memory, SQLite and PostgreSQL.

Given users of every role, when a request comes, then it acts as its user through the
ledger's policy: recorded as them, refused (and the refusal recorded) where the policy
says so, and every error is JSON naming its rule.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from customer_ledger_postgres.testing import fresh_store_url
from litestar.testing import TestClient
from openpyxl import load_workbook
from paths import FIXTURES
from strategies import recorded
from web_support import ROLES, ROOT, basic, open_ledger

from customer_ledger import CustomerLedger
from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.schema import command_params
from customer_ledger.web.app import MAX_BODY, MAX_UPLOAD, create_app
from customer_ledger.web.security import Signer, Throttle

Client = TestClient[Any]
SALES, MANAGER, AUDITOR, ADMIN = (basic(r) for r in ("sales", "manager", "auditor", "admin"))
FIRST = {"customer": "A001", "name": "*先生", "type": "individual", "occurred_at": "2024-05-01"}


def first_contact(client: Client, **changes: Any) -> Any:
    response = client.post("/api/customers", json={**FIRST, **changes}, headers=SALES)
    assert response.status_code in (200, 201), response.text
    return response


def error(response: Any, status: int, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == rule, response.text
    assert set(response.json()) == {"error", "message"}
    assert "Traceback" not in response.text


READS = [
    "/api/me",
    "/api/customers",
    "/api/customers?text=A0&stage=prospect&sort=name&descending=true&limit=2",
    "/api/customers/A001",
    "/api/customers/A001/timeline",
    "/api/timeline?start=2024-01-01&end=2024-12-31",
    "/api/customers/A001/history",
    "/api/customers/A001/replay?version=1",
    "/api/customers/A001/replay?as_of=2024-05-02",
    "/api/customers/A001/replay?recorded_at=2100-01-01",
    "/api/status?as_of=2024-06-03&stage=prospect",
    "/api/reminders?as_of=2024-06-03&within_days=60",
    "/api/analytics?as_of=2024-06-03",
    "/api/indicators?start=2024-01-01&end=2024-06-30&period=quarter",
    "/api/audit/log?number=A001",
    "/api/audit/verify",
    "/api/openapi.json",
]


# -- authentication -----------------------------------------------------------------------


def test_nothing_but_login_answers_without_credentials(
    client: Client, ledger: CustomerLedger
) -> None:
    before = recorded(ledger)
    for path in READS:
        error(client.get(path), 401, "not_authenticated")
    error(client.post("/api/customers", json=FIRST), 401, "not_authenticated")
    for wrong in (basic("sales", "nope nope"), basic("nobody"), {"Authorization": "Basic %%"},
                  {"Authorization": "Digest x"}, {"Authorization": "Bearer "},
                  {"Authorization": "Bearer \xe9.\xe9".encode("latin-1")},  # type: ignore[dict-item]
                  {"Authorization": b"Basic w6k6w6k=\xff"}):  # fmt: skip
        error(client.post("/api/customers", json=FIRST, headers=wrong), 401, "not_authenticated")
    assert recorded(ledger) == before
    assert client.get("/api/me").headers["www-authenticate"].startswith("Basic")


def test_every_role_reads_every_endpoint_as_itself(client: Client) -> None:
    first_contact(client)
    client.post("/api/customers/A001/log_interaction", json={"channel": "phone", "topic": "hi"},
                headers=SALES)  # fmt: skip
    for role in ROLES:
        for path in READS:
            response = client.get(path, headers=basic(role))
            assert response.status_code == 200, (role, path, response.text)
        assert client.get("/api/me", headers=basic(role)).json()["role"] == role


def test_a_token_from_login_acts_as_its_user_until_it_expires(
    client: Client, ledger: CustomerLedger
) -> None:
    login = client.post("/api/login", json={"name": "sales", "password": "sales password"})
    assert login.status_code == 200, login.text
    token = login.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=bearer).json() == {
        "name": "sales", "role": "sales", "auth": "token",
    }  # fmt: skip
    first_contact(client)
    client.post("/api/customers/A001/tag", json={"tag": "web"}, headers=bearer)
    assert ledger.history("A001")[-1].meta.actor == "sales"
    body, mac = token.split(".")
    for forged in (f"{body}.{mac[:-2]}xx", f"{body[:-2]}xx.{mac}", "nonsense", token + "."):
        error(client.get("/api/me", headers={"Authorization": f"Bearer {forged}"}), 401,
              "not_authenticated")  # fmt: skip
    expired, _ = Signer(b"k" * 32, clock=lambda: 0).issue("token", "sales", "x", 60)
    error(client.get("/api/me", headers={"Authorization": f"Bearer {expired}"}), 401,
          "not_authenticated")  # fmt: skip


def test_a_session_token_is_no_bearer_token_and_the_reverse(client: Client) -> None:
    login = client.post(
        "/api/login", json={"name": "sales", "password": "sales password", "session": True}
    )
    cookie = login.cookies["customer_ledger_session"]
    error(client.get("/api/me", headers={"Authorization": f"Bearer {cookie}"}), 401,
          "not_authenticated")  # fmt: skip
    client.cookies.clear()
    client.cookies["customer_ledger_session"] = login.json()["token"]
    error(client.get("/api/me"), 401, "not_authenticated")


def test_wrong_passwords_are_401_and_then_throttled_for_that_user(client: Client) -> None:
    for _ in range(3):
        error(client.get("/api/me", headers=basic("sales", "wrong password")), 401,
              "not_authenticated")  # fmt: skip
    throttled = client.get("/api/me", headers=SALES)  # even the right password, for now
    error(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0
    error(client.post("/api/login", json={"name": "sales", "password": "sales password"}), 429,
          "too_many_attempts")  # fmt: skip
    assert client.get("/api/me", headers=MANAGER).status_code == 200  # another user is not


def test_the_throttle_counts_per_user_and_client_and_forgets_after_its_window() -> None:
    now = [0.0]
    throttle = Throttle(attempts=2, window=10, clock=lambda: now[0])
    throttle.failed("alice", "10.0.0.1")
    throttle.failed("alice", "10.0.0.1")
    with pytest.raises(Exception, match="too many"):
        throttle.check("alice", "10.0.0.1")
    throttle.check("alice", "10.0.0.2")  # another client
    throttle.check("bob", "10.0.0.1")  # another user
    now[0] = 11
    throttle.check("alice", "10.0.0.1")


def test_a_disabled_user_is_refused_at_once_on_every_open_token_and_session(
    client: Client, ledger: CustomerLedger
) -> None:
    token = client.post("/api/login", json={"name": "sales", "password": "sales password"})
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    session = Client(client.app)
    with session:
        session.post(
            "/api/login", json={"name": "sales", "password": "sales password", "session": True}
        )
        assert session.get("/api/me").status_code == 200
        ledger.users.disable("sales", by=ROOT)
        error(session.get("/api/me"), 401, "not_authenticated")
    error(client.get("/api/me", headers=bearer), 401, "not_authenticated")
    error(client.get("/api/me", headers=SALES), 401, "not_authenticated")


def test_a_new_password_ends_the_tokens_issued_before(
    client: Client, ledger: CustomerLedger
) -> None:
    token = client.post("/api/login", json={"name": "sales", "password": "sales password"})
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    ledger.users.set_password("sales", "another password", by=ROOT)
    error(client.get("/api/me", headers=bearer), 401, "not_authenticated")
    assert client.get("/api/me", headers=basic("sales", "another password")).status_code == 200


def test_a_session_cookie_is_httponly_samesite_and_writes_need_its_csrf_token(
    client: Client, ledger: CustomerLedger
) -> None:
    first_contact(client)
    login = client.post(
        "/api/login", json={"name": "sales", "password": "sales password", "session": True}
    )
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    csrf = login.json()["csrf_token"]
    assert client.get("/api/customers/A001").status_code == 200  # reads need no token
    before = recorded(ledger)
    refused = client.post("/api/customers/A001/tag", json={"tag": "x"})
    error(refused, 403, "csrf_rejected")
    wrong = csrf[:-1] + ("B" if csrf[-1] == "A" else "A")
    forged = client.post(
        "/api/customers/A001/tag", json={"tag": "x"}, headers={"X-CSRF-Token": wrong}
    )
    error(forged, 403, "csrf_rejected")
    assert ledger.history("A001")[-1].originator_version == 1  # no tag recorded
    refusals = [e for e in ledger.audit_log() if e.actor == "sales" and "CSRF" in str(e)]
    assert len(refusals) == 2 and recorded(ledger) > before  # the refusals are recorded
    done = client.post("/api/customers/A001/tag", json={"tag": "x"}, headers={"X-CSRF-Token": csrf})
    assert done.status_code == 201, done.text
    assert client.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    error(client.get("/api/me"), 401, "not_authenticated")


# -- commands -----------------------------------------------------------------------------


def test_a_first_contact_is_recorded_as_the_requests_user(
    client: Client, ledger: CustomerLedger
) -> None:
    created = first_contact(client)
    assert created.status_code == 201
    assert created.json()["number"] == "A001" and created.json()["events"] == 1
    [event] = ledger.history("A001")
    assert (event.meta.actor, event.meta.role) == ("sales", "sales")


def test_two_posts_with_one_command_id_record_once(client: Client, ledger: CustomerLedger) -> None:
    first_contact(client)
    body = {"channel": "phone", "topic": "launch date", "command_id": "call-1"}
    one = client.post("/api/customers/A001/log_interaction", json=body, headers=SALES)
    before = recorded(ledger)
    two = client.post("/api/customers/A001/log_interaction", json=body, headers=SALES)
    assert (one.status_code, two.status_code) == (201, 200)
    assert two.json()["replayed"] and two.json()["version"] == one.json()["version"]
    assert recorded(ledger) == before
    error(
        client.post("/api/customers/A001/log_interaction", json={**body, "topic": "else"},
                    headers=SALES),
        409, "command_id_reused",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "status", "rule"),
    [
        ("/api/customers", {**FIRST, "customer": "A001"}, 409, "duplicate_customer_number"),
        ("/api/customers/Z999/tag", {"tag": "x"}, 404, "unknown_customer"),
        ("/api/customers/A001/rate_satisfaction", {"score": 9}, 422, "satisfaction_out_of_range"),
        ("/api/customers/A001/rate_satisfaction", {"score": "nine"}, 422, "wrong_type"),
        ("/api/customers/A001/tag", {"tags": "x"}, 422, "unknown_field"),
        ("/api/customers/A001/tag", {}, 422, "missing_field"),
        ("/api/customers/A001/tag", {"tag": "x", "customer": "B002"}, 422, "unknown_field"),
        ("/api/customers/A001/log_interaction",
         {"channel": "phone", "topic": "x", "occurred_at": "yesterday"}, 422, "wrong_type"),
        ("/api/customers/A001/churn", {"reason": "gone"}, 403, "permission_denied"),
        ("/api/customers/A001/no_such_command", {}, 404, "not_found"),
    ],
)  # fmt: skip
def test_a_refused_command_is_a_typed_error_and_records_nothing(
    client: Client,
    ledger: CustomerLedger,
    path: str,
    body: dict[str, Any],
    status: int,
    rule: str,
) -> None:
    first_contact(client)
    before = recorded(ledger)
    error(client.post(path, json=body, headers=SALES), status, rule)
    assert len(ledger.history("A001")) == 1
    if rule == "permission_denied":  # a refusal is itself recorded, in the access log
        assert [e.actor for e in ledger.audit_log("A001")][-1] == "sales"
    else:
        assert recorded(ledger) == before


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"text"', b"{" * 10_000])
def test_a_body_that_is_no_json_object_is_422(
    client: Client, ledger: CustomerLedger, raw: bytes
) -> None:
    before = recorded(ledger)
    response = client.post(
        "/api/customers", content=raw, headers={**SALES, "Content-Type": "application/json"}
    )
    error(response, 422, "invalid_json")
    assert recorded(ledger) == before


def test_an_empty_body_is_422(client: Client, ledger: CustomerLedger) -> None:
    before = recorded(ledger)
    response = client.post("/api/customers", headers={**SALES, "Content-Type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] in (
        "invalid_json",
        "invalid_value",
    )
    assert recorded(ledger) == before


def test_an_auditor_records_nothing_and_its_refusal_is_in_the_audit_log(
    client: Client, ledger: CustomerLedger
) -> None:
    first_contact(client)
    error(client.post("/api/customers/A001/tag", json={"tag": "x"}, headers=AUDITOR), 403,
          "permission_denied")  # fmt: skip
    log = client.get("/api/audit/log?number=A001", headers=ADMIN).json()["entries"]
    assert [(e["actor"], e["role"]) for e in log][-1] == ("auditor", "auditor")
    assert "tag" in json.dumps(log[-1])


def test_every_command_has_its_endpoint_and_its_schema(client: Client) -> None:
    first_contact(client)
    document = client.get("/api/openapi.json", headers=SALES).json()
    schemas = document["components"]["schemas"]
    for command in COMMANDS:
        path = (
            "/api/customers"
            if command == "first_contact"
            else (f"/api/customers/{{number}}/{command}")
        )
        operation = document["paths"][path]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        assert set(command_params(command)) <= set(schema["properties"])
        required = {p.name for p in command_params(command).values() if p.required}
        assert required <= set(schema.get("required", []))
        if command != "first_contact":
            response = client.post(f"/api/customers/A001/{command}", json={"x": 1},
                                   headers=ADMIN)  # fmt: skip
            error(response, 422, "unknown_field")


# -- reads --------------------------------------------------------------------------------


def test_search_pages_through_with_its_cursor(client: Client) -> None:
    for i in range(5):
        first_contact(client, customer=f"L{i:03d}", name=f"公司{i}", type="company")
    seen, after = [], None
    while True:
        query = "/api/customers?type=company&limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=SALES).json()
        seen += [c["number"] for c in page["customers"]]
        after = page["next_cursor"]
        if after is None:
            break
    assert seen == [f"L{i:03d}" for i in range(5)]
    error(client.get("/api/customers?limit=0", headers=SALES), 422, "invalid_query")
    error(client.get("/api/customers?stage=nowhere", headers=SALES), 422, "invalid_query")
    error(client.get("/api/customers?after=garbage", headers=SALES), 422, "invalid_query")
    error(client.get("/api/customers?text=%00", headers=SALES), 422, "invalid_query")
    error(client.get("/api/timeline?limit=0", headers=SALES), 422, "invalid_query")
    error(client.get("/api/customers/L000/timeline?after=x", headers=SALES), 422, "invalid_query")


def test_search_takes_codes_as_people_type_them_as_the_command_line_does(
    client: Client, ledger: CustomerLedger
) -> None:
    first_contact(client, customer="B002", name="*科技有限公司", type="company")
    typed = client.get("/api/customers?type=企业&stage=LEAD", headers=SALES).json()
    assert [c["number"] for c in typed["customers"]] == ["B002"]
    assert [p.number for p in ledger.search(type="company", stage="lead").items] == ["B002"]
    error(client.get("/api/status?stage=nowhere", headers=SALES), 422, "invalid_value")


def test_unmasked_reads_need_a_reading_role_and_a_why_and_are_recorded(
    client: Client, ledger: CustomerLedger
) -> None:
    first_contact(client)
    client.post(
        "/api/customers/A001/add_contact",
        json={"contact_id": "c1", "name": "*先生", "phone": "13812345678"},
        headers=SALES,
    )
    masked = client.get("/api/customers/A001", headers=SALES).text
    assert "13812345678" not in masked
    error(client.get("/api/customers/A001?unmasked=true&why=audit", headers=AUDITOR), 403,
          "permission_denied")  # fmt: skip
    error(client.get("/api/customers/A001?unmasked=true", headers=SALES), 422, "invalid_value")
    shown = client.get("/api/customers/A001?unmasked=true&why=calling back", headers=SALES)
    assert shown.status_code == 200 and "13812345678" in shown.text
    history = client.get("/api/customers/A001/history?unmasked=true&why=check", headers=SALES)
    assert "13812345678" in history.text
    assert "13812345678" not in client.get("/api/customers/A001/history", headers=SALES).text
    reads = [e for e in ledger.audit_log("A001") if e.actor in ("sales", "auditor")]
    assert {e.actor for e in reads} == {"sales", "auditor"}


def test_replay_needs_exactly_one_point(client: Client) -> None:
    first_contact(client)
    error(client.get("/api/customers/A001/replay", headers=SALES), 422, "invalid_value")
    error(client.get("/api/customers/A001/replay?version=1&as_of=2024-01-01", headers=SALES),
          422, "invalid_value")  # fmt: skip
    error(client.get("/api/customers/A001/replay?as_of=2020-01-01", headers=SALES), 404,
          "not_yet_known")  # fmt: skip


# -- files --------------------------------------------------------------------------------


def test_jsonl_import_records_as_the_user_and_reports_bad_lines(
    client: Client, ledger: CustomerLedger
) -> None:
    lines = "\n".join(
        json.dumps(line)
        for line in [
            {"command": "first_contact", "customer": "J001", "name": "甲", "type": "company"},
            {"command": "tag", "customer": "J001", "tag": "imported"},
            {"command": "tag", "customer": "J001"},
        ]
    )
    report = client.post("/api/import?format=jsonl", content=lines.encode(), headers=SALES)
    assert report.status_code == 200, report.text
    assert (report.json()["recorded"], report.json()["failed"]) == (2, 1)
    assert report.json()["failures"][0]["line"] == 3
    assert {e.meta.actor for e in ledger.history("J001")} == {"sales"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_sheet_dry_run_reports_row_by_row_and_records_nothing(
    client: Client, ledger: CustomerLedger, fmt: str
) -> None:
    raw = (FIXTURES / f"register.{fmt}").read_bytes()
    before = recorded(ledger)
    dry = client.post(f"/api/import?format={fmt}&dry_run=true", content=raw, headers=MANAGER)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and recorded(ledger) == before
    assert [r["row"] for r in dry.json()["results"]][:3] == [2, 3, 4]
    done = client.post(f"/api/import?format={fmt}", content=raw, headers=MANAGER)
    assert done.status_code == 200 and recorded(ledger) > before
    assert client.get("/api/customers/B002", headers=SALES).status_code == 200


def test_a_page_uploads_a_sheet_as_a_multipart_form(client: Client, ledger: CustomerLedger) -> None:
    raw = (FIXTURES / "worksheet.xlsx").read_bytes()
    before = recorded(ledger)
    dry = client.post(
        "/api/import?dry_run=true", files={"file": ("客户管理工作表.xlsx", raw)}, headers=MANAGER
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["rows"] >= 2
    assert recorded(ledger) == before
    error(client.post("/api/import", files={"file": ("notes.txt", b"x")}, headers=MANAGER), 422,
          "invalid_value")  # fmt: skip
    error(client.post("/api/import?format=csv", files={"other": ("a.csv", b"x")},
                      headers=MANAGER), 422, "invalid_value")  # fmt: skip


def test_an_upload_beyond_its_bound_is_413(client: Client, ledger: CustomerLedger) -> None:
    before = recorded(ledger)
    huge = b"x" * (MAX_UPLOAD + 1)
    error(client.post("/api/import?format=csv", content=huge, headers=MANAGER), 413,
          "request_too_large")  # fmt: skip
    assert recorded(ledger) == before


def test_a_bad_upload_is_a_typed_error(client: Client) -> None:
    error(client.post("/api/import?format=xlsx", content=b"not a workbook", headers=MANAGER),
          422, "unreadable_sheet")  # fmt: skip
    error(client.post("/api/import?format=jsonl&dry_run=true", content=b"", headers=MANAGER),
          422, "invalid_value")  # fmt: skip
    error(client.post("/api/import?format=pdf", content=b"", headers=MANAGER), 422,
          "invalid_value")  # fmt: skip


@pytest.mark.parametrize("source", ["profiles", "timeline", "status"])
def test_exports_download_in_every_format(client: Client, source: str) -> None:
    first_contact(client)
    csv = client.get(f"/api/export/{source}?format=csv&lang=en", headers=SALES)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "A001" in csv.text
    assert f'filename="{source}.csv"' in csv.headers["content-disposition"]
    lines = client.get(f"/api/export/{source}?format=jsonl", headers=SALES)
    assert all(json.loads(line) for line in lines.text.splitlines())
    xlsx = client.get(f"/api/export/{source}?format=xlsx", headers=SALES)
    assert load_workbook(io.BytesIO(xlsx.content)).active is not None
    error(client.get("/api/export/nothing", headers=SALES), 422, "invalid_value")
    error(client.get(f"/api/export/{source}?unmasked=true&why=x", headers=AUDITOR), 403,
          "permission_denied")  # fmt: skip


# -- bounds and failures ------------------------------------------------------------------


def test_a_body_beyond_the_bound_is_413_and_records_nothing(
    client: Client, ledger: CustomerLedger
) -> None:
    before = recorded(ledger)
    huge = json.dumps({**FIRST, "name": "x" * MAX_BODY}).encode()
    response = client.post(
        "/api/customers", content=huge, headers={**SALES, "Content-Type": "application/json"}
    )
    error(response, 413, "request_too_large")
    assert recorded(ledger) == before


def test_a_bug_is_a_500_without_a_traceback(
    ledger: CustomerLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the search")

    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    logging.getLogger("customer_ledger.web.errors").addHandler(handler)

    monkeypatch.setattr(ledger, "search", broken)
    with TestClient(create_app(ledger, secret=b"k" * 32)) as client:
        response = client.get("/api/customers", headers=SALES)
    error(response, 500, "internal_error")
    assert "a bug in the search" not in response.text
    logging.getLogger("customer_ledger.web.errors").removeHandler(handler)
    assert any("a bug in the search" in str(r.exc_info) for r in logged)  # the log has it


def test_static_files_need_no_login(ledger: CustomerLedger, tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body { margin: 0 }")
    with TestClient(create_app(ledger, secret=b"k" * 32, static_dir=tmp_path)) as client:
        assert client.get("/static/app.css").text == "body { margin: 0 }"
        error(client.get("/api/me"), 401, "not_authenticated")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # (memory: one process's)
def test_servers_of_one_store_accept_each_others_tokens(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The signing secret is derived from the store's master key: any process serving
    the store (uvicorn workers, a restart) reads the tokens another issued."""
    store_url = fresh_store_url(backend, request, tmp_path, pool="&pool_size=1&max_overflow=2")
    one, two = open_ledger(store_url), CustomerLedger.open(store_url)
    try:
        with TestClient(create_app(one)) as first, TestClient(create_app(two)) as second:
            token = first.post("/api/login", json={"name": "sales", "password": "sales password"})
            bearer = {"Authorization": f"Bearer {token.json()['token']}"}
            assert second.get("/api/me", headers=bearer).json()["name"] == "sales"
    finally:
        one.close()
        two.close()


def _minimal(command: str) -> dict[str, Any]:
    """A body of the right types for ``command`` (its rules may still refuse it)."""
    by_type = {str: "x", bool: True, int: 3}
    body: dict[str, Any] = {}
    for p in command_params(command).values():
        if not p.required:
            continue
        hint = repr(p.hint)
        if "date" in hint:
            body[p.name] = "2024-05-02"
        elif "Decimal" in hint:
            body[p.name] = "10"
        else:
            body[p.name] = by_type.get(p.hint, "x")
    return body


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_run_exactly_the_commands_its_policy_allows(
    client: Client, ledger: CustomerLedger, role: str
) -> None:
    first_contact(client)
    policy = ledger.policy.roles[role]
    for command in COMMANDS:
        body = _minimal(command)
        if command == "first_contact":
            path, body = "/api/customers", {**body, "customer": f"R-{role}"}
        else:
            path = f"/api/customers/A001/{command}"
        response = client.post(path, json=body, headers=basic(role))
        refused = response.status_code == 403
        assert refused == (not policy.allows(command)), (role, command, response.text)
        assert response.status_code < 500, (role, command, response.text)
        if refused:
            assert response.json()["error"] == "permission_denied"
            last = list(ledger.audit_log("A001" if command != "first_contact" else f"R-{role}"))
            assert (last[-1].actor, last[-1].kind) == (role, "denied"), last[-1]


def test_admins_manage_users_over_the_api_and_others_may_not(
    client: Client, ledger: CustomerLedger
) -> None:
    added = client.post(
        "/api/users", json={"name": "li", "role": "service", "password": "li's password"},
        headers=ADMIN,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["role"] == "service" and "password" not in added.text
    assert client.get("/api/me", headers=basic("li", "li's password")).json()["role"] == "service"
    error(client.post("/api/users", json={"name": "li", "role": "sales", "password": "x" * 9},
                      headers=ADMIN), 409, "user_exists")  # fmt: skip
    error(client.post("/api/users", json={"name": "zhao", "role": "boss", "password": "x" * 9},
                      headers=ADMIN), 422, "invalid_value")  # fmt: skip
    moved = client.post("/api/users/li/password", json={"password": "new password"}, headers=ADMIN)
    assert moved.status_code == 200
    assert client.get("/api/me", headers=basic("li", "new password")).status_code == 200
    assert client.post("/api/users/li/disable", headers=ADMIN).json()["disabled"] is True
    error(client.get("/api/me", headers=basic("li", "new password")), 401, "not_authenticated")
    error(client.post("/api/users/nobody/disable", headers=ADMIN), 404, "unknown_user")
    listed = client.get("/api/users", headers=ADMIN).json()["users"]
    assert [u["name"] for u in listed] == sorted(["li", *ROLES])
    for role in ("sales", "service", "manager", "auditor"):
        error(client.get("/api/users", headers=basic(role)), 403, "permission_denied")
        error(client.post("/api/users/sales/disable", headers=basic(role)), 403,
              "permission_denied")  # fmt: skip
    assert ledger.users.active("sales") is not None
    refusals = [e for e in ledger.audit_log() if e.kind == "denied" and "manage_users" in str(e)]
    assert len(refusals) == 8
    changes = [e for e in ledger.audit_log() if e.kind == "admin" and "user li" in e.summary]
    assert [(e.actor, e.role, e.summary) for e in changes] == [
        ("admin", "admin", "added user li as service"),
        ("admin", "admin", "set the password of user li"),
        ("admin", "admin", "disabled user li"),
    ]  # the refused ones (taken name, no such role or user) are not among them


def test_concurrent_requests_are_each_recorded_once(ledger: CustomerLedger) -> None:
    """Requests run in worker threads; the ledger's lock makes them one at a time, so
    twenty writes at once (two per command id) and reads between them all succeed."""
    import asyncio

    import httpx

    app = create_app(ledger, secret=b"k" * 32)

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            first = await client.post("/api/customers", json=FIRST, headers=SALES)
            assert first.status_code == 201, first.text
            writes = [
                client.post(
                    "/api/customers/A001/log_interaction",
                    json={
                        "channel": "phone",
                        "topic": f"call {i % 10}",
                        "command_id": f"c{i % 10}",
                    },
                    headers=SALES,
                )
                for i in range(20)
            ]
            reads = [client.get("/api/customers/A001", headers=AUDITOR) for _ in range(10)]
            return list(await asyncio.gather(*writes, *reads))

    responses = asyncio.run(burst())
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert sorted(r.status_code for r in responses[:20]) == [200] * 10 + [201] * 10
    assert len(ledger.history("A001")) == 11


def test_a_plain_form_in_a_session_carries_its_csrf_token_as_a_field(
    client: Client, ledger: CustomerLedger
) -> None:
    login = client.post(
        "/api/login", json={"name": "manager", "password": "manager password", "session": True}
    )
    csrf = login.json()["csrf_token"]
    sheet = {"file": ("register.csv", (FIXTURES / "register.csv").read_bytes())}
    before = recorded(ledger)
    error(client.post("/api/import?dry_run=true", files=sheet), 403, "csrf_rejected")
    error(client.post("/api/import?dry_run=true", files=sheet, data={"csrf_token": "forged"}),
          403, "csrf_rejected")  # fmt: skip
    done = client.post("/api/import?dry_run=true", files=sheet, data={"csrf_token": csrf})
    assert done.status_code == 200, done.text
    assert done.json()["rows"] == 3  # the handler read the body the check had parsed
    assert len([e for e in ledger.audit_log() if "CSRF" in str(e)]) == 2
    assert recorded(ledger) > before  # only the two refusals
