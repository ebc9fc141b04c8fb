"""PostgreSQL for tests: a fresh database per test session, skipped or failed when absent.

Use it from any conftest::

    from customer_ledger_postgres.testing import (  # noqa: F401
        postgres_database, postgres_url, postgres_url_factory,
    )

The server comes from ``$CUSTOMER_LEDGER_TEST_POSTGRES`` (a libpq URL or key=value
string; default ``postgresql://postgres@127.0.0.1:5432/postgres``); that role needs
CREATEDB. Each test session creates its own database and drops it at the end. When
no server answers, the tests are skipped with a loud reason, except under ``CI=true``,
where they fail: a CI run must not pass by testing nothing.
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    import psycopg

ENV_DSN = "CUSTOMER_LEDGER_TEST_POSTGRES"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 3


def postgres_dsn() -> str:
    """The server tests use (the database in it only serves to create test databases)."""
    return os.environ.get(ENV_DSN) or DEFAULT_DSN


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable_reason(dsn: str | None = None) -> str | None:
    """Why tests cannot use the server at ``dsn``, or None when they can."""
    dsn = dsn or postgres_dsn()
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install customer-ledger-postgres)"
    try:
        with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True):
            return None
    except psycopg.Error as error:
        return f"cannot connect to {_redacted(dsn)}: {str(error).strip()}"


def require_postgres(dsn: str | None = None) -> None:
    """Skips the calling test (fails it under CI=true) when the server is unreachable."""
    reason = unavailable_reason(dsn)
    if reason is None:
        return
    message = (
        f"PostgreSQL tests NOT RUN: {reason}. Start a server or point ${ENV_DSN} at one "
        "(see DEVELOPERS.md)."
    )
    if in_ci():
        pytest.fail(message + " CI=true, so this is a failure, not a skip.", pytrace=False)
    pytest.skip(message)


def store_url(dsn: str, *, dbname: str | None = None, prefix: str | None = None) -> str:
    """A ``postgresql://`` store URL for the server at ``dsn`` (any libpq form)."""
    from psycopg.conninfo import conninfo_to_dict

    info = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    user = info.get("user") or os.environ.get("PGUSER") or "postgres"
    auth = quote(user, safe="")
    if info.get("password"):
        auth += ":" + quote(info["password"], safe="")
    host = info.get("host") or "127.0.0.1"
    options = {}
    if host.startswith("/"):  # a Unix socket directory
        options["host"] = host
        host = "localhost"
    options["prefix"] = prefix or ""
    query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in options.items() if v)
    url = f"postgresql://{auth}@{host}:{info.get('port') or 5432}/{dbname or info['dbname']}"
    return f"{url}?{query}" if query else url


def _redacted(dsn: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        info = conninfo_to_dict(dsn)
    except Exception:
        return "the configured server"
    if info.get("password"):
        info["password"] = "***"
    return make_conninfo("", **info)


def with_prefix(url: str, prefix: str) -> str:
    """``url`` with ``prefix=...`` added to its query string."""
    return with_options(url, f"prefix={prefix}")


def with_options(url: str, options: str) -> str:
    """``url`` with the query options ``options`` (``"&pool_size=2&max_overflow=2"``)
    set, replacing any it has: a store URL refuses an option given twice."""
    from urllib.parse import parse_qsl, urlencode

    base, _, query = url.partition("?")
    merged = dict(parse_qsl(query, keep_blank_values=True))
    merged.update(parse_qsl(options.lstrip("?&"), keep_blank_values=True))
    return f"{base}?{urlencode(merged, safe='/')}" if merged else base


def _admin(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    import psycopg

    return psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a database created for this test session (dropped afterwards).

    Both psycopg and ``CustomerLedger.open`` accept it (the latter: schema public).
    """
    from psycopg import sql

    dsn = postgres_dsn()
    require_postgres(dsn)
    # PostgreSQL ledgers need a master key for personal data (customer_ledger.privacy.keys).
    os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    name = f"customer_ledger_test_{uuid.uuid4().hex[:12]}"
    with _admin(dsn) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # Tests check behaviour, not durability: commits need not wait for the disk
        # (several times faster; the database is dropped at the end anyway).
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name))
        )
    try:
        yield store_url(dsn, dbname=name)
    finally:
        with _admin(dsn) as conn:
            # FORCE: pools a test forgot to close must not keep the database alive.
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# Test stores open small pools: parallel test runs share one server's 100 connections.
SMALL_POOLS = "&pool_size=1&max_overflow=4"


@pytest.fixture(scope="session")
def postgres_url(postgres_database: str) -> str:
    """A store URL (``postgresql://...?prefix=ledger``) on the session's fresh database."""
    return with_options(with_prefix(postgres_database, "ledger"), SMALL_POOLS)


def fresh_store_url(
    backend: str, request: pytest.FixtureRequest, directory: Path, *, pool: str = ""
) -> str:
    """The URL of a new, empty store on ``backend``: ``memory``, ``sqlite`` (a file in
    ``directory``) or anything else for PostgreSQL (a schema of its own, from
    ``postgres_url_factory``, with ``pool`` appended to its query)."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{directory}/ledger.db"
    return with_options(str(request.getfixturevalue("postgres_url_factory")()), pool)


@pytest.fixture
def postgres_url_factory(postgres_database: str) -> Iterator[Callable[[], str]]:
    """Makes store URLs, each with a schema of its own; the schemas go after the test.

    For tests (and hypothesis examples) that each need an empty store.
    """
    from psycopg import sql

    made: list[str] = []

    def make() -> str:
        prefix = f"t_{uuid.uuid4().hex[:12]}"
        made.append(prefix)
        return with_options(with_prefix(postgres_database, prefix), SMALL_POOLS)

    yield make
    if made:
        with _admin(postgres_database) as conn:
            for prefix in made:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(prefix))
                )
