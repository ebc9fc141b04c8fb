"""Monthly and quarterly indicators (月度 / 季度指标), each from dated facts.

For a period ``[start, end)``:

* **customers** on the books: first contacted before ``end`` and not churned on the
  day before ``start`` (a customer who churns during the period still counts in it);
  every other indicator counts these customers only;
* **interactions per customer**: interactions dated in the period / customers;
* **complaint rate**: customers who filed a complaint in the period / customers
  (``complaints`` counts the complaints themselves);
* **renewal rate**: contract terms expiring in the period that were renewed / contract
  terms expiring in the period (a term ended by termination before its expiry is not
  "expiring"; a renewal counts whenever it was recorded, early or late);
* **top share**: revenue of the top ``top_share`` (default 20%, rounded up, at least
  one) of the customers who bought in the period / the period's revenue;
* **average satisfaction**: mean of the scores given in the period;
* **new customers**: customers whose first deal (first stage ``customer``) falls in the
  period; **new leads**: first contact in the period; **churned**: churned in it.

Rates are Decimals rounded half-up (4 places; 2 for averages), None when the
denominator is zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from attrs import frozen

from customer_ledger.analytics.dates import Period, periods, ratio
from customer_ledger.analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from customer_ledger.domain.values import Stage
from customer_ledger.projections.analytics_facts import CustomerFacts

DEAL_STAGES = (Stage.CUSTOMER, Stage.AT_RISK)


@frozen
class PeriodIndicators:
    period: str  # "2023-10" or "2023-Q4"
    start: date
    end: date  # exclusive
    customers: int
    interactions: int
    interactions_per_customer: Decimal | None
    complaints: int
    complaining_customers: int
    complaint_rate: Decimal | None
    contracts_expiring: int
    contracts_renewed: int
    renewal_rate: Decimal | None
    revenue: Decimal
    buying_customers: int
    top_customers: int
    top_revenue: Decimal
    top_share: Decimal | None
    satisfaction_scores: int
    average_satisfaction: Decimal | None
    new_leads: int
    new_customers: int
    churned_customers: int


def indicators(
    facts: Iterable[CustomerFacts],
    period: str,
    start: date,
    end: date,
    settings: AnalyticsSettings | None = None,
) -> tuple[PeriodIndicators, ...]:
    """One row per month (or quarter) overlapping ``start``..``end`` (inclusive)."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    spans = periods(period, start, end)
    customers = list(facts)
    return tuple(_for_period(customers, p, settings) for p in spans)


def _for_period(
    customers: Sequence[CustomerFacts], p: Period, settings: AnalyticsSettings
) -> PeriodIndicators:
    day_before = p.start - timedelta(days=1)
    book = [
        f
        for f in customers
        if f.first_contact_on < p.end and f.stage(day_before) is not Stage.CHURNED
    ]
    interactions = sum(1 for f in book for i in f.interactions if p.holds(i.on))
    complaints = [(f.number, c) for f in book for c in f.complaints if p.holds(c.filed_on)]
    complaining = {number for number, _ in complaints}
    expiring, renewed = _renewals(book, p)
    amounts = (_revenue(f, p, settings.currency) for f in book)
    revenues = sorted((r for r in amounts if r > 0), reverse=True)
    total = sum(revenues, Decimal(0))
    top = math.ceil(len(revenues) * settings.top_share)
    top_revenue = sum(revenues[:top], Decimal(0))
    scores = [s.score for f in book for s in f.scores if p.holds(s.on)]
    return PeriodIndicators(
        period=p.label,
        start=p.start,
        end=p.end,
        customers=len(book),
        interactions=interactions,
        interactions_per_customer=ratio(interactions, len(book), 2),
        complaints=len(complaints),
        complaining_customers=len(complaining),
        complaint_rate=ratio(len(complaining), len(book)),
        contracts_expiring=expiring,
        contracts_renewed=renewed,
        renewal_rate=ratio(renewed, expiring),
        revenue=total,
        buying_customers=len(revenues),
        top_customers=top,
        top_revenue=top_revenue,
        top_share=ratio(top_revenue, total),
        satisfaction_scores=len(scores),
        average_satisfaction=ratio(sum(scores), len(scores), 2),
        new_leads=sum(p.holds(f.first_contact_on) for f in book),
        new_customers=sum(_first_deal_in(f, p) for f in book),
        churned_customers=sum(
            any(s.stage is Stage.CHURNED and p.holds(s.on) for s in f.stages) for f in book
        ),
    )


def _revenue(facts: CustomerFacts, p: Period, currency: str) -> Decimal:
    return sum(
        (x.amount for x in facts.purchases if x.currency == currency and p.holds(x.on)),
        Decimal(0),
    )


def _renewals(customers: Sequence[CustomerFacts], p: Period) -> tuple[int, int]:
    expiring = renewed = 0
    for f in customers:
        for contract in f.contracts:
            for term in contract.terms:
                if term.expires_on is None or not p.holds(term.expires_on):
                    continue
                ended_early = (
                    term.renewed_on is None
                    and contract.terminated_on is not None
                    and contract.terminated_on < term.expires_on
                )
                if ended_early:
                    continue
                expiring += 1
                renewed += term.renewed_on is not None
    return expiring, renewed


def _first_deal_in(facts: CustomerFacts, p: Period) -> bool:
    first = next((s for s in facts.stages if s.stage in DEAL_STAGES), None)
    return first is not None and p.holds(first.on)
