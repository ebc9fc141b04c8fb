"""The seal each stored event carries: its place in its aggregate's hash chain.

A sealed event is stored as a fixed 140-byte header followed by the body the mapper
made (canonical JSON, or opaque bytes when a compressor or cipher is configured)::

    magic (4) | sealed version (8) | prev (32) | metadata digest (32)
              | body digest (32) | own hash (32)

``own hash`` is the SHA-256 of the 108 bytes before it and is what the next event's
``prev`` holds. The body digest is taken over the exact *stored* bytes, so a field
encrypted there is hashed as ciphertext and destroying its key never breaks the chain.
The metadata digest covers the originator, version and topic columns and the body's
who/why and recorded/business times, so an auditor can tell edited metadata from an
edited payload. Reading checks the header and the body digest (two small hashes); the
metadata digest, which needs the body parsed, is checked by ``audit verify``. An event
stored before chaining has no header: it decodes as before and is reported as
unchained, not as tampered.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID

import orjson
from attrs import frozen
from eventsourcing.persistence import MapperDeserialisationError

from customer_ledger.errors import CorruptEvent

MAGIC_JSON = b"\xffCLJ"  # 0xff never starts UTF-8 JSON, so old bodies cannot look sealed
MAGIC_OPAQUE = b"\xffCLB"  # the body is compressed or encrypted bytes
MAGICS = (MAGIC_JSON, MAGIC_OPAQUE)
_VERSION = struct.Struct(">Q")
HASH_SIZE = 32
SEALED_PART = 4 + 8 + 3 * HASH_SIZE  # what the own hash covers
HEADER_SIZE = SEALED_PART + HASH_SIZE
GENESIS = bytes(HASH_SIZE)  # the "previous hash" of a chain's first event
# Body keys that say who, why and when rather than what: metadata, with the columns.
METADATA_KEYS = frozenset({"meta", "timestamp", "occurred_at", "originator_topic", "class_version"})


class CorruptStoredEvent(CorruptEvent, MapperDeserialisationError):
    """Raised by the mapper: a ledger error, and still the eventsourcing error callers of
    a Mapper expect."""


class StoredLike(Protocol):
    @property
    def originator_id(self) -> Any: ...
    @property
    def originator_version(self) -> int: ...
    @property
    def topic(self) -> str: ...
    @property
    def state(self) -> bytes: ...


@frozen
class Seal:
    """A parsed header and the body after it."""

    opaque: bool
    version: int
    prev: bytes
    metadata_digest: bytes
    body_digest: bytes
    own_hash: bytes  # as stored
    computed_hash: bytes  # over the header as stored: what a successor must link to
    body: bytes

    @property
    def self_consistent(self) -> bool:
        return self.own_hash == self.computed_hash


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _canonical(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def open_seal(state: bytes) -> Seal | None:
    """The seal of stored bytes, or None for an event stored before chaining."""
    magic = state[:4]
    if magic not in MAGICS or len(state) < HEADER_SIZE:
        return None
    (version,) = _VERSION.unpack_from(state, 4)
    prev = state[12:44]
    return Seal(
        opaque=magic == MAGIC_OPAQUE,
        version=version,
        prev=prev,
        metadata_digest=state[44:76],
        body_digest=state[76:108],
        own_hash=state[108:HEADER_SIZE],
        computed_hash=sha256(state[:SEALED_PART]),
        body=state[HEADER_SIZE:],
    )


def metadata_digest(
    originator_id: UUID | str,
    version: int,
    topic: str,
    body: bytes,
    *,
    opaque: bool,
    data: Any = None,
) -> bytes:
    """Digest of the columns and, for a JSON body, its metadata keys.

    ``data``: the JSON body as parsed, when the caller has it (the mapper encoded it
    from that): the same digest without parsing the body again.
    Raises ValueError when a JSON body is not a JSON object.
    """
    columns = {"originator_id": str(originator_id), "originator_version": version, "topic": topic}
    if opaque:
        return sha256(_canonical(columns))
    if data is None:
        data = orjson.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    metadata = {k: v for k, v in data.items() if k in METADATA_KEYS}
    return sha256(_canonical([columns, metadata]))


def _sealed(
    originator_id: UUID | str,
    version: int,
    topic: str,
    body: bytes,
    prev: bytes,
    opaque: bool,
    data: Any,
) -> tuple[bytes, bytes]:
    """The stored bytes for ``body`` sealed as ``version`` after an event hashing ``prev``,
    and their own hash (what the next event links to); ``data``: the parsed body, if at
    hand, as for ``metadata_digest``."""
    sealed = (
        (MAGIC_OPAQUE if opaque else MAGIC_JSON)
        + _VERSION.pack(version)
        + prev
        + metadata_digest(originator_id, version, topic, body, opaque=opaque, data=data)
        + sha256(body)
    )
    own_hash = sha256(sealed)
    return sealed + own_hash + body, own_hash


def link_hash(stored: StoredLike) -> bytes:
    """What the next event of the same originator records as its ``prev``.

    For an unchained (older) event it is a hash of its columns and bytes, so the first
    sealed event of a chain still vouches for the last event before chaining began.
    """
    found = open_seal(stored.state)
    if found is not None:
        return found.computed_hash
    columns = _canonical([str(stored.originator_id), stored.originator_version, stored.topic])
    return sha256(b"customer-ledger unchained\n" + columns + b"\n" + stored.state)


def check(stored: StoredLike, found: Seal) -> tuple[str, str] | None:
    """(kind, reason) when a sealed event does not match its seal, else None.

    Kinds: ``corrupt`` (header or body unreadable), ``metadata_edited`` (columns or
    who/why/when in the body), ``payload_edited`` (the rest of the body), ``moved``
    (intact, but stored under another version).
    """
    if not found.self_consistent:
        return "corrupt", "its header is damaged (the seal does not hash to itself)"
    try:
        metadata = metadata_digest(
            stored.originator_id, found.version, stored.topic, found.body, opaque=found.opaque
        )
    except ValueError as error:
        return "corrupt", f"its body cannot be parsed ({error})"
    if metadata != found.metadata_digest:
        return "metadata_edited", "its metadata does not match its seal"
    if sha256(found.body) != found.body_digest:
        return "payload_edited", "its payload does not match its seal"
    if found.version != stored.originator_version:
        return "moved", (
            f"it is stored as version {stored.originator_version} but sealed as {found.version}"
        )
    return None


def quick_check(state: bytes, version: int) -> str | None:
    """Why sealed bytes cannot be read as ``version`` (header, body digest, version), or
    None. Cheap enough for every read; the metadata digest is left to ``check``."""
    if sha256(state[:SEALED_PART]) != state[SEALED_PART:HEADER_SIZE]:
        return "its header is damaged (the seal does not hash to itself)"
    if sha256(state[HEADER_SIZE:]) != state[76:SEALED_PART]:
        return "its payload does not match its seal"
    (sealed_as,) = _VERSION.unpack_from(state, 4)
    if sealed_as != version:
        return f"it is stored as version {version} but sealed as {sealed_as}"
    return None


class Recorder(Protocol):
    def select_events(
        self,
        originator_id: Any,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Any: ...


class ChainUnavailable(LookupError):
    """The previous event's hash is unknown and there is no recorder to read it from."""


