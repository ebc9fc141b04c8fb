"""Masking personal data for display, as the source sheets do (138****5678)."""

from __future__ import annotations

import re

from attrs import evolve

from customer_ledger.projections.profile import Profile

_MOBILE = re.compile(r"^(?:\+?86)?(1\d{10})$")


def mask_phone(phone: str) -> str:
    """Mobile: first 3 + last 4 digits; landline: area code + last 4; else last 4."""
    if "*" in phone:
        return phone  # masked at the source already
    mobile = _MOBILE.match(phone)
    if mobile:
        digits = mobile.group(1)
        return f"{digits[:3]}****{digits[-4:]}"
    digits = phone.lstrip("+")
    if digits.startswith("0") and len(digits) >= 10:
        area = digits[:3] if digits[1] in "12" else digits[:4]
        return f"{area}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def masked(profile: Profile) -> Profile:
    """The profile with every contact phone masked."""
    if not any(c.phone for c in profile.contacts):
        return profile
    contacts = tuple(
        evolve(c, phone=None if c.phone is None else mask_phone(c.phone)) for c in profile.contacts
    )
    return evolve(profile, contacts=contacts)
