"""Connection settings read from a ``postgresql://`` store URL.

One parsed object feeds both consumers: eventsourcing's recorders (as ``POSTGRES_*``
environment settings) and the views (as a ``PostgresDatastore`` with its own pool),
so the event store and the views always talk to the same database and schema.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
from attrs import frozen
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql

from customer_ledger.storage import (
    KEY_TABLE,
    StoreError,
    StoreURL,
)

DEFAULT_SCHEMA = "public"
# Defaults chosen for a shared deployment: fail fast rather than hang forever.
DEFAULTS = {
    "pool_size": 5,  # connections kept open per pool (the app has one, the views one)
    "max_overflow": 10,  # extra connections under load, closed when idle
    "connect_timeout": 5,  # seconds to get a connection before giving up
    "lock_timeout": 5,  # seconds a statement waits for a table lock
    "idle_timeout": 5,  # seconds a transaction may sit idle before the server ends it
}
# (least, most) each option may be: a pool of millions of connections would never open.
BOUNDS = {
    "pool_size": (1, 100),
    "max_overflow": (0, 1000),
    "connect_timeout": (1, 300),
    "lock_timeout": (0, 3600),
    "idle_timeout": (0, 86_400),
}
OPTIONS = (*DEFAULTS, "prefix", "host", "pre_ping")


@frozen
class PostgresSettings:
    dbname: str
    host: str
    port: int
    user: str
    password: str
    schema: str
    pool_size: int
    max_overflow: int
    connect_timeout: int
    lock_timeout: int
    idle_timeout: int
    pre_ping: bool

    @classmethod
    def from_url(cls, url: StoreURL) -> PostgresSettings:
        """``postgresql://user[:password]@host[:port]/dbname[?prefix=p&pool_size=n...]``.

        Without a password in the URL, ``$PGPASSWORD`` is used (or none). A Unix
        socket directory goes in ``?host=/var/run/postgresql``.
        """
        if url.scheme != "postgresql":
            raise StoreError(f"{url.raw!r} is not a postgresql:// URL")
        unknown = sorted(set(url.options) - set(OPTIONS))
        if unknown:
            raise StoreError(
                f"unknown option(s) {', '.join(unknown)} in {redact(url.raw)!r}; "
                f"known: {', '.join(OPTIONS)}"
            )
        parts = urlsplit(url.raw)
        try:
            port = parts.port or 5432
        except ValueError as error:
            raise StoreError(f"bad port in {redact(url.raw)!r}") from error
        dbname = url.path.lstrip("/")
        if not dbname or "/" in dbname:
            raise StoreError(
                f"{redact(url.raw)!r} must name one database: postgresql://user@host:port/db"
            )
        user = unquote(parts.username or "") or os.environ.get("PGUSER", "")
        if not user:
            raise StoreError(f"{redact(url.raw)!r} must name a user: postgresql://user@host/db")
        password = (
            unquote(parts.password)
            if parts.password is not None
            else os.environ.get("PGPASSWORD", "")
        )
        return cls(
            dbname=dbname,
            host=url.options.get("host") or parts.hostname or "localhost",
            port=port,
            user=user,
            password=password,
            schema=schema_for(url.prefix),
            pool_size=_int_option(url, "pool_size"),
            max_overflow=_int_option(url, "max_overflow"),
            connect_timeout=_int_option(url, "connect_timeout"),
            lock_timeout=_int_option(url, "lock_timeout"),
            idle_timeout=_int_option(url, "idle_timeout"),
            pre_ping=_flag(url, "pre_ping"),
        )

    def application_env(self) -> dict[str, str]:
        """eventsourcing settings for the CustomerLedger application's recorders."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.max_overflow),
            "POSTGRES_CONNECT_TIMEOUT": str(self.connect_timeout),
            "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(self.idle_timeout),
            "POSTGRES_PRE_PING": "y" if self.pre_ping else "n",
            # Pinned, so a stray environment variable cannot change them: the views'
            # exactly-once guarantee needs single-row tracking, and the database
            # functions drop tracking records (see eventsourcing-notes.md).
            "SINGLE_ROW_TRACKING": "y",
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            # The rest of what eventsourcing would read, pinned to its default: the
            # ledger's tables and recorders are these, whatever the environment says.
            "ORIGINATOR_ID_TYPE": "uuid",
            "CREATE_TABLE": "y",
            "APPLICATION_RECORDER_TOPIC": "",
            "TRACKING_RECORDER_TOPIC": "",
            "PROCESS_RECORDER_TOPIC": "",
            "POSTGRES_GET_PASSWORD_TOPIC": "",
        }

    def datastore(self) -> PostgresDatastore:
        """A datastore (and connection pool) for the views; opened on first use."""
        return PostgresDatastore(
            dbname=self.dbname,
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            schema=self.schema,
            pool_size=self.pool_size,
            max_overflow=self.max_overflow,
            connect_timeout=self.connect_timeout,
            lock_timeout=self.lock_timeout,
            idle_in_transaction_session_timeout=self.idle_timeout,
            pre_ping=self.pre_ping,
            single_row_tracking=True,
            enable_db_functions=False,
        )

    def connect(self) -> psycopg.Connection[Any]:
        """One autocommit connection of its own, outside any pool."""
        return psycopg.connect(
            dbname=self.dbname,
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            connect_timeout=self.connect_timeout,
            autocommit=True,
        )

    def holds_a_ledger(self) -> bool:
        """Whether the schema has a ledger's tables (events or data keys) in it."""
        try:
            with self.connect() as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_tables WHERE schemaname = %s AND (tablename = %s "
                    "OR tablename LIKE %s) LIMIT 1",
                    (self.schema, KEY_TABLE, "%\\_events"),
                ).fetchone()
        except psycopg.OperationalError as error:
            raise self.unreachable(error) from error
        return found is not None

    def unreachable(self, error: psycopg.OperationalError) -> StoreError:
        return StoreError(
            f"cannot reach PostgreSQL database {self.dbname!r} at "
            f"{self.host}:{self.port} as {self.user!r}: {error}"
        )

    def ensure_schema(self) -> None:
        """Creates the ledger's schema unless it exists: eventsourcing expects it to.

        Needs the CREATE privilege on the database only the first time.
        """
        if self.schema == DEFAULT_SCHEMA:
            return
        try:
            with self.connect() as conn:
                found = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
                ).fetchone()
                if found is None:
                    # UniqueViolation: another process created it at the same moment.
                    with contextlib.suppress(psycopg.errors.UniqueViolation):
                        conn.execute(
                            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                                sql.Identifier(self.schema)
                            )
                        )
        except psycopg.OperationalError as error:
            raise self.unreachable(error) from error
        except psycopg.errors.InsufficientPrivilege as error:
            raise StoreError(
                f"user {self.user!r} may not create schema {self.schema!r} in "
                f"{self.dbname!r}; create it once as the owner: CREATE SCHEMA {self.schema}"
            ) from error
        except psycopg.errors.ReadOnlySqlTransaction as error:
            raise read_only_server(f"schema {self.schema!r} in {self.dbname!r}") from error


