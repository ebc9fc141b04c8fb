"""Rows and tracking are written together or not at all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from customer_ledger_postgres import PostgresViewSet
from eventsourcing.persistence import DataError, IntegrityError, Tracking
from postgres_view_support import APP, make_profile, record

from customer_ledger.domain.values import Stage
from customer_ledger.projections.views import (
    ProfileQuery,
    StatusRecord,
    StatusRow,
    TimelineEntry,
    TimelineQuery,
)
from customer_ledger.testing import PlainProfiles

pytestmark = pytest.mark.postgres
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def rows_for(kind: str, number: str) -> list[object]:
    profile = make_profile(number)
    if kind == "profile":
        return [record(profile)]
    if kind == "status":
        status = StatusRow(profile.customer_id, number, "n", None, Stage.LEAD, 0, None, None, WHEN)
        return [StatusRecord(status, b"")]
    return [TimelineEntry(profile.customer_id, number, 1, "K", WHEN, WHEN, "me", "e", "z")]


def numbers_in(views: PostgresViewSet, kind: str) -> list[str]:
    if kind == "profile":
        return [p.number for p in PlainProfiles(views.view(kind)).search(ProfileQuery()).items]
    if kind == "status":
        return [r.number for r in views.view(kind).rows()]
    return [e.number for e in views.view(kind).entries(TimelineQuery()).items]


@pytest.mark.parametrize("kind", ["profile", "timeline", "status"])
def test_a_stale_position_raises_and_writes_nothing(views: PostgresViewSet, kind: str) -> None:
    view = views.view(kind)
    view.save(rows_for(kind, "A001"), Tracking(APP, 5))
    for stale in (5, 4):
        with pytest.raises(IntegrityError):
            view.save(rows_for(kind, f"S00{stale}"), Tracking(APP, stale))
    assert numbers_in(views, kind) == ["A001"]
    assert view.max_tracking_id(APP) == 5
    view.save([], Tracking(APP, 6))  # an event with no rows still moves the position
    assert view.max_tracking_id(APP) == 6
    assert view.max_tracking_id("another application") is None


def test_a_failure_half_way_through_writes_nothing(views: PostgresViewSet) -> None:
    view = PlainProfiles(views.view("profile"))
    view.save([record(make_profile("A001"))], Tracking(APP, 1))
    too_rich = make_profile("B002", total_revenue=Decimal("1e30"))  # overflows bigint cents
    batch = [record(make_profile("A001", name="changed")), record(too_rich)]
    with pytest.raises(DataError):
        view.save(batch, Tracking(APP, 2))
    assert view.max_tracking_id(APP) == 1
    assert view.get_by_number("A001").name == "base"
    assert view.get_by_number("B002") is None
    view.save(batch[:1], Tracking(APP, 2))  # the connection is clean for the next save
    assert view.get_by_number("A001").name == "changed"


def test_concurrent_writers_of_one_position_one_wins(
    views: PostgresViewSet, positions: Callable[[], Tracking]
) -> None:
    view = PlainProfiles(views.view("profile"))
    start, outcomes = threading.Barrier(4), []

    def write(i: int) -> None:
        start.wait()
        try:
            view.save([record(make_profile(f"W{i}"))], Tracking(APP, 1))
            outcomes.append("saved")
        except IntegrityError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]
    assert len(view.search(ProfileQuery()).items) == 1
