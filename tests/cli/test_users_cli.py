"""``customer-ledger users ...``: users of the HTTP API, managed from the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_support import Run, invoke

from customer_ledger import CustomerLedger
from customer_ledger.domain.access import Actor

ADMIN = Actor("root", "admin")
ADD = ["users", "add"]


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    *argv: str,
    stdin: str = "",
) -> Run:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return invoke(capsys, ["--store", store, *argv])


def test_a_user_added_with_a_password_on_stdin_can_log_in(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    added = run(
        capsys, monkeypatch, store, "users", "add", "alice", "--role", "sales",
        "--password-stdin", "--json", stdin="correct horse\n",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert added.json()["name"] == "alice" and added.json()["role"] == "sales"
    with CustomerLedger.open(store) as ledger:
        assert ledger.users.authenticate("alice", "correct horse") is not None
        assert ledger.users.authenticate("alice", "correct horse\n") is None


def test_list_disable_and_set_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    for name in ("bob", "alice"):
        assert run(
            capsys, monkeypatch, store, "users", "add", name, "--role", "auditor",
            "--password-stdin", stdin="correct horse",
        ).code == 0  # fmt: skip
    assert run(capsys, monkeypatch, store, "users", "disable", "bob").code == 0
    changed = run(
        capsys, monkeypatch, store, "users", "set-password", "alice", "--password-stdin",
        stdin="battery staple\n",
    )  # fmt: skip
    assert changed.code == 0, changed.err
    listed = run(capsys, monkeypatch, store, "users", "list", "--json").json()
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("alice", "auditor", False),
        ("bob", "auditor", True),
    ]
    with CustomerLedger.open(store) as ledger:
        assert ledger.users.authenticate("alice", "battery staple") is not None
        assert ledger.users.authenticate("bob", "correct horse") is None  # disabled
    table = run(capsys, monkeypatch, store, "users", "list")
    assert "alice" in table.out and "bob" in table.out and "yes" in table.out


@pytest.mark.parametrize(
    ("argv", "stdin", "rule"),
    [
        ([*ADD, "alice", "--role", "sales", "--password-stdin"], "short\n", "invalid_value"),
        ([*ADD, "alice", "--role", "boss", "--password-stdin"], "long enough", "invalid_value"),
        ([*ADD, "alice", "--role", "system", "--password-stdin"], "long enough", "invalid_value"),
        ([*ADD, "a:b", "--role", "sales", "--password-stdin"], "long enough", "invalid_value"),
        ([*ADD, "alice", "--role", "sales", "--password-stdin"], "", "invalid_value"),
        (["users", "disable", "nobody"], "", "unknown_user"),
        (["users", "set-password", "nobody", "--password-stdin"], "long enough", "unknown_user"),
        (["--role", "sales", "users", "list"], "", "permission_denied"),
        (["--role", "manager", "users", "add", "x", "--role", "admin", "--password-stdin"],
         "long enough", "permission_denied"),
    ],
)  # fmt: skip
def test_bad_input_is_a_typed_error_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store: str,
    argv: list[str],
    stdin: str,
    rule: str,
) -> None:
    with CustomerLedger.open(store) as ledger:
        ledger.users.add("carol", role="sales", password_text="carol's password", by=ADMIN)
        before = ledger.users.list(by=ADMIN)
        changes = [e for e in ledger.audit_log() if e.kind == "admin"]
    result = run(capsys, monkeypatch, store, *argv, stdin=stdin)
    assert result.code == 1
    assert result.err.startswith(f"error [{rule}]:"), result.err
    assert "Traceback" not in result.err
    with CustomerLedger.open(store) as ledger:
        assert ledger.users.list(by=ADMIN) == before
        assert [e for e in ledger.audit_log() if e.kind == "admin"] == changes


def test_every_change_of_users_is_in_the_audit_log_as_who_made_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    as_ops = ["--actor", "ops", "--role", "admin"]
    for argv, stdin in [
        ([*as_ops, *ADD, "alice", "--role", "sales", "--password-stdin"], "correct horse"),
        ([*as_ops, "users", "set-password", "alice", "--password-stdin"], "battery staple"),
        ([*as_ops, "users", "disable", "alice"], ""),
        ([*as_ops, "users", "list"], ""),  # a read: not a change
    ]:
        assert run(capsys, monkeypatch, store, *argv, stdin=stdin).code == 0
    with CustomerLedger.open(store) as ledger:
        changes = [(e.actor, e.role, e.summary) for e in ledger.audit_log() if e.kind == "admin"]
    assert changes == [
        ("ops", "admin", "added user alice as sales"),
        ("ops", "admin", "set the password of user alice"),
        ("ops", "admin", "disabled user alice"),
    ]
    shown = run(capsys, monkeypatch, store, "audit", "log", "--json")
    assert shown.code == 0, shown.err
    assert "disabled user alice" in shown.out and "battery" not in shown.out


def test_a_refused_user_command_is_in_the_audit_log(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    assert run(
        capsys, monkeypatch, store, "--actor", "eve", "--role", "sales", "users", "list"
    ).code
    with CustomerLedger.open(store) as ledger:
        denials = [e for e in ledger.audit_log() if e.actor == "eve"]
    assert len(denials) == 1 and "manage_users" in str(denials[0])


def test_a_password_typed_as_an_option_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    result = run(capsys, monkeypatch, store, "users", "add", "alice", "--role", "sales")
    assert result.code == 2  # --password-stdin is required: no password in argv
