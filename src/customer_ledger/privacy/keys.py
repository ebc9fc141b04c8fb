"""Per-customer data keys: made on first use, wrapped with a master key, destroyable.

Each customer's personal fields are encrypted under that customer's own data key
(``customer_ledger.privacy.fields``). The data keys live in a key table of the ledger's own
store, each wrapped (AES-GCM, bound to the customer's id) with one master key that
never enters the store. Forgetting a customer destroys its data key: the ciphertext
left in the immutable history can then never be read again, by anyone.

A destroyed key leaves a *tombstone* row (id and time, no key), so the ledger can tell
"forgotten" (personal fields read as erased) from "the key table lost a key" (an
error, never a silent erasure: e.g. events restored without their keys).

``KeyStore`` is the port: it wraps, checks and caches; each backend supplies five
primitives over its table (memory here, SQLite and PostgreSQL in their adapters).

It also keeps the duplicate index (``DUPLICATE_TABLE``): what makes customers likely the
same one (``domain.duplicates``), as HMACs under a key derived from the master key, so
a phone or an ID number is matched without being stored. Three more primitives.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from uuid import UUID

from attrs import field, frozen
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from customer_ledger.errors import (
    CopyConflict,
    DataKeyMissing,
    ForgottenCustomer,
    MasterKeyInvalid,
    MasterKeyMismatch,
    PersonalDataUnreadable,
    StoreError,
)

MASTER_KEY_ENV = "CUSTOMER_LEDGER_MASTER_KEY"
# Set by CustomerLedger.open: lets a ledger built from another's env (eventsourcing's
# ProjectionRunner does that) find the same key table. Not meant to be set by hand.
KEY_STORE_URL_ENV = "CUSTOMER_LEDGER_KEY_STORE_URL"
KEY_TABLE = "customer_keys"
DUPLICATE_TABLE = "duplicate_index"  # (customer_id, number, kind, digest)
IndexRow = tuple[UUID, str, str, bytes]  # customer id, number, kind, digest
IndexEntry = tuple[UUID, str, Sequence[tuple[str, bytes]]]  # a customer's rows: (kind, digest)
CHECK_ID = UUID(int=0)  # the key table's row holding the master-key check value
CACHE_SECONDS = 60.0  # a live key is re-read this often, to notice another process forget
# Customers whose keys stay in memory (least recently used go). An AES-GCM key holds
# about 2.5 KB of native memory (measured: 20,000 take 49 MB), so an unbounded cache made
# a rebuild's peak memory grow with the customer count. A miss costs one key-table read
# and an unwrap; the limit is the views' fold cache's (``projections.fold``), measured.
CACHE_LIMIT = 1_024
_CHECK_TEXT = b"customer-ledger master key check"
_NONCE = 12
_FORMAT = b"\x01"  # first byte of every field ciphertext: the format version


def how_to_set_master_key() -> str:
    return (
        f"set {MASTER_KEY_ENV} to 32 random bytes in base64, made once and kept safe "
        "(e.g. in a secrets manager), for example: "
        f"export {MASTER_KEY_ENV}=\"$(python -c 'import base64, os; "
        "print(base64.b64encode(os.urandom(32)).decode())')\""
    )


@frozen
class MasterKey:
    """The key that wraps every data key; it is configuration, never stored in the store."""

    secret: bytes = field(repr=False)

    def __attrs_post_init__(self) -> None:
        if len(self.secret) != 32:
            raise MasterKeyInvalid(f"a master key is 32 bytes, not {len(self.secret)}")

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(os.urandom(32))

    @classmethod
    def from_text(cls, text: str, source: str = MASTER_KEY_ENV) -> MasterKey:
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError) as error:
            raise MasterKeyInvalid(f"{source} is not base64: {how_to_set_master_key()}") from error
        if len(secret) != 32:
            raise MasterKeyInvalid(
                f"{source} holds {len(secret)} bytes, not 32: {how_to_set_master_key()}"
            )
        return cls(secret)

    def to_text(self) -> str:
        return base64.b64encode(self.secret).decode("ascii")

    def wrap(self, owner: UUID, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.secret).encrypt(nonce, data_key, _wrap_context(owner))

    def unwrap(self, owner: UUID, wrapped: bytes) -> bytes:
        try:
            return AESGCM(self.secret).decrypt(
                wrapped[:_NONCE], wrapped[_NONCE:], _wrap_context(owner)
            )
        except InvalidTag:
            raise MasterKeyMismatch(
                f"the data key of {owner} does not open with this master key: the store's "
                f"keys were wrapped with another one (check {MASTER_KEY_ENV} or the key file)"
            ) from None

    def check_value(self) -> bytes:
        return self.wrap(CHECK_ID, _CHECK_TEXT)


def _wrap_context(owner: UUID) -> bytes:
    return b"customer-ledger/data-key/" + owner.bytes


class DataKey:
    """One customer's key: AES-256-GCM per field, with a synthetic nonce.

    The nonce is an HMAC of the field's context and plaintext, so the same value in the
    same field of the same customer encrypts to the same bytes: encoding stays
    canonical (re-encoding an event gives its stored bytes) and a nonce never repeats
    for different plaintexts. What it reveals: that two such values are equal.
    """

    __slots__ = ("_aead", "_nonce_key")

    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(hmac.digest(secret, b"customer-ledger/field-encryption", "sha256"))
        self._nonce_key = hmac.digest(secret, b"customer-ledger/field-nonce", "sha256")

    def seal(self, context: bytes, plaintext: bytes) -> bytes:
        nonce = hmac.digest(self._nonce_key, context + b"\x00" + plaintext, "sha256")[:_NONCE]
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, context: bytes, blob: bytes) -> bytes:
        if blob[:1] != _FORMAT:
            raise PersonalDataUnreadable("unknown ciphertext format")
        nonce = blob[1 : 1 + _NONCE]
        try:
            return self._aead.decrypt(nonce, blob[1 + _NONCE :], context)
        except InvalidTag:
            raise PersonalDataUnreadable(
                "an encrypted field fails its integrity check (altered or moved)"
            ) from None


class _Destroyed:
    def __repr__(self) -> str:
        return "DESTROYED"


DESTROYED = _Destroyed()
Row = bytes | None  # a wrapped key, or None for a tombstone
_ABSENT = object()  # no row at all


class KeyStore(ABC):
    """The data keys of one store. Thread-safe; keys are cached for ``CACHE_SECONDS``."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master
        self._cache: OrderedDict[UUID, tuple[DataKey | _Destroyed, float]] = OrderedDict()
        self._lock = threading.RLock()
        self._checked = False

    # -- what the ledger uses -------------------------------------------------------------

    def key_for_reading(self, customer_id: UUID) -> DataKey | None:
        """The customer's key, or None when it was destroyed (the customer forgotten)."""
        key = self._cached(customer_id)
        if key is None:
            found, row = self._load(customer_id)
            if not found:
                raise DataKeyMissing(
                    f"customer {customer_id} has encrypted data but no key in the key "
                    "table, destroyed or not: were the events restored without their keys?"
                )
            key = self._remember(customer_id, row)
        return None if key is DESTROYED else key  # type: ignore[return-value]

    def key_for_writing(self, customer_id: UUID) -> DataKey:
        """The customer's key, made (and stored) on first use."""
        key = self._cached(customer_id)
        if key is None:
            self._check_master()
            wrapped = self.master.wrap(customer_id, os.urandom(32))
            key = self._remember(customer_id, self._insert_or_read(customer_id, wrapped))
        if key is DESTROYED:
            raise ForgottenCustomer(
                f"customer {customer_id} was forgotten: its key is destroyed, so no new "
                "personal data can be recorded for it"
            )
        return key  # type: ignore[return-value]

    def holds_key(self, customer_id: UUID) -> bool:
        """Whether a live key for the customer is stored (not destroyed, not absent)."""
        found, row = self._load(customer_id)
        return found and row is not None

    def destroy(self, customer_id: UUID) -> bool:
        """Destroys the customer's key (leaving a tombstone); True if one was live."""
        with self._lock:
            destroyed = self._erase(customer_id)
            self._keep(customer_id, (DESTROYED, float("inf")))
        self._index_put([(customer_id, "", [])])  # a forgotten customer matches no one
        return destroyed

    def forget_cached(self, customer_id: UUID) -> None:
        """Drops a cached key (another process may have destroyed it)."""
        with self._lock:
            entry = self._cache.get(customer_id)
            if entry is not None and entry[0] is not DESTROYED:
                del self._cache[customer_id]

    def scrub(self, *, full: bool = False) -> list[str]:
        """Makes deleted rows unrecoverable from the store, as far as the backend can;
        returns notes on what could not be done."""
        return self._scrub(full)

    # -- the duplicate index ---------------------------------------------------------------

    def blind(self, kind: str, value: str) -> bytes:
        """The keyed hash a ``(kind, normalised value)`` is indexed by: equal values give
        equal digests, and without the master key a digest tells nothing of its value."""
        index_key = hmac.digest(self.master.secret, b"customer-ledger/duplicate-index", "sha256")
        return hmac.digest(index_key, kind.encode() + b"\x00" + value.encode(), "sha256")

    def index(self, customer_id: UUID, number: str, keys: Iterable[tuple[str, str]]) -> None:
        """Makes ``keys`` the customer's rows of the index (none: it has no rows)."""
        self.index_many([(customer_id, number, keys)])

    def index_many(self, customers: Iterable[tuple[UUID, str, Iterable[tuple[str, str]]]]) -> None:
        """``index`` for many customers, in one transaction (a batch of an import)."""
        entries = [
            (customer_id, number, sorted({(kind, self.blind(kind, v)) for kind, v in keys}))
            for customer_id, number, keys in customers
        ]
        if entries:
            self._index_put(entries)

    def likely_duplicates(self, keys: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """(number, kind) of each indexed customer sharing one of ``keys``."""
        wanted = sorted({self.blind(kind, value) for kind, value in keys})
        if not wanted:
            return []
        return sorted({(number, kind) for _, number, kind, _ in self._index_find(wanted)})

    def index_rows(self) -> list[IndexRow]:
        """Every row of the index (for listing the groups of likely duplicates)."""
        return list(self._index_rows())

    def _index_put(self, entries: Sequence[IndexEntry]) -> None:
        """Replaces each customer's rows by its (kind, digest) pairs, all in one
        transaction."""
        raise StoreError(f"{type(self).__name__} keeps no duplicate index (see storage.port)")

    def _index_find(self, digests: Sequence[bytes]) -> Iterable[IndexRow]:
        """The rows whose digest is one of ``digests``."""
        raise StoreError(f"{type(self).__name__} keeps no duplicate index (see storage.port)")

    def _index_rows(self) -> Iterable[IndexRow]:
        raise StoreError(f"{type(self).__name__} keeps no duplicate index (see storage.port)")

    # -- copying a ledger (``application.copying``) ------------------------------------------

    def data_keys(self, page_size: int = 1000) -> Iterator[list[tuple[UUID, bytes | None]]]:
        """Every customer's data key, opened (None: destroyed), a page at a time in the
        order of the ids; the check value's row is not one."""
        self._check_master()
        after: UUID | None = None
        while True:
            rows = self._key_rows(after, page_size)
            if not rows:
                return
            yield [
                (owner, None if row is None else self.master.unwrap(owner, row))
                for owner, row in rows
                if owner != CHECK_ID
            ]
            after = rows[-1][0]
            if len(rows) < page_size:
                return

    def take_data_keys(self, keys: Sequence[tuple[UUID, bytes | None]]) -> list[UUID]:
        """Stores copied data keys (None: a tombstone), each wrapped with this store's own
        master key, in one transaction: a key where the customer has no row, a tombstone
        over whatever is there (a customer forgotten stays forgotten). ``CopyConflict``,
        changing nothing, when a row here differs: another key, or a tombstone where the
        key is given. Returns the customers whose live key a tombstone replaced (their
        bytes may linger until ``scrub``)."""
        self._check_master()
        found = self._read_many([owner for owner, _ in keys])
        put: list[tuple[UUID, Row]] = []
        replaced: list[UUID] = []
        for owner, secret in keys:
            here = found.get(owner, _ABSENT)
            if secret is None:
                if here is not None:  # absent, or a live key: a tombstone now
                    put.append((owner, None))
                    replaced += [owner] if isinstance(here, bytes) else []
            elif here is _ABSENT:
                put.append((owner, self.master.wrap(owner, secret)))
            elif here is None:
                raise CopyConflict(
                    f"customer {owner} is forgotten in the target but not in the source: "
                    "the target is another ledger, or was written to since; nothing was copied"
                )
            elif isinstance(here, bytes) and not hmac.compare_digest(
                self.master.unwrap(owner, here), secret
            ):
                raise CopyConflict(
                    f"the target holds another data key for customer {owner}: it is another "
                    "ledger's key table; nothing was copied"
                )
        if put:
            self._put_rows(put)
            with self._lock:
                for owner, _ in put:
                    self._cache.pop(owner, None)
        return replaced

    def _key_rows(self, after: UUID | None, limit: int) -> Sequence[tuple[UUID, Row]]:
        """Up to ``limit`` rows (id, wrapped key or None for a tombstone) with ids after
        ``after``, in the order of the ids (as the backend orders them)."""
        raise StoreError(f"{type(self).__name__} cannot list its keys (see storage.port)")

    def _read_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, Row]:
        """The rows of those customers that have one."""
        raise StoreError(f"{type(self).__name__} cannot list its keys (see storage.port)")

    def _put_rows(self, rows: Sequence[tuple[UUID, Row]]) -> None:
        """In one transaction: each wrapped key unless the customer has a row, each
        tombstone (None) over whatever row the customer has."""
        raise StoreError(f"{type(self).__name__} cannot take copied keys (see storage.port)")

    # -- what each backend supplies -------------------------------------------------------

    @abstractmethod
    def _read(self, customer_id: UUID) -> tuple[bool, Row]:
        """(found, wrapped key or None for a tombstone)."""

    @abstractmethod
    def _insert(self, customer_id: UUID, wrapped: bytes) -> None:
        """Stores a key unless the customer already has a row (key or tombstone)."""

    def _insert_or_read(self, customer_id: UUID, wrapped: bytes) -> Row:
        """The customer's row after storing ``wrapped`` unless it had one (key or
        tombstone; another process may have won). A backend may do it in one round trip."""
        self._insert(customer_id, wrapped)
        found, row = self._read(customer_id)
        if not found:
            raise DataKeyMissing(f"the key stored for customer {customer_id} is not there")
        return row

    @abstractmethod
    def _erase(self, customer_id: UUID) -> bool:
        """Replaces the key by a tombstone (inserting one if there was no row), so the
        key's bytes are gone from the table; True if a live key was there."""

    @abstractmethod
    def _scrub(self, full: bool) -> list[str]: ...

    def close(self) -> None:  # noqa: B027 - memory holds nothing to release
        """Releases connections."""

    # -- internals ------------------------------------------------------------------------

    def _cached(self, customer_id: UUID) -> DataKey | _Destroyed | None:
        with self._lock:
            entry = self._cache.get(customer_id)
            if entry is None or entry[1] < time.monotonic():
                return None
            self._cache.move_to_end(customer_id)
            return entry[0]

    def _keep(self, customer_id: UUID, entry: tuple[DataKey | _Destroyed, float]) -> None:
        """Caches ``entry`` as the most recently used (call with the lock held)."""
        self._cache[customer_id] = entry
        self._cache.move_to_end(customer_id)
        while len(self._cache) > CACHE_LIMIT:
            self._cache.popitem(last=False)

    def _remember(self, customer_id: UUID, row: Row) -> DataKey | _Destroyed:
        if row is None:
            key: DataKey | _Destroyed = DESTROYED
            expires = float("inf")  # a destroyed key never comes back
        else:
            key = DataKey(self.master.unwrap(customer_id, row))
            expires = time.monotonic() + CACHE_SECONDS
        with self._lock:
            self._keep(customer_id, (key, expires))
        return key

    def check(self) -> None:
        """Proves the master key is the store's (``MasterKeyMismatch`` if not), or, for
        a store with no keys yet, makes it so."""
        self._check_master()

    def _load(self, customer_id: UUID) -> tuple[bool, Row]:
        self._check_master()
        return self._read(customer_id)

    def _check_master(self) -> None:
        """The first use proves the master key is the store's (or makes it so)."""
        if self._checked:
            return
        found, row = self._read(CHECK_ID)
        if not found or row is None:
            self._insert(CHECK_ID, self.master.check_value())
            found, row = self._read(CHECK_ID)
        assert row is not None
        try:
            opened = self.master.unwrap(CHECK_ID, row)
        except MasterKeyMismatch:
            raise MasterKeyMismatch(
                "this master key is not the one the store's data keys are wrapped with "
                f"(check {MASTER_KEY_ENV} or the key file); nothing was changed"
            ) from None
        if not hmac.compare_digest(opened, _CHECK_TEXT):
            raise MasterKeyMismatch("the store's master-key check value is damaged")
        self._checked = True


