"""Folds Customer events into Customer state for the views that need current state.

The views do not re-implement the business: they replay each event through the
aggregate's own ``@event`` bodies (``event.mutate``), so a profile in a view is exactly
the profile of the aggregate at that version. States are kept in a bounded cache and
persisted by the views (opaque bytes), so a batch only loads customers it has not seen.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

from attrs import frozen
from eventsourcing.domain import (
    Aggregate,
    CanMutateAggregate,
    DecoratedFuncCaller,
    OriginatorVersionError,
    decorated_funcs,
)

from customer_ledger.domain.customer import Customer
from customer_ledger.domain.values import CustomerType, Stage
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.serialization import decode, encode, structure_state, unstructure_state

# Customers whose state a fold keeps in memory; misses reload from the view. Measured
# on a 200k-event rebuild (SQLite): 1,024 is as fast as 4,096 and peaks at 135 MB, not
# 171 MB; the cache is full by 100k events, so a rebuild's peak stops growing with the
# length of the log (a 1M-event history has ~45k customers).
CACHE_LIMIT = 1_024


def state_bytes(customer: Customer, fields: PersonalFields) -> bytes:
    """The customer's state as a view stores it: its personal fields sealed (together,
    as a snapshot's are; states sealed per value by earlier releases still load)."""
    data = unstructure_state(Customer, vars(customer))
    return encode(fields.seal_state(customer.id, Customer, data))


def customer_from_state(data: bytes, fields: PersonalFields, customer_id: UUID) -> Customer:
    customer = object.__new__(Customer)
    opened = fields.open_value(customer_id, decode(data))
    customer.__dict__.update(structure_state(Customer, opened))
    customer.__dict__["_pending_events"] = []
    return customer


# Per event class: its ``@event`` body and the names it takes, or None (mutate instead).
_BODIES: dict[type, tuple[Callable[..., None], frozenset[str]] | None] = {}


def _body(cls: type) -> tuple[Callable[..., None], frozenset[str]] | None:
    """What ``cls.mutate`` would run, if it is eventsourcing's plain ``@event`` caller."""
    if cls not in _BODIES:
        func = decorated_funcs.get(cls)
        plain = (
            getattr(cls, "apply", None) is DecoratedFuncCaller.apply
            and getattr(cls, "mutate", None) is CanMutateAggregate.mutate
        )
        _BODIES[cls] = (
            None
            if func is None or not plain
            else (func, frozenset(inspect.signature(func).parameters))
        )
    return _BODIES[cls]


def advance(event: Any, customer: Customer | None) -> Customer:
    """``event.mutate(customer)``: the aggregate's own ``@event`` body with the event's
    values, then its version and modified time, exactly as eventsourcing's ``mutate``
    does, without its per-event machinery (about half of a fold's cost, issue 17). The
    caller has the right customer: only the version is checked here."""
    body = _body(type(event)) if customer is not None else None
    if body is None:  # a first contact (the aggregate is created), or anything unusual
        created = event.mutate(customer)
        assert isinstance(created, Customer)
        return created
    assert customer is not None
    version = event.originator_version
    if version != customer.version + 1:
        raise OriginatorVersionError(version, customer.version + 1)
    func, names = body
    values = event.__dict__
    func(customer, **{name: values[name] for name in names if name in values})
    customer.version = version
    customer.modified_on = event.timestamp
    return customer


def project(customer: Customer | None, events: Iterable[Any]) -> Customer | None:
    """A ``projector_func`` for ``repository.get``: the events folded with ``advance``."""
    for event in events:
        customer = advance(event, customer)
    return customer


def folding(events: Iterable[Any], customer: Customer | None = None) -> Iterator[Customer]:
    """The customer after each of ``events``, applied in the given order through the
    aggregate's own ``@event`` bodies, from ``customer`` (default: from nothing, so the
    first event must be the first contact). The customer changes in place."""
    state: Any = customer
    for event in events:
        state = advance(event, state)
        yield state


def fold(events: Iterable[Any], customer: Customer | None = None) -> Customer:
    """The customer ``events`` make, applied in order from ``customer`` (or nothing)."""
    folded = customer
    for folded in folding(events, customer):  # noqa: B007 - the last one is the answer
        pass
    if folded is None:
        raise ValueError("no events to fold")
    return folded


class After(NamedTuple):
    """A customer as it was right after one event: what a fold that dates each change
    needs (analytics). Taken as the fold goes, because the aggregate changes in place."""

    customer_id: UUID
    number: str
    name: str
    owner: str | None
    stage: Stage
    risk_flagged: bool
    cooperation_since: date | None
    birthdays: tuple[tuple[str, str, date], ...]  # (contact id, name, birthday), by id
    version: int
    type: CustomerType


