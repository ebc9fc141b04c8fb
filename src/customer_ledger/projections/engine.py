"""Catching views up with the event log, and rebuilding them from scratch.

Both page through the application's notification log (one decode per event for all
views) and hand each view a whole page per transaction: the same exactly-once
tracking as ``ProjectionRunner``, at a fraction of the per-event transaction cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any
from uuid import UUID

from attrs import frozen
from eventsourcing.persistence import IntegrityError, Notification, Tracking

from customer_ledger.errors import CorruptEvent
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.projections.collector import collect_young, paused_collector
from customer_ledger.projections.fold import Damage, DamagedEvent, SharedBatch
from customer_ledger.projections.projectors import PROJECTIONS, SHARES_FOLD, BatchProjection
from customer_ledger.projections.timeline import forget_summaries
from customer_ledger.projections.views import KINDS, LIVE, REBUILD, VIEW_FORMAT, Kind, ViewSet

# Events per page, and per view transaction. Bigger pages fold each busy customer once
# per page, not once per thousand events, and commit less often: measured on a 31k-event
# rebuild, 5,000 is 25% faster than 1,000 and 20,000 adds only 5% more (docs/performance.md).
PAGE_SIZE = 5000
CUSTOMER_TOPIC_PREFIX = "customer_ledger.Customer."
Progress = Callable[[int, int], None]  # (events done, events in the log)


@frozen
class RebuildResult:
    projection: Kind
    events: int  # the log position the view was rebuilt to
    seconds: float  # this view's own time: applying the events to it, and its swap
    damaged: tuple[Damage, ...] = ()  # customers set aside: their events could not be read
    resumed_from: int = 0  # where a killed rebuild had got to (0: started afresh)


def damaged(projections: Sequence[BatchProjection]) -> list[Damage]:
    """Every customer any of ``projections`` set aside, by number."""
    found: dict[UUID, Damage] = {}
    for projection in projections:
        for customer_id, damage in projection.damaged.items():
            found.setdefault(customer_id, damage)
    return sorted(found.values(), key=lambda d: (d.number or "", str(d.customer_id)))


def projections_for(
    views: ViewSet,
    fields: PersonalFields,
    kinds: Sequence[Kind] = KINDS,
    generation: str = LIVE,
) -> list[BatchProjection]:
    """The projections of ``kinds``, sealing what they store with ``fields``; those that
    fold customers share each batch's fold."""
    shared = SharedBatch(fields)
    return [
        PROJECTIONS[kind](views.view(kind, generation), shared, fields)  # type: ignore[call-arg]
        if kind in SHARES_FOLD
        else PROJECTIONS[kind](views.view(kind, generation))
        for kind in kinds
    ]


def catch_up(
    app: Any,
    projections: Sequence[BatchProjection],
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    timings: dict[BatchProjection, float] | None = None,
    remember_heads: bool = True,
) -> int:
    """Applies every event the projections have not seen; returns (event, view) pairs done.

    Safe to run in several processes at once: a page another process wrote first
    fails its tracking check, and this one re-reads its position and carries on.
    ``timings`` gains each projection's own seconds (reading the log is shared).
    ``remember_heads=False`` (a rebuild) leaves the mapper's chain-head cache alone.
    """
    if not projections:
        return 0
    positions = {p: _position(app, p) for p in projections}
    last = app.recorder.max_notification_id() or 0
    applied = 0
    while (start := min(positions.values()) + 1) <= last:
        notifications = app.recorder.select_notifications(start=start, limit=page_size, stop=last)
        if not notifications:
            break
        events = _decode(app, notifications, remember_heads)
        for projection in projections:
            batch = [pair for pair in events if pair[1].notification_id > positions[projection]]
            if not batch:
                continue
            started = time.perf_counter()
            try:
                projection.process_batch(batch)
            except IntegrityError:
                # Another process wrote this view first: continue from where it got to.
                positions[projection] = _position(app, projection)
                continue
            finally:
                if timings is not None:
                    timings[projection] = timings.get(projection, 0.0) + (
                        time.perf_counter() - started
                    )
            positions[projection] = batch[-1][1].notification_id
            applied += len(batch)
        done = notifications[-1].id
        del events, notifications  # this page's objects: garbage before the next is read
        forget_summaries()
        collect_young()
        if progress:
            progress(done, last)
    return applied


