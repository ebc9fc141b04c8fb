"""What the three SQLite views share: their table family, own tracking table, binding.

A view is an eventsourcing ``SQLiteTrackingRecorder`` whose tracking lives in
``<base>_tracking`` instead of the shared ``tracking`` table (which holds one row per
upstream application, so two views in one file would overwrite each other's position).

Prefix and generation are class attributes that ``__init__`` may override, because
eventsourcing builds recorders as ``view_class(datastore=...)``
(``InfrastructureFactory.tracking_recorder``, ``ProjectionRunner``):
``SQLiteProfileView.bound("sales", "rebuild")`` is a class that needs nothing more.
"""

from __future__ import annotations

from functools import cache
from typing import Any, ClassVar, TypeVar

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from customer_ledger.storage import (
    FORMAT_ROW,
    LIVE,
    REBUILD,
    VIEW_FORMAT,
    Kind,
)
from customer_ledger_sqlite.schema import (
    TRACKING,
    TableFamily,
    generation_name,
    prefixed,
    table_prefix,
)
from customer_ledger_sqlite.transactions import table_exists, write_transaction

V = TypeVar("V", bound="SQLiteView")


class SQLiteView(SQLiteTrackingRecorder):
    kind: ClassVar[Kind]
    family: ClassVar[TableFamily]
    prefix: ClassVar[str] = ""
    generation: ClassVar[str] = LIVE
    is_bound: ClassVar[bool] = False  # True on classes made by ``bound()``

    def __init__(
        self,
        datastore: SQLiteDatastore,
        *,
        prefix: str | None = None,
        generation: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.prefix = table_prefix(type(self).prefix if prefix is None else prefix)  # type: ignore[misc]
        self._name_tables(type(self).generation if generation is None else generation)
        super().__init__(datastore, **kwargs)
        self._prepare_statements()

    def _name_tables(self, generation: str) -> None:
        self.generation = generation_name(generation)  # type: ignore[misc]
        self.table = table_name(self.prefix, self.kind, self.generation)
        self.tracking_table = self.table + TRACKING

    def _prepare_statements(self) -> None:
        """SQL naming this view's tables; subclasses add theirs (and call this)."""
        # Replace eventsourcing's statements on the shared ``tracking`` table.
        t = self.tracking_table
        self.insert_tracking_statement = (
            f"INSERT INTO {t} (application_name, notification_id) "
            "VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE "
            "SET notification_id = excluded.notification_id "
            f"WHERE {t}.notification_id < excluded.notification_id "
            "RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {t} WHERE application_name = ?"
        )
        self.create_table_statements = self.construct_create_table_statements()

    def follow_swap(self, generation: str = LIVE) -> None:
        """Point this object at ``generation``'s tables: after a swap, the rebuilt view
        object *is* the live view (as in memory), so code holding it reads on."""
        self._name_tables(generation)
        self._prepare_statements()

    @classmethod
    def bound(cls: type[V], prefix: str = "", generation: str = LIVE) -> type[V]:
        """This view class with prefix and generation fixed (the same class each time)."""
        return _bind(cls, table_prefix(prefix), generation_name(generation))

    # -- tables --------------------------------------------------------------------------

    def construct_create_table_statements(self) -> list[str]:
        return [ddl.format(t=self.table + suffix) for suffix, ddl in self.family.tables.items()]

    def tables_exist(self) -> bool:
        with self.datastore.transaction(commit=False) as c:
            return all(table_exists(c, name) for name in self.family.names(self.table))

    def create_table(self) -> None:
        """Creates whichever tables of the family are missing, with their indexes."""
        if self.tables_exist():
            return
        with write_transaction(self.datastore) as c:
            self._create_table(c)

    def _create_table(self, c: SQLiteCursor) -> None:
        indexes = self.generation != REBUILD  # a rebuild's: when it is swapped in
        for suffix in self.family.tables:
            if not table_exists(c, self.table + suffix):
                for statement in self.family.create_statements(
                    self.table, self.prefix, suffix, indexes=indexes
                ):
                    c.execute(statement)
                if suffix == TRACKING:  # a new view: its rows will be written as today's
                    c.execute(
                        f"INSERT INTO {self.tracking_table} (application_name, notification_id)"
                        " VALUES (?, ?)",
                        (FORMAT_ROW, VIEW_FORMAT),
                    )

    # -- tracking ------------------------------------------------------------------------

    def insert_tracking(self, tracking: Tracking) -> None:
        with write_transaction(self.datastore) as c:
            self._insert_tracking(c, tracking)

    def _insert_tracking(self, c: SQLiteCursor, tracking: Tracking) -> None:
        """Records ``tracking``; ``IntegrityError`` unless it is past the current position.

        Run first in each save: it takes the write lock, and a stale position fails
        before any row is written (the transaction is rolled back anyway).
        """
        c.execute(
            self.insert_tracking_statement,
            {
                "application_name": tracking.application_name,
                "notification_id": tracking.notification_id,
            },
        )
        if c.fetchone() is None:
            position = self._max_tracking_id(tracking.application_name, c)
            raise IntegrityError(
                f"{self.table}: tracking {tracking.notification_id} of "
                f"{tracking.application_name} is not after {position}"
            )


def create_indexes(c: SQLiteCursor, family: TableFamily, base: str, prefix: str) -> None:
    """Creates the indexes the family at ``base`` lacks (a rebuild's, before its swap)."""
    for suffix in family.tables:
        c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
            (base + suffix,),
        )
        existing = [name for (name,) in c.fetchall()]
        for statement in family.index_statements(base, prefix, suffix, existing):
            c.execute(statement)


def table_name(prefix: str, kind: str, generation: str) -> str:
    """The base table of a view: ``[prefix_]<kind>_<generation>``."""
    return prefixed(prefix, f"{kind}_{generation}")


@cache
def _bind(cls: type[V], prefix: str, generation: str) -> type[V]:
    name = f"{cls.__name__}[{prefix or '-'}:{generation}]"
    attributes = {
        "prefix": prefix,
        "generation": generation,
        "is_bound": True,
        "__module__": cls.__module__,
        "__qualname__": name,
    }
    return type(name, (cls,), attributes)
