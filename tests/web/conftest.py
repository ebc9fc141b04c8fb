"""An API server (Litestar's TestClient) over a fresh ledger on each backend, with one
user per role of the default policy (password ``<name> password``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from litestar.testing import TestClient
from web_support import BACKENDS, open_ledger

from customer_ledger import CustomerLedger
from customer_ledger.web.app import create_app
from customer_ledger.web.security import Throttle
from customer_ledger.web.site import create_site


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


@pytest.fixture
def site(ledger: CustomerLedger, tmp_path: Path) -> Iterator[TestClient[Any]]:
    """The pages and the API (``create_site``), attachments in a temporary folder."""
    app = create_site(ledger, secret=b"k" * 32, attachments=tmp_path / "attachments")
    with TestClient(app) as client:
        yield client
