"""The storage port: everything a backend implements, and everything it may use.

A backend is a distribution registering an ``Adapter`` subclass in the entry-point group
``customer_ledger.adapters`` under its URL scheme (``sqlite``, ``postgresql``). It
supplies four things, each checked by the conformance suite (``customer_ledger.testing``):

* ``application_env(url)``: eventsourcing's settings for its event store;
* ``views(url)``: a ``ViewSet`` of the four views (``ProfileView``, ``TimelineView``,
  ``StatusView``, ``AnalyticsView``), each an eventsourcing ``TrackingRecorder``;
* ``key_store(url, master_key)``: a ``KeyStore`` over its key table (five primitives)
  and its duplicate index (three more: ``_index_put``, ``_index_find``, ``_index_rows``);
* ``user_store(url)``: a ``UserStore`` over its user table (``storage.users``);
* ``classify(error)``: what one of its driver's errors means for a command;
* ``exists(url)`` (optional): whether a ledger is there, before a read-only open;
* ``insert_notifications(recorder, notifications)``: a copied log's events at their ids.

The names below are re-exported from the layers that define them, so that an adapter
imports from this one module: the view ports and their records and queries, the helpers
that make every backend sort and page alike, the key store's base, the errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from typing import ClassVar, Literal
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent

from customer_ledger.domain.values import Stage
from customer_ledger.errors import (
    InvalidValue,
    MasterKeyMissing,
    StoreError,
    UnknownUser,
    UserExists,
)
from customer_ledger.privacy.keys import (
    CHECK_ID,
    DUPLICATE_TABLE,
    KEY_STORE_URL_ENV,
    KEY_TABLE,
    MASTER_KEY_ENV,
    IndexEntry,
    IndexRow,
    KeyStore,
    MasterKey,
    Row,
    how_to_set_master_key,
)
from customer_ledger.projections.analytics_facts import AnalyticsRecord, CustomerFacts, StoredFacts
from customer_ledger.projections.profile import Profile, profile_document, profile_from_document
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
    cents,
    decode_cursor,
    encode_cursor,
    fold_text,
    sort_key,
    timeline_document,
    utc_key,
)
from customer_ledger.serialization import converter, decode, encode
from customer_ledger.storage.urls import StoreURL
from customer_ledger.storage.users import USER_TABLE, User, UserStore, user_name, utc_now

Failure = Literal["busy", "unavailable", "race", "damaged"]
"""What a database error means for the command that met it:

* ``busy``: another writer held a lock past the lock timeout; nothing was recorded;
* ``unavailable``: the connection failed (cut, server restarting), or the database
  cannot be opened (a path in a read-only or missing directory);
* ``damaged``: the store is not a database, is corrupt, or refused a value as data
  (``StoreDamaged``; retrying will not help);
