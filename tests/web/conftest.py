"""An API server (Litestar's TestClient) over a fresh ledger on each backend, with one
user per role of the default policy (password ``<name> password``)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from litestar.testing import TestClient
from strategies import fixed_clock

from customer_ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.web.app import create_app
from customer_ledger.web.security import Throttle

BACKENDS = ("memory", "sqlite", "postgresql")
ROLES = ("sales", "service", "manager", "auditor", "admin")
ROOT = Actor("root", "admin")
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only


def basic(name: str, password: str | None = None) -> dict[str, str]:
    pair = f"{name}:{password if password is not None else name + ' password'}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def open_ledger(url: str) -> CustomerLedger:
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    ledger.users.hasher = CHEAP
    for role in ROLES:
        ledger.users.add(role, role=role, password_text=f"{role} password", by=ROOT)
    return ledger


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(request.param, request, tmp_path, pool="&pool_size=2&max_overflow=4")


@pytest.fixture
def ledger(store_url: str) -> Iterator[CustomerLedger]:
    ledger = open_ledger(store_url)
    yield ledger
    ledger.close()


Client = Callable[..., Any]


@pytest.fixture
def client(ledger: CustomerLedger) -> Iterator[TestClient[Any]]:
    app = create_app(ledger, secret=b"k" * 32, throttle=Throttle(attempts=3, window=60))
    with TestClient(app) as test_client:
        yield test_client
