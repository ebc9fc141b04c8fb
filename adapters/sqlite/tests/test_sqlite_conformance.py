"""The core's conformance suite, run against SQLite files (one fresh file per test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.testing import LedgerConformance, PersistentConformance


class TestSQLite(LedgerConformance, PersistentConformance):
    @pytest.fixture
    def store_url(self, db_dir: Path) -> str:
        return f"sqlite:///{db_dir}/ledger.db"


class TestSQLiteWithPrefix(LedgerConformance, PersistentConformance):
    """The same ledger behind a table prefix, sharing its file with another ledger."""

    @pytest.fixture
    def store_url(self, db_dir: Path) -> str:
        neighbour = CustomerLedger.open(f"sqlite:///{db_dir}/shared.db?prefix=other")
        neighbour.first_contact("A001", name="someone else", type="company")
        neighbour.close()
        return f"sqlite:///{db_dir}/shared.db?prefix=sales"
