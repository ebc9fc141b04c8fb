"""Configures eventsourcing's PostgreSQL recorders from a ``postgresql://`` URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customer_ledger.stores import Adapter, StoreURL

if TYPE_CHECKING:
    from customer_ledger.projections.views import ViewSet


class PostgresAdapter(Adapter):
    scheme = "postgresql"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        raise NotImplementedError("PostgreSQL event store arrives with the projections issue")

    def views(self, url: StoreURL) -> ViewSet:
        raise NotImplementedError("PostgreSQL views arrive with the projections issue")
