"""Helpers for the analytics tests: a fixed clock, short ways to record, and
``module_ledger(record)``, which makes a read-only fixture holding a module's own
history on each backend. The fixtures themselves are in the ``analytics_fixtures``
plugin (``pytest_plugins = ("analytics_fixtures",)`` in a test module).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from customer_ledger import CustomerLedger
from customer_ledger.testing_postgres import with_prefix

NOW = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)
BACKENDS = ("memory", "sqlite", "postgres")
SMALL_POOL = "&pool_size=2&max_overflow=2"  # every test opens ledgers of its own


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
    return with_prefix(database, f"a_{uuid.uuid4().hex[:12]}") + SMALL_POOL


def module_ledger(record: Callable[[CustomerLedger], None], scope: str = "module") -> Any:
    """A fixture: a ledger per backend holding what ``record`` recorded; read-only."""

    @pytest.fixture(scope=scope, params=BACKENDS)  # type: ignore[call-overload]
    def recorded(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[CustomerLedger]:
        url = store_url(request.param, request, tmp_path_factory.mktemp("analytics"))
        ledger = CustomerLedger.open(url, clock=clock)
        record(ledger)
        yield ledger
        ledger.close()

    return recorded


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
