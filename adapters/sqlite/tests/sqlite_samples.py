"""Rows for direct view tests: real profiles (from a real aggregate), varied with evolve."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from attrs import evolve
from eventsourcing.persistence import Tracking

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.values import Contact, Stage
from customer_ledger.projections.profile import Profile, profile_of
from customer_ledger.projections.views import (
    ProfileRecord,
    StatusRecord,
    StatusRow,
    TimelineEntry,
)
from customer_ledger.testing import plain_record

APP = "CustomerLedger"
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def tracking(position: int, app: str = APP) -> Tracking:
    return Tracking(app, position)


def customer_id(number: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"customer/{number}")


@cache
def base_profile() -> Profile:
    """A full profile: contacts, contract, purchase, complaint, tags, grade, Shanghai times."""
    ledger = CustomerLedger.open("memory://", clock=lambda: datetime(2024, 6, 1, tzinfo=UTC))
    ledger.eager_views = False
    ledger.first_contact(
        "BASE", name="base", type="company", industry="retail", region="上海市", owner="*经理",
        occurred_at="2024-01-02",
    )  # fmt: skip
    ledger.add_contact("BASE", contact=Contact("c1", "*先生", phone="138****5678", primary=True))
    ledger.sign_contract("BASE", contract="HT-1", signed_on=date(2024, 1, 3), amount="12000.50")
    ledger.record_purchase("BASE", product="茶叶", amount="99.99", occurred_at="2024-01-04")
    ledger.file_complaint("BASE", complaint="K-1", subject="late", occurred_at="2024-01-05")
    ledger.tag("BASE", tag="key")
    ledger.assign_grade("BASE", grade="A", vip=True)
    profile = profile_of(ledger.customer("BASE"))
    ledger.close()
    return profile


def profile(number: str, name: str | None = None, **changes: Any) -> Profile:
    return evolve(
        base_profile(),
        customer_id=customer_id(number),
        number=number,
        name=name or f"name of {number}",
        **changes,
    )


def record(p: Profile) -> ProfileRecord:
    return plain_record(p, f"state of {p.number} v{p.version}".encode())


def entry(number: str, version: int, occurred_at: datetime, **changes: Any) -> TimelineEntry:
    fields: dict[str, Any] = dict(
        customer_id=customer_id(number), number=number, version=version, kind="Tagged",
        occurred_at=occurred_at, recorded_at=occurred_at + timedelta(hours=1), actor="*助理",
        summary_en=f"event {version} of {number}", summary_zh=f"{number} 的第 {version} 个事件",
    )  # fmt: skip
    fields.update(changes)
    return TimelineEntry(**fields)


def status(number: str, stage: Stage = Stage.PROSPECT, **changes: Any) -> StatusRecord:
    fields: dict[str, Any] = dict(
        customer_id=customer_id(number), number=number, name=f"name of {number}",
        owner="*经理", stage=stage, open_complaints=0, last_interaction_at=None,
        next_reminder_on=None, first_contact_at=T0,
    )  # fmt: skip
    fields.update(changes)
    return StatusRecord(StatusRow(**fields), f"state of {number}".encode())
