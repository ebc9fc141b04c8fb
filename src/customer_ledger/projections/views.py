"""The view ports: what every storage adapter implements for the three read models.

Projections (``projections/*.py``) decide *what* a view holds; views only store and
query it. Each view is an eventsourcing ``TrackingRecorder``: ``save`` writes its rows
and the tracking position of the last event they reflect in ONE transaction, so a
crash never applies an event twice or skips one. ``save`` must raise eventsourcing's
``IntegrityError`` (and write nothing) when ``tracking.notification_id`` is not greater
than the view's current ``max_tracking_id`` (another process got there first).

Conventions every adapter follows (the conformance suite in ``customer_ledger.testing``
checks them, so memory, SQLite and PostgreSQL answer every query identically):

* Text search is a case-insensitive substring match on name OR number (Chinese works:
  it is plain substring matching), folding case with ``fold_text`` below; ``%`` and ``_``
  in the text match literally.
* ``ViewSet.view`` raises ``StoreError`` for a kind it does not know.
* After ``ViewSet.swap(kind)`` a view object obtained for the rebuild generation must not
  be used again (its tables are gone); read what you need from it before swapping.
* Filters are exact matches; ``tag`` matches customers having that tag.
* Sorting is by ``ProfileQuery.sort`` then ``number`` (unique) as tiebreaker;
  ``sort_key(profile, sort)`` below gives the exact key (NULL times become '' so they
  sort first). Store those keys in columns and compare text bytewise (SQLite's default
  BINARY collation; ``COLLATE "C"`` in PostgreSQL), which is code-point order, as
  Python's.
* Keyset pagination: ``Page.next_cursor`` is ``encode_cursor(sort_key(last), number)``
  of the last item when more items may follow, else None; ``ProfileQuery.after`` is
  such a cursor, and the next page starts strictly after it.
* Times are compared as instants (UTC); business dates use ``occurred_at``.
* A view is created with a ``generation``: ``"live"`` for the one readers use, another
  name (``"rebuild"``) for a rebuild in progress. ``ViewSet.swap(kind)`` replaces the
  live view with the rebuilt one atomically (readers see old or new, never a mix) and
  ``ViewSet.discard(kind)`` drops a rebuild.
* Every view records the *format* its rows are written in: when an adapter creates a
  view's tracking table it inserts, in the same transaction, the row
  ``(FORMAT_ROW, VIEW_FORMAT)``, so the format travels with the tables through a swap.
  Views that release 0.1 wrote have no such row and read as ``LEGACY_FORMAT``; the
  ledger rebuilds any view older than ``VIEW_FORMAT`` when it opens (``ViewSet.upgrading``
  keeps two processes from doing it at once).
"""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, overload
from uuid import UUID

import orjson
from attrs import field, frozen
from eventsourcing.persistence import Tracking, TrackingRecorder

from customer_ledger.domain.values import Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.analytics_facts import AnalyticsRecord, StoredFacts
from customer_ledger.projections.profile import Profile

T = TypeVar("T")
Kind = Literal["profile", "timeline", "status", "analytics"]
KINDS: tuple[Kind, ...] = ("profile", "timeline", "status", "analytics")
LIVE = "live"
REBUILD = "rebuild"
SortField = Literal[
    "number", "name", "stage", "total_revenue", "last_interaction_at", "first_contact_at"
]
SORT_FIELDS: tuple[str, ...] = (
    "number", "name", "stage", "total_revenue", "last_interaction_at", "first_contact_at"
)  # fmt: skip
MAX_PAGE = 1000
# The format of what the views store. 2: personal fields sealed with the customer's key
# in documents and fold states, listings without personal data (release 0.1 stored
# them in clear: format 1). 3: timeline summaries in Chinese throughout, profile
# updates with their old values. Raise it whenever what a view stores changes; every
# view older than it is rebuilt on open.
VIEW_FORMAT = 3
LEGACY_FORMAT = 1  # the views of release 0.1, which recorded no format
# The tracking table's row holding the format: no application is named like this (an
# eventsourcing application name is a Python class name).
FORMAT_ROW = "#view-format"


@frozen
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None


