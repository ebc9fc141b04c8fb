"""``CustomerLedger.save`` and ``_take_snapshots`` are eventsourcing's own methods, copied
for speed. When an upgrade of eventsourcing changes the originals, this fails, so that
the copies are read against the new versions instead of drifting from them silently."""

from __future__ import annotations

import hashlib
import inspect

import pytest
from eventsourcing.application import Application, ProcessingEvent

from customer_ledger import CustomerLedger

ORIGINALS = {
    "Application.save": Application.save,
    "Application._take_snapshots": Application._take_snapshots,
    "ProcessingEvent.collect_events": ProcessingEvent.collect_events,
}


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_the_copied_eventsourcing_methods_are_unchanged_upstream(name: str) -> None:
    digest = hashlib.sha256(inspect.getsource(ORIGINALS[name]).encode()).hexdigest()
    assert digest == CustomerLedger.COPIED_FROM_EVENTSOURCING[name], (
        f"the installed eventsourcing's {name} changed: compare it with the copy in "
        "customer_ledger/application/ledger.py, bring the copy up to date, then record "
        "the new digest in CustomerLedger.COPIED_FROM_EVENTSOURCING"
    )


def test_every_copy_is_checked() -> None:
    assert set(CustomerLedger.COPIED_FROM_EVENTSOURCING) == set(ORIGINALS)
