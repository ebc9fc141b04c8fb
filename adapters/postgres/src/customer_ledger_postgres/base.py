"""What the three PostgreSQL views share: table naming, creation, tracked writes.

A view is an eventsourcing ``PostgresTrackingRecorder`` over its own tracking table,
so ``insert_tracking``, ``max_tracking_id`` and ``wait`` come for free and
eventsourcing's ``ProjectionRunner`` can construct it through its infrastructure
factory (``view_class(datastore=..., tracking_table_name=...)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from threading import Lock
from typing import Any, ClassVar, Self

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from customer_ledger.storage import (
    FORMAT_ROW,
    LIVE,
    REBUILD,
    VIEW_FORMAT,
    Kind,
)
from customer_ledger_postgres.names import TableNames, table_names
from customer_ledger_postgres.settings import read_only_server


class PostgresView(PostgresTrackingRecorder):
    """Base of the views; subclasses set ``kind`` and say what their rows look like."""

    kind: ClassVar[Kind]
    generation: ClassVar[str] = LIVE
    _bound: ClassVar[dict[tuple[type, str], type]] = {}
    _bound_lock: ClassVar[Lock] = Lock()

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str | None = None,
        generation: str | None = None,
    ) -> None:
        # ``tracking_table_name`` is what ProjectionRunner's factory proposes (named
        # after the projection); the view's own name wins, so the runner and the
        # ViewSet always read and write the same table.
        del tracking_table_name
        self._target(datastore, generation or type(self).generation)

    def _target(self, datastore: PostgresDatastore, generation: str) -> None:
        self.names = table_names(self.kind, generation)
        self.deferring_indexes = generation == REBUILD  # indexed when swapped in
        super().__init__(datastore, tracking_table_name=self.names.tracking)
        self.schema = sql.Identifier(datastore.schema)
        self.table = sql.SQL("{}.{}").format(self.schema, sql.Identifier(self.names.rows))
        self.sql_create_statements.extend(self.create_statements())
        self.prepare_statements()

    def retarget(self, generation: str) -> None:
        """Points this object at another generation's tables (after a swap, the
        rebuild view object becomes the live view, as in the memory adapter)."""
        self._target(self.datastore, generation)

    @classmethod
    def bound(cls, generation: str) -> type[Self]:
        """This view class for another generation (e.g. ``"rebuild"``).

        Pass the result as ``view_class`` to ``ProjectionRunner``; the schema comes
        from the runner's environment (``POSTGRES_SCHEMA``).
        """
        if generation == cls.generation:
            return cls
        table_names(cls.kind, generation)  # validates
        key = (cls, generation)
        with cls._bound_lock:
            if key not in cls._bound:
                cls._bound[key] = type(
                    f"{cls.__name__}_{generation}",
                    (cls,),
                    {"generation": generation, "__module__": cls.__module__},
                )
            return cls._bound[key]

    # -- tables -------------------------------------------------------------------------

    def create_statements(self) -> list[sql.Composed]:
        """CREATE TABLE / INDEX IF NOT EXISTS statements for the rows table."""
        raise NotImplementedError

    def prepare_statements(self) -> None:
        """Builds the view's queries for its current tables."""
        raise NotImplementedError

    def create_table(self) -> None:
        """Creates the rows and tracking tables (and indexes) in one transaction.

        Skips the DDL when both tables exist, so opening a view takes no table locks;
        an advisory lock keeps two processes from creating the same tables at once.
        Unlike eventsourcing's version it never migrates legacy multi-row tracking
        tables: these tables have only ever had one row per upstream application.
        """
        if self.tables_exist():
            return
        try:
            self._create_tables()
        except psycopg.errors.ReadOnlySqlTransaction as error:
            raise read_only_server(f"the {self.names.rows} view") from error

    def _create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            lock_creation(curs, self.datastore.schema, self.names)
            new = not table_exists(curs, self.datastore.schema, self.names.tracking)
            for statement in self.sql_create_statements:
                if not (self.deferring_indexes and is_secondary_index(statement)):
                    curs.execute(statement, prepare=False)
            if not self.deferring_indexes:
                self.create_optional(curs)
            if new:  # a new view: its rows will be written as today's
                curs.execute(
                    sql.SQL(
                        "INSERT INTO {}.{} (application_name, notification_id) VALUES (%s, %s)"
                    ).format(self.schema, sql.Identifier(self.names.tracking)),
                    (FORMAT_ROW, VIEW_FORMAT),
                )

    def create_indexes(self, curs: Cursor[DictRow]) -> None:
        """Creates the secondary indexes a rebuild's tables were created without (a
        loaded table is indexed faster than indexes are kept current row by row)."""
        for statement in self.sql_create_statements:
            if is_secondary_index(statement):
                curs.execute(statement, prepare=False)
        self.create_optional(curs)

    def create_optional(self, curs: Cursor[DictRow]) -> None:
        """Hook: objects that depend on what the database offers (run at creation)."""

    def tables_exist(self) -> bool:
        with self.datastore.get_connection() as conn:
            return existing_tables(conn.cursor(), self.datastore.schema, self.names) == 2

    # -- tracked writes -----------------------------------------------------------------

    @contextmanager
    def tracked(self, tracking: Tracking) -> Iterator[Cursor[DictRow]]:
        """A transaction that has already recorded ``tracking``, in pipeline mode.

        The tracking row is written first: a stale position raises eventsourcing's
        ``IntegrityError`` before any row is sent, and the row lock it takes makes
        concurrent writers of this view queue up behind each other. Pipelining
        sends BEGIN with the tracking insert, then the rows with COMMIT: two round
        trips per save, whatever the number of rows.

        The commit does not wait for the WAL to reach the disk (``synchronous_commit``
        off, for this transaction only): views are derived data, such a commit is still
        atomic, and a server crash that loses it loses the tracking with the rows, so
        the view re-applies those events. The events keep full durability.
        """
        with (
            self.datastore.get_connection() as conn,
            conn.pipeline(),
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.execute("SET LOCAL synchronous_commit = off", prepare=False)
            self._insert_tracking(curs, tracking)  # fetches its result: syncs here
            yield curs

    @staticmethod
    def write_many(curs: Cursor[DictRow], statement: sql.Composed, rows: Sequence[Any]) -> None:
        """executemany: queued in the pipeline (no round trip per row)."""
        if rows:
            curs.executemany(statement, rows)


def lock_creation(curs: Cursor[DictRow], schema: str, names: TableNames) -> None:
    """Serialises DDL on one generation's tables across processes (until commit)."""
    curs.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s))",
        (f"customer_ledger:{schema}.{names.rows}",),
    )


def is_secondary_index(statement: sql.Composable) -> bool:
    """A CREATE INDEX that only serves reads (not UNIQUE: constraints stay in force)."""
    return statement.as_string(None).startswith("CREATE INDEX ")


def table_exists(curs: Cursor[DictRow], schema: str, table: str) -> bool:
    curs.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s", (schema, table)
    )
    return curs.fetchone() is not None


def existing_tables(curs: Cursor[DictRow], schema: str, names: TableNames) -> int:
    """How many of the generation's two tables (rows, tracking) exist."""
    curs.execute(
        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = %s AND tablename = ANY(%s)",
        (schema, [names.rows, names.tracking]),
    )
    row = curs.fetchone()
    assert row is not None
    return int(row["n"])
