"""The knobs of the analytics rules, passed explicitly so every answer is reproducible.

Defaults follow the source material (docs/analytics.md explains each): ABC cut at 70% /
90% of trailing-12-month revenue, 90-day windows for churn and engagement, a
satisfaction of 2 or less as low, the top 20% of customers as "high value", birthday
and anniversary reminders one month (30 days) ahead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from attrs import Attribute, field, frozen

from customer_ledger.domain.values import CURRENCIES
from customer_ledger.errors import InvalidValue


def _share(value: Any) -> Decimal:
    """A fraction in (0, 1], from a Decimal, int, str or float (read via its repr)."""
    if isinstance(value, bool):
        raise InvalidValue(f"a share must be a number, got {value!r}")
    try:
        share = Decimal(str(value))
    except Exception as error:
        raise InvalidValue(f"a share must be a number, got {value!r}") from error
    if not share.is_finite() or not 0 < share <= 1:
        raise InvalidValue(f"a share must be more than 0 and at most 1, got {value!r}")
    return share


def _positive(instance: Any, attribute: Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise InvalidValue(f"{attribute.name} must be a whole number 1..36500, got {value!r}")


def _score(instance: Any, attribute: Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidValue(f"{attribute.name} must be a satisfaction score 1..5, got {value!r}")


def _currency(value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in CURRENCIES:
        raise InvalidValue(f"currency must be an ISO 4217 code, got {value!r}")
    return value.upper()


@frozen
class AnalyticsSettings:
    """Windows, cut-offs and horizons of the analytics rules (see docs/analytics.md)."""

    currency: str = field(default="CNY", converter=_currency)  # revenue counts this only
    revenue_months: int = field(default=12, validator=_positive)  # ABC: trailing months
    grade_a_share: Decimal = field(default=Decimal("0.70"), converter=_share)
    grade_b_share: Decimal = field(default=Decimal("0.90"), converter=_share)
    window_days: int = field(default=90, validator=_positive)  # churn / rising orders
    engagement_days: int = field(default=90, validator=_positive)  # key: engaged lately
    low_satisfaction: int = field(default=2, validator=_score)  # this or less flags risk
    top_share: Decimal = field(default=Decimal("0.20"), converter=_share)  # indicators
    greeting_days: int = field(default=30, validator=_positive)  # birthdays, anniversaries

    def __attrs_post_init__(self) -> None:
        if self.grade_a_share >= self.grade_b_share:
            raise InvalidValue(
                f"grade_a_share ({self.grade_a_share}) must be below "
                f"grade_b_share ({self.grade_b_share})"
            )


DEFAULT_SETTINGS = AnalyticsSettings()