@frozen
class ProfileRecord:
    """What the profile projection hands its view. The view stores ``document`` and
    ``state`` as they are and answers reads with ``document``; it takes its columns
    (search, filters, sorting) from ``profile``, the customer's *listing*: the profile
    with its personal data left out, so nothing personal is stored in clear."""

    profile: Profile  # the listing (``profile.listing``): safe to store in clear
    document: bytes  # the whole profile, personal fields sealed with the customer's key
    state: bytes  # the Customer aggregate's state, sealed the same way; opaque to the view


def _limit(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise InvalidValue(f"limit must be 1..{MAX_PAGE}, got {value!r}")
    return value


def _sort(value: str) -> str:
    if value not in SORT_FIELDS:
        raise InvalidValue(f"cannot sort by {value!r}; choose one of {', '.join(SORT_FIELDS)}")
    return value


@frozen
class ProfileQuery:
    text: str | None = None
    stage: Stage | None = None
    type: str | None = None
    industry: str | None = None
    region: str | None = None
    owner: str | None = None
    grade: str | None = None
    tag: str | None = None
    sort: str = field(default="number", converter=_sort)
    descending: bool = False
    limit: int = field(default=50, converter=_limit)
    after: str | None = None


@frozen
class TimelineEntry:
    customer_id: UUID
    number: str
    version: int
    kind: str  # the event class name, e.g. "ComplaintFiled"
    occurred_at: datetime  # business time
    recorded_at: datetime  # when the ledger recorded it
    actor: str
    summary_en: str
    summary_zh: str
    late: bool = False  # registered more than a day after it happened (补录)

    def to_json(self) -> dict[str, Any]:
        """The one JSON shape of a timeline entry (the CLI's, the API's, exports')."""
        return {
            "number": self.number,
            "version": self.version,
            "event": self.kind,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "summary": self.summary_en,
            "summary_zh": self.summary_zh,
            "late": self.late,
        }


@frozen
class TimelineQuery:
    """Entries by business time: ``start`` inclusive, ``end`` exclusive.

    Ordered by (occurred_at, number, version); cursor key is that triple.
    """

    customer_id: UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = field(default=200, converter=_limit)
    after: str | None = None


@frozen
class StatusRow:
    customer_id: UUID
    number: str
    name: str
    owner: str | None
    stage: Stage
    open_complaints: int
    last_interaction_at: datetime | None
    next_reminder_on: date | None
    first_contact_at: datetime


@frozen
class StatusRecord:
    row: StatusRow
    state: bytes


class ProfileView(TrackingRecorder, ABC):
    @abstractmethod
    def save(self, records: Sequence[ProfileRecord], tracking: Tracking) -> None:
        """Upsert these profiles and record ``tracking``, in one transaction."""

    @abstractmethod
    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        """The stored fold state of those customers that have one."""

    @abstractmethod
    def get(self, customer_id: UUID) -> bytes | None:
        """The stored document of that customer's profile."""

    @abstractmethod
    def get_by_number(self, number: str) -> bytes | None: ...

    @abstractmethod
    def search(self, query: ProfileQuery) -> Page[bytes]:
        """The documents of the profiles whose listings match, in the query's order."""


class TimelineView(TrackingRecorder, ABC):
    @abstractmethod
    def save(self, entries: Sequence[TimelineEntry], tracking: Tracking) -> None:
        """Insert these entries (ignoring any already present by (customer_id, version))
        and record ``tracking``, in one transaction."""

    @abstractmethod
    def latest(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[str, int]]:
        """For those customers the view has entries of: their number and the highest
        version entered (the next entry must be the one after it)."""

    @abstractmethod
    def entries(self, query: TimelineQuery) -> Page[TimelineEntry]: ...


class StatusView(TrackingRecorder, ABC):
    @abstractmethod
    def save(self, records: Sequence[StatusRecord], tracking: Tracking) -> None:
        """Upsert these rows and record ``tracking``, in one transaction."""

    @abstractmethod
    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]: ...

    @abstractmethod
    def rows(self, stage: Stage | None = None, owner: str | None = None) -> list[StatusRow]:
        """Rows ordered by number."""

    @abstractmethod
    def count_by_stage(self) -> dict[Stage, int]:
        """Every stage, zero where no customer is in it."""

    @abstractmethod
    def idle(self, before: datetime) -> list[StatusRow]:
        """Customers not churned whose last interaction (or, with none, first contact)
        happened before ``before``; ordered by number."""


