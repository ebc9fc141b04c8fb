"""A damaged store: one of a customer's stored events deleted, or its bytes changed.

Every read path says so with a typed ``CorruptEvent`` naming the customer and the
version; a rebuild or a catch-up sets the damaged customer aside (its views keep its
last good state, marked damaged), completes every other customer and reports the
damaged one; commands on it are refused; ``audit verify`` lists the same.

A001 has versions 1-6, B002 versions 1-2 (``tampering.record_history``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from strategies import fixed_clock
from tampering import HEADER_SIZE, flip, record_history, tamper_for

from customer_ledger import CustomerLedger
from customer_ledger.application.follow import follow
from customer_ledger.audit.verify import verify
from customer_ledger.cli.main import main
from customer_ledger.errors import CorruptEvent
from customer_ledger.formats.jsonl import import_objects
from customer_ledger.testing import stored_profile


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    url = fresh_store_url(request.param, request, tmp_path, pool="&pool_size=2&max_overflow=2")
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    record_history(ledger)
    yield ledger
    ledger.close()


def delete(ledger: CustomerLedger, number: str, version: int) -> None:
    tamper_for(ledger).delete(ledger.customer_id(number), version)
    ledger._command_loads.cache = None  # as a new process: nothing cached
    ledger._command_loads = ledger._command_repository()


def garble(ledger: CustomerLedger, number: str, version: int) -> None:
    tamper = tamper_for(ledger)
    customer_id = ledger.customer_id(number)
    stored = tamper.rows(customer_id)[version - 1]
    tamper.set_state(customer_id, version, flip(stored.state, HEADER_SIZE, 0x40))


def timeline_versions(ledger: CustomerLedger, number: str) -> list[int]:
    return [e.version for e in ledger.timeline(number, limit=1000).items]


@pytest.mark.parametrize("harm", [delete, garble], ids=["deleted", "garbled"])
def test_a_rebuild_sets_a_damaged_customer_aside_and_completes_the_others(
    ledger: CustomerLedger, harm
) -> None:
    # given A001's third event deleted (or garbled) before any view has seen it
    harm(ledger, "A001", 3)
    # when the views are rebuilt from the log
    results = ledger.rebuild()
    # then every view reports A001 set aside at version 3, and B002 is complete
    for result in results:
        assert [(d.number, d.version) for d in result.damaged] == [("A001", 3)], result
    assert ledger.profile("B002").version == 2
    assert timeline_versions(ledger, "B002") == [1, 2]
    # and A001's views keep its last good state, marked damaged
    with pytest.raises(CorruptEvent) as info:
        ledger.profile("A001")
    assert "A001" in str(info.value) and info.value.number == "A001"
    kept = ledger.profile("A001", damaged=True)
    assert (kept.version, kept.damaged is not None) == (2, True)
    assert timeline_versions(ledger, "A001") == [1, 2]
    assert [r.number for r in ledger.status()] == ["A001", "B002"]


def test_every_read_and_every_command_on_a_customer_with_a_gap_says_so(
    ledger: CustomerLedger,
) -> None:
    delete(ledger, "A001", 3)
    reads = {
        "history": lambda: ledger.history("A001"),
        "customer": lambda: ledger.customer("A001"),
        "replay by version": lambda: ledger.replay("A001", version=5, snapshots=False),
        "replay as of": lambda: ledger.replay("A001", as_of="2023-10-02"),
        "command": lambda: ledger.tag("A001", tag="again"),
    }
    for what, read in reads.items():
        with pytest.raises(CorruptEvent) as info:
            read()
        error = info.value
        assert (error.number, error.version) == ("A001", 3), what
        assert "event 3 is missing" in str(error), what
    # the other customer is untouched: its commands and reads work
    ledger.tag("B002", tag="still fine")
    assert len(ledger.history("B002")) == 3


def test_an_import_line_for_a_damaged_customer_fails_typed_and_the_rest_imports(
    ledger: CustomerLedger,
) -> None:
    delete(ledger, "A001", 3)
    report = import_objects(
        ledger,
        [
            {"command": "tag", "customer": "A001", "tag": "x"},
            {"command": "tag", "customer": "B002", "tag": "y"},
        ],
    )
    assert [(f.line, f.rule) for f in report.failures] == [(1, "corrupt_event")]
    assert report.recorded == 1


def test_audit_verify_lists_the_same_customer_and_version(ledger: CustomerLedger) -> None:
    delete(ledger, "A001", 3)
    report = verify(ledger)
    assert [(f.kind, f.number, f.version) for f in report.broken] == [("event_deleted", "A001", 3)]
    assert [(d.number, d.version) for d in ledger.rebuild()[0].damaged] == [("A001", 3)]


def test_a_catch_up_past_a_gap_applies_the_others_and_sets_the_customer_aside(
    ledger: CustomerLedger,
) -> None:
    # given views caught up, then two more events of A001 of which the first is lost
    ledger.refresh()
    ledger.tag("A001", tag="seven", occurred_at="2023-10-02")
    ledger.tag("A001", tag="eight", occurred_at="2023-10-02")
    ledger.tag("B002", tag="nine", occurred_at="2023-10-02")
    delete(ledger, "A001", 7)
    # when the views catch up: B002's tag is applied, A001 is set aside at version 7
    ledger.refresh()
    assert ledger.profile("B002").tags == ("nine",)
    assert [(d.number, d.version) for d in ledger.damaged()] == [("A001", 7)]
    assert ledger.profile("A001", damaged=True).version == 6
    assert timeline_versions(ledger, "A001") == [1, 2, 3, 4, 5, 6]


def test_follow_reports_a_damaged_customer_and_keeps_following(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url, clock=fixed_clock) as ledger:
        record_history(ledger)
        garble(ledger, "A001", 3)
    said: list[str] = []
    stop = threading.Event()
    with CustomerLedger.open(url, clock=fixed_clock) as follower:
        worker = threading.Thread(
            target=follow,
            args=(follower, stop),
            kwargs={"poll_seconds": 0.05, "report": said.append},
        )
        worker.start()
        try:
            with CustomerLedger.open(url, clock=fixed_clock) as writer:
                writer.tag("B002", tag="later", occurred_at="2023-10-02")
                for _ in range(200):  # read as is: no catch-up of our own
                    row = stored_profile(writer, "B002")
                    if row is not None and row.tags == ("later",):
                        break
                    stop.wait(0.05)
                row = stored_profile(writer, "B002")
                assert row is not None and row.tags == ("later",)
        finally:
            stop.set()
            worker.join(10)
    assert any("A001 set aside at version 3" in line for line in said), said


def test_the_cli_rebuild_reports_the_damaged_customer_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CUSTOMER_LEDGER_STORE", raising=False)
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url, clock=fixed_clock) as ledger:
        record_history(ledger)
        delete(ledger, "A001", 3)
    code = main(["--store", url, "rebuild"])
    captured = capsys.readouterr()
    assert code == 1
    assert "error [corrupt_event]: customer A001 set aside at version 3" in captured.err
    assert "profile:" in captured.out  # every view was rebuilt
    for argv in (["history", "A001"], ["audit", "replay", "A001", "--version", "5"]):
        assert main(["--store", url, *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error [corrupt_event]: customer A001 is damaged"), err
        assert "Traceback" not in err
