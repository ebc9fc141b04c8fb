"""Store URLs: ``memory://``, ``sqlite:///path.db``, ``postgresql://user@host/db?...``.

The scheme picks the adapter (``storage.registry``); the rest is the adapter's to read,
but for ``prefix``, which every adapter honours the same way, and ``views``, which the
core reads: ``?views=<URL>`` (percent-encoded) keeps the four views in another store
than the events, keys and users (a database of their own, another server, a file).
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, quote, unquote, urlsplit

from attrs import frozen

from customer_ledger.errors import StoreError

DEFAULT_URL = "sqlite:///customer-ledger.db"
REPLICA_ENV = "CUSTOMER_LEDGER_REPLICA"  # a streaming replica the reads go to
FOLLOWED_ENV = "CUSTOMER_LEDGER_FOLLOWED"  # "1": ``follow`` keeps the views, reads wait
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@frozen
class StoreURL:
    """A parsed store URL: ``scheme://[user@host:port]/path?prefix=...``."""

    raw: str
    scheme: str
    netloc: str
    path: str
    options: dict[str, str]  # the adapter's: ``views`` is taken out
    views: str | None = None  # where the views are, when not beside the events

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
        views = options.pop("views", None)
        if views is not None:
            inner = cls.parse(views.strip()) if "://" in views else None
            if inner is None or inner.views is not None or "memory" in (scheme, inner.scheme):
                raise StoreError(
                    f"views={views[:80]!r} must be the store URL of another database, "
                    "percent-encoded, e.g. ?views=postgresql%3A%2F%2Fu%40host%2Fviews "
                    "(not memory://, and holding no views= of its own)"
                )
            views = inner.raw
        return cls(url, scheme, parts.netloc, unquote(parts.path), options, views)

    @property
    def views_url(self) -> StoreURL:
        """Where the views are: the ``views`` URL, else this one."""
        return self if self.views is None else StoreURL.parse(self.views)

    @property
    def shown(self) -> str:
        """The URL as messages show it: a password in it replaced by ``***``."""
        raw, views = self.raw, ""
        if self.views is not None:  # shown apart, readably, its own password hidden too
            base, _, _ = raw.partition("?")
            options = "&".join(f"{k}={quote(v, safe='')}" for k, v in self.options.items())
            raw = f"{base}?{options}" if options else base
            views = f" (views in {StoreURL.parse(self.views).shown})"
        user, at, host = self.netloc.rpartition("@")
        if at and ":" in user:
            raw = raw.replace(self.netloc, f"{user.split(':', 1)[0]}:***@{host}", 1)
        return raw + views

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


def replica_url() -> str | None:
    """The replica reads go to, as the command line and each ``serve`` worker read it."""
    return os.environ.get(REPLICA_ENV) or None


def views_followed() -> bool:
    """Whether ``follow`` keeps the views (``CustomerLedger.open(catch_up=False)``)."""
    return os.environ.get(FOLLOWED_ENV, "") == "1"
