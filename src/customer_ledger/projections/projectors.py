"""Projections: turn pages of events into view rows, written with their tracking.

Each is an eventsourcing ``Projection`` (so ``ProjectionRunner`` can drive it one event
at a time) with a ``process_batch`` that the catch-up and rebuild loops use to write a
whole page of events in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.projection import Projection

from customer_ledger.domain.customer import Customer
from customer_ledger.projections.analytics_fold import FactsFold
from customer_ledger.projections.fold import CustomerFold, SharedBatch
from customer_ledger.projections.profile import profile_of
from customer_ledger.projections.status import status_of
from customer_ledger.projections.timeline import entry_for
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

    def process_batch(self, batch: Batch) -> None:
        """Writes the batch's rows and the last event's tracking in one transaction."""
        raise NotImplementedError


class ProfileProjection(BatchProjection):
    name = kind = "profile"
    view: ProfileView

    def __init__(self, view: ProfileView, shared: SharedBatch | None = None) -> None:
        super().__init__(view)
        self.fold = CustomerFold(view.states, shared)

    def process_batch(self, batch: Batch) -> None:
        changed = self.fold.apply(e for e, _ in batch)
        records = [ProfileRecord(profile_of(c), self.fold.state(c)) for c in changed.values()]
        try:
            self.view.save(records, batch[-1][1])
        except BaseException:
            self.fold.forget()
            raise


class StatusProjection(BatchProjection):
    name = kind = "status"
    view: StatusView

    def __init__(self, view: StatusView, shared: SharedBatch | None = None) -> None:
        super().__init__(view)
        self.fold = CustomerFold(view.states, shared)

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

    def process_batch(self, batch: Batch) -> None:
        events = [e for e, _ in batch if isinstance(e, Customer.Event)]
        numbers = {
            e.originator_id: cast(Any, e).number for e in events if isinstance(e, Aggregate.Created)
        }
        unknown = {e.originator_id for e in events} - set(numbers)
        if unknown:
            numbers.update(self.view.numbers(unknown))
        self.view.save([entry_for(e, numbers[e.originator_id]) for e in events], batch[-1][1])


class AnalyticsProjection(BatchProjection):
    """Dated facts per customer, for rules evaluated as of a date (``analytics``)."""

    name = kind = "analytics"
    view: AnalyticsView

    def __init__(self, view: AnalyticsView, shared: SharedBatch | None = None) -> None:
        super().__init__(view)
        self.fold = FactsFold(view.records, shared)

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
