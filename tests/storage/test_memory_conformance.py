"""The in-memory store passes the adapter conformance suite."""

import pytest

from customer_ledger.testing import LedgerConformance


class TestMemoryStore(LedgerConformance):
    @pytest.fixture
    def store_url(self) -> str:
        return "memory://"
