"""The fold's ``advance`` is eventsourcing's ``mutate``: the same ``@event`` bodies, the
same state after every event of any history (views, replay and the aggregate share it)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from eventsourcing.domain import OriginatorVersionError
from hypothesis import HealthCheck, given, settings
from strategies import fixed_clock

from customer_ledger import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.projections.fold import advance, project
from customer_ledger.testing.random_histories import apply_history, histories

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


def state(customer: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(customer).items() if k != "_pending_events"}


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(steps=histories())
def test_advance_gives_what_mutate_gives_after_every_event(steps: Any) -> None:
    with CustomerLedger.open("memory://", clock=fixed_clock) as ledger:
        apply_history(ledger, steps)
        for number in ledger.numbers():
            events = list(ledger.events.get(ledger.customer_id(number)))
            by_mutate: Any = None
            by_advance: Customer | None = None
            for event in events:
                by_mutate = event.mutate(by_mutate)
                by_advance = advance(event, by_advance)
                assert state(by_advance) == state(by_mutate)
            assert state(project(None, events)) == state(by_mutate)  # type: ignore[arg-type]


def test_advance_refuses_an_event_out_of_order(ledger: CustomerLedger) -> None:
    ledger.first_contact("A001", name="a company", type="company")
    ledger.tag("A001", tag="vip")
    ledger.tag("A001", tag="key-account")
    first, _, third = ledger.events.get(ledger.customer_id("A001"))
    customer = advance(first, None)
    with pytest.raises(OriginatorVersionError):
        advance(third, customer)
