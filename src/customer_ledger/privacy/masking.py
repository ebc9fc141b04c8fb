"""Masking personal data for display: phones as the source sheets print them
(138****5678), e-mail addresses as ``z***@abc.com``, and the same inside free text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from customer_ledger.domain.personal import UNREADABLE
from customer_ledger.privacy.fields import Path, plan_of, walk
from customer_ledger.serialization import unstructure_state

_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d*])(?:\+?86[ -]?)?1\d{2}[ -]?\d{4}[ -]?\d{4}(?![\d*])")
_LANDLINE_IN_TEXT = re.compile(r"(?<![\d*])0\d{2,3}[ -]?\d{7,8}(?![\d*])")
_EMAIL_IN_TEXT = re.compile(r"[^\s@<>\"',;:()（）]+@[^\s@<>\"',;:()（）]+\.[A-Za-z]{2,}")


def mask_phone(phone: str) -> str:
    """Mobile: first 3 + last 4 digits; landline: area code + last 4; else last 4. An
    extension stays (``0512****1234x808``): it reaches a desk, not a person."""
    if "*" in phone or phone in UNREADABLE:
        return phone  # masked at the source already, or gone
    number, ext, extension = phone.partition("x")
    if ext and extension.isdigit():
        return f"{mask_phone(number)}x{extension}"
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
    if "*" in email or email in UNREADABLE or "@" not in email:
        return email
    mailbox, domain = email.rsplit("@", 1)
    return f"{mailbox[:1]}***@{domain}"


def mask_text(text: str) -> str:
    """Free text (an imported spreadsheet row) with phones and e-mails in it masked."""
    text = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
    text = _MOBILE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group(0))), text)
    return _LANDLINE_IN_TEXT.sub(lambda m: mask_phone(re.sub(r"[ -]", "", m.group(0))), text)


def mask_name(name: str) -> str:
    """A person's name: its first character, then one ``*`` for each other one (王**)."""
    if "*" in name or name in UNREADABLE:
        return name
    return name[:1] + "*" * max(len(name) - 1, 1)


def mask_handle(handle: str) -> str:
    """A WeChat or QQ account: its first and last characters (w***k)."""
    if "*" in handle or handle in UNREADABLE:
        return handle
    if len(handle) <= 2:
        return "*" * len(handle)
    return f"{handle[:1]}***{handle[-1:]}"


_ADDRESS_HEAD = re.compile(r"^(.+?(?:省|自治区|市|特别行政区))(.+?(?:市|区|县|州|盟))?")


def mask_address(address: str) -> str:
    """An address: its province and city (上海市静安区***), nothing more; a foreign one,
    its first word."""
    if "*" in address or address in UNREADABLE:
        return address
    head = _ADDRESS_HEAD.match(address)
    if head:
        return head.group(0) + "***"
    first = address.split()[0] if address.split() else ""
    return (first[:10] if first != address else address[:1]) + "***"


def mask_id(number: str) -> str:
    """An identity, licence or other id number: the first 6 (the region of a 身份证)
    and the last 4 characters; a short one, its last 4 only."""
    if "*" in number or number in UNREADABLE:
        return number
    if len(number) >= 12:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * max(len(number) - 4, 0) + number[-4:]


MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "email": mask_email,
    "row": mask_text,
    "wechat": mask_handle,
    "qq": mask_handle,
    "address": mask_address,
    "registered_address": mask_address,
    "licence_no": mask_id,
    "id_number": mask_id,
}
NAMES = frozenset({"name"})  # masked unless the reader's role shows names


def masked_data(cls: type, data: Any, *, show_names: bool = False) -> Any:
    """Unstructured ``cls`` (an event's fields, a profile, facts) with every personal
    value masked: phones, e-mail, WeChat, QQ, addresses, id numbers by their rules,
    dates (birthdays) left out, free text's phones and e-mails masked, and people's
    names masked unless ``show_names`` (a copy)."""
    plan = plan_of(cls)
    if plan is None:
        return data

    def mask(value: Any, _: Path, name: str) -> Any:
        if not isinstance(value, str):
            return value
        if name in NAMES:
            return value if show_names else mask_name(value)
        how = MASKS.get(name)
        if how is not None:
            return how(value)
        if _DATE.match(value):
            return None  # a birthday: the date is the personal part
        return mask_text(value)

    return walk(plan, data, (), mask)


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def masked_fields(cls: type, data: dict[str, Any], *, show_names: bool = False) -> dict[str, Any]:
    """An event's unstructured fields (``event_json``) with every personal value
    masked (a copy): see ``masked_data``."""
    masked: dict[str, Any] = masked_data(cls, data, show_names=show_names)
    return masked


def event_json(event: Any, *, masked: bool = True, show_names: bool = False) -> dict[str, Any]:
    """A stored event as plain JSON, the one shape the CLI's ``history --json`` and the
    API's history share: version, kind, times, metadata and its fields (personal values
    masked unless ``masked`` is False)."""
    fields = unstructure_state(type(event), vars(event))
    if masked:
        fields = masked_fields(type(event), fields, show_names=show_names)
    for internal in ("timestamp", "occurred_at", "meta", "originator_topic"):
        fields.pop(internal, None)
    meta = event.meta
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.timestamp.isoformat(),
        "actor": meta.actor,
        "role": meta.role,
        "source_actor": meta.source_actor,
        "reason": meta.reason,
        "command_id": meta.command_id,
        "correlation_id": meta.correlation_id,
        "fields": fields,
    }