def read_only_server(missing: str) -> StoreError:
    """What is missing on a server that takes no writes (a streaming replica)."""
    return StoreError(
        f"{missing} is not on this read-only server (a streaming replica?) yet: it is "
        "made on the primary, by opening the ledger there for writing (or starting "
        "`customer-ledger follow` for the views), and then replicated"
    )


def schema_for(prefix: str) -> str:
    """The ledger's prefix names its schema; no prefix means ``public``."""
    if not prefix:
        return DEFAULT_SCHEMA
    if prefix.startswith("pg_") or len(prefix) > 63:
        raise StoreError(f"prefix {prefix!r} cannot name a PostgreSQL schema")
    return prefix


def redact(url: str) -> str:
    """The URL without its password, for error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _int_option(url: StoreURL, name: str) -> int:
    raw = url.options.get(name)
    if raw is None:
        return DEFAULTS[name]
    least, most = BOUNDS[name]
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not least <= int(text) <= most:
        raise StoreError(f"option {name}={raw[:20]!r} must be a whole number {least}..{most}")
    return int(text)


def _flag(url: StoreURL, name: str) -> bool:
    raw = url.options.get(name, "n").strip().lower()
    if raw in ("1", "y", "yes", "true", "t"):
        return True
    if raw in ("0", "n", "no", "false", "f", ""):
        return False
    raise StoreError(f"option {name}={raw[:20]!r} must be yes or no")


def relations_exist(datastore: Any, schema: str, names: Sequence[str]) -> bool:
    """Whether every one of ``names`` (tables, indexes) is in ``schema``: opening a store
    whose tables exist runs no DDL at all, which a streaming replica would refuse (even
    ``CREATE TABLE IF NOT EXISTS``), and takes no lock."""
    with datastore.get_connection() as conn:
        row = conn.execute(
            "SELECT bool_and(to_regclass(quote_ident(%s) || '.' || quote_ident(n)) IS NOT NULL)"
            " AS present FROM unnest(%s::text[]) AS n",
            (schema, list(names)),
        ).fetchone()
    return bool(row and row["present"])
