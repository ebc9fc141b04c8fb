"""The lead's conformance suite (``customer_ledger.testing``) against PostgreSQL."""

from __future__ import annotations

import pytest

from customer_ledger.testing import LedgerConformance, PersistentConformance

pytestmark = pytest.mark.postgres


class TestPostgresConformance(LedgerConformance, PersistentConformance):
    """``store_url`` (conftest): a fresh schema in the session's database, per test."""