def after(customer: Customer) -> After:
    contacts = customer.contacts
    birthdays = (
        tuple(
            (key, c.name, c.birthday)
            for key, c in sorted(contacts.items())
            if c.birthday is not None
        )
        if contacts
        else ()
    )
    return After(
        customer.id,
        customer.number,
        customer.name,
        customer.owner,
        customer.stage,
        customer.risk_flagged,
        customer.cooperation_since,
        birthdays,
        customer.version,
        customer.type,
    )


Trace = list[tuple[Any, After]]  # each event a fold applied, and the customer after it


class ViewStateError(RuntimeError):
    """A view lacks the state an event needs: the view is corrupt; rebuild it."""


@frozen
class Damage:
    """Why a customer's events cannot be applied from ``version`` on: one is missing,
    undecodable or does not match its seal. The views keep the customer as it stood
    before, marked damaged, and apply none of its later events."""

    customer_id: UUID
    number: str | None
    version: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": str(self.customer_id),
            "number": self.number,
            "version": self.version,
            "reason": self.reason,
        }


@frozen
class DamagedEvent:
    """Stands in a page of events for one that could not be decoded (the catch-up reads
    on past it: the other customers' events are applied, this customer's are not)."""

    originator_id: UUID
    originator_version: int
    reason: str
    number: str | None = None


CUSTOMER_EVENTS = (Customer.Event, DamagedEvent)


class SharedBatch:
    """The last batch one of several folds applied, for the others to reuse.

    Views caught up together (``engine.projections_for``) are usually at the same
    position, so they are handed the very same events: folding them once, and
    encoding each changed customer's state once, serves them all. A fold whose batch
    is not this one (its view is elsewhere) folds on its own, from its own view's
    states, as if nothing were shared.
    """

    def __init__(self, fields: PersonalFields) -> None:
        self.fields = fields
        self._events: list[Any] = []
        self._changed: dict[UUID, Customer] | None = None
        self._states: dict[UUID, bytes] = {}
        self.trace: Trace | None = None  # kept while ``traced``
        self.traced = False  # set by a fold that needs each event's ``After``
        self._damage: dict[UUID, Damage] = {}

    def damage(self) -> dict[UUID, Damage]:
        """The customers the last batch found damaged (kept at their last good state)."""
        return self._damage

    def changed(self, events: list[Any]) -> dict[UUID, Customer] | None:
        """What folding ``events`` (these very objects, in this order) changed, if known."""
        if self._changed is None or len(events) != len(self._events):
            return None
        if any(a is not b for a, b in zip(events, self._events, strict=True)):
            return None
        return self._changed

    def remember(
        self,
        events: list[Any],
        changed: dict[UUID, Customer],
        trace: Trace | None,
        damage: dict[UUID, Damage],
    ) -> None:
        self._events, self._changed, self._states, self.trace = events, changed, {}, trace
        self._damage = damage

    def forget(self) -> None:
        """Nothing to share. (Customers are mutated in place from batch to batch, so the
        states encoded for an older batch must not outlive it.)"""
        self._events, self._changed, self._states, self.trace = [], None, {}, None
        self._damage = {}

    def state(self, customer: Customer) -> bytes:
        """``state_bytes(customer)`` of a customer this batch changed, sealed once."""
        if self._changed is None or self._changed.get(customer.id) is not customer:
            return state_bytes(customer, self.fields)
        found = self._states.get(customer.id)
        if found is None:
            found = self._states[customer.id] = state_bytes(customer, self.fields)
        return found


