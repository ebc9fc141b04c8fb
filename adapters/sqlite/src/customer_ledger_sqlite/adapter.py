"""Configures eventsourcing's SQLite recorders from a ``sqlite:///path.db`` URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from customer_ledger.domain.errors import StoreError
from customer_ledger.stores import Adapter, StoreURL

if TYPE_CHECKING:
    from customer_ledger.projections.views import ViewSet

LOCK_TIMEOUT_SECONDS = "5"


def database_path(url: StoreURL) -> str:
    """``sqlite:///rel.db`` is relative, ``sqlite:////abs.db`` absolute."""
    if url.netloc or not url.path.startswith("/") or url.path == "/":
        raise StoreError(f"SQLite URL {url.raw!r} must look like sqlite:///path/to/file.db")
    path = url.path[1:]
    if path == ":memory:":
        raise StoreError("use memory:// for a throw-away ledger")
    return path


class SQLiteAdapter(Adapter):
    scheme = "sqlite"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": database_path(url),
            "SQLITE_LOCK_TIMEOUT": url.options.get("lock_timeout", LOCK_TIMEOUT_SECONDS),
        }

    def views(self, url: StoreURL) -> ViewSet:
        raise NotImplementedError("SQLite views arrive with the projections")
