"""The eventsourcing Mapper of a ledger: typed, sealed, with personal fields encrypted.

On the way into the store an event is unstructured by the one converter
(``serialization``), its personal values are encrypted under the customer's key
(``privacy.fields``), it is encoded as canonical JSON, optionally compressed and
encrypted as a whole, and sealed into its customer's hash chain (``audit.chain``). On
the way out each step is undone and checked; what cannot be read is a ``CorruptEvent``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from customer_ledger.audit.chain import Chain, Recorder, corrupt
from customer_ledger.errors import KeyProblem
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.serialization import decode, encode, structure_state, unstructure_state


class CattrsMapper(Mapper[UUID]):
    """Typed (de)serialisation through ``converter``; optional compressor and cipher."""

    def __init__(
        self,
        transcoder: Transcoder | None = None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        personal: PersonalFields | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)  # type: ignore[arg-type]
        self.personal = personal  # encrypts personal fields per customer (privacy.fields)
        # seals each event after the one before it, read from ``recorder`` when not cached
        self.chain = Chain(opaque=bool(compressor or cipher), recorder=recorder)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        state = vars(domain_event)
        if isinstance(domain_event, Snapshot):
            data = self._snapshot_data(domain_event)
        else:
            data = unstructure_state(cls, state)
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            data["class_version"] = class_version
        if self.personal is not None:
            data = self.personal.seal(domain_event, data)
        stored = encode(data)
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        topic = get_topic(cls)
        if not isinstance(domain_event, Snapshot):  # snapshots are derived data: unchained
            stored = self.chain.seal(  # ``data``: its metadata digest needs no re-parse
                domain_event.originator_id, domain_event.originator_version, topic, stored, data
            )
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=stored,
        )

    def to_domain_event(self, stored_event: StoredEvent, *, remember_head: bool = True) -> Any:
        """The event ``stored_event`` holds; ``remember_head=False`` (a rebuild reading the
        whole log) checks its seal without caching its customer's chain head."""
        try:
            cls = resolve_topic(stored_event.topic)
            snapshot = issubclass(cls, Snapshot)
            stored = (
                stored_event.state
                if snapshot
                else self.chain.open(stored_event, remember=remember_head)
            )
            if self.cipher:
                stored = self.cipher.decrypt(stored)
            if self.compressor:
                stored = self.compressor.decompress(stored)
            data = decode(stored)
            if self.personal is not None:
                data = self.personal.open(stored_event.originator_id, data, stored)
            from_version = data.pop("class_version", 1)
            class_version = getattr(cls, "class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(data)
                from_version += 1
            if snapshot:
                state = self._snapshot_state(data)
                self.chain.forget(stored_event.originator_id)  # its cached head may be stale
            else:
                state = structure_state(cls, data)
        except KeyProblem:  # the key table or the master key is at fault, not the event
            raise
        except Exception as error:
            raise corrupt(stored_event, error, self.chain.number_of) from error
        originator_id = stored_event.originator_id
        state["originator_id"] = (
            originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        )
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event

    @staticmethod
    def _snapshot_data(snapshot: Any) -> dict[str, Any]:
        aggregate_cls = resolve_topic(snapshot.topic)
        return {
            "timestamp": snapshot.timestamp.isoformat(),
            "topic": snapshot.topic,
            "state": unstructure_state(aggregate_cls, snapshot.state),
        }

    @staticmethod
    def _snapshot_state(data: dict[str, Any]) -> dict[str, Any]:
        aggregate_cls = resolve_topic(data["topic"])
        return {
            "timestamp": datetime.fromisoformat(data["timestamp"]),
            "topic": data["topic"],
            "state": structure_state(aggregate_cls, data["state"]),
        }