* ``race``: opening the store lost a race with another process's schema statements.
"""


class Adapter(ABC):
    """What a storage backend supplies: an event store, the views, the key table, and
    the meaning of its driver's errors."""

    scheme: ClassVar[str]

    @abstractmethod
    def application_env(self, url: StoreURL) -> dict[str, str]:
        """eventsourcing settings (PERSISTENCE_MODULE, ...) for this URL."""

    @abstractmethod
    def views(self, url: StoreURL) -> ViewSet:
        """The profile, timeline, status and analytics views for this URL."""

    def key_store(
        self, url: StoreURL, master_key: MasterKey | None, *, create: bool = True
    ) -> KeyStore:
        """The customers' data keys (``customer_ledger.privacy.keys``), in this store;
        with no ``master_key`` configured, the adapter's default or ``MasterKeyMissing``
        (``create=False``, for a read-only ledger: a default it would have to make, such
        as a new key file, is ``MasterKeyMissing`` too).
        Every ledger records personal data, so every adapter implements this: without
        it, the first command refuses with a ``StoreError`` saying so."""
        raise StoreError(
            f"the {self.scheme}:// adapter keeps no data keys, so it cannot store personal "
            "data (implement Adapter.key_store: see customer_ledger.storage.port)"
        )

    def user_store(self, url: StoreURL) -> UserStore:
        """The users of the front ends (``customer_ledger.storage.users``), in a table of
        this store; a backend without one cannot serve the HTTP API."""
        raise StoreError(
            f"the {self.scheme}:// adapter keeps no users (implement Adapter.user_store: "
            "see customer_ledger.storage.port)"
        )

    def exists(self, url: StoreURL) -> bool:
        """Whether a ledger is stored at ``url`` (asked before opening one read-only,
        which must not make an empty store); True where the adapter cannot tell."""
        return True

    def log_position(self, recorder: object) -> int | None:
        """How far the database behind ``recorder`` (an eventsourcing recorder this
        adapter made) has written its write-ahead log, or, on a streaming replica, replayed
        the primary's: a number that only grows and compares across a primary and its
        replicas (PostgreSQL: the LSN in bytes). None: the backend has no replicas."""
        return None

    def first_events(
        self, recorder: ApplicationRecorder, originator_ids: Collection[UUID]
    ) -> list[StoredEvent]:
        """The first event (version 1) of each of ``originator_ids`` that has one, in any
        order: what an import re-run asks of a thousand command receipts at a time
        (``CustomerLedger.stored_receipts``). This default asks ``recorder`` once per id;
        a backend that can should answer in one query."""
        found: list[StoredEvent] = []
        for originator_id in originator_ids:
            found += recorder.select_events(originator_id, lte=1, limit=1)
        return found

    def insert_notifications(
        self, recorder: ApplicationRecorder, notifications: Sequence[Notification]
    ) -> None:
        """Stores each notification's event as it is (originator, version, topic, bytes)
        at its own notification id, all in one transaction, so that a copied log has the
        source's ids (a checkpoint hashes them) even where the source has gaps. The ids
        are above every id the ``recorder`` holds, in order; later events get higher
        ids than these. Used by ``customer-ledger copy`` (``application.copying``)."""
        raise StoreError(
            f"the {self.scheme}:// adapter cannot take a copied ledger (implement "
            "Adapter.insert_notifications: see customer_ledger.storage.port)"
        )

    def classify(self, error: BaseException) -> Failure | None:
        """What ``error``, raised by this backend's driver (eventsourcing passes it up as
        the ``__cause__`` of its own errors), means; None when it is not this backend's,
        or not a failure of the store (bad data, a bug). The core knows no error codes."""
        return None


__all__ = [
    "CHECK_ID",
    "DUPLICATE_TABLE",
    "FORMAT_ROW",
    "KEY_STORE_URL_ENV",
    "KEY_TABLE",
    "KINDS",
    "LIVE",
    "MASTER_KEY_ENV",
    "REBUILD",
    "USER_TABLE",
    "VIEW_FORMAT",
    "Adapter",
    "AnalyticsRecord",
    "AnalyticsView",
    "CustomerFacts",
    "Failure",
    "IndexEntry",
    "IndexRow",
    "InvalidValue",
    "KeyStore",
    "Kind",
    "MasterKey",
    "MasterKeyMissing",
    "Page",
    "Profile",
    "ProfileQuery",
    "ProfileRecord",
    "ProfileView",
    "Row",
    "Stage",
    "StatusRecord",
    "StatusRow",
    "StatusView",
    "StoreError",
    "StoreURL",
    "StoredFacts",
    "TimelineEntry",
    "TimelineQuery",
    "TimelineView",
    "UnknownUser",
    "User",
    "UserExists",
    "UserStore",
    "ViewSet",
    "cents",
    "converter",
    "decode",
    "decode_cursor",
    "encode",
    "encode_cursor",
    "fold_text",
    "how_to_set_master_key",
    "profile_document",
    "profile_from_document",
    "search_fold",
    "sort_key",
    "timeline_document",
    "user_name",
    "utc_key",
    "utc_now",
]
