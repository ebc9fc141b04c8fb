"""Snapshots: taken every ``SNAPSHOT_INTERVAL`` events, and never change what a replay says.

The property: for any history and any version N, the customer eventsourcing rebuilds
from the newest snapshot at or before N plus the events after it is exactly the
customer folded from events 1..N alone. It runs on memory, SQLite and PostgreSQL, with
a small interval so that short histories cross many snapshots; a long history then
checks the real interval.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import OperationalError
from histories import aggregate_state, folded
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import fixed_clock, histories
from strategies import replay as run_history

from customer_ledger import CustomerLedger
from customer_ledger.application.replay import SNAPSHOT_INTERVAL
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.values import Meta
from customer_ledger.projections.profile import profile_of

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

SMALL_INTERVAL = 3


class SmallSnapshots(CustomerLedger):
    """The ledger with a snapshot every 3 events (same name, so the same tables)."""

    name = "CustomerLedger"
    snapshotting_intervals = {Customer: SMALL_INTERVAL}  # noqa: RUF012


def backends(directory: Path, postgres_url_factory: Any) -> list[str]:  # noqa: F811
    return [
        "memory://",
        f"sqlite:///{directory}/{uuid.uuid4().hex}.db",
        postgres_url_factory(),  # a fresh schema each time
    ]


def snapshot_versions(ledger: CustomerLedger, customer_id: UUID) -> list[int]:
    assert ledger.snapshots is not None
    return [s.originator_version for s in ledger.snapshots.get(customer_id)]


@pytest.fixture
def spy_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Records the ``gt`` of each event read a repository makes (set after a snapshot)."""

    def spy(ledger: CustomerLedger) -> list[int | None]:
        reads: list[int | None] = []
        store = ledger.repository.event_store
        real = store.get

        def get(*args: Any, **kwargs: Any) -> Any:
            reads.append(kwargs.get("gt"))
            return real(*args, **kwargs)

        monkeypatch.setattr(store, "get", get)
        return reads

    yield spy


def test_the_ledger_snapshots_customers_every_100_events() -> None:
    assert SNAPSHOT_INTERVAL == 100
    assert CustomerLedger.snapshotting_intervals == {Customer: SNAPSHOT_INTERVAL}


@settings(
    max_examples=int(os.environ.get("CUSTOMER_LEDGER_SNAPSHOT_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories(numbers=("A001",), min_size=1, max_size=30), data=st.data())
def test_a_replay_from_a_snapshot_equals_the_fold_of_every_event_before_it(
    history: list[Any],
    data: st.DataObject,
    tmp_path: Path,
    postgres_url_factory: Any,  # noqa: F811
) -> None:
    for url in backends(tmp_path, postgres_url_factory):
        # given a random history of one customer, snapshotted every 3 events
        ledger = SmallSnapshots.open(url, clock=fixed_clock)
        ledger.eager_views = False
        try:
            run_history(ledger, history)
            customer_id = ledger.customer_id("A001")
            last = ledger.customer("A001").version
            assert snapshot_versions(ledger, customer_id) == list(
                range(SMALL_INTERVAL, last + 1, SMALL_INTERVAL)
            )
            # when it is read at a random version (through the newest snapshot before it)
            version = data.draw(st.integers(1, last), label=f"version on {url[:6]}")
            replayed = ledger.repository.get(customer_id, version=version)
            # then it is the customer folded from events 1..version, field for field
            expected = folded(ledger, customer_id, version)
            assert aggregate_state(replayed) == aggregate_state(expected)
            assert profile_of(replayed) == profile_of(expected)
        finally:
            ledger.close()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(request.param, request, tmp_path)


def test_a_long_history_replays_through_its_snapshots(url: str, spy_reads: Any) -> None:
    # given a customer with 250 events: a first contact and 249 logged calls, saved in
    # batches as an import would
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    try:
        ledger.first_contact("A001", name="*先生", type="individual", occurred_at="2023-08-15")
        customer = ledger.customer("A001")
        meta = Meta(actor="*助理", role="sales")
        start = datetime(2023, 8, 16, tzinfo=UTC)
        for n in range(1, 250):
            customer.log_interaction(
                channel="phone", topic=f"call {n}", occurred_at=start + timedelta(hours=n),
                meta=meta, duration_minutes=n % 60 + 1, now=fixed_clock(),
            )  # fmt: skip
            if n % 50 == 0:
                ledger.save(customer)
        ledger.save(customer)
        # then snapshots were taken at versions 100 and 200
        assert snapshot_versions(ledger, customer.id) == [100, 200]
        reads = spy_reads(ledger)
        for version, snapshot in [(1, None), (99, None), (100, 100), (101, 100), (250, 200)]:
            reads.clear()
            # when the customer is read at that version
            replayed = ledger.repository.get(customer.id, version=version)
            # then only the events after the newest snapshot were read
            assert reads == [snapshot]
            # and it equals the fold of every event up to that version
            assert aggregate_state(replayed) == aggregate_state(
                folded(ledger, customer.id, version)
            )
            assert ledger.replay("A001", version=version).interaction_count == version - 1
    finally:
        ledger.close()


def test_a_snapshot_that_cannot_be_stored_does_not_fail_the_command(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a store whose snapshot table refuses writes
    ledger = SmallSnapshots.open("memory://", clock=fixed_clock)
    assert ledger.snapshots is not None

    def refuse(*_: Any, **__: Any) -> None:
        raise OperationalError("disk full")

    monkeypatch.setattr(ledger.snapshots, "put", refuse)
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at="2024-05-01")
    ledger.tag("A001", tag="VIP", occurred_at="2024-05-02")
    # when the third event is recorded (a snapshot is due)
    with caplog.at_level(logging.WARNING, logger="customer_ledger.application.ledger"):
        result = ledger.tag("A001", tag="重点", occurred_at="2024-05-03")
    # then the command succeeded and is recorded; only the snapshot is missing, and said so
    assert result.version == 3 and len(ledger.history("A001")) == 3
    assert snapshot_versions(ledger, result.customer_id) == []
    assert "could not store a snapshot" in caplog.text
    assert ledger.replay("A001", version=3).tags == ("VIP", "重点")


def test_a_forged_snapshot_cannot_mislead_a_replay_from_sealed_events() -> None:
    # given a customer with 5 logged calls (snapshots at versions 3 and 6), and a snapshot
    # no writer took, slipped into the snapshot store at version 4: it claims 40 calls
    ledger = SmallSnapshots.open("memory://", clock=fixed_clock)
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at="2024-05-01")
    for day in range(2, 7):
        ledger.log_interaction("A001", channel="phone", topic="call", occurred_at=f"2024-05-0{day}")
    customer = ledger.repository.get(ledger.customer_id("A001"), version=4)
    customer.interaction_count = 40
    assert ledger.snapshots is not None
    ledger.snapshots.put([Customer.Snapshot.take(customer)])
    assert sorted(snapshot_versions(ledger, customer.id)) == [3, 4, 6]
    # when version 5 is replayed from snapshots, the forgery shows
    assert ledger.replay("A001", version=5).interaction_count == 41
    # but replayed from the sealed events alone, the truth does
    assert ledger.replay("A001", version=5, snapshots=False).interaction_count == 4
    assert ledger.replay("A001", version=6, snapshots=False) == ledger.profile("A001")
