"""What the report shows, gathered from the ledger as of one date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from attrs import frozen

from customer_ledger.analytics import (
    Analytics,
    AnalyticsSettings,
    DueReminder,
    PeriodIndicators,
    analyse,
    indicators,
    reminders_due,
)
from customer_ledger.analytics.dates import months_before
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.access import Actor

MONTHS = 12  # revenue by month and the monthly indicators: the trailing year
QUARTERS = 4
Step = Callable[[str], None]  # told each step's name as it starts


@frozen
class ReportData:
    as_of: date
    analytics: Analytics
    monthly: tuple[PeriodIndicators, ...]
    quarterly: tuple[PeriodIndicators, ...]
    reminders: tuple[DueReminder, ...]
    within_days: int


STEPS = ("catching up views", "reading facts", "analysing", "indicators", "reminders")


def gather(
    ledger: CustomerLedger,
    as_of: date,
    *,
    settings: AnalyticsSettings | None = None,
    within_days: int = 30,
    step: Step | None = None,
    actor: Actor | str | None = None,
) -> ReportData:
    """Everything the report needs; ``step`` hears each of ``STEPS`` as it starts."""
    tell = step or (lambda _: None)
    tell(STEPS[0])
    ledger.refresh()
    tell(STEPS[1])
    facts = ledger.analytics_facts(actor=actor)
    tell(STEPS[2])
    analytics = analyse(facts, as_of, settings)
    tell(STEPS[3])
    first_month = months_before(as_of, MONTHS - 1).replace(day=1)
    monthly = indicators(facts, "month", first_month, as_of, settings)
    first_quarter = months_before(as_of, 3 * (QUARTERS - 1)).replace(day=1)
    quarterly = indicators(facts, "quarter", first_quarter, as_of, settings)
    tell(STEPS[4])
    due = reminders_due(facts, as_of, within_days, settings=settings)
    return ReportData(as_of, analytics, monthly, quarterly, tuple(due), within_days)
