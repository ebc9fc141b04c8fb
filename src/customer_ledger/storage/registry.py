"""Finding the adapter for a store URL: ``memory`` is built in, every other scheme comes
from a distribution registered in the entry-point group ``customer_ledger.adapters``."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from customer_ledger.errors import StoreError
from customer_ledger.storage.port import Adapter, Failure
from customer_ledger.storage.urls import StoreURL

ENTRY_POINT_GROUP = "customer_ledger.adapters"
DISTRIBUTIONS = {"sqlite": "customer-ledger-sqlite", "postgresql": "customer-ledger-postgres"}


@cache
def _registered() -> dict[str, type[Adapter]]:
    found = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.load()
    return found


@cache
def _adapter_class(scheme: str) -> type[Adapter] | None:
    """The adapter registered for ``scheme``, loaded alone: a SQLite store's process
    need not import psycopg (a sixth of a command's start-up, issue 17)."""
    for entry in entry_points(group=ENTRY_POINT_GROUP, name=scheme):
        loaded: type[Adapter] = entry.load()
        return loaded
    return None


def adapter_for(url: StoreURL) -> Adapter:
    if url.scheme == "memory":
        from customer_ledger.storage.memory import MemoryAdapter

        return MemoryAdapter()
    adapter_class = _adapter_class(url.scheme)
    if adapter_class is None:
        hint = DISTRIBUTIONS.get(url.scheme)
        install = f"; install it with: pip install {hint}" if hint else ""
        raise StoreError(f"no storage adapter for {url.scheme}:// is installed{install}")
    return adapter_class()


def classify(error: BaseException) -> Failure | None:
    """What a driver's error means, as the installed adapter whose driver raised it says
    (each recognises only its own driver's errors)."""
    for adapter_class in _registered().values():
        found = adapter_class().classify(error)
        if found is not None:
            return found
    return None
