"""One cattrs converter for every stored value, and the eventsourcing Mapper on it.

The Mapper knows each event's class from its stored topic, so each field is
structured by its type hint: no type tags in the JSON, and UUIDs, datetimes,
Decimals, enums and attrs values come back exactly as they went in.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from customer_ledger.chain import Chain, corrupt
from customer_ledger.domain.personal import ERASED
from customer_ledger.keys import KeyProblem

if TYPE_CHECKING:
    from customer_ledger.privacy import PersonalFields

converter = cattrs.Converter()
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(  # a forgotten customer's personal dates read as None
    date, lambda v, _: None if v == ERASED else date.fromisoformat(v)
)
converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, lambda v, _: Decimal(v))
converter.register_unstructure_hook(UUID, str)
converter.register_structure_hook(UUID, lambda v, _: v if isinstance(v, UUID) else UUID(v))
converter.register_unstructure_hook_func(  # sets in canonical (sorted) order
    lambda t: typing.get_origin(t) in (set, frozenset) or t in (set, frozenset),
    lambda v: sorted(converter.unstructure(x) for x in v),
)
converter.register_unstructure_hook(Enum, lambda v: v.value)
converter.register_unstructure_hook(StrEnum, lambda v: v.value)  # before its ``str`` base


# JSON gives these types back as they were: a field of one needs no structuring.
_NATIVE: frozenset[Any] = frozenset({str, int, bool, float, type(None)})


def _native(hint: Any) -> bool:
    if hint in _NATIVE:
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and all(
        _native(arg) for arg in typing.get_args(hint)
    )


def _plain_attrs(cls: Any) -> bool:
    """An attrs class whose fields JSON holds natively (``Meta``, ``Needs``...)."""
    return attrs.has(cls) and all(_native(h) for h in typing.get_type_hints(cls).values())


def _structure_plain(cls: Any) -> Callable[[Any, Any], Any]:
    """``cls(**data)``: the class's own ``__init__`` (validators included) without
    cattrs' call per field, on the decode path of every event; anything unusual (an extra or
    missing key, not a mapping) goes through cattrs' generated function as before."""
    general = make_dict_structure_fn(cls, converter)

    def structure(data: Any, _: Any) -> Any:
        try:
            return cls(**data)
        except TypeError:
            return general(data, cls)

    return structure


converter.register_structure_hook_factory(_plain_attrs, _structure_plain)

_SKIP = frozenset({"originator_id", "originator_version"})
Field = tuple[str, Callable[[Any], Any], Callable[[Any, Any], Any] | None, Any]


@cache
def fields_of(cls: type) -> tuple[Field, ...]:
    """(name, unstructure, structure, hint) for each typed attribute of ``cls``."""
    hints = typing.get_type_hints(cls)
    out = []
    for name, hint in hints.items():
        if name in _SKIP or typing.get_origin(hint) is ClassVar or isinstance(hint, typing.TypeVar):
            continue
        structure = None if _native(hint) else converter.get_structure_hook(hint)
        out.append((name, converter.get_unstructure_hook(hint), structure, hint))
    return tuple(out)


def unstructure_state(cls: type, state: dict[str, Any]) -> dict[str, Any]:
    data = {}
    for name, unstructure, _, _ in fields_of(cls):
        if name in state:
            value = state[name]
            data[name] = None if value is None else unstructure(value)
    return data


def structure_state(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    state = dict(data)
    for name, _, structure, hint in fields_of(cls):
        if name in data:
            value = data[name]
            if value is not None and structure is not None:
                state[name] = structure(value, hint)
    return state


def encode(data: Any) -> bytes:
    """Canonical JSON: sorted keys, so equal states give equal bytes."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


decode = orjson.loads


class CattrsMapper(Mapper[UUID]):
    """Typed (de)serialisation through ``converter``; optional compressor and cipher."""

    def __init__(
        self,
        transcoder: Transcoder | None = None,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        personal: PersonalFields | None = None,
    ) -> None:
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)  # type: ignore[arg-type]
        self.personal = personal  # encrypts personal fields per customer (privacy.py)
        self.chain = Chain(opaque=bool(compressor or cipher))  # set chain.recorder to seal

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

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        try:
            cls = resolve_topic(stored_event.topic)
            snapshot = issubclass(cls, Snapshot)
            stored = stored_event.state if snapshot else self.chain.open(stored_event)
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