class CustomerFold:
    """Current Customer state per id, advanced event by event."""

    def __init__(
        self,
        load: Callable[[Collection[UUID]], dict[UUID, bytes]],
        fields: PersonalFields,
        shared: SharedBatch | None = None,
        *,
        traced: bool = False,
    ) -> None:
        self._load = load
        self.fields = fields
        self._cache: dict[UUID, Customer] = {}
        self._skipped = False  # the last batch held events its states already reflected
        self.shared = shared
        self._traced = traced
        self.trace: Trace = []  # the last batch's events and customers after each, if traced
        self.damaged: dict[UUID, Damage] = {}  # set aside: none of their events is applied
        self.batch_damage: dict[UUID, Damage] = {}  # found by the last batch
        if traced and shared is not None:
            shared.traced = True  # whichever fold does a shared batch keeps its trace

    @property
    def traced(self) -> bool:
        return self._traced or (self.shared is not None and self.shared.traced)

    def state(self, customer: Customer) -> bytes:
        """The customer's state to store beside the view's row."""
        if self.shared is None:
            return state_bytes(customer, self.fields)
        return self.shared.state(customer)

    def apply(self, events: Iterable[Any]) -> dict[UUID, Customer]:
        """Applies the Customer events; returns the customers they changed."""
        events = [e for e in events if isinstance(e, CUSTOMER_EVENTS)]
        if self.shared is not None:
            changed = self.shared.changed(events)
            trace = self.shared.trace
            if changed is not None and (trace is not None or not self._traced):
                self.trace = trace if trace is not None else []  # folded by another view
                self.batch_damage = self.shared.damage()
                self.damaged.update(self.batch_damage)
                return changed
        changed = self._apply(events)
        if self.shared is not None:
            # Shared only when folded from states exactly at the batch's start: a state
            # another process had already moved past some of these events (skipped
            # below) is not what the other views hold, and they would lose those events.
            if self._skipped:
                self.shared.forget()
            else:
                self.shared.remember(
                    events, changed, self.trace if self.traced else None, self.batch_damage
                )
        return changed

    def _apply(self, events: list[Any]) -> dict[UUID, Customer]:
        self._prefetch([e for e in events if e.originator_id not in self.damaged])
        self._skipped = False
        changed: dict[UUID, Customer] = {}
        trace: Trace | None = [] if self.traced else None
        self.trace = trace if trace is not None else []
        self.batch_damage = {}
        try:
            for event in events:
                customer_id = event.originator_id
                if customer_id in self.damaged:
                    continue  # set aside: its views keep the last good state
                current = self._cache.get(customer_id)
                damage = damage_of(event, current)
                if damage is not None:
                    self._set_aside(damage, current, changed)
                    continue
                if current is not None and event.originator_version <= current.version:
                    self._skipped = True
                    continue  # already reflected in the stored state
                try:
                    customer = advance(event, current)
                except Exception as error:  # a decodable event the rules cannot apply
                    self._cache.pop(customer_id, None)  # (it may be half-applied)
                    number = _number(current)
                    reason = (
                        f"customer {number or customer_id} is damaged: its event "
                        f"{event.originator_version} cannot be applied ({error})"
                    )
                    self._set_aside(
                        Damage(customer_id, number, event.originator_version, reason),
                        None,
                        changed,
                    )
                    continue
                assert isinstance(customer, Customer)
                self._cache.pop(customer.id, None)  # to the young end: least recently used go
                self._cache[customer.id] = changed[customer.id] = customer
                if trace is not None:
                    trace.append((event, after(customer)))
        except BaseException:
            self._cache.clear()  # in-memory states may be ahead of what was saved
            raise
        while len(self._cache) > CACHE_LIMIT:  # ``changed`` keeps this batch's own
            del self._cache[next(iter(self._cache))]
        return changed

    def _set_aside(
        self, damage: Damage, current: Customer | None, changed: dict[UUID, Customer]
    ) -> None:
        """A damaged customer: reported once, its last good state written again (so its
        views can mark it), none of its later events applied."""
        self.damaged[damage.customer_id] = self.batch_damage[damage.customer_id] = damage
        if current is not None:
            changed[damage.customer_id] = current
        else:
            changed.pop(damage.customer_id, None)

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
                or self._cache[customer_id].version != first_version - 1
            )
        }
        if stale:
            for customer_id, data in self._load(stale).items():
                self._cache[customer_id] = customer_from_state(data, self.fields, customer_id)


def damage_of(event: Any, current: Customer | None) -> Damage | None:
    """Why ``event`` cannot follow ``current`` (the customer's state before it), if so:
    it could not be decoded, or versions before it are missing."""
    if isinstance(event, DamagedEvent):
        number = event.number or _number(current)
        return Damage(event.originator_id, number, event.originator_version, event.reason)
    version = event.originator_version
    if current is None:
        if isinstance(event, Aggregate.Created):
            return None
        return gap(event.originator_id, None, 1, version)
    if version > current.version + 1:
        return gap(event.originator_id, current.number, current.version + 1, version)
    return None


def gap(customer_id: UUID, number: str | None, missing: int, found: int) -> Damage:
    """Events ``missing``..``found - 1`` of the customer are not in the log."""
    what = f"event {missing} is" if found == missing + 1 else f"events {missing}..{found - 1} are"
    who = f"customer {number}" if number else f"customer {customer_id}"
    return Damage(customer_id, number, missing, f"{who} is damaged: its {what} missing")


def _number(customer: Customer | None) -> str | None:
    return None if customer is None else customer.number
