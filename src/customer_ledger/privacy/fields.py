"""Which fields hold personal data, and their encryption in the store.

Driven by the ``Personal`` markers on the type hints (``customer_ledger.domain.personal``):
``plan_of`` finds where a class holds personal data, ``walk`` changes each such value,
and ``PersonalFields`` is what the mapper calls: on the way into the store it replaces
each personal value of a customer's event by ``{"$enc": ...}`` (AES-GCM under the
customer's data key, bound to the customer's id and the field's path); on the way out it
opens them again, or reads ``[erased]`` once the key is destroyed.

A customer's whole state (a snapshot, a view's stored state) is sealed as one blob
instead (``seal_state``): its personal values are taken out (left ``null``) and
encrypted together, with a clear map of where each was (``{"$sealed": {"at": ...,
"blob": ...}}``). A whale's state holds about a thousand personal values: one
decryption, and no walk over its other 250 KB, instead of a thousand (issue 17). States
sealed per value by earlier releases still open.
Masking for display is ``privacy.masking``; forgetting, ``application.privacy``.
"""

from __future__ import annotations

import base64
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Union
from uuid import UUID

import attrs
import orjson
from attrs import frozen
from eventsourcing.domain import Snapshot
from eventsourcing.utils import resolve_topic

from customer_ledger.domain.personal import ENCRYPTED, ERASED, UNREADABLE, Personal, marker
from customer_ledger.errors import KeyProblem
from customer_ledger.privacy.keys import DataKey, KeyStore

TOKEN = "$enc"
_TOKEN_BYTES = b'"$enc"'
STATE = "$sealed"  # a state's personal values sealed together: {"at": ..., "blob": ...}
_SKIP = frozenset({"originator_id", "originator_version"})

# -- which fields are personal: a plan per class, from its type hints -----------------------


@frozen
class Leaf:
    """A personal value (or, with ``marker.keys``, a dict whose values under those keys are)."""

    marker: Personal


@frozen
class Fields:
    """An event, state or attrs value: the personal parts of its fields."""

    fields: dict[str, Node]


@frozen
class Values:
    """A dict (contacts by id) or a list: the personal parts of each value."""

    node: Node


Node = Leaf | Fields | Values


_PLANS: dict[type, Fields | None] = {}


def plan_of(cls: type) -> Fields | None:
    """Where ``cls`` (an event, aggregate or attrs class) holds personal data, if anywhere."""
    if cls not in _PLANS:
        _PLANS[cls] = _plan(cls)
    return _PLANS[cls]


def _plan(cls: type) -> Fields | None:
    hints = typing.get_type_hints(cls, include_extras=True)
    nodes = {}
    for name, hint in hints.items():
        if name in _SKIP or typing.get_origin(hint) is ClassVar or isinstance(hint, typing.TypeVar):
            continue
        node = _node(hint)
        if node is not None:
            nodes[name] = node
    return Fields(nodes) if nodes else None


def _node(hint: Any) -> Node | None:
    found = marker(hint)
    if found is not None:
        return Leaf(found)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return _node(args[0])
    if origin in (Union, types.UnionType):
        inner = [n for a in args if a is not type(None) and (n := _node(a)) is not None]
        return inner[0] if len(inner) == 1 else None
    if origin is dict and len(args) == 2:
        value = _node(args[1])
        return None if value is None else Values(value)
    if origin in (list, tuple, set, frozenset) and args:
        item = _node(args[0])
        return None if item is None else Values(item)
    if isinstance(hint, type) and attrs.has(hint):
        return plan_of(hint)
    return None


Path = tuple[str | int, ...]
LeafChange = Callable[[Any, Path, str], Any]  # (value, path, field name) -> new value


