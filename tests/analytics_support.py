"""Helpers for the analytics tests: a fixed clock, short ways to record, and
``recorded_store(record)``, which makes a fixture: a store per backend holding a
module's own history, opened read-only by each test with ``opened(store)``. The
fixtures themselves are in the ``analytics_fixtures`` plugin
(``pytest_plugins = ("analytics_fixtures",)`` in a test module).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from attrs import frozen
from customer_ledger_postgres.testing import with_options, with_prefix

from customer_ledger import CustomerLedger

NOW = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)
BACKENDS = ("memory", "sqlite", "postgres")
SMALL_POOL = "&pool_size=1&max_overflow=1"  # tests run side by side: few connections each


def clock() -> datetime:
    return NOW


def store_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    """A fresh store on ``backend``; PostgreSQL's is a schema in the session's database
    (skipped loudly without a server, failed under CI=true)."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{directory}/{uuid.uuid4().hex}.db"
    database = request.getfixturevalue("postgres_database")
    return with_options(with_prefix(database, f"a_{uuid.uuid4().hex[:12]}"), SMALL_POOL)


@frozen
class RecordedStore:
    """A store holding a recorded history: its URL, or the ledger itself for memory://
    (whose events live only as long as the ledger object)."""

    url: str
    memory: CustomerLedger | None = None


def recorded_store(record: Callable[[CustomerLedger], None], scope: str = "module") -> Any:
    """A fixture: a store per backend holding what ``record`` recorded, made once per
    ``scope``. Tests open it with ``opened(store)`` (read-only), so a PostgreSQL ledger
    holds connections only while a test runs."""

    @pytest.fixture(scope=scope, params=BACKENDS)  # type: ignore[call-overload]
    def store(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[RecordedStore]:
        url = store_url(request.param, request, tmp_path_factory.mktemp("analytics"))
        ledger = CustomerLedger.open(url, clock=clock)
        record(ledger)
        if url.startswith("memory:"):
            yield RecordedStore(url, ledger)
        else:
            ledger.close()
            yield RecordedStore(url)

    return store


@contextmanager
def opened(store: RecordedStore) -> Iterator[CustomerLedger]:
    if store.memory is not None:
        yield store.memory
        return
    ledger = CustomerLedger.open(store.url, clock=clock)
    try:
        yield ledger
    finally:
        ledger.close()


def customer(ledger: CustomerLedger, number: str, since: str, **fields: Any) -> None:
    """A company first contacted on ``since`` (owner ``*经理`` unless given)."""
    fields.setdefault("owner", "*经理")
    ledger.first_contact(number, name=f"{number} 公司", type="company", occurred_at=since, **fields)


def buy(ledger: CustomerLedger, number: str, on: str, amount: str, currency: str = "CNY") -> None:
    ledger.record_purchase(
        number, product="goods", amount=amount, currency=currency, occurred_at=on
    )


def talk(ledger: CustomerLedger, number: str, *days: str) -> None:
    for day in days:
        ledger.log_interaction(number, channel="phone", topic="check-in", occurred_at=day)


def d(text: str) -> date:
    return date.fromisoformat(text)
