"""Helpers of the PostgreSQL adapter's tests: sample profiles and records.

(Apart from conftest.py: test directories' conftest modules share one name, so tests
import from here, never ``from conftest``.)"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from attrs import evolve

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.projections.profile import Profile, profile_of
from customer_ledger.projections.views import ProfileRecord
from customer_ledger.testing import plain_record

APP = "CustomerLedger"
NOW = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


_BASE: list[Profile] = []


def base_profile() -> Profile:
    """A real profile (from a customer aggregate) to derive test profiles from."""
    if not _BASE:
        ledger = CustomerLedger.open("memory://", clock=lambda: NOW)
        ledger.first_contact("X0", name="base", type="company", occurred_at="2024-01-01")
        _BASE.append(profile_of(ledger.customer("X0")))
        ledger.close()
    return _BASE[0]


def make_profile(number: str, **changes: object) -> Profile:
    return evolve(
        base_profile(),
        customer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"customer:{number}"),
        number=number,
        **changes,
    )


def record(profile: Profile, state: bytes = b"state") -> ProfileRecord:
    return plain_record(profile, state)
