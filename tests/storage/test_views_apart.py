"""Views in another store than the events: ``?views=URL`` on the store URL.

Given a ledger whose views live elsewhere (another SQLite file, another PostgreSQL
database, or across backends), then its views hold exactly what views beside the same
events would, the event store holds no view table, and a follower (``follow``) keeps
them for readers that never write them (``catch_up=False``), who still read their own
writes, or are told clearly that the views are behind.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
    require_postgres,
    store_url,
)
from psycopg import sql

from customer_ledger import CustomerLedger
from customer_ledger.application.follow import follow
from customer_ledger.errors import StoreError, ViewsBehind
from customer_ledger.storage.urls import StoreURL
from customer_ledger.testing import clock, record_sample, snapshot_views

VIEW_TABLE_WORDS = ("profile", "timeline", "status", "analytics")


def apart(events: str, views: str) -> str:
    joiner = "&" if "?" in events else "?"
    return f"{events}{joiner}views={quote(views, safe='')}"


def sqlite_tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def postgres_tables(url: str) -> set[str]:
    parsed = StoreURL.parse(url)
    dsn = url.split("?", 1)[0]
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (parsed.prefix or "public",),
        ).fetchall()
    return {row[0] for row in rows}


def view_tables(names: set[str]) -> set[str]:
    return {n for n in names if any(word in n for word in VIEW_TABLE_WORDS)}


@pytest.fixture
def other_database(postgres_database: str) -> Iterator[str]:  # noqa: F811
    """A second PostgreSQL database, for views kept apart from the session's one."""
    name = f"customer_ledger_views_{uuid.uuid4().hex[:10]}"
    admin = postgres_database.split("?", 1)[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield store_url(admin, dbname=name) + "?prefix=views&pool_size=1&max_overflow=4"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite+sqlite", "postgres+postgres", "sqlite+postgres", "postgres+sqlite"])
def stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[str, str, Callable[[], set[str]]]:
    """(events URL, views URL, the event store's table names)."""
    events_on, views_on = request.param.split("+")
    if "postgres" in request.param:
        require_postgres()
    if events_on == "sqlite":
        events = f"sqlite:///{tmp_path}/events.db"

        def tables() -> set[str]:
            return sqlite_tables(tmp_path / "events.db")
    else:
        events = request.getfixturevalue("postgres_url_factory")()

        def tables() -> set[str]:
            return postgres_tables(events)

    if views_on == "sqlite":
        views = f"sqlite:///{tmp_path}/views.db"
    else:
        views = request.getfixturevalue("other_database")
    return events, views, tables


def test_views_apart_hold_what_views_beside_the_same_events_would(
    stores: tuple[str, str, Callable[[], set[str]]],
) -> None:
    events, views, tables = stores
    with CustomerLedger.open(apart(events, views), clock=clock) as ledger:
        record_sample(ledger)
        ledger.rebuild(["status"])  # a rebuild and its swap happen in the views' store too
        kept_apart = snapshot_views(ledger)
        assert ledger.profile("A001").name == "*先生"
    assert view_tables(tables()) == set(), "the event store got view tables"
    with CustomerLedger.open(events, clock=clock) as beside:  # caught up from the same log
        assert snapshot_views(beside) == kept_apart
        assert view_tables(tables()) != set()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_follower_keeps_views_apart_for_writers_that_never_write_them(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":  # the follower polls
        events = f"sqlite:///{tmp_path}/events.db"
        url = apart(events, f"sqlite:///{tmp_path}/views.db")
        tables: Callable[[], set[str]] = lambda: sqlite_tables(tmp_path / "events.db")  # noqa: E731
    else:  # eventsourcing's ProjectionRunner, LISTEN/NOTIFY, views in another database
        require_postgres()
        events = request.getfixturevalue("postgres_url_factory")()
        url = apart(events, request.getfixturevalue("other_database"))
        tables = lambda: postgres_tables(events)  # noqa: E731
    stop, said = threading.Event(), []
    follower_ledger = CustomerLedger.open(url, clock=clock)
    follower = threading.Thread(
        target=follow, args=(follower_ledger, stop),
        kwargs={"poll_seconds": 0.02, "report": said.append},
    )  # fmt: skip
    follower.start()
    writer = CustomerLedger.open(url, clock=clock, catch_up=False)
    try:
        writer.first_contact("F001", name="followed", type="company")
        writer.log_interaction("F001", channel="phone", topic="hello")
        # read-your-writes: the read waits for the follower to apply this ledger's write
        assert [e.kind for e in writer.timeline("F001").items] == [
            "FirstContacted",
            "InteractionLogged",
        ]
        assert writer.last_position == writer.recorder.max_notification_id()
    finally:
        stop.set()
        follower.join(timeout=30)
        follower_ledger.close()
    writer.views_wait_seconds = 0.2
    writer.tag("F001", tag="while-stopped")
    with pytest.raises(ViewsBehind, match="follow"):
        writer.profile("F001")
    writer.close()
    assert view_tables(tables()) == set()
    assert any(("ProjectionRunner" in m) == (backend == "postgres") for m in said), said
    with CustomerLedger.open(url, clock=clock) as reader:  # catches up itself: exactly once
        assert reader.profile("F001").tags == ("while-stopped",)
        assert len(reader.timeline("F001").items) == 3


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///a.db?views=memory://",
        "memory://?views=sqlite:///b.db",
        "sqlite:///a.db?views=not-a-url",
        "sqlite:///a.db?views=" + quote("sqlite:///b.db?views=sqlite:///c.db", safe=""),
        "sqlite:///a.db?views=sqlite:///b.db&views=sqlite:///c.db",
    ],
)
def test_a_views_url_that_cannot_hold_views_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        CustomerLedger.open(url.replace("///", f"///{tmp_path}/"))
    assert list(tmp_path.iterdir()) == []  # nothing made


def test_a_views_url_shows_without_its_password() -> None:
    views = "postgresql://viewer:secret@views-host/views?prefix=v"
    url = StoreURL.parse(apart("postgresql://writer:hidden@db/ledger?prefix=p", views))
    assert url.views == views and url.options == {"prefix": "p"}
    assert url.shown == (
        "postgresql://writer:***@db/ledger?prefix=p (views in postgresql://viewer:***@views-host/views?prefix=v)"
    )
    assert "secret" not in url.shown and "hidden" not in url.shown
