"""The status read model: each customer's stage, and the board a team lead watches."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from attrs import frozen

from customer_ledger.domain.customer import Customer
from customer_ledger.domain.values import CustomerType, Stage
from customer_ledger.privacy.masking import mask_name
from customer_ledger.projections.views import StatusRow, StatusView

DEFAULT_IDLE_DAYS = 30


def status_of(customer: Customer) -> StatusRow:
    """The customer's row on the board: stored in clear, so an individual's name is
    masked (a company's is public)."""
    reminder = customer.next_reminder
    name = customer.name
    return StatusRow(
        customer_id=customer.id,
        number=customer.number,
        name=name if customer.type is CustomerType.COMPANY else mask_name(name),
        owner=customer.owner,
        stage=customer.stage,
        open_complaints=customer.open_complaints,
        last_interaction_at=customer.last_interaction_at,
        next_reminder_on=None if reminder is None else reminder.due_on,
        first_contact_at=customer.first_contact_at,
        merged_into=customer.merged_into,
    )


@frozen
class Board:
    """Counts per stage, open complaints, who is at risk, who has gone quiet."""

    as_of: datetime
    idle_days: int
    stages: dict[Stage, int]
    open_complaints: int
    at_risk: tuple[StatusRow, ...]
    idle: tuple[StatusRow, ...]
    reminders_due: tuple[StatusRow, ...]

    @property
    def total(self) -> int:
        return sum(self.stages.values())

    def to_json(self) -> dict[str, Any]:
        """The board's one JSON shape (the CLI's ``status --json``, the API's)."""
        return {
            "as_of": self.as_of.date().isoformat(),
            "stages": {stage.value: count for stage, count in self.stages.items()},
            "total": self.total,
            "open_complaints": self.open_complaints,
            "at_risk": [r.number for r in self.at_risk],
            "idle_days": self.idle_days,
            "idle": [r.number for r in self.idle],
            "reminders_due": [r.number for r in self.reminders_due],
        }


def board(view: StatusView, as_of: datetime, idle_days: int = DEFAULT_IDLE_DAYS) -> Board:
    rows: list[StatusRow] = []
    merged: list[StatusRow] = []
    for row in view.rows():  # a record merged into another is that other one's
        (rows if row.merged_into is None else merged).append(row)
    stages = view.count_by_stage()
    for row in merged:
        stages[row.stage] -= 1
    due_by: date = as_of.date()
    return Board(
        as_of=as_of,
        idle_days=idle_days,
        stages={stage: n for stage, n in stages.items() if n},
        open_complaints=sum(r.open_complaints for r in rows),
        at_risk=tuple(r for r in rows if r.stage is Stage.AT_RISK),
        idle=tuple(r for r in view.idle(as_of - timedelta(days=idle_days)) if not r.merged_into),
        reminders_due=tuple(
            r for r in rows if r.next_reminder_on is not None and r.next_reminder_on <= due_by
        ),
    )
