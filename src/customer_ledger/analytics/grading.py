"""ABC grading by value: rank customers by revenue, cut at cumulative shares.

The classic split: customers ranked by trailing revenue, highest first (ties by
customer number, so the ranking is total and reproducible). A customer is **A** while
the revenue of those ranked above it is still below ``grade_a_share`` of the total
(so the A set is the smallest top group holding at least that share), **B** while
it is below ``grade_b_share``, else **C**. Customers without revenue are C.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from attrs import frozen

from customer_ledger.analytics.dates import months_before, ratio
from customer_ledger.analytics.settings import AnalyticsSettings
from customer_ledger.domain.values import Grade
from customer_ledger.projections.analytics_facts import CustomerFacts, within


@frozen
class Ranking:
    """One customer's place in the ABC ranking."""

    revenue: Decimal
    grade: Grade
    rank: int | None  # 1 = highest revenue; None without revenue
    cumulative_share: Decimal | None  # share of total revenue of ranks 1..rank


def revenue_window(as_of: date, settings: AnalyticsSettings) -> tuple[date, date]:
    """``(start, end]``: the trailing ``revenue_months`` ending on ``as_of``."""
    return months_before(as_of, settings.revenue_months), as_of


def revenue(facts: CustomerFacts, start: date, end: date, currency: str) -> Decimal:
    """Purchases in ``currency`` dated in ``(start, end]``."""
    return sum(
        (p.amount for p in within(facts.purchases, start, end) if p.currency == currency),
        Decimal(0),
    )


def trailing_revenue(
    facts: Iterable[CustomerFacts], as_of: date, settings: AnalyticsSettings
) -> dict[str, Decimal]:
    start, end = revenue_window(as_of, settings)
    return {f.number: revenue(f, start, end, settings.currency) for f in facts}


def abc(revenues: Mapping[str, Decimal], settings: AnalyticsSettings) -> dict[str, Ranking]:
    """The ABC ranking of customers (by number) from their revenue."""
    ranked = sorted(
        ((number, amount) for number, amount in revenues.items() if amount > 0),
        key=lambda item: (-item[1], item[0]),
    )
    total = sum((amount for _, amount in ranked), Decimal(0))
    a_line, b_line = settings.grade_a_share * total, settings.grade_b_share * total
    result: dict[str, Ranking] = {}
    before = Decimal(0)
    for rank, (number, amount) in enumerate(ranked, start=1):
        grade = Grade.A if before < a_line else Grade.B if before < b_line else Grade.C
        before += amount
        result[number] = Ranking(amount, grade, rank, ratio(before, total))
    for number, amount in revenues.items():
        if number not in result:
            result[number] = Ranking(amount, Grade.C, None, None)
    return result
