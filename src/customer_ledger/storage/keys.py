"""Where a ledger's data keys are kept: the key table of its own store."""

from __future__ import annotations

from customer_ledger.errors import KeyStoreUnknown
from customer_ledger.privacy.keys import KEY_STORE_URL_ENV, KeyStore, MasterKey
from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL


def key_store_location(
    configured: str | None, persistence_module: str | None, opened: StoreURL
) -> StoreURL:
    """Where a ledger's key table is: ``configured`` (``KEY_STORE_URL_ENV``), else the
    URL the ledger was opened with. A ledger built over a real store from bare
    eventsourcing settings must say: keys made in a throw-away memory table would
    leave its personal data unreadable once the process ends."""
    if configured:
        return StoreURL.parse(configured)
    if opened.scheme == "memory" and persistence_module not in (None, "eventsourcing.popo"):
        raise KeyStoreUnknown(
            f"this ledger stores its events with {persistence_module} but does not say where "
            f"its data keys are: open it with CustomerLedger.open(url), or set "
            f"{KEY_STORE_URL_ENV} to the store URL"
        )
    return opened


def open_key_store(url: StoreURL, master_key_text: str | None, *, create: bool = True) -> KeyStore:
    """The key table of the store at ``url``; without a master key the adapter decides
    (memory: a fresh one; SQLite: a key file beside the database, made for a new store
    unless ``create`` is False; PostgreSQL: an error)."""
    master = None if not master_key_text else MasterKey.from_text(master_key_text)
    return adapter_for(url).key_store(url, master, create=create)
