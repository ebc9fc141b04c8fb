"""The front ends' users in the ledger's SQLite file: table ``[prefix_]ledger_users``.

One row per user: the name (primary key), role, argon2 password hash, whether the
account is disabled, and when it was made and last changed (ISO 8601, UTC).
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime

from customer_ledger.storage import (
    USER_TABLE,
    StoreURL,
    User,
    UserExists,
    UserStore,
    utc_now,
)
from customer_ledger_sqlite.keys import _connect
from customer_ledger_sqlite.schema import prefixed
from customer_ledger_sqlite.urls import database_path, lock_timeout, prefix

_COLUMNS = "name, role, password_hash, disabled, created_at, changed_at"


class SQLiteUserStore(UserStore):
    def __init__(self, path: str, table_prefix: str, timeout: int) -> None:
        self.table = prefixed(table_prefix, USER_TABLE)
        self._lock = threading.Lock()
        self._connection = _connect(path, timeout)
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            "name TEXT NOT NULL PRIMARY KEY, "
            "role TEXT NOT NULL, "
            "password_hash TEXT NOT NULL, "
            "disabled INTEGER NOT NULL DEFAULT 0, "
            "created_at TEXT NOT NULL, "
            "changed_at TEXT NOT NULL"
            ") WITHOUT ROWID"
        )

    @classmethod
    def open(cls, url: StoreURL) -> SQLiteUserStore:
        return cls(database_path(url), prefix(url), lock_timeout(url))

    def add(self, user: User) -> None:
        try:
            with self._lock, self._connection:
                self._connection.execute("BEGIN IMMEDIATE")
                self._connection.execute(
                    f"INSERT INTO {self.table} ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        user.name,
                        user.role,
                        user.password_hash,
                        int(user.disabled),
                        user.created_at.isoformat(),
                        user.changed_at.isoformat(),
                    ),
                )
                self._connection.execute("COMMIT")
        except sqlite3.IntegrityError:
            raise UserExists(f"a user named {user.name!r} exists") from None

    def find(self, name: str) -> User | None:
        with self._lock:
            row = self._connection.execute(
                f"SELECT {_COLUMNS} FROM {self.table} WHERE name = ?", (name,)
            ).fetchone()
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_COLUMNS} FROM {self.table} ORDER BY name"
            ).fetchall()
        return [_user(row) for row in rows]

    def _update(self, name: str, *, disabled: bool | None, password_hash: str | None) -> bool:
        with self._lock, self._connection:
            self._connection.execute("BEGIN IMMEDIATE")
            changed = self._connection.execute(
                f"UPDATE {self.table} SET disabled = coalesce(?, disabled), "
                "password_hash = coalesce(?, password_hash), changed_at = ? WHERE name = ?",
                (
                    None if disabled is None else int(disabled),
                    password_hash,
                    utc_now().isoformat(),
                    name,
                ),
            ).rowcount
            self._connection.execute("COMMIT")
        return bool(changed)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def _user(row: tuple[str, str, str, int, str, str]) -> User:
    name, role, password_hash, disabled, created, changed = row
    return User(
        name,
        role,
        password_hash,
        bool(disabled),
        datetime.fromisoformat(created),
        datetime.fromisoformat(changed),
    )
