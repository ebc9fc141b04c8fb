"""The analytics tests' fixtures, as a plugin (``pytest_plugins = ("analytics_fixtures",)``),
so the PostgreSQL fixtures exist once: one test database per session (per xdist
worker), not one per module.

* ``on_each_backend``: an empty ledger on memory://, on a fresh SQLite file and on a
  fresh PostgreSQL schema.
* ``sample_on_each_backend``: a ledger on a store holding the domain notes' customers
  (``record_sample``), recorded once per backend for the whole session; tests only
  read it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_support import BACKENDS, RecordedStore, clock, opened, recorded_store, store_url
from customer_ledger_postgres.testing import postgres_database  # noqa: F401 - a fixture

from customer_ledger import CustomerLedger
from customer_ledger.testing import record_sample


@pytest.fixture(params=BACKENDS)
def on_each_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    ledger = CustomerLedger.open(store_url(request.param, request, tmp_path), clock=clock)
    yield ledger
    ledger.close()


sample_store = recorded_store(record_sample, scope="session")


@pytest.fixture
def sample_on_each_backend(sample_store: RecordedStore) -> Iterator[CustomerLedger]:
    with opened(sample_store) as ledger:
        yield ledger
