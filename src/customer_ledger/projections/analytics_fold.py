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

from attrs import evolve, fields

from customer_ledger.domain.values import CustomerType
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.privacy.masking import mask_name
from customer_ledger.projections.analytics_facts import (
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
    StoredFacts,
    Term,
)
from customer_ledger.projections.fold import (
    CACHE_LIMIT,
    After,
    CustomerFold,
    SharedBatch,
    ViewStateError,
    after,
    folding,
)
from customer_ledger.serialization import converter, decode, encode


def advance(facts: CustomerFacts | None, event: Any, customer: After) -> CustomerFacts:
    """The facts after ``event``; ``customer`` is the aggregate just after it."""
    on = event.occurred_at.date()
    if facts is None:
        facts = CustomerFacts(
            customer_id=customer.customer_id,
            number=customer.number,
            name=customer.name,
            owner=customer.owner,
            first_contact_on=on,
            cooperation_since=None,
            version=0,
        )
    changes = _record(facts, event, on)
    stages = changes.get("stages", facts.stages)
    if not stages or stages[-1].stage is not customer.stage:
        changes["stages"] = (*stages, StageChange(on, customer.stage))
    flags = facts.risk_flags
    if customer.risk_flagged != (bool(flags) and flags[-1].flagged):
        changes["risk_flags"] = (*flags, FlagChange(on, customer.risk_flagged))
    birthdays = facts.birthdays
    if len(birthdays) != len(customer.birthdays) or any(
        (b.contact_id, b.name, b.birthday) != c
        for b, c in zip(birthdays, customer.birthdays, strict=True)
    ):
        birthdays = tuple(Birthday(*c) for c in customer.birthdays)
    return _evolve(
        facts,
        changes,
        name=customer.name,
        owner=customer.owner,
        cooperation_since=customer.cooperation_since,
        birthdays=birthdays,
        version=customer.version,
        type=customer.type,
    )


_FIELDS = tuple(a.name for a in fields(CustomerFacts))


def _evolve(facts: CustomerFacts, changes: dict[str, Any], **more: Any) -> CustomerFacts:
    """``attrs.evolve`` with two sets of changes, in one construction (the fold's hot path)."""
    changes.update(more)
    return CustomerFacts(*[changes[n] if n in changes else getattr(facts, n) for n in _FIELDS])


def replaced(facts: CustomerFacts, contract: ContractFacts) -> tuple[ContractFacts, ...]:
    return tuple(contract if c.number == contract.number else c for c in facts.contracts)


def _record(facts: CustomerFacts, e: Any, on: date) -> dict[str, Any]:
    """The changes to the facts for the dated record an event adds (one case per kind of
    event; others add none)."""
    match type(e).__name__:
        case "InteractionLogged":
            interaction = Interaction(on, e.follow_up_on, e.follow_up)
            return {"interactions": (*facts.interactions, interaction)}
        case "PurchaseRecorded":
            purchase = Purchase(on, e.amount.amount, e.amount.currency)
            return {"purchases": (*facts.purchases, purchase)}
        case "ContractSigned":
            c = e.contract
            contract = ContractFacts(c.number, c.signed_on, c.starts_on, (Term(c.expires_on),))
            return {"contracts": (*facts.contracts, contract)}
        case "ContractRenewed":
            old = facts.contract(e.contract_number)
            if old is None:
                return {}
            renewed = evolve(old.terms[-1], renewed_on=on)
            terms = (*old.terms[:-1], renewed, Term(e.expires_on))
            return {"contracts": replaced(facts, evolve(old, terms=terms))}
        case "ContractTerminated":
            old = facts.contract(e.contract_number)
            if old is None:
                return {}
            return {"contracts": replaced(facts, evolve(old, terminated_on=on))}
        case "ComplaintFiled":
            complaint = ComplaintFacts(e.complaint_id, e.subject, on)
            return {"complaints": (*facts.complaints, complaint)}
        case "ComplaintResolved":
            complaints = tuple(
                evolve(c, resolved_on=on) if c.complaint_id == e.complaint_id else c
                for c in facts.complaints
            )
            scores = facts.scores
            if e.satisfaction is not None:
                scores = (*scores, Score(on, e.satisfaction))
            return {"complaints": complaints, "scores": scores}
        case "SatisfactionRated":
            return {"scores": (*facts.scores, Score(on, e.score))}
        case "GradeAssigned":
            return {"grades": (*facts.grades, GradeChange(on, e.grade))}
        case "NeedsRecorded":
            change = IntentionChange(on, bool(e.needs.upsell_intention))
            return {"intentions": (*facts.intentions, change)}
        case "ReminderScheduled":
            r = e.reminder
            reminder = ScheduledReminder(r.reminder_id, r.subject, r.due_on)
            return {"reminders": (*facts.reminders, reminder)}
        case "CustomerAbsorbed":
            return _absorbed(facts, e.contribution)
        case "MergedIntoCustomer":
            return {"merged_into": e.survivor_number}
        case "ReminderCompleted":
            reminders = tuple(
                evolve(r, done_on=on) if r.reminder_id == e.reminder_id else r
                for r in facts.reminders
            )
            return {"reminders": reminders}
    return {}


