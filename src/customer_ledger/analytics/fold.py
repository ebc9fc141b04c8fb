"""Folds Customer events into ``CustomerFacts``, one event at a time.

The aggregate's own ``@event`` bodies advance its state (``event.mutate``), so the stage
after each event is the lifecycle's answer, not a copy of it; this module only adds
the dated records the aggregate does not keep (when each interaction, purchase, score,
renewal... happened). The fold state is persisted by the view beside the facts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from attrs import evolve
from eventsourcing.domain import Aggregate

from customer_ledger.analytics.facts import (
    AnalyticsRecord,
    Birthday,
    ComplaintFacts,
    ContractFacts,
    CustomerFacts,
    FlagChange,
    GradeChange,
    IntentionChange,
    Interaction,
    Purchase,
    ScheduledReminder,
    Score,
    StageChange,
    Term,
    replace_contract,
)
from customer_ledger.domain.customer import Customer
from customer_ledger.projections.fold import (
    CACHE_LIMIT,
    ViewStateError,
    customer_from_state,
    state_bytes,
)


def advance(facts: CustomerFacts | None, event: Any, customer: Customer) -> CustomerFacts:
    """The facts after ``event``; ``customer`` is the aggregate with it applied."""
    on = event.occurred_at.date()
    if facts is None:
        facts = CustomerFacts(
            customer_id=customer.id,
            number=customer.number,
            name=customer.name,
            owner=customer.owner,
            first_contact_on=on,
            cooperation_since=None,
            version=0,
        )
    facts = _record(facts, event, on)
    facts = _track_stage(facts, customer, on)
    return evolve(
        facts,
        name=customer.name,
        owner=customer.owner,
        cooperation_since=customer.cooperation_since,
        birthdays=tuple(
            Birthday(c.contact_id, c.name, c.birthday)
            for _, c in sorted(customer.contacts.items())
            if c.birthday is not None
        ),
        version=customer.version,
    )


def _track_stage(facts: CustomerFacts, customer: Customer, on: date) -> CustomerFacts:
    if not facts.stages or facts.stages[-1].stage is not customer.stage:
        facts = evolve(facts, stages=(*facts.stages, StageChange(on, customer.stage)))
    flagged = bool(facts.risk_flags) and facts.risk_flags[-1].flagged
    if customer.risk_flagged != flagged:
        change = FlagChange(on, customer.risk_flagged)
        facts = evolve(facts, risk_flags=(*facts.risk_flags, change))
    return facts


def _record(facts: CustomerFacts, e: Any, on: date) -> CustomerFacts:
    """The dated record an event adds (one case per kind of event; others add none)."""
    match type(e).__name__:
        case "InteractionLogged":
            interaction = Interaction(on, e.follow_up_on, e.follow_up)
            return evolve(facts, interactions=(*facts.interactions, interaction))
        case "PurchaseRecorded":
            purchase = Purchase(on, e.amount.amount, e.amount.currency)
            return evolve(facts, purchases=(*facts.purchases, purchase))
        case "ContractSigned":
            c = e.contract
            contract = ContractFacts(c.number, c.signed_on, c.starts_on, (Term(c.expires_on),))
            return evolve(facts, contracts=(*facts.contracts, contract))
        case "ContractRenewed":
            old = facts.contract(e.contract_number)
            if old is None:
                return facts
            renewed = evolve(old.terms[-1], renewed_on=on)
            terms = (*old.terms[:-1], renewed, Term(e.expires_on))
            return replace_contract(facts, evolve(old, terms=terms))
        case "ContractTerminated":
            old = facts.contract(e.contract_number)
            if old is None:
                return facts
            return replace_contract(facts, evolve(old, terminated_on=on))
        case "ComplaintFiled":
            complaint = ComplaintFacts(e.complaint_id, e.subject, on)
            return evolve(facts, complaints=(*facts.complaints, complaint))
        case "ComplaintResolved":
            complaints = tuple(
                evolve(c, resolved_on=on) if c.complaint_id == e.complaint_id else c
                for c in facts.complaints
            )
            scores = facts.scores
            if e.satisfaction is not None:
                scores = (*scores, Score(on, e.satisfaction))
            return evolve(facts, complaints=complaints, scores=scores)
        case "SatisfactionRated":
            return evolve(facts, scores=(*facts.scores, Score(on, e.score)))
        case "GradeAssigned":
            return evolve(facts, grades=(*facts.grades, GradeChange(on, e.grade)))
        case "NeedsRecorded":
            change = IntentionChange(on, bool(e.needs.upsell_intention))
            return evolve(facts, intentions=(*facts.intentions, change))
        case "ReminderScheduled":
            r = e.reminder
            reminder = ScheduledReminder(r.reminder_id, r.subject, r.due_on)
            return evolve(facts, reminders=(*facts.reminders, reminder))
        case "ReminderCompleted":
            reminders = tuple(
                evolve(r, done_on=on) if r.reminder_id == e.reminder_id else r
                for r in facts.reminders
            )
            return evolve(facts, reminders=reminders)
    return facts


def facts_of(events: Iterable[Any]) -> CustomerFacts | None:
    """The facts of one customer's whole history (the reference the views must match)."""
    customer: Customer | None = None
    facts: CustomerFacts | None = None
    for event in events:
        customer = event.mutate(customer)
        assert isinstance(customer, Customer)
        facts = advance(facts, event, customer)
    return facts


Loader = Callable[[Collection[UUID]], dict[UUID, AnalyticsRecord]]


class FactsFold:
    """Customer state and facts per id, advanced event by event (bounded cache)."""

    def __init__(self, load: Loader) -> None:
        self._load = load
        self._cache: dict[UUID, tuple[Customer, CustomerFacts]] = {}

    def apply(self, events: Iterable[Any]) -> list[AnalyticsRecord]:
        """Applies the Customer events; returns the records of the customers changed."""
        events = [e for e in events if isinstance(e, Customer.Event)]
        self._prefetch(events)
        changed: set[UUID] = set()
        try:
            for event in events:
                current = self._cache.get(event.originator_id)
                if isinstance(event, Aggregate.Created):
                    customer, facts = event.mutate(None), None
                elif current is None:
                    raise ViewStateError(
                        f"no analytics state for customer {event.originator_id} before "
                        f"version {event.originator_version}"
                    )
                elif event.originator_version <= current[0].version:
                    continue  # already reflected in the stored facts
                else:
                    customer, facts = event.mutate(current[0]), current[1]
                assert isinstance(customer, Customer)
                self._cache[customer.id] = (customer, advance(facts, event, customer))
                changed.add(customer.id)
        except BaseException:
            self._cache.clear()  # in-memory states may be ahead of what was saved
            raise
        return [
            AnalyticsRecord(self._cache[i][1], state_bytes(self._cache[i][0]))
            for i in sorted(changed)
        ]

    def forget(self) -> None:
        """Drops cached states (after a failed save, or when another writer moved on)."""
        self._cache.clear()

    def _prefetch(self, events: list[Any]) -> None:
        wanted: dict[UUID, int] = {}
        for event in events:
            wanted.setdefault(event.originator_id, event.originator_version)
        stale = {
            customer_id
            for customer_id, first_version in wanted.items()
            if first_version > 1
            and (
                customer_id not in self._cache
                or self._cache[customer_id][0].version != first_version - 1
            )
        }
        if len(self._cache) + len(wanted) > CACHE_LIMIT:
            self._cache.clear()
            stale = {cid for cid, version in wanted.items() if version > 1}
        if stale:
            for customer_id, record in self._load(stale).items():
                self._cache[customer_id] = (customer_from_state(record.state), record.facts)
