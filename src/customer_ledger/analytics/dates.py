"""Calendar arithmetic the rules share: months back, anniversaries, reporting periods."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from attrs import frozen

from customer_ledger.errors import InvalidDateRange, InvalidValue

PeriodKind = Literal["month", "quarter"]
PERIOD_KINDS: tuple[str, ...] = ("month", "quarter")
MAX_PERIODS = 1200


def clamped(year: int, month: int, day: int) -> date:
    """That day of the month, or the month's last day when it is shorter (Feb 29 → 28)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return clamped(index // 12, index % 12 + 1, day.day)


def next_yearly(origin: date, on_or_after: date, *, first_year: int = 0) -> tuple[date, int]:
    """The next recurrence of ``origin``'s month and day on or after ``on_or_after``, and
    how many years after ``origin`` it falls (at least ``first_year``)."""
    year = max(on_or_after.year, origin.year + first_year)
    day = clamped(year, origin.month, origin.day)
    if day < on_or_after:
        year += 1
        day = clamped(year, origin.month, origin.day)
    return day, year - origin.year


@frozen
class Period:
    """A calendar month or quarter: ``start`` inclusive, ``end`` exclusive."""

    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}-{self.start.month:02d}"

    def holds(self, day: date) -> bool:
        return self.start <= day < self.end


def periods(kind: str, start: date, end: date) -> list[Period]:
    """Every month (or quarter) that overlaps ``start``..``end`` (both inclusive)."""
    if kind not in PERIOD_KINDS:
        raise InvalidValue(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, date):
            raise InvalidValue(f"{name} must be a date, got {value!r}")
    if end < start:
        raise InvalidDateRange(f"end {end} is before start {start}")
    step = 3 if kind == "quarter" else 1
    month = (start.month - 1) // step * step + 1
    first = date(start.year, month, 1)
    found: list[Period] = []
    while first <= end:
        index = first.year * 12 + first.month - 1 + step
        following = date(index // 12, index % 12 + 1, 1)
        found.append(Period(kind, first, following))
        if len(found) > MAX_PERIODS:
            raise InvalidDateRange(f"more than {MAX_PERIODS} periods from {start} to {end}")
        first = following
    return found


def ratio(part: int | Decimal, whole: int | Decimal, places: int = 4) -> Decimal | None:
    """``part / whole`` rounded half-up to ``places`` decimals; None when ``whole`` is 0."""
    if not whole:
        return None
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(part) / Decimal(whole)).quantize(quantum, rounding=ROUND_HALF_UP)


def business_date(ledger: Any, value: object, what: str = "as_of") -> date:
    """A caller's date (a date, datetime or ISO text) as a business date in the ledger's
    time zone. Required: the rules are computed as of an explicit date."""
    if value is None:
        raise InvalidValue(f"{what} is required: the rules are computed as of a given date")
    if not isinstance(value, (str, date)):  # a datetime is a date
        raise InvalidValue(f"{what} must be a date, got {value!r}")
    moment = ledger.business_time(value)
    return moment.astimezone(ledger.timezone).date()  # type: ignore[no-any-return]
