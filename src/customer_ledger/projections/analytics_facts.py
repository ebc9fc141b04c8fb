"""What the analytics view keeps per customer: dated facts, never conclusions.

Every rule (ABC grade, churn risk, segment, indicators, reminders) depends on "today";
the view must not. So it stores what happened and when (each interaction, purchase,
contract term, complaint, score, grade, intention, stage change, ...), and the rules
read those records as of an explicit date at query time. A rebuild on any day gives
the same view, and a question asked about 2023-10-31 gets the same answer next year.

Dates are business dates: ``occurred_at.date()`` in the offset the caller gave.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Protocol, TypeVar
from uuid import UUID

from attrs import frozen

from customer_ledger.domain.personal import INDIVIDUALS_ONLY, PERSONAL
from customer_ledger.domain.values import CustomerType, Grade, Stage


@frozen
class StageChange:
    on: date
    stage: Stage


@frozen
class FlagChange:
    """The hand-set risk flag (an imported 风险预警 row) switched on or off."""

    on: date
    flagged: bool


@frozen
class Interaction:
    on: date
    follow_up_on: date | None = None
    follow_up: str | None = None  # the follow-up plan (跟进计划), if any


@frozen
class Purchase:
    on: date
    amount: Decimal
    currency: str


@frozen
class Term:
    """One term of a contract: signing gives the first, each renewal the next."""

    expires_on: date | None
    renewed_on: date | None = None  # business date of the renewal that ended this term


@frozen
class ContractFacts:
    number: str
    signed_on: date
    starts_on: date
    terms: tuple[Term, ...]
    terminated_on: date | None = None

    def expiry(self, as_of: date) -> date | None:
        """The expiry in force on ``as_of``: that of the first term not yet renewed."""
        for term in self.terms:
            if term.renewed_on is None or term.renewed_on > as_of:
                return term.expires_on
        return self.terms[-1].expires_on

    def active(self, as_of: date) -> bool:
        return self.signed_on <= as_of and (
            self.terminated_on is None or self.terminated_on > as_of
        )


@frozen
class ComplaintFacts:
    complaint_id: str
    subject: str
    filed_on: date
    resolved_on: date | None = None

    def open(self, as_of: date) -> bool:
        return self.filed_on <= as_of and (self.resolved_on is None or self.resolved_on > as_of)


@frozen
class Score:
    on: date
    score: int  # satisfaction 1-5


@frozen
class GradeChange:
    """A grade assigned by hand (``None``: the hand grade was withdrawn)."""

    on: date
    grade: Grade | None


@frozen
class IntentionChange:
    """Needs recorded: whether they state an upsell / renewal intention."""

    on: date
    upsell: bool


@frozen
class Birthday:
    contact_id: str
    name: Annotated[str, PERSONAL]
    birthday: Annotated[date, PERSONAL]


@frozen
class ScheduledReminder:
    reminder_id: str
    subject: str
    due_on: date
    done_on: date | None = None

    def pending(self, as_of: date) -> bool:
        return self.done_on is None or self.done_on > as_of


@frozen
class CustomerFacts:
    """One customer's dated records; lists are in recording order."""

    customer_id: UUID
    number: str
    name: Annotated[str, INDIVIDUALS_ONLY]
    owner: str | None
    first_contact_on: date
    cooperation_since: date | None
    version: int
    stages: tuple[StageChange, ...] = ()
    risk_flags: tuple[FlagChange, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    purchases: tuple[Purchase, ...] = ()
    contracts: tuple[ContractFacts, ...] = ()
    complaints: tuple[ComplaintFacts, ...] = ()
    scores: tuple[Score, ...] = ()
    grades: tuple[GradeChange, ...] = ()
    intentions: tuple[IntentionChange, ...] = ()
    birthdays: tuple[Birthday, ...] = ()
    reminders: tuple[ScheduledReminder, ...] = ()
    type: CustomerType = CustomerType.INDIVIDUAL  # a company's name is public
    # Merged into that customer, whose facts now hold what this one's counted for.
    merged_into: str | None = None

    def known(self, as_of: date) -> bool:
        """Whether the customer had been contacted by ``as_of``."""
        return self.first_contact_on <= as_of

    def stage(self, as_of: date) -> Stage | None:
        change = latest(self.stages, as_of)
        return None if change is None else change.stage

    def manual_grade(self, as_of: date) -> Grade | None:
        change = latest(self.grades, as_of)
        return None if change is None else change.grade

    def upsell_intention(self, as_of: date) -> bool:
        change = latest(self.intentions, as_of)
        return change is not None and change.upsell

    def flagged(self, as_of: date) -> bool:
        change = latest(self.risk_flags, as_of)
        return change is not None and change.flagged

    def satisfaction(self, as_of: date) -> int | None:
        score = latest(self.scores, as_of)
        return None if score is None else score.score

    def open_complaints(self, as_of: date) -> list[ComplaintFacts]:
        return [c for c in self.complaints if c.open(as_of)]

    def contract(self, number: str) -> ContractFacts | None:
        return next((c for c in self.contracts if c.number == number), None)


@frozen
class AnalyticsRecord:
    """What the analytics projection hands its view: the facts' listing (for the
    view's columns: number and owner), the facts as a document with their personal
    fields sealed, and the fold state, sealed the same way."""

    facts: CustomerFacts  # the listing: its name masked, no birthdays
    document: bytes
    state: bytes  # the Customer aggregate's state, opaque to the view


@frozen
class StoredFacts:
    """What the analytics view gives back: the document and the state, as stored."""

    document: bytes
    state: bytes


class _Dated(Protocol):
    @property
    def on(self) -> date: ...


D = TypeVar("D", bound=_Dated)


def latest(records: Sequence[D], as_of: date) -> D | None:
    """The record with the latest date on or before ``as_of``; on a tie, the one
    recorded last (a correction recorded later wins)."""
    best: D | None = None
    for record in records:
        if record.on <= as_of and (best is None or record.on >= best.on):
            best = record
    return best


def within(records: Iterable[D], start: date, end: date) -> list[D]:
    """Records dated in ``(start, end]``: a window ending on (and including) ``end``."""
    return [r for r in records if start < r.on <= end]
