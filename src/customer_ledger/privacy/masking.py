"""Masking personal data for display: phones as the source sheets print them
(138****5678), e-mail addresses as ``z***@abc.com``, and the same inside free text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from customer_ledger.domain.personal import ERASED
from customer_ledger.privacy.fields import Path, plan_of, walk

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
