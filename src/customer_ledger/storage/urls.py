"""Store URLs: ``memory://``, ``sqlite:///path.db``, ``postgresql://user@host/db?...``.

The scheme picks the adapter (``storage.registry``); the rest is the adapter's to read,
but for ``prefix``, which every adapter honours the same way.
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, unquote, urlsplit

from attrs import frozen

from customer_ledger.errors import StoreError

DEFAULT_URL = "sqlite:///customer-ledger.db"
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


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
        # blank values kept, so that a misspelt ``?lock_timout=`` is seen and refused
        given = parse_qs(parts.query, keep_blank_values=True)
        twice = sorted(k for k, v in given.items() if len(v) > 1)
        if twice:
            raise StoreError(f"store URL option(s) {', '.join(twice)} given more than once")
        options = {k: v[0] for k, v in given.items()}
        return cls(url, scheme, parts.netloc, unquote(parts.path), options)

    @property
    def shown(self) -> str:
        """The URL as messages show it: a password in it replaced by ``***``."""
        user, at, host = self.netloc.rpartition("@")
        if not at or ":" not in user:
            return self.raw
        return self.raw.replace(self.netloc, f"{user.split(':', 1)[0]}:***@{host}", 1)

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


def default_url() -> str:
    return os.environ.get("CUSTOMER_LEDGER_STORE") or DEFAULT_URL
