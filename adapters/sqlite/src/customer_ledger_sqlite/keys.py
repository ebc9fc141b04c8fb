"""The customers' data keys in the ledger's SQLite file, and the master-key file beside it.

Table ``[prefix_]customer_keys``: one row per customer, the data key wrapped with the
master key, or a tombstone (``wrapped`` NULL) once the key is destroyed. Table
``[prefix_]duplicate_index``: the keyed hashes that find likely duplicates (a customer's
rows are replaced whole; a forgotten or merged customer has none).

The master key comes from ``$CUSTOMER_LEDGER_MASTER_KEY``; without it, a key file
``<database>.master-key`` (mode 0600) is made on first use, so ``customer-ledger demo``
works out of the box. The trade-off: whoever can copy the directory gets both the
database and the key that opens it, and a backup of the directory keeps a forgotten
customer readable until the backup expires. Set the variable (and keep the key
elsewhere) to separate them.

Destroying a key runs with ``secure_delete`` on (SQLite zeroes the freed bytes), and
``scrub`` then checkpoints the WAL, VACUUMs the whole file (rewriting every table, so
old row versions of the views are gone too) and truncates the WAL to zero bytes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from customer_ledger.storage import (
    CHECK_ID,
    DUPLICATE_TABLE,
    KEY_TABLE,
    MASTER_KEY_ENV,
    IndexEntry,
    IndexRow,
    KeyStore,
    MasterKey,
    MasterKeyMissing,
    Row,
    StoreURL,
    how_to_set_master_key,
)
from customer_ledger_sqlite.schema import prefixed
from customer_ledger_sqlite.urls import database_path, lock_timeout, prefix

logger = logging.getLogger(__name__)
KEY_FILE_SUFFIX = ".master-key"


class SQLiteKeyStore(KeyStore):
    def __init__(self, path: str, table_prefix: str, timeout: int, master: MasterKey) -> None:
        super().__init__(master)
        self.path = path
        self.table = prefixed(table_prefix, KEY_TABLE)
        self.index_table = prefixed(table_prefix, DUPLICATE_TABLE)
        self._db_lock = threading.Lock()
        self._connection = _connect(path, timeout)
        _create_table(self._connection, self.table)
        _create_index_table(self._connection, self.index_table)

    @classmethod
    def open(
        cls, url: StoreURL, master: MasterKey | None, *, create: bool = True
    ) -> SQLiteKeyStore:
        """The key table, and the master key from the key file when none is given: made
        for a new store (unless ``create`` is False: a read-only ledger)."""
        path, table_prefix, timeout = database_path(url), prefix(url), lock_timeout(url)
        if master is None and not create:
            master = key_file_master(Path(path), create=False)
        if master is None:
            with _connect(path, timeout) as probe:
                _create_table(probe, prefixed(table_prefix, KEY_TABLE))
                in_use = _has_row(probe, prefixed(table_prefix, KEY_TABLE), CHECK_ID)
            probe.close()
            master = key_file_master(Path(path), create=not in_use)
        return cls(path, table_prefix, timeout, master)

    def _read(self, customer_id: UUID) -> tuple[bool, Row]:
        with self._db_lock:
            row = self._connection.execute(
                f"SELECT wrapped FROM {self.table} WHERE customer_id = ?", (str(customer_id),)
            ).fetchone()
        return (False, None) if row is None else (True, row[0])

    def _insert(self, customer_id: UUID, wrapped: bytes) -> None:
        with self._db_lock, self._connection:
            self._connection.execute(
                f"INSERT INTO {self.table} (customer_id, wrapped, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (customer_id) DO NOTHING",
                (str(customer_id), wrapped, _now()),
            )

    def _erase(self, customer_id: UUID) -> bool:
        with self._db_lock, self._connection:
            c = self._connection
            c.execute("PRAGMA synchronous = FULL")  # a destroyed key stays destroyed
            c.execute("BEGIN IMMEDIATE")
            row = c.execute(
                f"SELECT wrapped FROM {self.table} WHERE customer_id = ?", (str(customer_id),)
            ).fetchone()
            c.execute(
                f"INSERT INTO {self.table} (customer_id, wrapped, created_at, destroyed_at) "
                "VALUES (?, NULL, ?, ?) ON CONFLICT (customer_id) DO UPDATE "
                "SET wrapped = NULL, destroyed_at = coalesce(destroyed_at, excluded.destroyed_at)",
                (str(customer_id), _now(), _now()),
            )
        self._connection.execute("PRAGMA synchronous = NORMAL")
        return row is not None and row[0] is not None

    def _scrub(self, full: bool) -> list[str]:
        """VACUUM always rewrites the whole file, so ``full`` changes nothing here."""
        with self._db_lock:
            c = self._connection
            try:
                c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                c.execute("VACUUM")
                busy = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except sqlite3.OperationalError as error:
                return [
                    f"could not VACUUM {self.path} ({error}): old row versions may remain in "
                    "free pages until it runs; run `sqlite3 FILE 'VACUUM'` when it is idle"
                ]
        if busy:
            return [
                f"{self.path}-wal could not be truncated: another connection is reading; "
                "its old pages go at the next checkpoint"
            ]
        return []

    def _index_put(self, entries: Sequence[IndexEntry]) -> None:
        with self._db_lock, self._connection:
            c = self._connection
            c.execute("BEGIN IMMEDIATE")
            c.executemany(
                f"DELETE FROM {self.index_table} WHERE customer_id = ?",
                [(str(customer_id),) for customer_id, _, _ in entries],
            )
            c.executemany(
                f"INSERT INTO {self.index_table} (customer_id, number, kind, digest) "
                "VALUES (?, ?, ?, ?)",
                [(str(i), n, kind, digest) for i, n, rows in entries for kind, digest in rows],
            )

    def _index_find(self, digests: Sequence[bytes]) -> Iterable[IndexRow]:
        marks = ", ".join("?" * len(digests))
        with self._db_lock:
            found = self._connection.execute(
                f"SELECT customer_id, number, kind, digest FROM {self.index_table} "
                f"WHERE digest IN ({marks})",
                tuple(digests),
            ).fetchall()
        return [(UUID(c), n, k, bytes(d)) for c, n, k, d in found]

    def _index_rows(self) -> Iterable[IndexRow]:
        with self._db_lock:
            found = self._connection.execute(
                f"SELECT customer_id, number, kind, digest FROM {self.index_table} "
                "ORDER BY digest, number"
            ).fetchall()
        return [(UUID(c), n, k, bytes(d)) for c, n, k, d in found]

    def _key_rows(self, after: UUID | None, limit: int) -> Sequence[tuple[UUID, Row]]:
        with self._db_lock:
            found = self._connection.execute(
                f"SELECT customer_id, wrapped FROM {self.table} WHERE customer_id > ? "
                "ORDER BY customer_id LIMIT ?",
                ("" if after is None else str(after), limit),
            ).fetchall()
        return [(UUID(c), None if w is None else bytes(w)) for c, w in found]

    def _read_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, Row]:
        found: dict[UUID, Row] = {}
        with self._db_lock:
            for start in range(0, len(customer_ids), 500):  # SQLite's bound on parameters
                chunk = [str(c) for c in customer_ids[start : start + 500]]
                rows = self._connection.execute(
                    f"SELECT customer_id, wrapped FROM {self.table} "
                    f"WHERE customer_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                found.update((UUID(c), None if w is None else bytes(w)) for c, w in rows)
        return found

    def _put_rows(self, rows: Sequence[tuple[UUID, Row]]) -> None:
        now = _now()
        with self._db_lock, self._connection:
            c = self._connection
            c.execute("BEGIN IMMEDIATE")
            c.executemany(
                f"INSERT INTO {self.table} (customer_id, wrapped, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (customer_id) DO NOTHING",
                [(str(o), w, now) for o, w in rows if w is not None],
            )
            c.executemany(
                f"INSERT INTO {self.table} (customer_id, wrapped, created_at, destroyed_at) "
                "VALUES (?, NULL, ?, ?) ON CONFLICT (customer_id) DO UPDATE "
                "SET wrapped = NULL, destroyed_at = coalesce(destroyed_at, excluded.destroyed_at)",
                [(str(o), now, now) for o, w in rows if w is None],
            )

    def close(self) -> None:
        with self._db_lock:
            self._connection.close()


def _connect(path: str, timeout: int) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit. synchronous NORMAL: a new key's
    # commit is not synced on its own, but it precedes, in the same WAL, the commit of
    # the events that use it, whose sync makes both durable (no extra fsync per customer).
    connection = sqlite3.connect(
        path, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    connection.execute("PRAGMA secure_delete = ON")  # freed bytes are zeroed
    connection.execute("PRAGMA journal_mode = WAL")  # as eventsourcing's recorders have it
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def _create_table(connection: sqlite3.Connection, table: str) -> None:
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "customer_id TEXT NOT NULL PRIMARY KEY, "
        "wrapped BLOB, "  # NULL: destroyed (a tombstone)
        "created_at TEXT NOT NULL, "
        "destroyed_at TEXT"
        ") WITHOUT ROWID"
    )


def _create_index_table(connection: sqlite3.Connection, table: str) -> None:
    connection.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "customer_id TEXT NOT NULL, number TEXT NOT NULL, kind TEXT NOT NULL, "
        "digest BLOB NOT NULL, PRIMARY KEY (customer_id, kind, digest)) WITHOUT ROWID"
    )
    connection.execute(f"CREATE INDEX IF NOT EXISTS {table}_digest ON {table} (digest)")


def _has_row(connection: sqlite3.Connection, table: str, customer_id: UUID) -> bool:
    found = connection.execute(
        f"SELECT 1 FROM {table} WHERE customer_id = ?", (str(customer_id),)
    ).fetchone()
    return found is not None


def _now() -> str:
    return datetime.now(UTC).isoformat()


def key_file(database: Path) -> Path:
    return database.with_name(database.name + KEY_FILE_SUFFIX)


def key_file_master(database: Path, *, create: bool) -> MasterKey:
    """The master key in the file beside ``database``, made (0600) when ``create``."""
    path = key_file(database)
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made earlier, or by another process just now: read it
        else:
            master = MasterKey.generate()
            with os.fdopen(fd, "w") as out:
                out.write(master.to_text() + "\n")
                out.flush()
                os.fsync(out.fileno())
            logger.warning(
                "made a master key for %s in %s (mode 0600): without it the customers' "
                "personal data cannot be read, so back it up apart from the database. To "
                "keep it elsewhere instead, %s",
                database,
                path,
                how_to_set_master_key(),
            )
            return master
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise MasterKeyMissing(
            f"the data keys in {database} are wrapped with a master key that is neither in "
            f"${MASTER_KEY_ENV} nor in {path}: restore that file, or set {MASTER_KEY_ENV}"
        ) from None
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        logger.warning("%s is readable by others: chmod 600 it", path)
    return MasterKey.from_text(text, str(path))