def walk(node: Node, data: Any, path: Path, change: LeafChange, name: str = "") -> Any:
    """``data`` (unstructured JSON) with each personal value replaced by ``change(...)``.

    Returns new dicts and lists where it changes anything below them: the input is
    left alone (it may share containers with the domain event it came from).
    """
    if isinstance(node, Leaf):
        if node.marker.keys is None:
            return None if data is None else change(data, path, name)
        if not isinstance(data, dict):
            return data
        return {
            k: v if v is None or k not in node.marker.keys else change(v, (*path, k), k)
            for k, v in data.items()
        }
    if isinstance(node, Values):
        if isinstance(data, dict):
            return {k: walk(node.node, v, (*path, k), change, name) for k, v in data.items()}
        if isinstance(data, list):
            return [walk(node.node, v, (*path, i), change, name) for i, v in enumerate(data)]
        return data
    if not isinstance(data, dict):
        return data
    company = data.get("type") == "company"
    copy = dict(data)
    for field_name, child in node.fields.items():
        if field_name not in data:
            continue
        if isinstance(child, Leaf) and child.marker.individuals_only and company:
            continue  # a company's name, licence number and address are public
        copy[field_name] = walk(child, data[field_name], (*path, field_name), change, field_name)
    return copy


# -- encryption in the mapper ---------------------------------------------------------------


def _context(owner: UUID, path: Path) -> bytes:
    return b"customer-ledger/field/" + owner.bytes + orjson.dumps(list(path))


def _state_context(owner: UUID, at: dict[str, Any]) -> bytes:
    """Binds a state's blob to its customer and to where each value goes: a blob moved
    to another customer, or a map altered, fails to open."""
    return b"customer-ledger/state/" + owner.bytes + orjson.dumps(at, option=orjson.OPT_SORT_KEYS)


Where = dict[str, Any]  # a state's map of its sealed values: key -> index, or a deeper map


