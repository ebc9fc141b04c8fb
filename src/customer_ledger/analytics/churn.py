"""Churn risk: the signs the material names, each reported as a reason.

A customer who has not churned is at risk, as of a date, when any of these holds:

* ``falling_engagement``: fewer interactions in the last window than in the window
  before it **and** a lower order amount (both windows ``window_days`` long);
* ``open_complaint``: a complaint filed and not resolved by then;
* ``low_satisfaction``: the latest satisfaction score is ``low_satisfaction`` or less;
* ``flagged_at_risk``: flagged at risk by hand (a 风险预警 row on import).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from attrs import frozen

from customer_ledger.analytics.grading import revenue
from customer_ledger.analytics.settings import AnalyticsSettings
from customer_ledger.projections.analytics_facts import CustomerFacts, within

FALLING_ENGAGEMENT = "falling_engagement"
OPEN_COMPLAINT = "open_complaint"
LOW_SATISFACTION = "low_satisfaction"
FLAGGED_AT_RISK = "flagged_at_risk"
REASON_LABELS_ZH = {
    FALLING_ENGAGEMENT: "互动与订单双降",
    OPEN_COMPLAINT: "投诉未解决",
    LOW_SATISFACTION: "满意度低",
    FLAGGED_AT_RISK: "人工标记风险预警",
}


@frozen
class ChurnReason:
    rule: str  # one of the four names above
    detail: str  # the numbers behind it, in English
    detail_zh: str = ""  # the same, in Chinese (a Chinese export is Chinese throughout)

    @property
    def label_zh(self) -> str:
        return REASON_LABELS_ZH[self.rule]


@frozen
class Engagement:
    """Interactions and base-currency order amounts in the last and the previous window."""

    interactions_last: int
    interactions_previous: int
    orders_last: Decimal
    orders_previous: Decimal

    @property
    def falling(self) -> bool:
        return (
            self.interactions_last < self.interactions_previous
            and self.orders_last < self.orders_previous
        )

    @property
    def orders_rising(self) -> bool:
        return self.orders_last > self.orders_previous


def engagement(facts: CustomerFacts, as_of: date, settings: AnalyticsSettings) -> Engagement:
    """Last window ``(as_of - W, as_of]``, previous ``(as_of - 2W, as_of - W]``."""
    width = timedelta(days=settings.window_days)
    middle, start = as_of - width, as_of - 2 * width
    return Engagement(
        interactions_last=len(within(facts.interactions, middle, as_of)),
        interactions_previous=len(within(facts.interactions, start, middle)),
        orders_last=revenue(facts, middle, as_of, settings.currency),
        orders_previous=revenue(facts, start, middle, settings.currency),
    )


def churn_reasons(
    facts: CustomerFacts, as_of: date, settings: AnalyticsSettings, seen: Engagement
) -> tuple[ChurnReason, ...]:
    reasons = []
    if seen.falling:
        reasons.append(
            ChurnReason(
                FALLING_ENGAGEMENT,
                f"interactions {seen.interactions_last} < {seen.interactions_previous} and "
                f"orders {seen.orders_last} < {seen.orders_previous} {settings.currency} "
                f"in the last {settings.window_days} days vs the {settings.window_days} before",
                f"近 {settings.window_days} 天互动 {seen.interactions_last} 次，少于前 "
                f"{settings.window_days} 天的 {seen.interactions_previous} 次；订单额 "
                f"{seen.orders_last} {settings.currency}，低于前期的 {seen.orders_previous} "
                f"{settings.currency}",
            )
        )
    for complaint in facts.open_complaints(as_of):
        reasons.append(
            ChurnReason(
                OPEN_COMPLAINT,
                f"complaint {complaint.complaint_id} ({complaint.subject}) open since "
                f"{complaint.filed_on}",
                f"投诉 {complaint.complaint_id}（{complaint.subject}）"
                f"自 {complaint.filed_on} 起未解决",
            )
        )
    score = facts.satisfaction(as_of)
    if score is not None and score <= settings.low_satisfaction:
        reasons.append(
            ChurnReason(
                LOW_SATISFACTION,
                f"latest satisfaction {score}/5 (at most {settings.low_satisfaction} is low)",
                f"最近满意度 {score}/5（不高于 {settings.low_satisfaction} 即为低）",
            )
        )
    if facts.flagged(as_of):
        reasons.append(
            ChurnReason(FLAGGED_AT_RISK, "flagged at risk by hand (风险预警)", "人工标记为风险预警")
        )
    return tuple(reasons)