class Chain:
    """Seals events as the mapper encodes them, and checks seals as it decodes them.

    Sealing version N needs the hash of stored version N-1. A bounded cache holds the
    last (version, hash) seen per originator, filled as events are encoded and decoded
    (an aggregate is always loaded before new events are saved); on a miss the stored
    event N-1 is read from ``recorder``. An encoded event may fail to be recorded (a
    concurrency conflict); its entry is replaced when the aggregate is loaded again,
    and a snapshot load, which decodes no event, drops the entry instead.
    """

    def __init__(
        self, *, opaque: bool = False, recorder: Recorder | None = None, maxsize: int = 10_000
    ) -> None:
        self.opaque = opaque
        self.recorder = recorder
        self.maxsize = maxsize
        self._heads: OrderedDict[UUID, tuple[int, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def seal(
        self, originator_id: UUID, version: int, topic: str, body: bytes, data: Any = None
    ) -> bytes:
        """``body`` sealed; ``data``: the JSON body as parsed, if the caller has it."""
        prev = GENESIS if version == 1 else self._hash_of(originator_id, version - 1)
        state, own_hash = _sealed(originator_id, version, topic, body, prev, self.opaque, data)
        self._remember(originator_id, version, own_hash)
        return state

    def open(self, stored: StoredLike, *, remember: bool = True) -> bytes:
        """The body of ``stored``; raises ValueError when it does not match its seal.

        ``remember=False`` leaves the head cache alone: a rebuild reads every event of
        the log once, and caching heads that no command will seal after costs half of
        the check (the cache is only a shortcut: a head not in it is read from the store).
        """
        state = stored.state
        if state[:4] not in MAGICS or len(state) < HEADER_SIZE:
            if remember:
                self._remember(stored.originator_id, stored.originator_version, link_hash(stored))
            return state
        broken = quick_check(state, stored.originator_version)
        if broken is not None:
            raise ValueError(broken)
        if remember:
            self._remember(stored.originator_id, stored.originator_version, state[108:HEADER_SIZE])
        return state[HEADER_SIZE:]

    def forget(self, originator_id: Any) -> None:
        with self._lock:
            self._heads.pop(_key(originator_id), None)

    def _remember(self, originator_id: Any, version: int, digest: bytes) -> None:
        key = _key(originator_id)
        with self._lock:
            self._heads[key] = (version, digest)
            self._heads.move_to_end(key)
            while len(self._heads) > self.maxsize:
                self._heads.popitem(last=False)

    def _hash_of(self, originator_id: UUID, version: int) -> bytes:
        with self._lock:
            head = self._heads.get(_key(originator_id))
        if head is not None and head[0] == version:
            return head[1]
        if self.recorder is None:
            raise ChainUnavailable(
                f"cannot seal {originator_id} at version {version + 1}: the hash of version "
                f"{version} is unknown and the mapper has no recorder to read it from"
            )
        found = self.recorder.select_events(originator_id, gt=version - 1, lte=version)
        if not found:
            raise ChainUnavailable(
                f"cannot seal {originator_id} at version {version + 1}: version {version} "
                "is not in the store"
            )
        return link_hash(found[0])

    def number_of(self, originator_id: Any) -> str | None:
        """The customer number an aggregate's first event names, if it can be read."""
        if self.recorder is None:
            return None
        try:
            first = self.recorder.select_events(originator_id, limit=1)
            return number_in(first[0]) if first else None
        except Exception:  # best effort: this only names the customer in an error
            return None


def _key(originator_id: Any) -> UUID:
    """Stores give back UUIDs (or, from some recorders, their text)."""
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def number_in(stored: StoredLike) -> str | None:
    """The ``number`` field of a stored event's JSON body, when it has one (also behind a
    damaged header)."""
    for body in (stored.state, stored.state[HEADER_SIZE:]):
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            continue
        number = data.get("number") if isinstance(data, dict) else None
        return number if isinstance(number, str) else None
    return None


def corrupt(
    stored: StoredLike, reason: object, number_of: Callable[[Any], str | None]
) -> CorruptStoredEvent:
    """The error for an event that cannot be read: it names the customer and version."""
    number = number_of(stored.originator_id)
    who = f"customer {number}" if number else f"aggregate {stored.originator_id}"
    return CorruptStoredEvent(
        f"event {stored.originator_version} of {who} is damaged and cannot be read: {reason} "
        f"({stored.originator_id} at version {stored.originator_version}, {stored.topic})",
        originator_id=stored.originator_id,
        version=stored.originator_version,
        number=number,
    )
