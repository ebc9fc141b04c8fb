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
  in the text match literally. It also matches a profile whose clear search text
  (``ProfileRecord.text`` and every ``event_texts`` entry stored for it, folded with
  ``search.fold``) contains ``search.fold(query.text)``, or which holds every key of
  one of ``query.blind``'s groups (``ProfileRecord.keys``, replaced on each save).
* ``ViewSet.view`` raises ``StoreError`` for a kind it does not know.
* After ``ViewSet.swap(kind)`` a view object obtained for the rebuild generation must not
  be used again (its tables are gone); read what you need from it before swapping.
* Filters are exact matches; ``tag`` matches customers having that tag.
* Sorting is by ``ProfileQuery.sort`` then ``number`` (unique) as tiebreaker;
  ``sort_key(profile, sort)`` below gives the exact key (NULL times become '' so they
  sort first). Store those keys in columns and compare text bytewise (SQLite's default
  BINARY collation; ``COLLATE "C"`` in PostgreSQL), which is code-point order, as
  Python's.
* Keyset pagination: ``Page.next_cursor`` is ``query.cursor(sort_key(last), number)``
  (``TimelineQuery.cursor(key, number, version)``) of the last item when more items may
  follow, else None. A query checks its ``after`` cursor when it is made (it names the
  order it belongs to, so a cursor of one sort is refused by another) and hands the
  adapter ``query.position``, the key the next page starts strictly after.
* Every query argument is checked when the query is made (``InvalidQuery``): adapters
  receive only valid text (no NUL, no lone surrogate, bounded) and in-range numbers.
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
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, overload
from uuid import UUID

import orjson
from attrs import field, fields, frozen
from eventsourcing.persistence import Tracking, TrackingRecorder

from customer_ledger.domain.values import Stage, optional_text, shown
from customer_ledger.errors import InvalidQuery, InvalidValue
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
# updates with their old values. 4: profiles and status rows say what was merged.
# Raise it whenever what a view stores changes; every view older than it is rebuilt
# on open.
VIEW_FORMAT = 4
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
    # The search's indexes (``projections.search``): the blind keys of the personal
    # fields, replacing the customer's stored ones; the profile's own clear text,
    # replacing its stored one; and the clear text of the events just applied, added
    # to what is stored (one entry per event: (version, text)).
    keys: frozenset[str] = frozenset()
    text: str = ""
    event_texts: tuple[tuple[int, str], ...] = ()


MAX_QUERY_TEXT = 200  # longer than any name, number or filter value a view holds
MAX_CURSOR = 1024
_INT64 = 2**63