class PersonalFields:
    """Seals and opens the personal values of stored events, snapshots and view documents.

    ``keys`` is called on first need, so a ledger opens its key table only when it
    records or reads personal data.
    """

    def __init__(self, keys: Callable[[], KeyStore]) -> None:
        self._keys = keys
        # True where the keys cannot be used (a read-only ledger without the master key):
        # stored events then read ``[encrypted]`` for each sealed value
        self.without_keys = False

    def search_secret(self) -> bytes | None:
        """The master key's secret, from which the search's blind keys are derived
        (``projections.search``); None where the keys cannot be used."""
        if self.without_keys:
            return None
        try:
            return self._keys().master.secret
        except KeyProblem:
            return None

    def seal(self, domain_event: Any, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with every personal value encrypted under the originator's key."""
        if isinstance(domain_event, Snapshot):
            plan = plan_of(resolve_topic(domain_event.topic))
            if plan is None or not isinstance(data.get("state"), dict):
                return data
            owner = _uuid(domain_event.originator_id)
            return self._seal_together(owner, Fields({"state": plan}), data)
        found = plan_of(type(domain_event))
        if found is None:
            return data
        sealed: dict[str, Any] = self.seal_node(_uuid(domain_event.originator_id), found, data)
        return sealed

    def seal_value(self, owner: UUID, cls: type, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (an unstructured ``cls``: a view's profile, state or facts) with its
        personal values encrypted under ``owner``'s key, as events' are."""
        plan = plan_of(cls)
        sealed: dict[str, Any] = data if plan is None else self.seal_node(owner, plan, data)
        return sealed

    def seal_state(self, owner: UUID, cls: type, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (an unstructured ``cls`` aggregate's state, as a view keeps it) with its
        personal values sealed together under ``owner``'s key, as snapshots' are."""
        plan = plan_of(cls)
        return data if plan is None else self._seal_together(owner, plan, data)

    def _seal_together(self, owner: UUID, node: Node, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (a state, or a snapshot holding one under ``node``) with its personal
        values sealed together as one blob.

        Deterministic, as ``seal_node`` is (the key's synthetic nonce): equal states
        give equal bytes. Values that are no one's data (``[erased]``) stay in place,
        and a state without personal values is left as it is.
        """
        values: list[Any] = []
        at: Where = {}

        def collect(value: Any, path: Path, _: str) -> Any:
            if value in UNREADABLE:
                return value  # no one's data: a forgotten customer's state stays storable
            place = at
            for step in path[:-1]:
                place = place.setdefault(str(step), {})
            place[str(path[-1])] = len(values)
            values.append(value)
            return None

        sealed: dict[str, Any] = walk(node, data, (), collect)
        if values:
            key = self._keys().key_for_writing(owner)
            blob = key.seal(_state_context(owner, at), orjson.dumps(values))
            sealed[STATE] = {"at": at, "blob": base64.b64encode(blob).decode("ascii")}
        return sealed

    def seal_node(self, owner: UUID, node: Node, data: Any) -> Any:
        key: list[DataKey] = []  # fetched on the first value that needs it

        def encrypt(value: Any, path: Path, _: str) -> Any:
            if value in UNREADABLE:
                return value  # no one's data: a forgotten customer's state stays storable
            if not key:
                key.append(self._keys().key_for_writing(owner))
            sealed = key[0].seal(_context(owner, path), orjson.dumps(value))
            return {TOKEN: base64.b64encode(sealed).decode("ascii")}

        return walk(node, data, (), encrypt)

    def open(self, originator_id: Any, data: Any, stored: bytes) -> Any:
        """``data`` with every sealed value opened, or ``[erased]`` if the key is gone.

        Works on the stored shape, before any upcaster runs (paths are where the
        values were sealed), so an upcaster never sees a ciphertext.
        """
        if not (isinstance(data, dict) and STATE in data) and _TOKEN_BYTES not in stored:
            return data  # nothing sealed: other aggregates, legacy or personal-free events
        return self.open_value(_uuid(originator_id), data, without_keys=self.without_keys)

    def open_value(self, owner: UUID, data: Any, *, without_keys: bool = False) -> Any:
        """``data`` with ``owner``'s sealed values opened (``[erased]`` once its key is
        destroyed). ``without_keys``: where the keys cannot be used (no master key, or
        another one), each sealed value reads ``[encrypted]`` instead of failing."""
        if isinstance(data, dict) and STATE in data:
            return self._open_state(owner, data, without_keys)
        key: list[DataKey | str | None] = []

        def decrypt(token: dict[str, Any], path: Path) -> Any:
            if not key:
                key.append(self._key_for_reading(owner, without_keys))
            found = key[0]
            if found is None:
                return ERASED  # dates: the converter reads ERASED as None
            if isinstance(found, str):
                return found
            blob = base64.b64decode(token[TOKEN])
            return orjson.loads(found.open(_context(owner, path), blob))

        return _open_tokens(data, (), decrypt)

    def _key_for_reading(self, owner: UUID, without_keys: bool) -> DataKey | str | None:
        """``owner``'s key; None once destroyed; ``[encrypted]`` where keys cannot be used."""
        try:
            return self._keys().key_for_reading(owner)
        except KeyProblem:
            if not without_keys:
                raise
            return ENCRYPTED

    def _open_state(self, owner: UUID, data: dict[str, Any], without_keys: bool) -> Any:
        sealed = data.pop(STATE)
        at = sealed["at"]
        key = self._key_for_reading(owner, without_keys)
        if isinstance(key, DataKey):
            blob = base64.b64decode(sealed["blob"])
            values = orjson.loads(key.open(_state_context(owner, at), blob))
            _put_back(data, at, values)
        else:  # each value reads as the per-value form's would: erased, or encrypted
            _put_back(data, at, None, ERASED if key is None else key)
        return data


def _put_back(data: Any, at: Where, values: list[Any] | None, fill: Any = None) -> None:
    """Each value (or ``fill``) where ``at`` says it was taken from, in place."""
    for step, where in at.items():
        place: Any = int(step) if isinstance(data, list) else step
        if isinstance(where, int):
            data[place] = fill if values is None else values[where]
        else:
            _put_back(data[place], where, values, fill)


def _open_tokens(data: Any, path: Path, decrypt: Callable[[dict[str, Any], Path], Any]) -> Any:
    if isinstance(data, dict):
        if len(data) == 1 and isinstance(data.get(TOKEN), str):
            return decrypt(data, path)
        for key, value in data.items():
            if isinstance(value, (dict, list)):
                data[key] = _open_tokens(value, (*path, key), decrypt)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, (dict, list)):
                data[i] = _open_tokens(value, (*path, i), decrypt)
    return data


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