class MemoryKeyStore(KeyStore):
    """Keys in a dict: for memory:// ledgers (gone with the process, as their events)."""

    def __init__(self, master: MasterKey | None = None) -> None:
        super().__init__(master or MasterKey.generate())
        self._rows: dict[UUID, Row] = {}
        self._index: list[IndexRow] = []

    def _read(self, customer_id: UUID) -> tuple[bool, Row]:
        with self._lock:
            return customer_id in self._rows, self._rows.get(customer_id)

    def _insert(self, customer_id: UUID, wrapped: bytes) -> None:
        with self._lock:
            self._rows.setdefault(customer_id, wrapped)

    def _erase(self, customer_id: UUID) -> bool:
        with self._lock:
            live = self._rows.get(customer_id) is not None
            self._rows[customer_id] = None
            return live

    def _scrub(self, full: bool) -> list[str]:
        return []

    def _index_put(self, entries: Sequence[IndexEntry]) -> None:
        replaced = {customer_id for customer_id, _, _ in entries}
        with self._lock:
            self._index = [r for r in self._index if r[0] not in replaced]
            self._index += [(c, n, kind, digest) for c, n, rows in entries for kind, digest in rows]

    def _index_find(self, digests: Sequence[bytes]) -> Iterable[IndexRow]:
        wanted = set(digests)
        with self._lock:
            return [r for r in self._index if r[3] in wanted]

    def _index_rows(self) -> Iterable[IndexRow]:
        with self._lock:
            return list(self._index)

    def _key_rows(self, after: UUID | None, limit: int) -> Sequence[tuple[UUID, Row]]:
        with self._lock:
            owners = sorted(o for o in self._rows if after is None or o > after)[:limit]
            return [(o, self._rows[o]) for o in owners]

    def _read_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, Row]:
        with self._lock:
            return {o: self._rows[o] for o in customer_ids if o in self._rows}

    def _put_rows(self, rows: Sequence[tuple[UUID, Row]]) -> None:
        with self._lock:
            for owner, row in rows:
                if row is None:
                    self._rows[owner] = None
                else:
                    self._rows.setdefault(owner, row)

    def rows(self) -> dict[UUID, Row]:
        """A copy of the table (tests look into it)."""
        with self._lock:
            return dict(self._rows)
