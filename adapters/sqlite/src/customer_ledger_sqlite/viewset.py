"""The three views of one ledger file, and their rebuild-and-swap.

A rebuild writes into the ``<kind>_rebuild`` table family; ``swap`` drops the live
family and renames the rebuild family to live in ONE transaction. In WAL mode a
reader that began before the swap keeps its snapshot of the old tables and one that
begins after sees the new ones: never a mix, and readers are never blocked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: upgrades are not serialised across processes there
    fcntl = None  # type: ignore[assignment]

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteDatastore

from customer_ledger.storage import (
    KINDS,
    LIVE,
    REBUILD,
    Kind,
    StoreError,
    StoreURL,
    ViewSet,
    retry_opening,
)
from customer_ledger_sqlite.analytics import SQLiteAnalyticsView
from customer_ledger_sqlite.base import SQLiteView, create_indexes, table_name
from customer_ledger_sqlite.profile import SQLiteProfileView
from customer_ledger_sqlite.schema import generation_name, table_prefix
from customer_ledger_sqlite.status import SQLiteStatusView
from customer_ledger_sqlite.timeline import SQLiteTimelineView
from customer_ledger_sqlite.transactions import table_exists, write_transaction
from customer_ledger_sqlite.urls import database_path, lock_timeout, prefix

VIEW_CLASSES: dict[Kind, type[SQLiteView]] = {
    "profile": SQLiteProfileView,
    "timeline": SQLiteTimelineView,
    "status": SQLiteStatusView,
    "analytics": SQLiteAnalyticsView,
}


class SQLiteViewSet(ViewSet):
    """Views on ``datastore`` (the application's, or one of their own on the same file)."""

    def __init__(
        self, datastore: SQLiteDatastore, prefix: str = "", *, owns_datastore: bool = False
    ) -> None:
        self.datastore = datastore
        self.prefix = table_prefix(prefix)
        self._owns_datastore = owns_datastore
        self._views: dict[tuple[Kind, str], SQLiteView] = {}

    @classmethod
    def open(cls, url: StoreURL) -> SQLiteViewSet:
        """A view set with its own connection pool on the URL's database file."""
        path, timeout = database_path(url), lock_timeout(url)
        datastore = SQLiteDatastore(path, lock_timeout=timeout)
        datastore.pool = ViewConnectionPool(db_name=path, lock_timeout=timeout)  # none made yet
        return cls(datastore, prefix(url), owns_datastore=True)

    def view_class(self, kind: Kind, generation: str = LIVE) -> type[SQLiteView]:
        """The view class bound to this prefix, for ``view_class(datastore=...)`` makers."""
        return _view_class(kind).bound(self.prefix, generation)

    def view(self, kind: Kind, generation: str = LIVE) -> Any:
        key = (kind, generation_name(generation))
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = self.view_class(kind, generation)(self.datastore)
        # cheap when present; recreates a swapped or discarded rebuild
        retry_opening(view.create_table)
        return view

    def swap(self, kind: Kind) -> None:
        live, rebuild = self._family(kind, LIVE), self._family(kind, REBUILD)
        with write_transaction(self.datastore) as c:
            if not table_exists(c, rebuild[0]):
                raise StoreError(f"there is no {kind} rebuild to swap in")
            base = table_name(self.prefix, kind, REBUILD)
            create_indexes(c, _view_class(kind).family, base, self.prefix)  # loaded: now
            for name in live:
                c.execute(f"DROP TABLE IF EXISTS {name}")
            for old, new in zip(rebuild, live, strict=True):
                c.execute(f"ALTER TABLE {old} RENAME TO {new}")
        rebuilt = self._views.pop((kind, REBUILD), None)
        if rebuilt is not None:  # the rebuilt object is now the live view, as in memory
            rebuilt.follow_swap(LIVE)
            self._views[(kind, LIVE)] = rebuilt

    def discard(self, kind: Kind) -> None:
        with write_transaction(self.datastore) as c:
            for name in self._family(kind, REBUILD):
                c.execute(f"DROP TABLE IF EXISTS {name}")

    def has_rebuild(self, kind: Kind) -> bool:
        with self.datastore.transaction(commit=False) as c:
            return table_exists(c, self._family(kind, REBUILD)[0])

    @contextmanager
    def upgrading(self) -> Iterator[None]:
        """An exclusive ``flock`` on ``<database>-upgrade.lock``, removed when done.

        Not a lock on the database file: closing any descriptor of that file would drop
        this process's SQLite locks on it (POSIX locks belong to the process). A waiter
        that gets the lock after the file was removed finds the views current (formats
        only ever go up), so it needs no lock of its own.
        """
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode or fcntl is None:
            yield
            return
        path = f"{pool.db_name}-upgrade.lock"
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
            with suppress(FileNotFoundError):
                os.unlink(path)
        finally:
            os.close(descriptor)  # releases the lock

    def close(self) -> None:
        self._views.clear()
        if self._owns_datastore:
            self.datastore.close()

    def _family(self, kind: Kind, generation: str) -> list[str]:
        view_class = _view_class(kind)
        return view_class.family.names(table_name(self.prefix, kind, generation))


class ViewConnectionPool(SQLiteConnectionPool):
    """Connections whose commits do not wait for the disk (``synchronous=NORMAL``).

    Views are derived data. In WAL mode such a commit is still atomic and never
    corrupts the file; only a power cut (not a crashed process) can lose the last few,
    and then the view's tracking is lost with its rows, so it re-applies those events.
    The events themselves are written by the application's own connections, which keep
    full durability. Saves one fsync per view per save: per command with eager views.
    """

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
        return connection


def _view_class(kind: Kind) -> type[SQLiteView]:
    if kind not in KINDS:
        raise StoreError(f"no {kind!r} view; choose one of {', '.join(KINDS)}")
    return VIEW_CLASSES[kind]
