"""SQLite storage for customer-ledger: one file holds the events and the views."""

from customer_ledger_sqlite.adapter import SQLiteAdapter
from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.factory import PrefixedSQLiteFactory
from customer_ledger_sqlite.profile import SQLiteProfileView
from customer_ledger_sqlite.status import SQLiteStatusView
from customer_ledger_sqlite.timeline import SQLiteTimelineView
from customer_ledger_sqlite.viewset import SQLiteViewSet

__all__ = [
    "PrefixedSQLiteFactory",
    "SQLiteAdapter",
    "SQLiteProfileView",
    "SQLiteStatusView",
    "SQLiteTimelineView",
    "SQLiteView",
    "SQLiteViewSet",
]
