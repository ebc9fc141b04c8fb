"""The in-memory store: eventsourcing's POPO recorders and dict-backed views.

For tests and throw-away ledgers; nothing survives the process. The views here are
also the reference the SQL adapters are checked against: plain Python over the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from attrs import evolve
from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent, Tracking
from eventsourcing.popo import POPOTrackingRecorder

from customer_ledger.domain.values import Stage
from customer_ledger.errors import StoreError
from customer_ledger.privacy.keys import MasterKey, MemoryKeyStore
from customer_ledger.projections.analytics_facts import AnalyticsRecord, StoredFacts
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.search import fold as search_fold
from customer_ledger.projections.views import (
    FORMAT_ROW,
    KINDS,
    LIVE,
    REBUILD,
    VIEW_FORMAT,
    AnalyticsView,
    Kind,
    Page,
    ProfileQuery,
    ProfileRecord,
    ProfileView,
    StatusRecord,
    StatusRow,
    StatusView,
    TimelineEntry,
    TimelineQuery,
    TimelineView,
    ViewSet,
    fold_text,
    sort_key,
    utc_key,
)
from customer_ledger.storage.port import Adapter
from customer_ledger.storage.urls import StoreURL
from customer_ledger.storage.users import MemoryUserStore

T = TypeVar("T")


class MemoryAdapter(Adapter):
    scheme = "memory"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}

    def views(self, url: StoreURL) -> ViewSet:
        return MemoryViewSet()

    def key_store(
        self, url: StoreURL, master_key: MasterKey | None, *, create: bool = True
    ) -> MemoryKeyStore:
        return MemoryKeyStore(master_key)  # none given: a fresh one, gone with the events

    def user_store(self, url: StoreURL) -> MemoryUserStore:
        return MemoryUserStore()  # one per ledger (CustomerLedger.users keeps it)

    def insert_notifications(
        self, recorder: ApplicationRecorder, notifications: Sequence[Notification]
    ) -> None:
        """eventsourcing's in-memory recorder numbers its events 1, 2, 3...: a log with a
        gap in its ids cannot be copied here (``StoreError``, nothing stored)."""
        expected = (recorder.max_notification_id() or 0) + 1
        for offset, notification in enumerate(notifications):
            if notification.id != expected + offset:
                raise StoreError(
                    f"memory:// numbers its events without gaps, and the log to copy goes "
                    f"on at notification {notification.id}, not {expected + offset}: copy "
                    "it to a SQLite or PostgreSQL store"
                )
        recorder.insert_events(
            [
                StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
                for n in notifications
            ]
        )


class _MemoryView(POPOTrackingRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._insert_tracking(Tracking(FORMAT_ROW, VIEW_FORMAT))  # written as it is today

    def _track(self, tracking: Tracking) -> None:
        """Checks before any write, so a stale save changes nothing."""
        self._assert_tracking_uniqueness(tracking)
        self._insert_tracking(tracking)


class MemoryProfileView(_MemoryView, ProfileView):
    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[UUID, ProfileRecord] = {}
        self._by_number: dict[str, UUID] = {}
        self._texts: dict[UUID, list[str]] = {}  # folded: the profile's, then its events'

    def save(self, records: Sequence[ProfileRecord], tracking: Tracking) -> None:
        with self._database_lock:
            self._track(tracking)
            for record in records:
                customer_id = record.profile.customer_id
                self._rows[customer_id] = record
                self._by_number[record.profile.number] = customer_id
                texts = self._texts.setdefault(customer_id, [""])
                texts[0] = search_fold(record.text)
                texts += (search_fold(text) for _, text in record.event_texts)

    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        with self._database_lock:
            return {i: self._rows[i].state for i in customer_ids if i in self._rows}

    def get(self, customer_id: UUID) -> bytes | None:
        record = self._rows.get(customer_id)
        return None if record is None else record.document

    def get_by_number(self, number: str) -> bytes | None:
        customer_id = self._by_number.get(number)
        return None if customer_id is None else self.get(customer_id)

    def search(self, query: ProfileQuery) -> Page[bytes]:
        with self._database_lock:
            found = [
                r for r in self._rows.values()
                if matches(r.profile, query) or found_by_index(r, self._texts, query)
            ]  # fmt: skip
        page = paginate(
            found,
            key=lambda r: (sort_key(r.profile, query.sort), r.profile.number),
            descending=query.descending,
            limit=query.limit,
            after=query.position,
            cursor=query.cursor,
        )
        return Page(tuple(r.document for r in page.items), page.next_cursor)


class MemoryTimelineView(_MemoryView, TimelineView):
    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[tuple[UUID, int], TimelineEntry] = {}

    def save(self, entries: Sequence[TimelineEntry], tracking: Tracking) -> None:
        with self._database_lock:
            self._track(tracking)
            for entry in entries:
                self._entries.setdefault((entry.customer_id, entry.version), entry)

    def latest(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[str, int]]:
        with self._database_lock:
            wanted = set(customer_ids)
            found: dict[UUID, tuple[str, int]] = {}
            for (cid, version), e in self._entries.items():
                if cid in wanted and version > found.get(cid, ("", 0))[1]:
                    found[cid] = (e.number, version)
            return found

    def entries(self, query: TimelineQuery) -> Page[TimelineEntry]:
        start, end = utc_key(query.start), utc_key(query.end)
        with self._database_lock:
            selected = [
                e
                for e in self._entries.values()
                if (query.customer_id is None or e.customer_id == query.customer_id)
                and (query.start is None or utc_key(e.occurred_at) >= start)
                and (query.end is None or utc_key(e.occurred_at) < end)
            ]
        return paginate(
            selected,
            key=lambda e: (utc_key(e.occurred_at), e.number, e.version),
            descending=False,
            limit=query.limit,
            after=query.position,
            cursor=query.cursor,
        )


class MemoryStatusView(_MemoryView, StatusView):
    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[UUID, StatusRecord] = {}

    def save(self, records: Sequence[StatusRecord], tracking: Tracking) -> None:
        with self._database_lock:
            self._track(tracking)
            for record in records:
                self._rows[record.row.customer_id] = record

    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        with self._database_lock:
            return {i: self._rows[i].state for i in customer_ids if i in self._rows}

    def rows(self, stage: Stage | None = None, owner: str | None = None) -> list[StatusRow]:
        with self._database_lock:
            rows = [r.row for r in self._rows.values()]
        return sorted(
            (
                r
                for r in rows
                if (stage is None or r.stage == stage) and (owner is None or r.owner == owner)
            ),
            key=lambda r: r.number,
        )

    def count_by_stage(self) -> dict[Stage, int]:
        counts = dict.fromkeys(Stage, 0)
        for row in self.rows():
            counts[row.stage] += 1
        return counts

    def idle(self, before: datetime) -> list[StatusRow]:
        cutoff = utc_key(before)
        return [
            r
            for r in self.rows()
            if r.stage is not Stage.CHURNED
            and utc_key(r.last_interaction_at or r.first_contact_at) < cutoff
        ]


class MemoryAnalyticsView(_MemoryView, AnalyticsView):
    def __init__(self) -> None:
        super().__init__()
        self._rows: dict[UUID, AnalyticsRecord] = {}

    def save(self, records: Sequence[AnalyticsRecord], tracking: Tracking) -> None:
        with self._database_lock:
            self._track(tracking)
            for record in records:
                self._rows[record.facts.customer_id] = record

    def records(self, customer_ids: Collection[UUID]) -> dict[UUID, StoredFacts]:
        with self._database_lock:
            rows = self._rows
            return {
                i: StoredFacts(rows[i].document, rows[i].state) for i in customer_ids if i in rows
            }

    def facts(self, owner: str | None = None) -> list[bytes]:
        with self._database_lock:
            found = [r for r in self._rows.values() if owner is None or r.facts.owner == owner]
        return [r.document for r in sorted(found, key=lambda r: r.facts.number)]


VIEW_CLASSES: dict[Kind, Callable[[], _MemoryView]] = {
    "profile": MemoryProfileView,
    "timeline": MemoryTimelineView,
    "status": MemoryStatusView,
    "analytics": MemoryAnalyticsView,
}


class MemoryViewSet(ViewSet):
    def __init__(self) -> None:
        self._views: dict[tuple[Kind, str], Any] = {}

    def view(self, kind: Kind, generation: str = LIVE) -> Any:
        if kind not in KINDS:
            raise StoreError(f"no {kind!r} view")
        key = (kind, generation)
        if key not in self._views:
            self._views[key] = VIEW_CLASSES[kind]()
        return self._views[key]

    def swap(self, kind: Kind) -> None:
        self._views[(kind, LIVE)] = self._views.pop((kind, REBUILD))

    def discard(self, kind: Kind) -> None:
        self._views.pop((kind, REBUILD), None)

    def has_rebuild(self, kind: Kind) -> bool:
        return (kind, REBUILD) in self._views


# -- the reference semantics of search and pagination ----------------------------------


def matches(profile: Profile, query: ProfileQuery) -> bool:
    if query.text is not None:
        needle = fold_text(query.text)
        if needle not in fold_text(profile.name) and needle not in fold_text(profile.number):
            return False
    return (
        (query.stage is None or profile.stage == query.stage)
        and (query.type is None or profile.type.value == query.type)
        and (query.industry is None or profile.industry == query.industry)
        and (query.region is None or profile.region == query.region)
        and (query.owner is None or profile.owner == query.owner)
        and (
            query.grade is None
            or (profile.grade is not None and profile.grade.value == query.grade)
        )
        and (query.tag is None or query.tag in profile.tags)
    )


def found_by_index(
    record: ProfileRecord, texts: dict[UUID, list[str]], query: ProfileQuery
) -> bool:
    """The text is in the profile's clear search text, or the profile holds every blind
    key of one group; and the filters hold."""
    if query.text is None:
        return False
    needle = search_fold(query.text)
    in_text = bool(needle) and any(needle in t for t in texts.get(record.profile.customer_id, ()))
    blind = any(group <= record.keys for group in query.blind if group)
    return (in_text or blind) and matches(record.profile, evolve(query, text=None))


def paginate(
    items: Iterable[T],
    *,
    key: Callable[[T], Any],
    descending: bool,
    limit: int,
    after: tuple[Any, ...] | None,
    cursor: Callable[..., str],
) -> Page[T]:
    """Sorted by ``key``; the page starts strictly after the position ``after`` (the
    query's checked cursor), and ``cursor`` makes the next page's."""
    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        ordered = [i for i in ordered if (key(i) < after if descending else key(i) > after)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(tuple(page), cursor(*key(page[-1])) if more and page else None)
