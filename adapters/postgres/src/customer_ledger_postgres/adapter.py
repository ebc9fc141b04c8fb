"""Configures eventsourcing's PostgreSQL recorders and the views from a store URL.

``postgresql://user[:password]@host[:port]/dbname?prefix=p`` puts the ledger in schema
``p`` (created when missing), so several ledgers can share one database.
"""

from __future__ import annotations

from customer_ledger.keys import KEY_STORE_URL_ENV, MasterKey
from customer_ledger.stores import Adapter, StoreURL
from customer_ledger_postgres.keys import PostgresKeyStore
from customer_ledger_postgres.settings import PostgresSettings
from customer_ledger_postgres.viewset import PostgresViewSet


class PostgresAdapter(Adapter):
    scheme = "postgresql"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        """eventsourcing settings; creates the schema first, as eventsourcing needs it."""
        settings = PostgresSettings.from_url(url)
        settings.ensure_schema()
        # KEY_STORE_URL_ENV: where the data keys are, for any application built from this
        return {**settings.application_env(), KEY_STORE_URL_ENV: url.raw}

    def views(self, url: StoreURL) -> PostgresViewSet:
        return PostgresViewSet(PostgresSettings.from_url(url))

    def key_store(self, url: StoreURL, master_key: MasterKey | None) -> PostgresKeyStore:
        return PostgresKeyStore.open(url, master_key)
