"""Projections: turn pages of events into view rows, written with their tracking.

Each is an eventsourcing ``Projection`` (so ``ProjectionRunner`` can drive it one event
at a time) with a ``process_batch`` that the catch-up and rebuild loops use to write a
whole page of events in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast
from uuid import UUID

from attrs import evolve
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection

from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.projections.analytics_fold import FactsFold
from customer_ledger.projections.fold import (
    CUSTOMER_EVENTS,
    CustomerFold,
    Damage,
    DamagedEvent,
    SharedBatch,
    gap,
)
from customer_ledger.projections.profile import Profile, listing, profile_document, profile_of
from customer_ledger.projections.search import blind_keys, personal_terms, public_text
from customer_ledger.projections.status import status_of
from customer_ledger.projections.timeline import described, entry_for
from customer_ledger.projections.views import (
    AnalyticsView,
    Kind,
    ProfileRecord,
    ProfileView,
    StatusRecord,
    StatusView,
    TimelineView,
)

Batch = Sequence[tuple[Any, Tracking]]


class BatchProjection(Projection[Any]):
    kind: ClassVar[Kind]
    # The ledger's personal fields, which seal what the views store; set on a class made
    # for eventsourcing's ProjectionRunner (``bound``), which constructs it with a view only.
    personal: ClassVar[PersonalFields | None] = None

    @classmethod
    def bound(cls, fields: PersonalFields) -> type[BatchProjection]:
        return type(cls.__name__, (cls,), {"personal": fields})

    def _fields(self, fields: PersonalFields | None) -> PersonalFields:
        found = fields or type(self).personal
        if found is None:
            raise ValueError(f"the {self.kind} projection needs the ledger's personal fields")
        return found

    @property
    def damaged(self) -> dict[UUID, Damage]:
        """The customers this projection found damaged and set aside."""
        raise NotImplementedError

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """One event, for eventsourcing's ProjectionRunner.

        Embedded ledgers catch their views up after each command, so the runner often
        finds an event already applied: that is success, not an error to die of.
        """
        try:
            self.process_batch([(domain_event, tracking)])
        except IntegrityError:
            position = self.view.max_tracking_id(tracking.application_name)
            if position is None or position < tracking.notification_id:
                raise
            return
        self.applied = getattr(self, "applied", 0) + 1  # what ``follow`` reports

    def process_batch(self, batch: Batch) -> None:
        """Writes the batch's rows and the last event's tracking in one transaction."""
        raise NotImplementedError


class ProfileProjection(BatchProjection):
    name = kind = "profile"
    view: ProfileView

    def __init__(
        self,
        view: ProfileView,
        shared: SharedBatch | None = None,
        fields: PersonalFields | None = None,
    ) -> None:
        super().__init__(view)
        self.fields = self._fields(fields)
        self.fold = CustomerFold(view.states, self.fields, shared)

    @property
    def damaged(self) -> dict[UUID, Damage]:
        return self.fold.damaged

    def process_batch(self, batch: Batch) -> None:
        changed = self.fold.apply(e for e, _ in batch)
        damage = self.fold.batch_damage
        texts: dict[UUID, list[tuple[int, str]]] = {}
        for event, _ in batch:  # the timeline's clear summaries, searchable
            if event is not None and event.originator_id in changed:
                texts.setdefault(event.originator_id, []).append(
                    (event.originator_version, " ".join(described(event)))
                )
        secret = self.fields.search_secret()
        records = []
        for customer in changed.values():
            profile = marked(profile_of(customer), damage.get(customer.id))
            document = profile_document(profile, self.fields)
            keys = frozenset() if secret is None else blind_keys(secret, personal_terms(profile))
            records.append(
                ProfileRecord(
                    listing(profile), document, self.fold.state(customer), keys=keys,
                    text=" ".join(public_text(profile)),
                    event_texts=tuple(texts.get(customer.id, ())),
                )
            )  # fmt: skip
        try:
            self.view.save(records, batch[-1][1])
        except BaseException:
            self.fold.forget()
            raise


class StatusProjection(BatchProjection):
    name = kind = "status"
    view: StatusView

    def __init__(
        self,
        view: StatusView,
        shared: SharedBatch | None = None,
        fields: PersonalFields | None = None,
    ) -> None:
        super().__init__(view)
        self.fields = self._fields(fields)
        self.fold = CustomerFold(view.states, self.fields, shared)

    @property
    def damaged(self) -> dict[UUID, Damage]:
        return self.fold.damaged

    def process_batch(self, batch: Batch) -> None:
        changed = self.fold.apply(e for e, _ in batch)
        records = [StatusRecord(status_of(c), self.fold.state(c)) for c in changed.values()]
        try:
            self.view.save(records, batch[-1][1])
        except BaseException:
            self.fold.forget()
            raise


class TimelineProjection(BatchProjection):
    name = kind = "timeline"
    view: TimelineView

    def __init__(self, view: TimelineView) -> None:
        super().__init__(view)
        self._damaged: dict[UUID, Damage] = {}

    @property
    def damaged(self) -> dict[UUID, Damage]:
        return self._damaged

    def process_batch(self, batch: Batch) -> None:
        events = [e for e, _ in batch if isinstance(e, CUSTOMER_EVENTS)]
        ids = {e.originator_id for e in events} - set(self._damaged)
        firsts = {e.originator_id for e in events if isinstance(e, Aggregate.Created)}
        known = self.view.latest(ids - firsts) if ids - firsts else {}
        entries = []
        for event in events:
            customer_id = event.originator_id
            if customer_id in self._damaged:
                continue
            number, version = known.get(customer_id, (None, 0))
            damage = _gap(event, number, version)
            if damage is not None:
                self._damaged[customer_id] = damage
                continue
            if event.originator_version > version:
                if isinstance(event, Aggregate.Created):
                    number = cast(Any, event).number
                known[customer_id] = (cast(str, number), event.originator_version)
            entries.append(entry_for(event, cast(str, number)))
        self.view.save(entries, batch[-1][1])


def _gap(event: Any, number: str | None, version: int) -> Damage | None:
    """Why a timeline cannot take ``event`` after the ``version`` it holds, if so."""
    if isinstance(event, DamagedEvent):
        return Damage(event.originator_id, event.number or number, event.originator_version,
                      event.reason)  # fmt: skip
    if event.originator_version > version + 1:
        return gap(event.originator_id, number, version + 1, event.originator_version)
    return None


def marked(profile: Profile, damage: Damage | None) -> Profile:
    return profile if damage is None else evolve(profile, damaged=damage.reason)


class AnalyticsProjection(BatchProjection):
    """Dated facts per customer, for rules evaluated as of a date (``analytics``)."""

    name = kind = "analytics"
    view: AnalyticsView

    def __init__(
        self,
        view: AnalyticsView,
        shared: SharedBatch | None = None,
        fields: PersonalFields | None = None,
    ) -> None:
        super().__init__(view)
        self.fold = FactsFold(view.records, self._fields(fields), shared)

    @property
    def damaged(self) -> dict[UUID, Damage]:
        return self.fold.customers.damaged

    def process_batch(self, batch: Batch) -> None:
        records = self.fold.apply(e for e, _ in batch)
        try:
            self.view.save(records, batch[-1][1])
        except BaseException:
            self.fold.forget()
            raise


SHARES_FOLD: frozenset[Kind] = frozenset({"profile", "status", "analytics"})  # SharedBatch
PROJECTIONS: dict[Kind, type[BatchProjection]] = {
    "profile": ProfileProjection,
    "timeline": TimelineProjection,
    "status": StatusProjection,
    "analytics": AnalyticsProjection,
}
