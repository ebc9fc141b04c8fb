"""One cattrs converter for every stored value, and canonical JSON bytes.

The Mapper (``storage.mapper``) knows each event's class from its stored topic, so each
field is structured by its type hint: no type tags in the JSON, and UUIDs, datetimes,
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
from typing import Any, ClassVar
from uuid import UUID

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_structure_fn

from customer_ledger.domain.personal import UNREADABLE
from customer_ledger.domain.values import Meta

converter = cattrs.Converter()
converter.register_unstructure_hook(datetime, datetime.isoformat)
converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))
converter.register_unstructure_hook(date, date.isoformat)
converter.register_structure_hook(  # a personal date erased or unreadable reads as None
    date, lambda v, _: None if v in UNREADABLE else date.fromisoformat(v)
)
converter.register_unstructure_hook(Decimal, str)
converter.register_structure_hook(Decimal, lambda v, _: Decimal(v))
converter.register_unstructure_hook(UUID, str)
converter.register_structure_hook(UUID, lambda v, _: v if isinstance(v, UUID) else UUID(v))


def _is_set(hint: Any) -> bool:
    return typing.get_origin(hint) in (set, frozenset) or hint in (set, frozenset)


converter.register_unstructure_hook_func(  # sets in canonical (sorted) order
    _is_set, lambda v: sorted(converter.unstructure(x) for x in v)
)
converter.register_unstructure_hook(Enum, lambda v: v.value)
converter.register_unstructure_hook(StrEnum, lambda v: v.value)  # before its ``str`` base


def _structure_enum(value: Any, cls: Any) -> Any:
    """The member with this value, looked up as ``Enum.__call__`` does first, without its
    Python-level call (stages, statuses, channels: in nearly every stored value);
    anything else (an alias, an unknown value) through ``cls(value)`` as before."""
    try:
        return cls._value2member_map_[value]
    except (KeyError, TypeError):
        return cls(value)


converter.register_structure_hook(Enum, _structure_enum)
converter.register_structure_hook(StrEnum, _structure_enum)  # before its ``str`` base


# JSON gives these types back as they were: a field of one needs no structuring.
_NATIVE: frozenset[Any] = frozenset({str, int, bool, float, type(None)})


def _native(hint: Any) -> bool:
    if hint in _NATIVE:
        return True
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and all(
        _native(arg) for arg in typing.get_args(hint)
    )


def _direct_attrs(cls: Any) -> bool:
    """An attrs class each of whose fields its ``__init__`` takes by name (all of ours)."""
    return attrs.has(cls) and all(a.init and a.alias == a.name for a in attrs.fields(cls))


def _optional_of(hint: Any) -> Any:
    """``X`` of ``X | None``, else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None


def _structure_direct(cls: Any) -> Callable[[Any, Any], Any]:
    """The class's own ``__init__`` (validators and converters included) without
    cattrs' dispatch per field: on the decode path of every event, and a whale's
    snapshot holds ~1,300 attrs values (issue 17: structuring them was a third of its
    replay). JSON's own types are taken as they are (stored values hold the declared
    ones); anything unusual goes through cattrs' generated function, so what it accepts
    and the errors it raises are cattrs' as before."""
    general = make_dict_structure_fn(cls, converter)
    names = [a.name for a in attrs.fields(cls)]
    hints = typing.get_type_hints(cls)
    if all(_native(hints[name]) for name in names):  # ``Meta``, ``Needs``...

        def plain(data: Any, _: Any) -> Any:
            try:
                return cls(**data)  # keys missing that have defaults are fine
            except TypeError:
                return general(data, cls)

        return plain
    # The others (dates, enums, Money...) from a dict holding exactly their fields, as
    # stored values do: one generated call, each typed field through its own hook.
    scope: dict[str, Any] = {"cls": cls, "general": general, "keys": frozenset(names)}
    args = []
    for i, name in enumerate(names):
        hint = hints[name]
        if _native(hint):
            args.append(f"{name}=data[{name!r}]")
            continue
        inner = _optional_of(hint)
        target = hint if inner is None else inner
        scope[f"h{i}"], scope[f"t{i}"] = converter.get_structure_hook(target), target
        call = f"h{i}(data[{name!r}], t{i})"
        if inner is not None:
            call = f"None if data[{name!r}] is None else {call}"
        args.append(f"{name}={call}")
    source = (
        "def structure(data, _):\n"
        "    if isinstance(data, dict) and data.keys() == keys:\n"
        "        try:\n"
        f"            return cls({', '.join(args)})\n"
        "        except Exception:\n"
        "            pass  # cattrs' function says what is wrong\n"
        "    return general(data, cls)\n"
    )
    exec(compile(source, f"<structure {cls.__qualname__}>", "exec"), scope)
    structure: Callable[[Any, Any], Any] = scope["structure"]
    return structure


converter.register_structure_hook_factory(_direct_attrs, _structure_direct)

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


def _unstructure_meta(meta: Meta) -> dict[str, Any]:
    """Meta as stored; ``source_actor`` only when there is one, so an event with none
    encodes exactly as before the field existed."""
    data = {
        "actor": meta.actor,
        "reason": meta.reason,
        "command_id": meta.command_id,
        "correlation_id": meta.correlation_id,
        "role": meta.role,
    }
    if meta.source_actor is not None:
        data["source_actor"] = meta.source_actor
    return data


converter.register_unstructure_hook(Meta, _unstructure_meta)
