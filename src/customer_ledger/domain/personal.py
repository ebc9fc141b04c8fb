"""Which fields hold personal data, and what they read as once a customer is forgotten.

Personal data is marked where it is declared, in the type hint:
``name: Annotated[str, PERSONAL]``. The marker travels with the field into every event
and state class that uses the type (``Contact`` inside ``ContactAdded`` and inside the
customer's ``contacts``), so one declaration drives the encryption in the mapper
(``customer_ledger.privacy.fields``), the erasure applied by ``CustomerForgotten`` and the
masking of output. ``typing.get_type_hints`` drops the marker unless asked
(``include_extras=True``), so cattrs and everything else see the plain type.
"""

from __future__ import annotations

import typing
from datetime import date
from typing import Any, TypeVar

import attrs
from attrs import frozen

from customer_ledger.domain.errors import DomainError

ERASED = "[erased]"
"""What a personal text field reads as once its customer is forgotten.

Personal dates (birthdays) read as ``None``. ``[erased]`` is never encrypted: it is
no one's data, so a forgotten customer's state can still be stored and snapshotted.
"""


ENCRYPTED = "[encrypted]"
"""What a personal text field reads as to a reader who cannot use the keys (no master
key, or another one): the value is there, sealed, and stays so."""
UNREADABLE = frozenset({ERASED, ENCRYPTED})


@frozen
class Personal:
    """Type-hint marker for personal data (``Annotated[T, PERSONAL]``).

    ``individuals_only``: personal only in a record whose ``type`` is not ``company``
    (a company's name, licence number and registered address are public).
    ``keys``: on a dict, only the values under these keys are personal.
    """

    individuals_only: bool = False
    keys: frozenset[str] | None = None


PERSONAL = Personal()
INDIVIDUALS_ONLY = Personal(individuals_only=True)


class AlreadyForgotten(DomainError):
    """The customer was forgotten before: its personal data is gone already."""

    rule = "already_forgotten"


class ForgottenCustomer(DomainError):
    """A forgotten customer takes no new personal data (its key is destroyed)."""

    rule = "forgotten_customer"


def marker(hint: Any) -> Personal | None:
    """The ``Personal`` marker of an ``Annotated`` hint, if any."""
    if typing.get_origin(hint) is typing.Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, Personal)), None)
    return None


_FIELDS: dict[type, dict[str, Personal]] = {}


def personal_fields(cls: type) -> dict[str, Personal]:
    """The fields of an attrs class (or any annotated class) marked personal."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls, include_extras=True)
        _FIELDS[cls] = {n: m for n, hint in hints.items() if (m := marker(hint)) is not None}
    return _FIELDS[cls]


T = TypeVar("T")


def erased_value(value: Any) -> Any:
    """``ERASED`` for text, ``None`` for dates and for what was already empty."""
    if value is None or isinstance(value, date):
        return None
    return ERASED


def erased(instance: T) -> T:
    """A copy of an attrs value (e.g. a ``Contact``) with its personal fields erased."""
    changes = {
        name: erased_value(getattr(instance, name)) for name in personal_fields(type(instance))
    }
    return attrs.evolve(instance, **changes)  # type: ignore[misc]
