"""The benchmark's history keeps its density as it grows (issue 17).

A longer generated history is a longer calendar, not a busier one: from 100k events up,
events per day and the customers active in a month stay as they are at 100k, so
comparing a 100k and a 1M benchmark measures the log's length alone.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from benchmarks.history import END, START, lines


def density(events: int) -> tuple[float, float, datetime]:
    """Events per day, distinct customers per 30-day month, and the first moment."""
    months: defaultdict[int, set[str]] = defaultdict(set)
    first = last = None
    count = 0
    for line in lines(events):
        at = datetime.fromisoformat(line["occurred_at"])
        first = first or at
        last = at
        months[at.toordinal() // 30].add(line["customer"])
        count += 1
    assert first is not None and last is not None
    inner = sorted(months)[2:-6]  # the ramps at either end aside
    active = sum(len(months[m]) for m in inner) / len(inner)
    return count / (last - first).days, active, first


def test_a_history_three_times_as_long_is_as_dense_over_three_times_the_calendar() -> None:
    per_day, active, first = density(100_000)
    longer_per_day, longer_active, longer_first = density(300_000)
    assert first.year == START.year  # up to 100k: the 2016-2024 calendar, as before
    assert abs(longer_per_day / per_day - 1) < 0.1
    assert abs(longer_active / active - 1) < 0.15
    assert abs((END - longer_first) / (END - first) - 3) < 0.3


def test_every_event_falls_inside_the_calendar_and_before_the_rules_now() -> None:
    for line in lines(250_000):
        at = datetime.fromisoformat(line["occurred_at"])
        assert at.year >= 1990 and at <= END
