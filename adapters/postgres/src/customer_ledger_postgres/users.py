"""The front ends' users in the ledger's PostgreSQL schema: table ``ledger_users``.

One row per user: the name (primary key), role, argon2 password hash, whether the
account is disabled, and when it was made and last changed. Listed in code-point
order (``COLLATE "C"``), as every backend lists them.
"""

from __future__ import annotations

from typing import Any

import psycopg
from attrs import evolve
from psycopg import sql

from customer_ledger.storage import USER_TABLE, StoreURL, User, UserExists, UserStore
from customer_ledger_postgres.settings import PostgresSettings, relations_exist

_COLUMNS = sql.SQL("name, role, password_hash, disabled, created_at, changed_at")


class PostgresUserStore(UserStore):
    def __init__(self, settings: PostgresSettings) -> None:
        settings.ensure_schema()
        # A small pool of its own: every request of the HTTP API reads its user.
        self.datastore = evolve(settings, pool_size=1, max_overflow=4).datastore()
        self.schema = settings.schema
        self.table = sql.SQL("{}.{}").format(
            sql.Identifier(self.schema), sql.Identifier(USER_TABLE)
        )
        if relations_exist(self.datastore, self.schema, [USER_TABLE]):
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"customer_ledger:{self.schema}.{USER_TABLE}",),
            )
            curs.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "name text PRIMARY KEY, "
                    "role text NOT NULL, "
                    "password_hash text NOT NULL, "
                    "disabled boolean NOT NULL DEFAULT false, "
                    "created_at timestamptz NOT NULL, "
                    "changed_at timestamptz NOT NULL)"
                ).format(self.table)
            )

    @classmethod
    def open(cls, url: StoreURL) -> PostgresUserStore:
        return cls(PostgresSettings.from_url(url))

    def add(self, user: User) -> None:
        try:
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    sql.SQL("INSERT INTO {} ({}) VALUES (%s, %s, %s, %s, %s, %s)").format(
                        self.table, _COLUMNS
                    ),
                    (
                        user.name,
                        user.role,
                        user.password_hash,
                        user.disabled,
                        user.created_at,
                        user.changed_at,
                    ),
                )
        except psycopg.errors.UniqueViolation:
            raise UserExists(f"a user named {user.name!r} exists") from None
        except Exception as error:  # eventsourcing wraps the driver's error
            if isinstance(error.__cause__, psycopg.errors.UniqueViolation):
                raise UserExists(f"a user named {user.name!r} exists") from None
            raise

    def find(self, name: str) -> User | None:
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                sql.SQL("SELECT {} FROM {} WHERE name = %s").format(_COLUMNS, self.table),
                (name,),
            ).fetchone()
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        with self.datastore.get_connection() as conn:
            rows = conn.execute(
                sql.SQL('SELECT {} FROM {} ORDER BY name COLLATE "C"').format(_COLUMNS, self.table)
            ).fetchall()
        return [_user(row) for row in rows]

    def _update(self, name: str, *, disabled: bool | None, password_hash: str | None) -> bool:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                sql.SQL(
                    "UPDATE {} SET disabled = coalesce(%s, disabled), "
                    "password_hash = coalesce(%s, password_hash), changed_at = now() "
                    "WHERE name = %s"
                ).format(self.table),
                (disabled, password_hash, name),
            )
            changed = curs.rowcount
        return bool(changed)

    def close(self) -> None:
        self.datastore.close()


def _user(row: Any) -> User:
    return User(
        row["name"],
        row["role"],
        row["password_hash"],
        bool(row["disabled"]),
        row["created_at"],
        row["changed_at"],
    )
