"""Damaged stored events: reading one fails with ``CorruptEvent`` naming the customer and
the version (not an error from deep inside a decoder), what was recorded before it still
reads, other customers are untouched, and ``audit verify`` reports it and carries on.

A001 has versions 1-6 (v3 a purchase of 1000), B002 versions 1-2 (see ``tampering``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from strategies import fixed_clock
from tampering import HEADER_SIZE, body, claim_id, flip, record_history, tamper_for, with_body

from customer_ledger import CustomerLedger, LedgerError
from customer_ledger.audit.verify import verify
from customer_ledger.cli.main import main
from customer_ledger.errors import CorruptEvent


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    url = fresh_store_url(request.param, request, tmp_path, pool="&pool_size=2&max_overflow=2")
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    ledger.eager_views = False
    record_history(ledger)
    yield ledger
    ledger.close()


def damage(ledger: CustomerLedger, number: str, version: int, position: int = HEADER_SIZE) -> None:
    """Flips one bit of the stored bytes (by default the body's opening brace)."""
    tamper = tamper_for(ledger)
    customer_id = ledger.customer_id(number)
    stored = tamper.rows(customer_id)[version - 1]
    tamper.set_state(customer_id, version, flip(stored.state, position, 0x40))


def test_reading_a_damaged_event_names_the_customer_and_version(ledger: CustomerLedger) -> None:
    damage(ledger, "A001", 3)
    ledger._ids.clear()  # nothing cached: every read goes to the store
    for read in (lambda: ledger.history("A001"), lambda: ledger.customer("A001")):
        with pytest.raises(CorruptEvent) as info:
            read()
        error = info.value
        assert isinstance(error, LedgerError) and error.rule == "corrupt_event"
        assert (error.number, error.version) == ("A001", 3)
        assert error.originator_id == ledger.customer_id("A001")
        assert str(error).startswith("event 3 of customer A001 is damaged")


def test_what_was_recorded_before_the_damage_still_reads(ledger: CustomerLedger) -> None:
    damage(ledger, "A001", 3)
    assert ledger.customer("A001", version=2).version == 2
    assert ledger.customer("B002").version == 2


def test_bytes_that_still_parse_are_caught_by_the_seal(ledger: CustomerLedger) -> None:
    # given a digit of the purchase amount changes (1000 -> 9000): still valid JSON
    tamper = tamper_for(ledger)
    a001 = ledger.customer_id("A001")
    stored = tamper.rows(a001)[2]
    data = body(stored.state)
    data["amount"]["amount"] = "9000"
    tamper.set_state(a001, 3, with_body(stored.state, data))
    with pytest.raises(CorruptEvent, match=r"event 3 of customer A001 .*payload does not match"):
        ledger.history("A001")


def test_a_damaged_number_claim_names_its_number(ledger: CustomerLedger) -> None:
    tamper = tamper_for(ledger)
    stored = tamper.rows(claim_id("B002"))[0]
    tamper.set_state(claim_id("B002"), 1, flip(stored.state, 0))  # the seal's first byte
    ledger._ids.clear()
    with pytest.raises(CorruptEvent) as info:
        ledger.customer("B002")
    assert (info.value.number, info.value.version) == ("B002", 1)


def test_a_damaged_first_event_is_named_by_its_id(ledger: CustomerLedger) -> None:
    customer_id = ledger.customer_id("B002")
    damage(ledger, "B002", 1)
    with pytest.raises(CorruptEvent) as info:
        ledger.history("B002")
    assert (info.value.number, info.value.version) == (None, 1)
    assert str(customer_id) in str(info.value)


def test_verify_reports_the_damage_and_carries_on(ledger: CustomerLedger) -> None:
    damage(ledger, "A001", 3)
    damage(ledger, "B002", 2)
    report = verify(ledger)
    assert [(f.kind, f.number, f.version) for f in report.broken] == [
        ("corrupt", "A001", 3),
        ("corrupt", "B002", 2),
    ]
    assert report.chains == 4


# -- the command line ---------------------------------------------------------------------


@pytest.fixture
def damaged_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store whose A001 v3 is damaged before the views have seen it."""
    monkeypatch.delenv("CUSTOMER_LEDGER_STORE", raising=False)
    url = f"sqlite:///{tmp_path}/ledger.db"
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    ledger.eager_views = False
    record_history(ledger)
    damage(ledger, "A001", 3)
    ledger.close()
    return url


@pytest.mark.parametrize("command", ["history", "profile"])
def test_the_cli_says_which_event_is_damaged_in_one_line(
    damaged_store: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--store", damaged_store, command, "A001"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error [corrupt_event]: event 3 of customer A001 is damaged")
    assert err.count("\n") == 1


def test_the_cli_verify_reports_the_damage(
    damaged_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--store", damaged_store, "audit", "verify"])
    out = capsys.readouterr().out
    assert code == 3
    assert "corrupt" in out and "A001" in out and "BROKEN" in out
