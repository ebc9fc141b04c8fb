"""What a ``sqlite:///path.db?prefix=sales&lock_timeout=5`` URL says."""

from __future__ import annotations

from customer_ledger.storage import (
    StoreError,
    StoreURL,
)
from customer_ledger_sqlite.schema import table_prefix

LOCK_TIMEOUT_SECONDS = 5
MAX_LOCK_TIMEOUT_SECONDS = 3600
OPTIONS = ("prefix", "lock_timeout")


def check_options(url: StoreURL) -> None:
    """A typo in an option is refused, not ignored."""
    unknown = sorted(set(url.options) - set(OPTIONS))
    if unknown:
        raise StoreError(
            f"unknown option(s) {', '.join(unknown)} in {url.raw!r}; known: {', '.join(OPTIONS)}"
        )


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
    text = raw.strip()
    # (0: eventsourcing's default, not "no wait"; a huge one would hang writers forever)
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not (
        1 <= int(text) <= MAX_LOCK_TIMEOUT_SECONDS
    ):
        raise StoreError(
            f"lock_timeout must be a whole number of seconds 1..{MAX_LOCK_TIMEOUT_SECONDS}, "
            f"got {raw[:20]!r}"
        )
    return int(text)


def prefix(url: StoreURL) -> str:
    """The URL's table prefix, checked to be usable in SQLite identifiers."""
    return table_prefix(url.prefix)
