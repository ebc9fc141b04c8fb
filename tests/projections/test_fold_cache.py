"""A fold's bounded cache changes how much it remembers, never what the views hold.

The profile and status folds keep at most ``CACHE_LIMIT`` customers (least recently
used go) and reload the others from their view's stored states. Given any valid
history, views caught up in pages through a cache of one or two customers equal the
views of a cache that never forgets.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from customer_ledger import CustomerLedger
from customer_ledger.projections import analytics_fold, engine, fold
from customer_ledger.testing import clock, snapshot_views
from customer_ledger.testing.random_histories import apply_history, comparable, histories

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


def views_with_cache(steps: list, limit: int, monkeypatch: pytest.MonkeyPatch) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(fold, "CACHE_LIMIT", limit)
        patch.setattr(analytics_fold, "CACHE_LIMIT", limit)
        patch.setitem(engine.catch_up.__kwdefaults__, "page_size", 3)  # evict between pages
        with CustomerLedger.open("memory://", clock=clock) as ledger:
            ledger.eager_views = False
            apply_history(ledger, steps)
            return comparable(snapshot_views(ledger))  # (ids and recording times differ)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=histories())
def test_views_through_a_tiny_cache_equal_views_through_an_unbounded_one(
    steps: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    unbounded = views_with_cache(steps, 1_000_000, monkeypatch)
    assert views_with_cache(steps, 1, monkeypatch) == unbounded
    assert views_with_cache(steps, 2, monkeypatch) == unbounded
