"""The customers' data keys in the ledger's PostgreSQL schema.

Table ``customer_keys``: one row per customer, the data key wrapped with the master
key, or a tombstone (``wrapped`` NULL) once the key is destroyed. The master key must
come from ``$CUSTOMER_LEDGER_MASTER_KEY``: a shared database has no single place
where a generated key file would be safe and found by every client. Table
``duplicate_index``: the keyed hashes that find likely duplicates (a customer's rows are
replaced whole; a forgotten or merged customer has none).

PostgreSQL keeps old row versions until VACUUM, and plain VACUUM only marks their
space reusable. So ``scrub`` runs VACUUM FULL on the (small) key table, which rewrites
it and drops the old versions' bytes, and plain VACUUM on the ledger's other tables
(views); ``full=True`` runs VACUUM FULL on those too (it locks each table while it
rewrites it). Event and snapshot tables are left alone: they only ever held
ciphertext.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from attrs import evolve
from eventsourcing.persistence import PersistenceError
from psycopg import sql

from customer_ledger.storage import (
    DUPLICATE_TABLE,
    KEY_TABLE,
    IndexEntry,
    IndexRow,
    KeyStore,
    MasterKey,
    MasterKeyMissing,
    Row,
    StoreURL,
    how_to_set_master_key,
)
from customer_ledger_postgres.settings import PostgresSettings, relations_exist

EVENT_TABLE_SUFFIXES = ("_events", "_snapshots")


class PostgresKeyStore(KeyStore):
    def __init__(self, settings: PostgresSettings, master: MasterKey) -> None:
        super().__init__(master)
        settings.ensure_schema()
        # One connection of its own: keys are read once per customer and cached.
        self.datastore = evolve(settings, pool_size=1, max_overflow=0).datastore()
        self.schema = settings.schema
        self.table = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(KEY_TABLE))
        self.index_table = sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(DUPLICATE_TABLE)
        )
        self._create_table()

    @classmethod
    def open(cls, url: StoreURL, master: MasterKey | None) -> PostgresKeyStore:
        settings = PostgresSettings.from_url(url)
        if master is None:
            raise MasterKeyMissing(
                "a PostgreSQL ledger needs a master key for its customers' personal data: "
                + how_to_set_master_key()
            )
        return cls(settings, master)

    def _create_table(self) -> None:
        index = f"{DUPLICATE_TABLE}_digest"
        if relations_exist(self.datastore, self.schema, [KEY_TABLE, DUPLICATE_TABLE, index]):
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"customer_ledger:{self.schema}.{KEY_TABLE}",),
            )
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "customer_id uuid PRIMARY KEY, "
                    "wrapped bytea, "  # NULL: destroyed (a tombstone)
                    "created_at timestamptz NOT NULL DEFAULT now(), "
                    "destroyed_at timestamptz)"
                ).format(self.table)
            )
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "customer_id uuid NOT NULL, number text NOT NULL, kind text NOT NULL, "
                    "digest bytea NOT NULL, PRIMARY KEY (customer_id, kind, digest))"
                ).format(self.index_table)
            )
            curs.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (digest)").format(
                    sql.Identifier(f"{DUPLICATE_TABLE}_digest"), self.index_table
                )
            )

    def _read(self, customer_id: UUID) -> tuple[bool, Row]:
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT wrapped FROM {} WHERE customer_id = %s").format(self.table),
                (customer_id,),
            ).fetchone()
        if row is None:
            return False, None
        wrapped = row["wrapped"]
        return True, None if wrapped is None else bytes(wrapped)

    def _insert(self, customer_id: UUID, wrapped: bytes) -> None:
        # Not flushed on its own: the commit of the events that use the key comes later
        # in the same WAL, and its flush makes both durable (no extra flush per customer).
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET LOCAL synchronous_commit TO OFF")
            curs.execute(
                sql.SQL(
                    "INSERT INTO {} (customer_id, wrapped) VALUES (%s, %s) "
                    "ON CONFLICT (customer_id) DO NOTHING"
                ).format(self.table),
                (customer_id, wrapped),
            )

    def _insert_or_read(self, customer_id: UUID, wrapped: bytes) -> Row:
        """One statement, one round trip: a new customer's key is made on its first
        personal value, so an import of new customers paid three round trips and a
        transaction per customer before (a quarter of a PostgreSQL import's time)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SET LOCAL synchronous_commit TO OFF")  # see _insert
            curs.execute(
                sql.SQL(
                    "WITH made AS (INSERT INTO {t} (customer_id, wrapped) VALUES (%s, %s) "
                    "ON CONFLICT (customer_id) DO NOTHING RETURNING wrapped) "
                    "SELECT wrapped FROM made UNION ALL "
                    "SELECT wrapped FROM {t} WHERE customer_id = %s"
                ).format(t=self.table),
                (customer_id, wrapped, customer_id),
            )
            row = curs.fetchone()
        if row is None:  # another writer's row, committed after this statement's snapshot
            return super()._insert_or_read(customer_id, wrapped)
        return None if row["wrapped"] is None else bytes(row["wrapped"])

    def _erase(self, customer_id: UUID) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL("SELECT wrapped FROM {} WHERE customer_id = %s FOR UPDATE").format(
                    self.table
                ),
                (customer_id,),
            )
            row = curs.fetchone()
            curs.execute(
                sql.SQL(
                    "INSERT INTO {} (customer_id, wrapped, destroyed_at) VALUES (%s, NULL, now()) "
                    "ON CONFLICT (customer_id) DO UPDATE SET wrapped = NULL, "
                    "destroyed_at = coalesce({}.destroyed_at, excluded.destroyed_at)"
                ).format(self.table, sql.Identifier(KEY_TABLE)),
                (customer_id,),
            )
        return row is not None and row["wrapped"] is not None

    def _index_put(self, entries: Sequence[IndexEntry]) -> None:
        rows = [(i, n, kind, digest) for i, n, pairs in entries for kind, digest in pairs]
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL("DELETE FROM {} WHERE customer_id = ANY(%s)").format(self.index_table),
                ([customer_id for customer_id, _, _ in entries],),
            )
            if rows:
                curs.executemany(
                    sql.SQL(
                        "INSERT INTO {} (customer_id, number, kind, digest) VALUES (%s, %s, %s, %s)"
                    ).format(self.index_table),
                    rows,
                )

    def _index_find(self, digests: Sequence[bytes]) -> Iterable[IndexRow]:
        with self.datastore.get_connection() as conn:
            found = conn.execute(
                sql.SQL(
                    "SELECT customer_id, number, kind, digest FROM {} WHERE digest = ANY(%s)"
                ).format(self.index_table),
                (list(digests),),
            ).fetchall()
        return [(r["customer_id"], r["number"], r["kind"], bytes(r["digest"])) for r in found]

    def _index_rows(self) -> Iterable[IndexRow]:
        with self.datastore.get_connection() as conn:
            found = conn.execute(
                sql.SQL(
                    "SELECT customer_id, number, kind, digest FROM {} ORDER BY digest, number"
                ).format(self.index_table)
            ).fetchall()
        return [(r["customer_id"], r["number"], r["kind"], bytes(r["digest"])) for r in found]

    def _key_rows(self, after: UUID | None, limit: int) -> Sequence[tuple[UUID, Row]]:
        with self.datastore.get_connection() as conn:
            found = conn.execute(
                sql.SQL(
                    "SELECT customer_id, wrapped FROM {} "
                    "WHERE %s::uuid IS NULL OR customer_id > %s ORDER BY customer_id LIMIT %s"
                ).format(self.table),
                (after, after, limit),
            ).fetchall()
        return [(r["customer_id"], _row(r["wrapped"])) for r in found]

    def _read_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, Row]:
        with self.datastore.get_connection() as conn:
            found = conn.execute(
                sql.SQL("SELECT customer_id, wrapped FROM {} WHERE customer_id = ANY(%s)").format(
                    self.table
                ),
                (list(customer_ids),),
            ).fetchall()
        return {r["customer_id"]: _row(r["wrapped"]) for r in found}

    def _put_rows(self, rows: Sequence[tuple[UUID, Row]]) -> None:
        live = [(o, w) for o, w in rows if w is not None]
        dead = [(o,) for o, w in rows if w is None]
        with self.datastore.transaction(commit=True) as curs:
            if live:
                curs.executemany(
                    sql.SQL(
                        "INSERT INTO {} (customer_id, wrapped) VALUES (%s, %s) "
                        "ON CONFLICT (customer_id) DO NOTHING"
                    ).format(self.table),
                    live,
                )
            if dead:
                curs.executemany(
                    sql.SQL(
                        "INSERT INTO {} (customer_id, wrapped, destroyed_at) "
                        "VALUES (%s, NULL, now()) ON CONFLICT (customer_id) DO UPDATE SET "
                        "wrapped = NULL, destroyed_at = coalesce({}.destroyed_at, now())"
                    ).format(self.table, sql.Identifier(KEY_TABLE)),
                    dead,
                )

    def _scrub(self, full: bool) -> list[str]:
        notes = []
        with self.datastore.get_connection() as conn:  # autocommit, as VACUUM needs
            tables = [
                r["tablename"]
                for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename",
                    (self.schema,),
                ).fetchall()
            ]
        for table in tables:
            events = table.endswith(EVENT_TABLE_SUFFIXES)
            how = "VACUUM FULL" if table == KEY_TABLE or (full and not events) else "VACUUM"
            name = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(table))
            try:
                with self.datastore.get_connection() as conn:
                    conn.execute(sql.SQL(how + " {}").format(name))
            except PersistenceError as error:
                notes.append(f"{how} {self.schema}.{table} failed ({error}); run it later")
        return notes

    def close(self) -> None:
        self.datastore.close()


def _row(wrapped: bytes | memoryview | None) -> Row:
    return None if wrapped is None else bytes(wrapped)