def _limit(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE:
        raise InvalidQuery(f"limit must be a whole number 1..{MAX_PAGE}, got {shown(value)}")
    return value


def _sort(value: str) -> str:
    if not isinstance(value, str) or value not in SORT_FIELDS:
        raise InvalidQuery(f"cannot sort by {shown(value)}; choose one of {', '.join(SORT_FIELDS)}")
    return value


def _flag(value: bool) -> bool:
    if not isinstance(value, bool):
        raise InvalidQuery(f"descending must be true or false, got {shown(value)}")
    return value


def query_text(value: object, what: str = "search text") -> str | None:
    """A search argument as every backend can take it: text (not bytes, numbers...),
    valid Unicode (no lone surrogate, as undecodable command-line bytes become), no
    NUL or other control character, at most ``MAX_QUERY_TEXT`` long; blank is no
    criterion. The same refusal on every backend, before any reaches SQL."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidQuery(f"{what} must be text, got {type(value).__name__}")
    try:
        return optional_text(value, what, max_len=MAX_QUERY_TEXT)
    except InvalidValue as error:
        raise InvalidQuery(str(error)) from None


def _code(value: object, what: str) -> str | None:
    """A code as people type it: width and case aside (``ａ`` is ``a``)."""
    word = query_text(value, what)
    return None if word is None else unicodedata.normalize("NFKC", word).strip()


# The words a person filters the customer type by (the register's own, in both languages)
TYPE_WORDS = {
    "company": "company", "企业": "company", "企业客户": "company", "公司": "company",
    "individual": "individual", "个人": "individual", "个人客户": "individual",
}  # fmt: skip


def _type(value: object) -> str | None:
    word = _code(value, "type")
    if word is None:
        return None
    if word.casefold() not in TYPE_WORDS:
        raise InvalidQuery(
            f"type {shown(value)} is not a customer type: company (企业) or individual (个人)"
        )
    return TYPE_WORDS[word.casefold()]


def _grade(value: object) -> str | None:
    word = _code(value, "grade")
    return None if word is None else word.upper()


def _stage(value: object) -> Stage | None:
    if value is None or isinstance(value, Stage):
        return value
    word = _code(value, "stage")
    word = None if word is None else word.casefold()
    try:
        return None if word is None else Stage(word)
    except ValueError:
        stages = ", ".join(s.value for s in Stage)
        raise InvalidQuery(f"stage {shown(value)} is not a stage; choose one of {stages}") from None


def _text_criterion(what: str) -> Any:
    return field(default=None, converter=lambda value: query_text(value, what))


def _cursor_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not 0 < len(value) <= MAX_CURSOR:
        raise InvalidQuery("cursor is not one this ledger gave out")
    return value


def _is_int(value: object, low: int, high: int) -> bool:
    return type(value) is int and low <= value < high


def _is_key_text(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_QUERY_TEXT and "\x00" not in value


@frozen
class ProfileQuery:
    """A search of the profile view. Every argument is checked here, once, so every
    backend refuses the same bad input with the same ``InvalidQuery``; ``after`` must be
    a cursor a search with the same ``sort`` and ``descending`` gave out."""

    text: str | None = _text_criterion("search text")
    stage: Stage | None = field(default=None, converter=_stage)
    type: str | None = field(default=None, converter=_type)
    industry: str | None = _text_criterion("industry")
    region: str | None = _text_criterion("region")
    owner: str | None = _text_criterion("owner")
    grade: str | None = field(default=None, converter=_grade)
    tag: str | None = _text_criterion("tag")
    sort: str = field(default="number", converter=_sort)
    descending: bool = field(default=False, converter=_flag)
    limit: int = field(default=50, converter=_limit)
    after: str | None = field(default=None, converter=_cursor_text)
    # The blind keys ``text`` may be (``projections.search.query_groups``): a profile
    # also matches when it holds every key of one group. Made by the ledger, which
    # holds the key; empty: the text is searched in clear only.
    blind: tuple[frozenset[str], ...] = ()
    position: tuple[Any, str] | None = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        position = None
        if self.after is not None:
            tag, sort, descending, key, number = _decoded(self.after, 5)
            if tag != "profile" or not _is_key_text(number):
                raise InvalidQuery(f"cursor {shown(self.after)} is not a search cursor")
            if sort != self.sort or descending is not self.descending:
                order = f"{sort}{' descending' if descending else ''}"
                raise InvalidQuery(
                    f"cursor {shown(self.after)} belongs to a search sorted by {order}; "
                    "use it with that sort or start again without it"
                )
            key_fits = (
                _is_int(key, -_INT64, _INT64) if self.sort == "total_revenue" else _is_key_text(key)
            )
            if not key_fits:
                raise InvalidQuery(f"cursor {shown(self.after)} is not one this ledger gave out")
            position = (key, number)
        object.__setattr__(self, "position", position)

    @classmethod
    def of(cls, criteria: dict[str, Any]) -> ProfileQuery:
        """A query from keyword criteria, refusing a name that is not one."""
        unknown = sorted(set(criteria) - {a.name for a in fields(cls) if a.init})
        if unknown:
            raise InvalidQuery(f"no search criterion named {', '.join(unknown)}")
        return cls(**criteria)

    def cursor(self, key: Any, number: str) -> str:
        """The cursor of a page ending at (``key``, ``number``)."""
        return encode_cursor("profile", self.sort, self.descending, key, number)


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


def _customer_id(value: object) -> UUID | None:
    if value is None or isinstance(value, UUID):
        return value
    raise InvalidQuery(f"customer_id must be a UUID, got {type(value).__name__}")


def _instant(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidQuery(f"a timeline bound must be an aware datetime, got {shown(value)}")
    return value


@frozen
class TimelineQuery:
    """Entries by business time: ``start`` inclusive, ``end`` exclusive.

    Ordered by (occurred_at, number, version); cursor key is that triple.
    """

    customer_id: UUID | None = field(default=None, converter=_customer_id)
    start: datetime | None = field(default=None, converter=_instant)
    end: datetime | None = field(default=None, converter=_instant)
    limit: int = field(default=200, converter=_limit)
    after: str | None = field(default=None, converter=_cursor_text)
    position: tuple[str, str, int] | None = field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        position = None
        if self.after is not None:
            tag, key, number, version = _decoded(self.after, 4)
            if not (
                tag == "timeline"
                and _is_key_text(key)
                and _is_key_text(number)
                and _is_int(version, 1, _INT64)
            ):
                raise InvalidQuery(f"cursor {shown(self.after)} is not a timeline cursor")
            position = (key, number, version)
        object.__setattr__(self, "position", position)

    @staticmethod
    def cursor(key: str, number: str, version: int) -> str:
        """The cursor of a page ending at the entry (``key``, ``number``, ``version``)."""
        return encode_cursor("timeline", key, number, version)


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
    merged_into: str | None = None  # merged into that customer: not on the board


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


def timeline_document(entry: TimelineEntry) -> bytes:
    """The entry as a stored document: exactly the bytes of ``encode(converter.unstructure(
    entry))`` (canonical JSON, sorted keys; tests/projections/test_timeline_document.py),
    built from the entry's native values instead of through cattrs' call per field (7 µs
    of a rebuild's event, issue 17)."""
    return orjson.dumps(
        {
            "actor": entry.actor,
            "customer_id": str(entry.customer_id),
            "kind": entry.kind,
            "late": entry.late,
            "number": entry.number,
            "occurred_at": entry.occurred_at.isoformat(),
            "recorded_at": entry.recorded_at.isoformat(),
            "summary_en": entry.summary_en,
            "summary_zh": entry.summary_zh,
            "version": entry.version,
        },
        option=orjson.OPT_SORT_KEYS,
    )


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
        raise InvalidQuery(f"cursor {shown(cursor)} is not one this ledger gave out") from error
    if not isinstance(key, list):
        raise InvalidQuery(f"cursor {shown(cursor)} is not one this ledger gave out")
    return key


def _decoded(cursor: str, length: int) -> list[Any]:
    key = decode_cursor(cursor)
    if len(key) != length:
        raise InvalidQuery(f"cursor {shown(cursor)} is not one this ledger gave out")
    return key
