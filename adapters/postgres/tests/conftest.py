"""Fixtures for the PostgreSQL adapter's tests: a fresh database per session (see
``customer_ledger_postgres.testing``), a fresh schema per test, views and samples."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from customer_ledger_postgres import PostgresViewSet
from customer_ledger_postgres import testing as testing_postgres
from eventsourcing.persistence import Tracking
from postgres_view_support import APP
from psycopg import sql

# The shared PostgreSQL fixtures (fresh database per session; skip, or fail under CI=true).
postgres_database = testing_postgres.postgres_database
postgres_url = testing_postgres.postgres_url
postgres_url_factory = testing_postgres.postgres_url_factory


@pytest.fixture
def store_url(postgres_url_factory: Callable[[], str]) -> str:
    """A store URL on an empty schema of its own (small pools: tests open many)."""
    return testing_postgres.with_options(postgres_url_factory(), "&pool_size=2&max_overflow=4")


@pytest.fixture
def views(store_url: str) -> Iterator[PostgresViewSet]:
    view_set = PostgresViewSet.from_url(store_url)
    yield view_set
    view_set.close()


@pytest.fixture(scope="module")
def module_views(postgres_database: str) -> Iterator[PostgresViewSet]:
    """Views shared by a module's read-only tests (creating tables costs ~0.1 s each)."""
    prefix = f"m_{uuid.uuid4().hex[:12]}"
    url = testing_postgres.with_options(
        testing_postgres.with_prefix(postgres_database, prefix), "&pool_size=2"
    )
    view_set = PostgresViewSet.from_url(url)
    yield view_set
    view_set.close()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(prefix)))


@pytest.fixture
def positions() -> Callable[[], Tracking]:
    """Hands out strictly increasing tracking positions of the ledger application."""
    counter = itertools.count(1)
    return lambda: Tracking(APP, next(counter))
