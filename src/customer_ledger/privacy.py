"""Personal data: encrypted per customer in the store, masked for display, erasable.

Three jobs, all driven by the ``Personal`` markers on the type hints
(``customer_ledger.domain.personal``):

* ``PersonalFields`` is what the mapper calls: on the way into the store it replaces
  each personal value of a customer's event or snapshot by ``{"$enc": ...}`` (AES-GCM
  under the customer's data key, bound to the customer's id and the field's path); on
  the way out it opens them again, or reads ``[erased]`` once the key is destroyed.
* ``masked`` and friends hide phone numbers and e-mail addresses as the source sheets
  do (138****5678), for whoever may not read personal data.
* ``shred`` is the second half of ``CustomerLedger.forget``: after ``CustomerForgotten``
  is recorded it destroys the key, lets the views rewrite the customer's rows and
  scrubs the store, so no copy of the old values is left behind.
"""

from __future__ import annotations

import base64
import re
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Union
from uuid import UUID

import attrs
import orjson
from attrs import evolve, frozen
from eventsourcing.domain import Snapshot
from eventsourcing.utils import resolve_topic

from customer_ledger.domain.personal import ERASED, Personal, marker
from customer_ledger.keys import DataKey, KeyStore
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import KINDS
from customer_ledger.serialization import unstructure_state

TOKEN = "$enc"
_TOKEN_BYTES = b'"$enc"'
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


class PersonalFields:
    """Seals and opens the personal values of stored events and snapshots.

    ``keys`` is called on first need, so a ledger opens its key table only when it
    records or reads personal data.
    """

    def __init__(self, keys: Callable[[], KeyStore]) -> None:
        self._keys = keys

    def seal(self, domain_event: Any, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with every personal value encrypted under the originator's key."""
        if isinstance(domain_event, Snapshot):
            plan = plan_of(resolve_topic(domain_event.topic))
            if plan is None or not isinstance(data.get("state"), dict):
                return data
            node: Node = Fields({"state": plan})
        else:
            found = plan_of(type(domain_event))
            if found is None:
                return data
            node = found
        owner = _uuid(domain_event.originator_id)
        key: list[DataKey] = []  # fetched on the first value that needs it

        def encrypt(value: Any, path: Path, _: str) -> Any:
            if value == ERASED:
                return value  # no one's data: a forgotten customer's state stays storable
            if not key:
                key.append(self._keys().key_for_writing(owner))
            sealed = key[0].seal(_context(owner, path), orjson.dumps(value))
            return {TOKEN: base64.b64encode(sealed).decode("ascii")}

        return walk(node, data, (), encrypt)  # type: ignore[no-any-return]

    def open(self, originator_id: Any, data: Any, stored: bytes) -> Any:
        """``data`` with every sealed value opened, or ``[erased]`` if the key is gone.

        Works on the stored shape, before any upcaster runs (paths are where the
        values were sealed), so an upcaster never sees a ciphertext.
        """
        if _TOKEN_BYTES not in stored:
            return data  # nothing sealed: other aggregates, legacy or personal-free events
        owner = _uuid(originator_id)
        key: list[DataKey | None] = []

        def decrypt(token: dict[str, Any], path: Path) -> Any:
            if not key:
                key.append(self._keys().key_for_reading(owner))
            if key[0] is None:
                return ERASED  # dates: the converter reads ERASED as None
            blob = base64.b64decode(token[TOKEN])
            return orjson.loads(key[0].open(_context(owner, path), blob))

        return _open_tokens(data, (), decrypt)


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


# -- masking for display -------------------------------------------------------------------

_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d*])(?:\+?86[ -]?)?1\d{2}[ -]?\d{4}[ -]?\d{4}(?![\d*])")
_LANDLINE_IN_TEXT = re.compile(r"(?<![\d*])0\d{2,3}[ -]?\d{7,8}(?![\d*])")
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>\"',;:()（）]+@[^\s@<>\"',;:()（）]+\.[A-Za-z]{2,}")


