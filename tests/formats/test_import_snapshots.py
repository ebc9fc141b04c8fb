"""An import's snapshots are those one command at a time would take.

A batch of lines is saved early when a customer reaches a snapshot's version, so the
ledger snapshots the customer as it is in memory (no events read back). Each snapshot
must still be exactly the fold of the events before it, at every multiple of the
interval, whatever the batch size.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from histories import aggregate_state, folded

from customer_ledger import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.formats.jsonl import BATCH_ENV, import_lines

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

INTERVAL = 3


class SmallSnapshots(CustomerLedger):
    """The ledger with a snapshot every 3 events (same name, so the same tables)."""

    name = "CustomerLedger"
    snapshotting_intervals = {Customer: INTERVAL}  # noqa: RUF012


def history(customers: int, lines: int) -> list[bytes]:
    """Interleaved lines of several customers: contacts, calls, purchases, tags."""
    out = [
        {
            "command": "first_contact",
            "customer": f"A{c:03}",
            "name": f"客户{c}",
            "type": "individual",
        }
        for c in range(customers)
    ]
    for k in range(lines):
        number = f"A{k % customers:03}"
        out.append(
            [
                {"command": "log_interaction", "channel": "phone", "topic": f"call {k}"},
                {"command": "record_purchase", "product": "p", "amount": f"{k}.50"},
                {
                    "command": "add_contact",
                    "contact_id": f"c{k}",
                    "name": "张三",
                    "phone": "13800138000",
                },
                {"command": "tag", "tag": f"t{k}"},
            ][k % 4]
            | {"customer": number, "occurred_at": f"2023-01-{1 + k % 28:02}"}
        )
    return [orjson.dumps(line) + b"\n" for line in out]


@pytest.mark.parametrize("batch", ["1", "7", "1000"])
@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_each_snapshot_of_an_import_is_the_fold_of_the_events_before_it(
    batch: str, backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BATCH_ENV, batch)
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db"
    ledger = SmallSnapshots.open(url)
    reads_back: list[Any] = []
    monkeypatch.setattr(ledger, "take_snapshot", lambda *a, **k: reads_back.append(a))
    try:
        # given an import of interleaved lines of four customers
        report = import_lines(ledger, history(customers=4, lines=60))
        assert (report.recorded, report.failures) == (64, [])
        assert ledger.snapshots is not None
        for c in range(4):
            customer = ledger.customer(f"A{c:03}")
            snapshots = list(ledger.snapshots.get(customer.id))
            # then every multiple of the interval has its snapshot, taken from memory
            versions = [s.originator_version for s in snapshots]
            assert versions == list(range(INTERVAL, customer.version + 1, INTERVAL))
            # and each holds exactly what the events before it fold to
            for snapshot in snapshots:
                taken = snapshot.mutate(None)
                assert aggregate_state(taken) == aggregate_state(
                    folded(ledger, customer.id, taken.version)
                )
        assert reads_back == []
    finally:
        ledger.close()
