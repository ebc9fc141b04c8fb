"""The in-memory store: eventsourcing's POPO recorders and dict-backed views.

For tests and throw-away ledgers; nothing survives the process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from customer_ledger.stores import Adapter, StoreURL

if TYPE_CHECKING:
    from customer_ledger.projections.views import ViewSet


class MemoryAdapter(Adapter):
    scheme = "memory"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}

    def views(self, url: StoreURL) -> ViewSet:
        raise NotImplementedError("memory views arrive with the projections")