def rebuild(
    app: Any,
    views: ViewSet,
    kinds: Sequence[Kind] = KINDS,
    *,
    page_size: int = PAGE_SIZE,
    progress: Progress | None = None,
    fresh: bool = False,
) -> list[RebuildResult]:
    """Replays the whole log into the rebuild tables, then swaps each in atomically.

    A rebuild that was killed resumes from its rebuild tables' tracking position,
    unless ``fresh`` discards them first.
    """
    with paused_collector():
        return _rebuild(app, views, kinds, page_size=page_size, progress=progress, fresh=fresh)


def _rebuild(
    app: Any,
    views: ViewSet,
    kinds: Sequence[Kind],
    *,
    page_size: int,
    progress: Progress | None,
    fresh: bool,
) -> list[RebuildResult]:
    if fresh:
        for kind in kinds:
            views.discard(kind)
    projections = projections_for(views, app.personal, kinds, REBUILD)
    resumed = {p: _position(app, p) for p in projections}
    own: dict[BatchProjection, float] = {}
    catch_up(app, projections, page_size=page_size, progress=progress, timings=own,
             remember_heads=False)  # fmt: skip
    results = []
    for projection in projections:
        started = time.perf_counter()
        catch_up(app, [projection], page_size=page_size)  # events recorded meanwhile
        position = _position(app, projection)  # before the swap retires these tables
        views.swap(projection.kind)
        seconds = own.get(projection, 0.0) + time.perf_counter() - started
        results.append(
            RebuildResult(
                projection.kind,
                position,
                round(seconds, 3),
                tuple(damaged([projection])),
                resumed[projection],
            )
        )
    return results


def stale_views(views: ViewSet) -> list[Kind]:
    """The views written in an older format than this release writes."""
    return [kind for kind in KINDS if views.format(kind) < VIEW_FORMAT]


def upgrade(app: Any, views: ViewSet, *, progress: Progress | None = None) -> list[RebuildResult]:
    """Rebuilds every view of an older format (e.g. release 0.1's, which held personal
    data in clear), one process at a time; [] when all are current. A rebuild that an
    older release left behind is discarded, not resumed."""
    if not stale_views(views):
        return []
    with views.upgrading():
        stale = stale_views(views)  # another process may have done it meanwhile
        for kind in stale:
            if views.has_rebuild(kind) and views.format(kind, REBUILD) < VIEW_FORMAT:
                views.discard(kind)
        return rebuild(app, views, stale, progress=progress) if stale else []


def _position(app: Any, projection: BatchProjection) -> int:
    return projection.view.max_tracking_id(app.name) or 0


def _decode(
    app: Any, notifications: Sequence[Notification], remember_heads: bool = True
) -> list[tuple[Any, Tracking]]:
    """Only Customer events are decoded; others travel as None, for their tracking. An
    event that cannot be read travels as a ``DamagedEvent``: its customer is set aside,
    the others are caught up."""
    mapper = app.mapper
    to_domain_event = (
        mapper.to_domain_event
        if remember_heads or not hasattr(mapper, "chain")  # a mapper without a hash chain
        else partial(mapper.to_domain_event, remember_head=False)
    )
    name = app.name
    decoded: list[tuple[Any, Tracking]] = []
    for n in notifications:
        event = None
        if n.topic.startswith(CUSTOMER_TOPIC_PREFIX):
            try:
                event = to_domain_event(n)
            except CorruptEvent as error:
                event = DamagedEvent(_uuid(n.originator_id), n.originator_version, str(error),
                                     error.number)  # fmt: skip
        decoded.append((event, Tracking(name, n.id)))
    return decoded


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
