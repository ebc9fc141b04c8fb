"""What makes two customer records likely the same customer.

Two companies with the same name (compared without case, width, spaces or punctuation:
``ABC 公司`` is ``ａｂｃ公司``) or the same business licence number; two individuals with
the same ID number or the same phone. A masked phone (``138****5678``, as source sheets
have them) says too little to match. The values are keys only: the ledger stores them as
keyed hashes (``privacy.keys``), never in clear.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from customer_ledger.domain.values import CustomerType

COMPANY_NAME, LICENCE_NO, ID_NUMBER, PHONE = "company name", "licence number", "ID number", "phone"
Key = tuple[str, str]  # (kind, normalised value)

_NOISE = re.compile(r"[\s\W_]+")


def _folded(value: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", value)).casefold()


def _digits(value: str) -> str:
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isdigit())
    return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits


def identity_keys(name: object, type: object, licence_no: object) -> set[Key]:
    """The keys a first contact's identity gives (anything malformed gives none: the
    first contact's own checks refuse it)."""
    try:
        kind = CustomerType(str(type))
    except ValueError:
        return set()
    keys: set[Key] = set()
    if kind is CustomerType.COMPANY and isinstance(name, str) and _folded(name):
        keys.add((COMPANY_NAME, _folded(name)))
    if isinstance(licence_no, str) and _folded(licence_no):
        keys.add((LICENCE_NO if kind is CustomerType.COMPANY else ID_NUMBER, _folded(licence_no)))
    return keys


def phone_keys(phones: Iterable[str | None]) -> set[Key]:
    """An individual's phones (unmasked ones, of seven digits or more)."""
    found = set()
    for phone in phones:
        if phone and "*" not in phone and len(_digits(phone)) >= 7:
            found.add((PHONE, _digits(phone)))
    return found


def customer_keys(customer: Any) -> set[Key]:
    """The keys of a customer's current state (none once it is forgotten or merged)."""
    if customer.forgotten or getattr(customer, "merged_into", None):
        return set()
    keys = identity_keys(customer.name, customer.type, customer.licence_no)
    if customer.type is CustomerType.INDIVIDUAL:
        keys |= phone_keys(c.phone for c in customer.contacts.values())
    return keys
