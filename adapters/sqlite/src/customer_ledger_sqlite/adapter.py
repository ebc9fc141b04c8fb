"""The SQLite adapter: one database file holds a ledger's events and its views.

Events go through eventsourcing's SQLite recorders (WAL mode, one connection per
thread from its pool), with an optional table prefix so ledgers can share a file.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from customer_ledger.storage import (
    KEY_STORE_URL_ENV,
    Adapter,
    Failure,
    MasterKey,
    StoreURL,
)
from customer_ledger_sqlite import factory
from customer_ledger_sqlite.keys import SQLiteKeyStore
from customer_ledger_sqlite.transactions import chunks, placeholders
from customer_ledger_sqlite.urls import check_options, database_path, lock_timeout, prefix
from customer_ledger_sqlite.users import SQLiteUserStore
from customer_ledger_sqlite.viewset import SQLiteViewSet


class SQLiteAdapter(Adapter):
    scheme = "sqlite"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        """Every setting eventsourcing reads, pinned: what the URL says (or the default)
        wins over the environment (the core applies these to the prefixed names too)."""
        check_options(url)
        return {
            "PERSISTENCE_MODULE": factory.TOPIC,
            "SQLITE_DBNAME": database_path(url),
            "SQLITE_LOCK_TIMEOUT": str(lock_timeout(url)),
            factory.PrefixedSQLiteFactory.SQLITE_TABLE_PREFIX: prefix(url),
            "SINGLE_ROW_TRACKING": "t",
            "ORIGINATOR_ID_TYPE": "uuid",
            "CREATE_TABLE": "y",
            "APPLICATION_RECORDER_TOPIC": "",
            "TRACKING_RECORDER_TOPIC": "",
            "PROCESS_RECORDER_TOPIC": "",
            KEY_STORE_URL_ENV: url.raw,  # where the data keys are, for any app built from this
        }

    def views(self, url: StoreURL) -> SQLiteViewSet:
        return SQLiteViewSet.open(url)

    def key_store(
        self, url: StoreURL, master_key: MasterKey | None, *, create: bool = True
    ) -> SQLiteKeyStore:
        return SQLiteKeyStore.open(url, master_key, create=create)

    def user_store(self, url: StoreURL) -> SQLiteUserStore:
        check_options(url)
        return SQLiteUserStore.open(url)

    def exists(self, url: StoreURL) -> bool:
        check_options(url)
        return os.path.exists(database_path(url))

    def first_events(
        self, recorder: ApplicationRecorder, originator_ids: Collection[UUID]
    ) -> list[StoredEvent]:
        """One query per ``FIRST_EVENTS_PAGE`` ids (under SQLite's oldest limit of 999
        parameters), on the table's primary key."""
        assert isinstance(recorder, SQLiteApplicationRecorder)
        ids = [i.hex if isinstance(i, UUID) else i for i in originator_ids]
        found: list[StoredEvent] = []
        with recorder.datastore.transaction(commit=False) as c:
            for page in chunks(ids, FIRST_EVENTS_PAGE):
                c.execute(
                    "SELECT originator_id, topic, state "
                    f"FROM {recorder.events_table_name} WHERE originator_version = 1 "
                    f"AND originator_id IN ({placeholders(len(page))})",
                    page,
                )
                found += [
                    StoredEvent(
                        originator_id=recorder.convert_originator_id(row["originator_id"]),
                        originator_version=1,
                        topic=row["topic"],
                        state=row["state"],
                    )
                    for row in c.fetchall()
                ]
        return found

    def insert_notifications(
        self, recorder: ApplicationRecorder, notifications: Sequence[Notification]
    ) -> None:
        """Each event at its notification id as the table's rowid (which is what
        eventsourcing's SQLite recorder reads as the notification id)."""
        assert isinstance(recorder, SQLiteApplicationRecorder)
        statement = (
            f"INSERT INTO {recorder.events_table_name} "
            "(rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)"
        )
        rows = [
            (
                n.id,
                n.originator_id.hex if isinstance(n.originator_id, UUID) else n.originator_id,
                n.originator_version,
                n.topic,
                n.state,
            )
            for n in notifications
        ]
        with recorder.datastore.transaction(commit=True) as c:
            c.executemany(statement, rows)

    def classify(self, error: BaseException) -> Failure | None:
        return classify(error)


FIRST_EVENTS_PAGE = 900  # ids per query of first_events

# SQLite's result codes SQLITE_BUSY ("database is locked") and SQLITE_LOCKED ("database
# table is locked"): another connection holds the lock.
BUSY_CODES = frozenset({5, 6})
# SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged or is not a database at all.
DAMAGED_CODES = frozenset({11, 26})


def classify(error: BaseException) -> Failure | None:
    """A locked database is busy; any other ``OperationalError`` (a file that cannot be
    opened or written, a disk I/O error) leaves the store unavailable; a file that is
    not a database, or is corrupt, is damaged (SQLITE_NOTADB, SQLITE_CORRUPT)."""
    if isinstance(error, sqlite3.DatabaseError) and not isinstance(
        error, (sqlite3.OperationalError, sqlite3.IntegrityError)
    ):
        return "damaged"
    if not isinstance(error, sqlite3.OperationalError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF in DAMAGED_CODES:
            return "damaged"
        busy = code & 0xFF in BUSY_CODES
    else:
        busy = "locked" in str(error) or "busy" in str(error)
    return "busy" if busy else "unavailable"