def mask_phone(phone: str) -> str:
    """Mobile: first 3 + last 4 digits; landline: area code + last 4; else last 4."""
    if "*" in phone or phone == ERASED:
        return phone  # masked at the source already, or gone
    mobile = _MOBILE.match(phone)
    if mobile:
        digits = mobile.group(1)
        return f"{digits[:3]}****{digits[-4:]}"
    digits = phone.lstrip("+")
    if digits.startswith("0") and len(digits) >= 10:
        area = digits[:3] if digits[1] in "12" else digits[:4]
        return f"{area}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_email(email: str) -> str:
    """The first character of the mailbox and the domain: ``z***@abc.com``."""
    if "*" in email or email == ERASED or "@" not in email:
        return email
    mailbox, domain = email.rsplit("@", 1)
    return f"{mailbox[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Free text (an imported spreadsheet row) with phones and e-mails in it masked."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group(0))), text)
    return _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group(0))), text)


MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "email": mask_email,
    "row": mask_text,
}


def masked(profile: Profile) -> Profile:
    """The profile with every contact's phone and e-mail masked (exports use it too)."""
    if not any(c.phone or c.email for c in profile.contacts):
        return profile
    contacts = tuple(
        evolve(
            c,
            phone=None if c.phone is None else mask_phone(c.phone),
            email=None if c.email is None else mask_email(c.email),
        )
        for c in profile.contacts
    )
    return evolve(profile, contacts=contacts)


def masked_fields(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """An event's unstructured fields (``cli.event_json``) with phones, e-mails and
    imported rows masked (a copy)."""
    plan = plan_of(cls)
    if plan is None:
        return data

    def mask(value: Any, _: Path, name: str) -> Any:
        how = MASKS.get(name)
        return how(value) if how is not None and isinstance(value, str) else value

    return walk(plan, data, (), mask)  # type: ignore[no-any-return]


# -- forgetting: what follows the CustomerForgotten event ------------------------------------


@frozen
class ForgetResult:
    """What ``CustomerLedger.forget`` did. ``notes`` says what could not be scrubbed."""

    customer_id: UUID
    number: str
    version: int
    key_destroyed: bool  # False when an earlier, interrupted forget had destroyed it
    notes: tuple[str, ...] = ()
    replayed: bool = attrs.field(default=False, eq=False)


def shred(
    ledger: Any, customer_id: UUID, *, scrub: bool = True, full: bool = False
) -> tuple[bool, list[str]]:
    """Destroys the customer's key, rewrites its view rows, scrubs the store.

    The views need no key to erase: they apply ``CustomerForgotten`` like any event,
    and the aggregate's handler erases the personal fields. Scrubbing then removes
    the old row versions the databases keep (SQLite: VACUUM and a truncated WAL;
    PostgreSQL: VACUUM). Returns (whether a live key was destroyed, notes).
    """
    destroyed = ledger.keys.destroy(customer_id)
    notes: list[str] = []
    legacy = plaintext_left(ledger, customer_id)
    if legacy:
        notes.append(
            f"{legacy} event(s) of this customer were recorded before personal data was "
            "encrypted and still hold it in clear: events cannot be changed"
        )
    try:
        ledger.refresh()
    except Exception as error:  # the key is gone already; say what is left to do
        notes.append(f"the views could not catch up ({error}): run `customer-ledger rebuild`")
    for kind in KINDS:
        if ledger.views.has_rebuild(kind):
            notes.append(
                f"a {kind} rebuild is in progress: its tables keep the old values until it "
                "passes the CustomerForgotten event (finish it, or discard it with --fresh)"
            )
    if scrub:
        notes += ledger.keys.scrub(full=full)
    return destroyed, notes


def plaintext_left(ledger: Any, customer_id: UUID) -> int:
    """How many of the customer's events hold personal data in clear once its key is
    destroyed (then every sealed value reads ``[erased]``): events recorded before
    personal data was encrypted (release 0.1), which can never be changed."""
    count = 0
    for event in ledger.events.get(customer_id):
        plan = plan_of(type(event))
        if plan is None:
            continue
        clear: list[Path] = []

        def note(value: Any, path: Path, _: str, clear: list[Path] = clear) -> Any:
            if value != ERASED:
                clear.append(path)
            return value

        walk(plan, unstructure_state(type(event), vars(event)), (), note)
        count += bool(clear)
    return count
