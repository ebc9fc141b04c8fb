"""Analytics: ABC grades, churn risk, maintenance segments, indicators and reminders.

The analytics view stores dated facts per customer (``facts``); every rule here reads
them as of an explicit date, with explicit ``AnalyticsSettings`` (docs/analytics.md).
"""

from customer_ledger.analytics.analysis import Analytics, CustomerAnalytics, analyse
from customer_ledger.analytics.churn import ChurnReason
from customer_ledger.analytics.indicators import PeriodIndicators, indicators
from customer_ledger.analytics.reminders import DueReminder, ReminderKind, reminders_due
from customer_ledger.analytics.segments import Cadence, Segment
from customer_ledger.analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from customer_ledger.projections.analytics_facts import AnalyticsRecord, CustomerFacts

__all__ = [
    "DEFAULT_SETTINGS",
    "Analytics",
    "AnalyticsRecord",
    "AnalyticsSettings",
    "Cadence",
    "ChurnReason",
    "CustomerAnalytics",
    "CustomerFacts",
    "DueReminder",
    "PeriodIndicators",
    "ReminderKind",
    "Segment",
    "analyse",
    "indicators",
    "reminders_due",
]
