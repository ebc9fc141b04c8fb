"""Store URLs and the adapters that serve them.

An adapter is found by URL scheme: ``memory`` is built in, every other scheme comes
from a distribution registered in the entry-point group ``customer_ledger.adapters``.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from attrs import frozen

from customer_ledger.domain.errors import StoreError

if TYPE_CHECKING:
    from customer_ledger.keys import KeyStore, MasterKey
    from customer_ledger.projections.views import ViewSet

DEFAULT_URL = "sqlite:///customer-ledger.db"
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ENTRY_POINT_GROUP = "customer_ledger.adapters"
DISTRIBUTIONS = {"sqlite": "customer-ledger-sqlite", "postgresql": "customer-ledger-postgres"}


@frozen
class StoreURL:
    """A parsed store URL: ``scheme://[user@host:port]/path?prefix=...``."""

    raw: str
    scheme: str
    netloc: str
    path: str
    options: dict[str, str]

    @classmethod
    def parse(cls, url: str) -> StoreURL:
        if not isinstance(url, str) or "://" not in url:
            raise StoreError(
                f"store URL {url!r} must look like memory://, sqlite:///path.db "
                "or postgresql://user@host:port/db"
            )
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme in ("postgres", "postgresql+psycopg"):
            scheme = "postgresql"
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(url, scheme, parts.netloc, unquote(parts.path), options)

    @property
    def prefix(self) -> str:
        """Names a ledger among several sharing one database (tables or schema)."""
        prefix = self.options.get("prefix", "").lower()
        if prefix and not _PREFIX.match(prefix):
            raise StoreError(
                f"prefix {prefix!r} must start with a letter and hold only letters, digits "
                "and '_' (it names tables or a schema), at most 40 characters"
            )
        return prefix


class Adapter(ABC):
    """What a storage backend supplies: an event store and the views."""

    scheme: ClassVar[str]

    @abstractmethod
    def application_env(self, url: StoreURL) -> dict[str, str]:
        """eventsourcing settings (PERSISTENCE_MODULE, ...) for this URL."""

    @abstractmethod
    def views(self, url: StoreURL) -> ViewSet:
        """The profile, timeline and status views for this URL."""

    def key_store(self, url: StoreURL, master_key: MasterKey | None) -> KeyStore:
        """The customers' data keys (``customer_ledger.keys``), in this store; with no
        ``master_key`` configured, the adapter's default or ``MasterKeyMissing``."""
        raise StoreError(
            f"the {self.scheme}:// adapter keeps no data keys, so it cannot store personal "
            "data (implement Adapter.key_store: see customer_ledger.keys)"
        )


@cache
def _registered() -> dict[str, type[Adapter]]:
    found = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = entry.load()
    return found


def adapter_for(url: StoreURL) -> Adapter:
    if url.scheme == "memory":
        from customer_ledger.memory import MemoryAdapter

        return MemoryAdapter()
    adapter_class = _registered().get(url.scheme)
    if adapter_class is None:
        hint = DISTRIBUTIONS.get(url.scheme)
        install = f"; install it with: pip install {hint}" if hint else ""
        raise StoreError(f"no storage adapter for {url.scheme}:// is installed{install}")
    return adapter_class()


def default_url() -> str:
    return os.environ.get("CUSTOMER_LEDGER_STORE") or DEFAULT_URL