class AnalyticsView(TrackingRecorder, ABC):
    """Dated facts per customer (``customer_ledger.projections.analytics_facts``): the analytics
    rules read them as of a date, so what a view holds never depends on the day it
    was built."""

    @abstractmethod
    def save(self, records: Sequence[AnalyticsRecord], tracking: Tracking) -> None:
        """Upsert these customers' facts and fold states and record ``tracking``, in one
        transaction."""

    @abstractmethod
    def records(self, customer_ids: Collection[UUID]) -> dict[UUID, StoredFacts]:
        """The stored facts document and fold state of those customers that have them."""

    @abstractmethod
    def facts(self, owner: str | None = None) -> list[bytes]:
        """Every customer's facts document (or those of ``owner``'s customers), ordered
        by number."""


class ViewSet(ABC):
    """The three views of one store, for one generation, plus rebuild management."""

    @overload
    def view(self, kind: Literal["profile"], generation: str = LIVE) -> ProfileView: ...
    @overload
    def view(self, kind: Literal["timeline"], generation: str = LIVE) -> TimelineView: ...
    @overload
    def view(self, kind: Literal["status"], generation: str = LIVE) -> StatusView: ...
    @overload
    def view(self, kind: Literal["analytics"], generation: str = LIVE) -> AnalyticsView: ...
    @overload
    def view(self, kind: Kind, generation: str = LIVE) -> TrackingRecorder: ...
    @abstractmethod
    def view(self, kind: Kind, generation: str = LIVE) -> TrackingRecorder:
        """The view of that kind and generation (tables created if missing)."""

    @abstractmethod
    def swap(self, kind: Kind) -> None:
        """Atomically make the ``rebuild`` generation live; the old live one is dropped."""

    @abstractmethod
    def discard(self, kind: Kind) -> None:
        """Drop the ``rebuild`` generation (if any)."""

    @abstractmethod
    def has_rebuild(self, kind: Kind) -> bool: ...

    def format(self, kind: Kind, generation: str = LIVE) -> int:
        """The format that view's rows are written in (its tables created if missing,
        with the current format)."""
        found = self.view(kind, generation).max_tracking_id(FORMAT_ROW)
        return LEGACY_FORMAT if found is None else found

    def upgrading(self) -> AbstractContextManager[None]:
        """Held while the ledger rebuilds views of an older format: one process at a
        time across the store (the others wait, then find the views current)."""
        return nullcontext()

    def runner_view_class(self, kind: Kind) -> type[TrackingRecorder] | None:
        """A live view class eventsourcing's ``ProjectionRunner`` can construct through
        ``InfrastructureFactory.tracking_recorder(cls)``; None where the store cannot
        push notifications (then ``follow`` polls)."""
        return None

    def close(self) -> None:  # noqa: B027 - most view sets hold nothing to release
        """Release connections."""


# -- helpers shared by every adapter ----------------------------------------------------


def fold_text(value: str) -> str:
    """How search compares text: Python's ``str.lower`` (SQL ``lower()`` folds ASCII only
    in SQLite and follows the collation in PostgreSQL, so adapters store folded columns)."""
    return value.lower()


def utc_key(value: datetime | None) -> str:
    """A datetime as fixed-width UTC text that sorts like the instant ('' for None)."""
    if value is None:
        return ""
    # the same text as strftime("%Y-%m-%dT%H:%M:%S.%f") for years 1000-9999, 3x faster
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def cents(value: Decimal) -> int:
    """Revenue as whole cents: an exact, sortable integer column."""
    return int((value * 100).to_integral_value())


def sort_key(profile: Profile, sort: str) -> Any:
    """The value a profile sorts by (before the ``number`` tiebreaker)."""
    if sort == "total_revenue":
        return cents(profile.total_revenue)
    if sort in ("last_interaction_at", "first_contact_at"):
        return utc_key(getattr(profile, sort))
    if sort == "stage":
        return profile.stage.value
    return getattr(profile, sort)


def encode_cursor(*key: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode("ascii")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except Exception as error:
        raise InvalidValue(f"cursor {cursor!r} is not one this ledger gave out") from error
    if not isinstance(key, list):
        raise InvalidValue(f"cursor {cursor!r} is not one this ledger gave out")
    return key
