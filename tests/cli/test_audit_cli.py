"""``customer-ledger audit verify|checkpoint``: exit codes (0 clean, 3 broken, 1 a bad
argument), the JSON an auditor's scripts read, and checkpoints kept in a file or passed
as text. Stores are SQLite files and PostgreSQL schemas, since every invocation opens
the store afresh, as a shell would.

A001 has versions 1-6, B002 versions 1-2 (see ``tampering``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run, invoke
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
    with_options,
)
from paths import DOCS
from strategies import fixed_clock
from tampering import record_history, tamper_for

from customer_ledger import CustomerLedger
from customer_ledger.audit.verify import KINDS

SCRIPT = Path(sys.executable).with_name("customer-ledger")
REPORT_KEYS = {"ok", "events", "chains", "unchained_events", "findings", "checkpoint"}
FINDING_KEYS = {
    "kind", "customer_id", "number", "aggregate", "originator_id", "version",
    "notification_id", "detail",
}  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store holding the tampering history (A001 v1-6, B002 v1-2)."""
    monkeypatch.delenv("CUSTOMER_LEDGER_STORE", raising=False)
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ledger.db"
    else:
        url = with_options(
            request.getfixturevalue("postgres_url_factory")(), "&pool_size=2&max_overflow=2"
        )
    with CustomerLedger.open(url, clock=fixed_clock) as ledger:
        ledger.eager_views = False
        record_history(ledger)
    return url


@pytest.fixture
def audit(store: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """``audit("verify", "--json")`` runs ``customer-ledger --store STORE audit verify --json``."""

    def run(*argv: str) -> Run:
        return invoke(capsys, ["--store", store, "audit", *argv])

    return run


def tampered(store: str, change: str) -> None:
    with CustomerLedger.open(store, clock=fixed_clock) as ledger:
        tamper = tamper_for(ledger)
        if change == "delete A001 v3":
            tamper.delete(ledger.customer_id("A001"), 3)
        elif change == "delete the newest event":
            tamper.delete_newest(1)


def test_a_clean_store_verifies_with_exit_code_0(audit: Any) -> None:
    run = audit("verify")
    assert run.code == 0
    assert "the store: 10 events in 4 chains checked" in run.out and ": OK" in run.out
    assert run.err == ""  # no progress bar when stderr is not a terminal


def test_verify_json_says_what_was_checked(audit: Any) -> None:
    run = audit("verify", "--json")
    assert run.code == 0
    report = run.json()
    assert set(report) == REPORT_KEYS
    assert report == {
        "ok": True, "events": 10, "chains": 4, "unchained_events": 0, "findings": [],
        "checkpoint": None,
    }  # fmt: skip


def test_a_broken_chain_exits_with_3_and_names_the_event(audit: Any, store: str) -> None:
    tampered(store, "delete A001 v3")
    run = audit("verify", "--json")
    assert run.code == 3
    report = run.json()
    assert report["ok"] is False
    [finding] = report["findings"]
    assert set(finding) == FINDING_KEYS
    assert {k: finding[k] for k in ("kind", "number", "aggregate", "version")} == {
        "kind": "event_deleted",
        "number": "A001",
        "aggregate": "Customer",
        "version": 3,
    }
    text = audit("verify")
    assert text.code == 3
    assert "event_deleted" in text.out and "BROKEN: 1 finding(s)" in text.out


def test_one_customer_can_be_verified(audit: Any, store: str) -> None:
    tampered(store, "delete A001 v3")
    assert audit("verify", "B002").code == 0
    run = audit("verify", "A001", "--json")
    assert run.code == 3
    assert run.json()["chains"] == 2  # the customer and its number claim


def test_verifying_an_unknown_customer_is_an_error(audit: Any) -> None:
    run = audit("verify", "Z999")
    assert run.code == 1
    assert run.err.startswith("error [unknown_customer]")


def test_checkpoint_prints_a_small_json_document(audit: Any) -> None:
    run = audit("checkpoint", "--json")
    assert run.code == 0
    anchor = run.json()
    assert set(anchor) == {"notification_id", "hash", "events", "at"}
    assert anchor["events"] == 10 and len(anchor["hash"]) == 64
    text = audit("checkpoint")
    assert json.loads(text.out)["hash"] == anchor["hash"]  # one JSON line on stdout
    assert "audit verify --against" in text.err  # and the hint beside it


def test_verify_against_a_checkpoint_file_or_text(audit: Any, store: str, tmp_path: Path) -> None:
    anchor = audit("checkpoint").out
    kept = tmp_path / "checkpoint.json"
    kept.write_text(anchor, encoding="utf-8")
    assert audit("verify", "--against", str(kept)).code == 0
    assert audit("verify", "--against", anchor).code == 0
    # given the newest event is deleted: the chains cannot tell, the checkpoint can
    tampered(store, "delete the newest event")
    assert audit("verify").code == 0
    run = audit("verify", "--against", str(kept), "--json")
    assert run.code == 3
    result = run.json()["checkpoint"]
    assert (result["ok"], result["events_then"], result["events_now"]) == (False, 10, 9)
    assert "does NOT match the checkpoint" in audit("verify", "--against", anchor).out


@pytest.mark.parametrize(
    "given", ["no-such-file.json", '{"hash": 1}', "{not json", '{"notification_id": -1}']
)
def test_a_bad_checkpoint_is_refused(audit: Any, given: str) -> None:
    run = audit("verify", "--against", given)
    assert run.code == 1
    assert run.err.startswith("error [invalid_checkpoint]")


def test_the_installed_script_exits_with_3(store: str) -> None:
    tampered(store, "delete A001 v3")
    done = subprocess.run(
        [str(SCRIPT), "--store", store, "audit", "verify"], capture_output=True, text=True
    )
    assert done.returncode == 3, done.stderr


# -- docs/audit.md stays true --------------------------------------------------------------

DOC = (DOCS / "audit.md").read_text(encoding="utf-8")


def test_the_docs_python_example_runs() -> None:
    (example,) = re.findall(r"```python\n(# audit: verify and checkpoint\n.*?)```", DOC, re.S)
    exec(compile(example, "docs/audit.md", "exec"), {})


def test_the_docs_explain_every_kind() -> None:
    explained = re.findall(r"^\| `(\w+)` \|", DOC, re.M)
    assert [k for k in explained if k in KINDS] == list(KINDS)
