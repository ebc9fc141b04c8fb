"""Maintenance segments (维护类型) and the contact cadence each calls for.

One segment per customer, the first that applies in this order:

1. ``lost`` (流失): churned by then; no cadence (win-back is a decision, not a rhythm).
2. ``risk_warning`` (风险预警型): flagged at churn risk; **weekly** care until resolved.
3. ``key`` (重点维护型): grade A (the hand grade if any, else the computed one) and
   engaged lately (an interaction or purchase in the last ``engagement_days``);
   **monthly** deep contact.
4. ``potential`` (潜力培养型): the latest needs state an upsell / renewal intention, or
   grade B with orders rising (last window above the one before); **quarterly**.

Risk comes before key because a valuable customer who is slipping needs the closer
rhythm; key before potential because the larger account already pays.
Anyone else has no segment (normal maintenance).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from customer_ledger.analytics.churn import Engagement
from customer_ledger.analytics.settings import AnalyticsSettings
from customer_ledger.domain.values import Grade, Stage
from customer_ledger.projections.analytics_facts import CustomerFacts, within


class Segment(StrEnum):
    LOST = "lost"
    RISK_WARNING = "risk_warning"
    KEY = "key"
    POTENTIAL = "potential"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


CADENCE: dict[Segment, Cadence | None] = {
    Segment.LOST: None,
    Segment.RISK_WARNING: Cadence.WEEKLY,
    Segment.KEY: Cadence.MONTHLY,
    Segment.POTENTIAL: Cadence.QUARTERLY,
}
SEGMENT_LABELS_ZH = {
    Segment.LOST: "流失",
    Segment.RISK_WARNING: "风险预警型",
    Segment.KEY: "重点维护型",
    Segment.POTENTIAL: "潜力培养型",
}
CADENCE_LABELS_ZH = {Cadence.WEEKLY: "每周", Cadence.MONTHLY: "每月", Cadence.QUARTERLY: "每季度"}


def engaged_lately(facts: CustomerFacts, as_of: date, settings: AnalyticsSettings) -> bool:
    start = as_of - timedelta(days=settings.engagement_days)
    return bool(within(facts.interactions, start, as_of) or within(facts.purchases, start, as_of))


def segment_of(
    facts: CustomerFacts,
    as_of: date,
    settings: AnalyticsSettings,
    *,
    stage: Stage | None,
    grade: Grade,
    churn_risk: bool,
    seen: Engagement,
) -> tuple[Segment | None, str | None]:
    """The segment and why, by the precedence above."""
    if stage is Stage.CHURNED:
        return Segment.LOST, "churned"
    if churn_risk:
        return Segment.RISK_WARNING, "churn risk"
    if grade is Grade.A and engaged_lately(facts, as_of, settings):
        return Segment.KEY, f"grade A, engaged in the last {settings.engagement_days} days"
    if facts.upsell_intention(as_of):
        return Segment.POTENTIAL, "upsell / renewal intention recorded"
    if grade is Grade.B and seen.orders_rising:
        return Segment.POTENTIAL, (
            f"grade B, orders rising ({seen.orders_previous} → {seen.orders_last} "
            f"{settings.currency})"
        )
    return None, None
