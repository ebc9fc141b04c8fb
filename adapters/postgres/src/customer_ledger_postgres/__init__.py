"""PostgreSQL storage for customer-ledger."""

from customer_ledger_postgres.adapter import PostgresAdapter

__all__ = ["PostgresAdapter"]