def _absorbed(facts: CustomerFacts, c: Any) -> dict[str, Any]:
    """A merged record's dated facts, on the days they happened, as this customer's."""
    interactions = (Interaction(i.on, i.follow_up_on, i.follow_up) for i in c.interactions)
    purchases = (Purchase(p.on, p.amount.amount, p.amount.currency) for p in c.purchases)
    contracts = (
        ContractFacts(k.number, k.signed_on, k.starts_on, (Term(k.expires_on),))
        for k in c.contracts
    )
    complaints = (
        ComplaintFacts(k.complaint_id, k.subject, k.filed_at.date()) for k in c.complaints
    )
    return {
        "interactions": tuple(sorted((*facts.interactions, *interactions), key=lambda i: i.on)),
        "purchases": tuple(sorted((*facts.purchases, *purchases), key=lambda p: p.on)),
        "contracts": (*facts.contracts, *contracts),
        "complaints": (*facts.complaints, *complaints),
    }


def facts_of(events: Iterable[Any]) -> CustomerFacts | None:
    """The facts of one customer's whole history (the reference the views must match)."""
    facts: CustomerFacts | None = None
    events = list(events)
    for event, customer in zip(events, folding(events), strict=True):
        facts = advance(facts, event, after(customer))
    return facts


def facts_document(facts: CustomerFacts, fields: PersonalFields) -> bytes:
    """The facts as a view stores them: canonical JSON, personal fields sealed."""
    data = fields.seal_value(facts.customer_id, CustomerFacts, converter.unstructure(facts))
    return encode(data)


def facts_from_document(
    document: bytes | str, fields: PersonalFields, *, without_keys: bool = False
) -> CustomerFacts:
    """Stored facts, their personal fields opened; a birthday that cannot be read (the
    customer forgotten, or no keys) is left out."""
    data = decode(document)
    opened = fields.open_value(UUID(data["customer_id"]), data, without_keys=without_keys)
    facts = converter.structure(opened, CustomerFacts)
    if any(b.birthday is None for b in facts.birthdays):
        facts = evolve(facts, birthdays=tuple(b for b in facts.birthdays if b.birthday))
    return facts


def facts_listing(facts: CustomerFacts) -> CustomerFacts:
    """What the view may keep in clear (its number and owner columns come from it)."""
    name = facts.name if facts.type is CustomerType.COMPANY else mask_name(facts.name)
    return evolve(facts, name=name, birthdays=())


Loader = Callable[[Collection[UUID]], dict[UUID, StoredFacts]]


class FactsFold:
    """Facts per customer, advanced with the customers' own fold (bounded cache).

    The customers are folded by a ``CustomerFold``, shared with the profile and status
    views when they are caught up together, so an event is applied to its aggregate
    once for all of them; this fold only adds the dated records, from the fold's trace.
    """

    def __init__(
        self, load: Loader, fields: PersonalFields, shared: SharedBatch | None = None
    ) -> None:
        self._load = load
        self.fields = fields
        self._facts: dict[UUID, CustomerFacts] = {}
        self.customers = CustomerFold(self._states, fields, shared, traced=True)

    def _states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        """The customer fold's loader: each row's facts come along with its state."""
        records = self._load(customer_ids)
        for customer_id, record in records.items():
            self._facts[customer_id] = facts_from_document(record.document, self.fields)
        return {customer_id: record.state for customer_id, record in records.items()}

    def apply(self, events: Iterable[Any]) -> list[AnalyticsRecord]:
        """Applies the Customer events; returns the records of the customers changed."""
        changed = self.customers.apply(events)
        trace = self.customers.trace
        self._prefetch(trace)
        found = self._facts
        try:
            for event, customer in trace:
                customer_id = event.originator_id
                facts = found.get(customer_id)
                if event.originator_version == 1:
                    facts = None
                elif facts is None:
                    raise ViewStateError(
                        f"no analytics facts for customer {customer_id} before "
                        f"version {event.originator_version}"
                    )
                elif event.originator_version <= facts.version:
                    continue  # already reflected in the stored facts
                found.pop(customer_id, None)  # to the young end: least recently used go
                found[customer_id] = advance(facts, event, customer)
        except BaseException:
            self.forget()  # in-memory facts may be ahead of what was saved
            raise
        damage = self.customers.batch_damage  # set aside: their facts stay as they were
        records = [
            AnalyticsRecord(
                facts_listing(found[i]),
                facts_document(found[i], self.fields),
                self.customers.state(changed[i]),
            )
            for i in sorted(changed)
            if i not in damage
        ]
        while len(found) > CACHE_LIMIT:
            del found[next(iter(found))]
        return records

    def forget(self) -> None:
        """Drops cached states (after a failed save, or when another writer moved on)."""
        self._facts.clear()
        self.customers.forget()

    def _prefetch(self, trace: list[tuple[Any, After]]) -> None:
        """Loads the facts of customers whose cached facts are not at the batch's start
        (the shared fold loaded their states from another view, or they were evicted)."""
        first: dict[UUID, int] = {}
        for event, _ in trace:
            first.setdefault(event.originator_id, event.originator_version)
        stale = [
            customer_id
            for customer_id, version in first.items()
            if version > 1
            and ((facts := self._facts.get(customer_id)) is None or facts.version != version - 1)
        ]
        if stale:
            for customer_id, record in self._load(stale).items():
                self._facts[customer_id] = facts_from_document(record.document, self.fields)
