"""The stores release 0.1 wrote (``tests/fixtures/release_0_1/``), for upgrade tests.

Made by ``tests/fixtures/make_release_0_1.py`` with the previous release's code (commit
75a98a6); never edit them, remake them (see ``tests/fixtures/release_0_1/README.md``).
What they hold (customers, versions, the distinctive personal values, counts) is in
``release_manifest()``. A ledger opening them needs the fixture's master key::

    monkeypatch.setenv(MASTER_KEY_ENV, release_manifest()["master_key"])
    url = copy_sqlite_store(tmp_path)                  # a copy: the test may write to it
    with restore_postgres_store() as restored:         # a fresh database, dropped after
        CustomerLedger.open(restored.url)

Only the standard library here, and psycopg (imported when PostgreSQL is used); the dump
is loaded with ``psql`` (plain ``pg_dump`` SQL: ``COPY ... FROM stdin`` and a
``\\restrict`` line, which needs psql 15.14/16.10/17.6 or later).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

RELEASE_0_1 = Path(__file__).resolve().parent / "fixtures" / "release_0_1"
SQLITE_FIXTURE = RELEASE_0_1 / "store.db"
POSTGRES_FIXTURE = RELEASE_0_1 / "postgres.sql"
MANIFEST = RELEASE_0_1 / "manifest.json"
MASTER_KEY_ENV = "CUSTOMER_LEDGER_MASTER_KEY"
ENV_DSN = "CUSTOMER_LEDGER_TEST_POSTGRES"
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
CONNECT_TIMEOUT = 3


@cache
def _manifest() -> str:
    return MANIFEST.read_text(encoding="utf-8")


def release_manifest() -> dict[str, Any]:
    """What the fixtures hold: master key, URL shapes, customers and their versions, the
    forgotten one, the personal values per field, event counts, the release's commit.
    A fresh dict on each call (a test may change it)."""
    manifest: dict[str, Any] = json.loads(_manifest())
    return manifest


def copy_sqlite_store(directory: Path | str, name: str = "release-0.1.db") -> str:
    """Copies the SQLite fixture into ``directory`` (as ``name``); returns its store URL.

    The fixture is one file (its WAL was checkpointed); the copy is the test's own.
    """
    target = Path(directory).resolve() / name
    if target.exists():
        raise FileExistsError(f"{target} exists: copy the fixture into an empty place")
    shutil.copyfile(SQLITE_FIXTURE, target)
    return f"sqlite:///{target}"


class RestoredPostgres:
    """A database restored from the PostgreSQL fixture: ``url`` opens the ledger in it
    (schema ``upgrade``); ``drop()`` (or leaving the ``with`` block) removes it."""

    def __init__(self, dsn: str, database: str, url: str) -> None:
        self.dsn = dsn  # the server's maintenance database, used to drop this one
        self.database = database
        self.url = url
        self.conninfo = _conninfo(dsn, database)  # for psql / psycopg on this database
        self.dropped = False

    def drop(self) -> None:
        """Drops the database (FORCE: pools a test left open do not keep it alive)."""
        if self.dropped:
            return
        _drop_database(self.dsn, self.database)
        self.dropped = True

    def __enter__(self) -> RestoredPostgres:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.drop()

    def __repr__(self) -> str:
        return f"RestoredPostgres(database={self.database!r}, url={_redacted(self.url)!r})"


def postgres_dsn() -> str:
    """The server to restore into (its database only serves to create the new one)."""
    return os.environ.get(ENV_DSN) or DEFAULT_DSN


def restore_postgres_store(dsn: str | None = None, *, options: str = "") -> RestoredPostgres:
    """Creates a uniquely named database on the server of ``dsn`` (default
    ``$CUSTOMER_LEDGER_TEST_POSTGRES``, else ``postgresql://postgres@127.0.0.1:5432/
    postgres``), loads the fixture's dump into it with psql, and returns it.

    ``options`` is appended to the store URL's query, e.g. ``"&pool_size=1&max_overflow=4"``.
    The caller drops the database: ``restored.drop()`` or ``with restore_postgres_store()``.
    """
    import psycopg
    from psycopg import sql

    dsn = dsn or postgres_dsn()
    database = f"customer_ledger_release01_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    prefix = release_manifest()["postgres"]["prefix"]
    url = _store_url(dsn, database, prefix)
    if options:
        url += ("&" if "?" in url else "?") + options.lstrip("&?")
    restored = RestoredPostgres(dsn, database, url)
    try:
        loaded = subprocess.run(
            ["psql", "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1",
             "--single-transaction", "--file", str(POSTGRES_FIXTURE),
             "--dbname", restored.conninfo],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if loaded.returncode != 0:
            raise RuntimeError(
                f"psql could not load {POSTGRES_FIXTURE.name} into {database}: "
                f"{loaded.stderr.strip()}"
            )
    except BaseException:
        restored.drop()
        raise
    return restored


def _conninfo(dsn: str, database: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    info["dbname"] = database
    info.setdefault("connect_timeout", str(CONNECT_TIMEOUT))
    return make_conninfo("", **info)


def _store_url(dsn: str, database: str, prefix: str | None) -> str:
    """The ``postgresql://`` store URL of ``database`` on the server of ``dsn``."""
    from psycopg.conninfo import conninfo_to_dict

    info = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    auth = quote(info.get("user") or os.environ.get("PGUSER") or "postgres", safe="")
    if info.get("password"):
        auth += ":" + quote(info["password"], safe="")
    host = info.get("host") or "127.0.0.1"
    options = {"prefix": prefix or ""}
    if host.startswith("/"):  # a Unix socket directory
        options["host"] = host
        host = "localhost"
    query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in options.items() if v)
    url = f"postgresql://{auth}@{host}:{info.get('port') or 5432}/{database}"
    return f"{url}?{query}" if query else url


def _drop_database(dsn: str, database: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def _redacted(url: str) -> str:
    head, at, tail = url.partition("@")
    if not at or ":" not in head.removeprefix("postgresql://"):
        return url
    return head.rsplit(":", 1)[0] + ":***@" + tail
