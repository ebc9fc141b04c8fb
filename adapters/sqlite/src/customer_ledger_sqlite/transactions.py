"""Write transactions that take SQLite's write lock up front, and small SQL helpers.

eventsourcing's ``SQLiteDatastore.transaction`` issues a deferred ``BEGIN``: a
transaction that reads before it writes can then fail at once with "database is
locked" (no busy wait) when another connection wrote in between. The views check
table existence, tracking and schema before writing, and a rebuild runs in another
process than the live readers, so their writes use ``BEGIN IMMEDIATE``, which waits
up to the lock timeout instead. Connections still come from the datastore's pool,
so its one-writer-at-a-time lock and WAL setup are respected.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTransaction

T = TypeVar("T")
# SQLite allows 32766 host parameters since 3.32; stay far below for older builds.
MAX_PARAMETERS = 500


class _ImmediateTransaction(SQLiteTransaction):
    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            cursor.sqlite_cursor.close()
            raise OperationalError(error) from error
        return cursor


@contextmanager
def write_transaction(datastore: SQLiteDatastore) -> Iterator[SQLiteCursor]:
    """One committed transaction holding the write lock from its first statement.

    Any exception rolls everything back; sqlite3 errors come out as eventsourcing's
    ``PersistenceError`` subclasses (``IntegrityError``, ``OperationalError``...).
    """
    with (
        datastore.get_connection(commit=True) as connection,
        _ImmediateTransaction(connection, commit=True) as cursor,
        cursor,
    ):
        yield cursor


def chunks(items: Sequence[T], size: int = MAX_PARAMETERS) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int) -> str:
    return ",".join("?" * count)


def table_exists(cursor: SQLiteCursor, name: str) -> bool:
    cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return cursor.fetchone() is not None
