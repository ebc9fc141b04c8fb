"""SQLite storage for customer-ledger: one file holds the events and the views."""

from customer_ledger_sqlite.adapter import SQLiteAdapter

__all__ = ["SQLiteAdapter"]
