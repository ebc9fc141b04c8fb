"""PostgreSQL storage for customer-ledger: events and views in one schema per ledger."""

from customer_ledger_postgres.adapter import PostgresAdapter
from customer_ledger_postgres.profile import PostgresProfileView
from customer_ledger_postgres.settings import PostgresSettings
from customer_ledger_postgres.status import PostgresStatusView
from customer_ledger_postgres.timeline import PostgresTimelineView
from customer_ledger_postgres.viewset import PostgresViewSet

__all__ = [
    "PostgresAdapter",
    "PostgresProfileView",
    "PostgresSettings",
    "PostgresStatusView",
    "PostgresTimelineView",
    "PostgresViewSet",
]
