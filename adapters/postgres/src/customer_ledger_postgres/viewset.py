"""The three views of one ledger, plus rebuild management (swap, discard).

A rebuild writes ``<kind>_rebuild`` tables beside the live ones; they persist, with
their tracking, so a killed rebuild resumes where it stopped. ``swap`` replaces the
live tables by the rebuilt ones in one transaction holding ACCESS EXCLUSIVE locks:
a reader's statement runs wholly before or wholly after it (PostgreSQL re-resolves a
table name whose relation changed while the statement waited for its lock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any, Self

from eventsourcing.persistence import OperationalError
from eventsourcing.utils import retry
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from customer_ledger.storage import (
    LIVE,
    REBUILD,
    Kind,
    StoreError,
    StoreURL,
    ViewSet,
)
from customer_ledger_postgres.analytics import PostgresAnalyticsView
from customer_ledger_postgres.base import PostgresView, existing_tables, lock_creation
from customer_ledger_postgres.names import TableNames, table_names
from customer_ledger_postgres.profile import PostgresProfileView
from customer_ledger_postgres.settings import PostgresSettings
from customer_ledger_postgres.status import PostgresStatusView
from customer_ledger_postgres.timeline import PostgresTimelineView

VIEW_CLASSES: dict[str, type[PostgresView]] = {
    "profile": PostgresProfileView,
    "timeline": PostgresTimelineView,
    "status": PostgresStatusView,
    "analytics": PostgresAnalyticsView,
}


class PostgresViewSet(ViewSet):
    """Views in the ledger's schema, sharing one connection pool."""

    def __init__(self, settings: PostgresSettings) -> None:
        settings.ensure_schema()
        self.settings = settings
        self.datastore = settings.datastore()
        self.schema = settings.schema
        self._views: dict[tuple[str, str], PostgresView] = {}
        self._lock = Lock()

    @classmethod
    def from_url(cls, url: str | StoreURL) -> PostgresViewSet:
        return cls(PostgresSettings.from_url(StoreURL.parse(url) if isinstance(url, str) else url))

    def view(self, kind: Kind, generation: str = LIVE) -> Any:
        """The view, its tables created if missing.

        The live view is checked once and cached (a read costs no extra round trip;
        only a swap replaces live tables, and it leaves new ones). Other generations
        are checked on every call: another process may have swapped or discarded them.
        """
        table_names(kind, generation)  # validates both
        with self._lock:
            view = self._views.get((kind, generation))
            if view is None:
                view = VIEW_CLASSES[kind].bound(generation)(datastore=self.datastore)
                view.create_table()
                self._views[(kind, generation)] = view
            elif generation != LIVE:
                view.create_table()
            return view

    def runner_view_class(self, kind: Kind) -> type[PostgresView]:
        """The live view class, for ``ProjectionRunner(view_class=...)``: PostgreSQL
        pushes new events (LISTEN/NOTIFY), so ``follow`` need not poll."""
        table_names(kind, LIVE)
        return VIEW_CLASSES[kind]

    @retry(OperationalError, max_attempts=3, wait=0.5)
    def swap(self, kind: Kind) -> None:
        live, rebuild = table_names(kind, LIVE), table_names(kind, REBUILD)
        with self.datastore.transaction(commit=True) as curs:  # before any lock is taken
            self._lock_timeout(curs)
            lock_creation(curs, self.schema, rebuild)
            if existing_tables(curs, self.schema, rebuild) == 2:
                with self._lock:
                    rebuilt = self._views.get((kind, REBUILD))
                if rebuilt is None:
                    rebuilt = VIEW_CLASSES[kind].bound(REBUILD)(datastore=self.datastore)
                rebuilt.create_indexes(curs)
        with self.datastore.transaction(commit=True) as curs:
            self._lock_timeout(curs)
            lock_creation(curs, self.schema, live)
            lock_creation(curs, self.schema, rebuild)
            if existing_tables(curs, self.schema, rebuild) != 2:
                raise StoreError(f"there is no {kind} rebuild to swap in")
            # Tracking before rows: the order in which saves lock them (no deadlock).
            for names in (live, rebuild):
                self._lock_exclusive(curs, names)
            indexes = self._indexes(curs, rebuild)
            curs.execute(
                sql.SQL("DROP TABLE IF EXISTS {}, {}").format(
                    self._qualified(live.tracking), self._qualified(live.rows)
                )
            )
            for table in (rebuild.tracking, rebuild.rows):
                curs.execute(
                    sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                        self._qualified(table), sql.Identifier(rebuild.renamed(table, live))
                    )
                )
            for index in indexes:
                curs.execute(
                    sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                        self._qualified(index), sql.Identifier(rebuild.renamed(index, live))
                    )
                )
        with self._lock:
            rebuilt = self._views.pop((kind, REBUILD), None)
            if rebuilt is not None:  # the rebuilt object is now the live view, as in memory
                rebuilt.retarget(LIVE)
                self._views[(kind, LIVE)] = rebuilt

    @retry(OperationalError, max_attempts=3, wait=0.5)
    def discard(self, kind: Kind) -> None:
        rebuild = table_names(kind, REBUILD)
        with self.datastore.transaction(commit=True) as curs:
            self._lock_timeout(curs)
            lock_creation(curs, self.schema, rebuild)
            curs.execute(
                sql.SQL("DROP TABLE IF EXISTS {}, {}").format(
                    self._qualified(rebuild.tracking), self._qualified(rebuild.rows)
                )
            )
        with self._lock:
            self._views.pop((kind, REBUILD), None)

    @contextmanager
    def upgrading(self) -> Iterator[None]:
        """A session advisory lock for the schema, on a connection of its own held
        meanwhile (not one of the pool's, which the rebuild needs; the lock goes with
        the session if the process dies)."""
        key = f"customer_ledger:{self.schema}:upgrade"
        with self.settings.connect() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def has_rebuild(self, kind: Kind) -> bool:
        with self.datastore.get_connection() as conn:
            return existing_tables(conn.cursor(), self.schema, table_names(kind, REBUILD)) > 0

    def close(self) -> None:
        """Closes the views' connection pool."""
        self.datastore.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers ------------------------------------------------------------------------

    def _qualified(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _lock_timeout(self, curs: Cursor[DictRow]) -> None:
        curs.execute(
            sql.SQL("SET LOCAL lock_timeout = {}").format(
                sql.Literal(f"{self.settings.lock_timeout}s")
            )
        )

    def _lock_exclusive(self, curs: Cursor[DictRow], names: TableNames) -> None:
        curs.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
            (self.schema, [names.tracking, names.rows]),
        )
        present = {row["tablename"] for row in curs.fetchall()}
        for table in (names.tracking, names.rows):
            if table in present:
                curs.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(self._qualified(table))
                )

    def _indexes(self, curs: Cursor[DictRow], names: TableNames) -> list[str]:
        """Names of the indexes on a generation's tables (primary keys included)."""
        curs.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = ANY(%s)",
            (self.schema, [names.tracking, names.rows]),
        )
        return [row["indexname"] for row in curs.fetchall()]
