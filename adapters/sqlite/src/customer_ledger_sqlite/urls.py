"""What a ``sqlite:///path.db?prefix=sales&lock_timeout=5`` URL says."""

from __future__ import annotations

from customer_ledger.storage import (
    StoreError,
    StoreURL,
)
from customer_ledger_sqlite.schema import table_prefix

LOCK_TIMEOUT_SECONDS = 5


def database_path(url: StoreURL) -> str:
    """``sqlite:///rel.db`` is relative, ``sqlite:////abs.db`` absolute."""
    if url.netloc or not url.path.startswith("/") or url.path == "/":
        raise StoreError(f"SQLite URL {url.raw!r} must look like sqlite:///path/to/file.db")
    path = url.path[1:]
    if path == ":memory:" or "mode=memory" in path:
        raise StoreError("use memory:// for a throw-away ledger")
    return path


def lock_timeout(url: StoreURL) -> int:
    """Seconds a writer waits for another one's lock before "database is locked"."""
    raw = url.options.get("lock_timeout", str(LOCK_TIMEOUT_SECONDS))
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds < 1:  # eventsourcing reads 0 as its default
        raise StoreError(f"lock_timeout must be a positive whole number of seconds, got {raw!r}")
    return seconds


def prefix(url: StoreURL) -> str:
    """The URL's table prefix, checked to be usable in SQLite identifiers."""
    return table_prefix(url.prefix)
