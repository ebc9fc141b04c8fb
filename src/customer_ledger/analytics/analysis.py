"""Every customer's grade, churn risk and segment as of one date, from the facts alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from attrs import frozen

from customer_ledger.analytics.churn import ChurnReason, churn_reasons, engagement
from customer_ledger.analytics.dates import ratio
from customer_ledger.analytics.grading import Ranking, abc, trailing_revenue
from customer_ledger.analytics.segments import CADENCE, Cadence, Segment, segment_of
from customer_ledger.analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from customer_ledger.domain.values import Grade, Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.analytics_facts import CustomerFacts


@frozen
class CustomerAnalytics:
    """One customer as of a date. ``grade`` is the hand grade when there is one, else
    the computed one; both are kept so neither hides the other."""

    customer_id: UUID
    number: str
    name: str
    owner: str | None
    stage: Stage
    revenue: Decimal  # trailing ``revenue_months``, in the settings' currency
    rank: int | None
    cumulative_share: Decimal | None
    computed_grade: Grade
    manual_grade: Grade | None
    grade: Grade
    interactions_last: int
    interactions_previous: int
    orders_last: Decimal
    orders_previous: Decimal
    open_complaints: int
    last_satisfaction: int | None
    churn_risk: bool
    churn_reasons: tuple[ChurnReason, ...]
    segment: Segment | None
    segment_reason: str | None
    cadence: Cadence | None

    @property
    def grade_is_manual(self) -> bool:
        return self.manual_grade is not None


@frozen
class Analytics:
    as_of: date
    settings: AnalyticsSettings
    customers: tuple[CustomerAnalytics, ...]  # by number

    @property
    def total_revenue(self) -> Decimal:
        return sum((c.revenue for c in self.customers), Decimal(0))

    @property
    def a_share(self) -> Decimal | None:
        """The share of revenue the computed A set holds (None without revenue)."""
        top = sum((c.revenue for c in self.customers if c.computed_grade is Grade.A), Decimal(0))
        return ratio(top, self.total_revenue)

    def customer(self, number: str) -> CustomerAnalytics:
        for c in self.customers:
            if c.number == number:
                return c
        raise KeyError(number)

    def at_risk(self) -> list[CustomerAnalytics]:
        return [c for c in self.customers if c.churn_risk]

    def stage_counts(self) -> dict[Stage, int]:
        counts = dict.fromkeys(Stage, 0)
        for c in self.customers:
            counts[c.stage] += 1
        return counts

    def grade_counts(self) -> dict[str, dict[Grade, int]]:
        """Customers per grade: computed, assigned by hand (of those with one), effective."""
        counts: dict[str, dict[Grade, int]] = {
            k: dict.fromkeys(Grade, 0) for k in ("computed", "manual", "effective")
        }
        for c in self.customers:
            counts["computed"][c.computed_grade] += 1
            counts["effective"][c.grade] += 1
            if c.manual_grade is not None:
                counts["manual"][c.manual_grade] += 1
        return counts

    def segment_counts(self) -> dict[Segment | None, int]:
        counts: dict[Segment | None, int] = {**dict.fromkeys(Segment, 0), None: 0}
        for c in self.customers:
            counts[c.segment] += 1
        return counts


def as_date(value: object, what: str = "as_of") -> date:
    """A date (a datetime counts as the date it falls on, in its own offset)."""
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise InvalidValue(f"{what} must be a date, got {value!r}")
    return value


def analyse(
    facts: Iterable[CustomerFacts], as_of: date, settings: AnalyticsSettings | None = None
) -> Analytics:
    """Grades, churn risk and segments of the customers known by ``as_of``."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    if not isinstance(settings, AnalyticsSettings):
        raise InvalidValue(f"settings must be AnalyticsSettings, got {settings!r}")
    as_of = as_date(as_of)
    known = sorted((f for f in facts if f.known(as_of)), key=lambda f: f.number)
    rankings = abc(trailing_revenue(known, as_of, settings), settings)
    return Analytics(as_of, settings, tuple(_one(f, as_of, settings, rankings) for f in known))


def _one(
    facts: CustomerFacts, as_of: date, settings: AnalyticsSettings, rankings: dict[str, Ranking]
) -> CustomerAnalytics:
    ranking = rankings[facts.number]
    stage = facts.stage(as_of) or Stage.LEAD
    manual = facts.manual_grade(as_of)
    grade = manual or ranking.grade
    seen = engagement(facts, as_of, settings)
    reasons = () if stage is Stage.CHURNED else churn_reasons(facts, as_of, settings, seen)
    segment, why = segment_of(
        facts, as_of, settings, stage=stage, grade=grade, churn_risk=bool(reasons), seen=seen
    )
    return CustomerAnalytics(
        customer_id=facts.customer_id,
        number=facts.number,
        name=facts.name,
        owner=facts.owner,
        stage=stage,
        revenue=ranking.revenue,
        rank=ranking.rank,
        cumulative_share=ranking.cumulative_share,
        computed_grade=ranking.grade,
        manual_grade=manual,
        grade=grade,
        interactions_last=seen.interactions_last,
        interactions_previous=seen.interactions_previous,
        orders_last=seen.orders_last,
        orders_previous=seen.orders_previous,
        open_complaints=len(facts.open_complaints(as_of)),
        last_satisfaction=facts.satisfaction(as_of),
        churn_risk=bool(reasons),
        churn_reasons=reasons,
        segment=segment,
        segment_reason=why,
        cadence=None if segment is None else CADENCE[segment],
    )
