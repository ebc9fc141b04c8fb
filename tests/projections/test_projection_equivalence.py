"""Projections are a pure function of the log.

Given any valid history, the views built incrementally (after every command) equal the
views rebuilt from scratch, equal what the aggregates themselves say, and are the same
on every backend.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from hypothesis import HealthCheck, example, given, settings

from customer_ledger import CustomerLedger
from customer_ledger.projections.status import status_of
from customer_ledger.testing import clock, reference_profiles, snapshot_views
from customer_ledger.testing.random_histories import apply_history, comparable, histories

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

EXAMPLES = settings(
    max_examples=int(os.environ.get("CUSTOMER_LEDGER_EQUIVALENCE_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def backends(directory: Path, postgres_url_factory) -> list[str]:  # noqa: F811
    return [
        "memory://",
        f"sqlite:///{directory}/{uuid.uuid4().hex}.db",
        postgres_url_factory(),  # a fresh schema for every example
    ]


# a chain of merges, H00 into H01, then H01 into H02, each with an interaction and a
# purchase of its own: what the first merge brought must move on with the second
CHAIN = [(op, who, 1, 0) for who in (0, 1, 2) for op in ("log_interaction", "record_purchase")]
CHAIN += [("merge", 0, 1, 0), ("merge", 1, 1, 0), ("log_interaction", 0, 1, 0)]


@EXAMPLES
@given(steps=histories())
@example(steps=CHAIN)
def test_incremental_rebuilt_and_cross_backend_views_are_equal(
    steps,
    tmp_path,
    postgres_url_factory,  # noqa: F811
):
    snapshots = []
    for url in backends(tmp_path, postgres_url_factory):
        ledger = CustomerLedger.open(url, clock=clock)
        try:
            apply_history(ledger, steps)
            incremental = snapshot_views(ledger)
            assert incremental["profile"] == {p.number: p for p in reference_profiles(ledger)}
            assert incremental["status"] == sorted(
                (status_of(ledger.customer(n)) for n in ledger.numbers()), key=lambda r: r.number
            )
            counted_once(ledger, incremental)
            ledger.rebuild()
            assert snapshot_views(ledger) == incremental
            snapshots.append((url, comparable(incremental)))
        finally:
            ledger.close()
    first_url, first = snapshots[0]
    for url, other in snapshots[1:]:
        assert other == first, f"{url} differs from {first_url}"


def counted_once(ledger: CustomerLedger, views: dict[str, Any]) -> None:
    """Merges move what counts, and never count it twice: the interactions and purchases
    of the customers still standing (merged ones have no analytics) are every one the
    log holds, the analytics facts date each of them, and revenue agrees with them."""
    events = [e for n in ledger.numbers() for e in ledger.history(n)]
    kinds = Counter(type(e).__name__ for e in events)
    facts = {f.number: f for f in views["analytics"]}
    standing = [p for p in views["profile"].values() if p.merged_into is None]
    assert set(facts) == {p.number for p in standing}
    assert sum(p.interaction_count for p in standing) == kinds["InteractionLogged"]
    assert sum(p.purchase_count for p in standing) == kinds["PurchaseRecorded"]
    for profile in standing:
        f = facts[profile.number]
        assert (len(f.interactions), len(f.purchases)) == (
            profile.interaction_count,
            profile.purchase_count,
        )
        revenue: dict[str, Decimal] = {}
        for purchase in f.purchases:
            revenue[purchase.currency] = (
                revenue.get(purchase.currency, Decimal(0)) + purchase.amount
            )
        assert revenue == profile.revenue
    merged = {p.number: p.merged_into for p in views["profile"].values() if p.merged_into}
    for number, survivor in merged.items():
        assert number in views["profile"][survivor].merged_from
        assert not any(r.number == number for r in ledger.status())
