"""Views that share one fold hold the same as views folded alone, wherever each one is.

Profile, status and analytics fold each page of events once between them
(``fold.SharedBatch``); analytics reads the customers from that fold's trace. Given any
valid history, catching up a random subset of the views after each command, now and then as a new
process would (cold caches), so they stand at different positions and the shared fold
serves some pages and not others,
ends with the views a single catch-up gives, and analytics facts equal to each
customer's facts folded from its own history.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_ledger import CustomerLedger
from customer_ledger.projections.engine import catch_up, projections_for
from customer_ledger.projections.views import KINDS
from customer_ledger.testing import clock, reference_facts, snapshot_views, stored_facts
from customer_ledger.testing.random_histories import apply_history, comparable, histories

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


def views_caught_up_together(steps: list) -> dict:
    with CustomerLedger.open("memory://", clock=clock) as ledger:
        apply_history(ledger, steps)
        return comparable(snapshot_views(ledger))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=histories(), data=st.data())
def test_views_caught_up_at_different_positions_equal_views_caught_up_together(
    steps: list, data: st.DataObject
) -> None:
    with CustomerLedger.open("memory://", clock=clock) as ledger:
        live = projections_for(
            ledger.views, ledger.personal
        )  # one shared fold, kept across catch-ups

        def some_views_catch_up() -> None:
            kinds = data.draw(st.sets(st.sampled_from(KINDS)), label="views caught up")
            if data.draw(st.booleans(), label="as a new process"):  # cold caches
                live[:] = projections_for(ledger.views, ledger.personal)
            catch_up(ledger, [p for p in live if p.kind in kinds], page_size=3)

        ledger.after_command = some_views_catch_up  # type: ignore[method-assign]
        apply_history(ledger, steps)
        catch_up(ledger, live, page_size=3)
        assert stored_facts(ledger) == reference_facts(ledger)
        staggered = comparable(snapshot_views(ledger))
    assert staggered == views_caught_up_together(steps)
