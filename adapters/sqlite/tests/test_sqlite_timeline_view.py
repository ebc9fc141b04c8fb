"""SQLiteTimelineView: inserts once per (customer, version), orders by business time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from customer_ledger_sqlite import SQLiteTimelineView, SQLiteViewSet
from eventsourcing.persistence import IntegrityError
from sqlite_samples import APP, SHANGHAI, T0, customer_id, entry, tracking

from customer_ledger.errors import InvalidValue
from customer_ledger.projections.views import TimelineQuery, encode_cursor, utc_key


@pytest.fixture
def view(views: SQLiteViewSet) -> SQLiteTimelineView:
    return views.view("timeline")


def keys(view: SQLiteTimelineView, **query) -> list[tuple[str, int]]:
    found, after = [], None
    while True:
        page = view.entries(TimelineQuery(after=after, **query))
        found += [(e.number, e.version) for e in page.items]
        if page.next_cursor is None:
            return found
        after = page.next_cursor


@pytest.fixture
def sample(view: SQLiteTimelineView) -> SQLiteTimelineView:
    # T0 + 1 day written in Shanghai time (17:00+08:00 is 09:00 UTC): business times
    # compare as instants, whatever their offset, and the offset is kept.
    next_day_in_shanghai = datetime(2024, 1, 2, 17, 0, tzinfo=SHANGHAI)
    assert next_day_in_shanghai == T0 + timedelta(days=1)
    view.save(
        [
            entry("B002", 1, T0),
            entry("A001", 1, T0),  # same instant: number breaks the tie
            entry("A001", 2, T0),  # same instant and number: version does
            entry("A001", 3, T0 + timedelta(days=2), late=True),
            entry("B002", 2, next_day_in_shanghai),
            entry("C003", 1, T0 - timedelta(days=1)),
        ],
        tracking(1),
    )
    return view


def test_entries_read_back_equal_in_business_time_order(sample):
    assert keys(sample) == [
        ("C003", 1), ("A001", 1), ("A001", 2), ("B002", 1), ("B002", 2), ("A001", 3),
    ]  # fmt: skip
    late = sample.entries(TimelineQuery(customer_id=customer_id("A001"))).items[-1]
    assert late == entry("A001", 3, T0 + timedelta(days=2), late=True)
    b002 = sample.entries(TimelineQuery(customer_id=customer_id("B002"))).items[-1]
    assert b002.occurred_at.utcoffset() == timedelta(hours=8)  # the offset is kept


@pytest.mark.parametrize("limit", [1, 2, 4, 6, 200])
def test_pages_continue_strictly_after_the_cursor(sample, limit):
    assert keys(sample, limit=limit) == keys(sample)
    assert keys(sample, customer_id=customer_id("A001"), limit=limit) == [
        ("A001", 1), ("A001", 2), ("A001", 3),
    ]  # fmt: skip


def test_next_cursor_only_when_a_further_entry_exists(sample):
    assert sample.entries(TimelineQuery(limit=6)).next_cursor is None
    page = sample.entries(TimelineQuery(limit=5))
    assert page.next_cursor == TimelineQuery.cursor(utc_key(page.items[-1].occurred_at), "B002", 2)


def test_a_range_is_start_inclusive_end_exclusive_on_instants(sample):
    assert keys(sample, start=T0, end=T0 + timedelta(days=1)) == [
        ("A001", 1), ("A001", 2), ("B002", 1),
    ]  # fmt: skip
    # The same instants written in Shanghai time select the same entries.
    start, end = T0.astimezone(SHANGHAI), (T0 + timedelta(days=1)).astimezone(SHANGHAI)
    assert keys(sample, start=start, end=end) == keys(sample, start=T0, end=T0 + timedelta(days=1))
    assert keys(sample, start=T0 + timedelta(days=1)) == [("B002", 2), ("A001", 3)]
    assert keys(sample, end=T0) == [("C003", 1)]
    assert keys(sample, customer_id=customer_id("B002"), start=T0 + timedelta(seconds=1)) == [
        ("B002", 2)
    ]


def test_an_entry_already_present_is_ignored(view):
    view.save([entry("A001", 1, T0, summary_en="first")], tracking(1))
    view.save([entry("A001", 1, T0, summary_en="again"), entry("A001", 2, T0)], tracking(2))
    assert [e.summary_en for e in view.entries(TimelineQuery()).items] == [
        "first", "event 2 of A001",
    ]  # fmt: skip


def test_numbers_and_latest_versions_come_from_earlier_entries(sample):
    wanted = [customer_id("A001"), customer_id("C003"), customer_id("NONE")]
    assert sample.latest(wanted) == {
        customer_id("A001"): ("A001", 3),
        customer_id("C003"): ("C003", 1),
    }
    assert sample.latest([]) == {}


def test_a_stale_tracking_id_raises_and_inserts_nothing(sample):
    with pytest.raises(IntegrityError):
        sample.save([entry("Z009", 1, T0)], tracking(1))
    assert sample.latest([customer_id("Z009")]) == {}
    assert sample.max_tracking_id(APP) == 1


@pytest.mark.parametrize(
    "cursor",
    ["garbage", encode_cursor("2024", "A001"), encode_cursor("2024", "A001", "1"),
     encode_cursor(1, "A001", 1)],
)  # fmt: skip
def test_a_foreign_cursor_is_an_invalid_value(sample, cursor):
    with pytest.raises(InvalidValue):
        sample.entries(TimelineQuery(after=cursor))
