"""eventsourcing's ProjectionRunner on these views, woken by LISTEN/NOTIFY."""

from __future__ import annotations

import time
from typing import Any

import pytest
from customer_ledger_postgres import PostgresAdapter, PostgresTimelineView, PostgresViewSet
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection, ProjectionRunner

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.projections.projectors import PROJECTIONS
from customer_ledger.projections.views import TimelineEntry, TimelineQuery
from customer_ledger.storage.urls import StoreURL

pytestmark = pytest.mark.postgres


class EventKinds(Projection[PostgresTimelineView]):
    """A trivial projection of our own: one entry per customer event, named by kind."""

    name = "event_kinds"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        entries = []
        if isinstance(domain_event, Customer.Event):
            entries.append(
                TimelineEntry(
                    customer_id=domain_event.originator_id,
                    number=getattr(domain_event, "number", "?"),
                    version=domain_event.originator_version,
                    kind=type(domain_event).__name__,
                    occurred_at=domain_event.occurred_at,
                    recorded_at=domain_event.timestamp,
                    actor=domain_event.meta.actor,
                    summary_en="",
                    summary_zh="",
                )
            )
        self.view.save(entries, tracking)  # tracking even without rows, or waits time out


def app_env(store_url: str) -> dict[str, str]:
    return PostgresAdapter().application_env(StoreURL.parse(store_url))


def wait_for(view: Any, position: int, timeout: float = 5.0) -> float:
    """Seconds until the view has processed ``position`` (polled every 2 ms)."""
    started = time.perf_counter()
    while (view.max_tracking_id("CustomerLedger") or 0) < position:
        assert time.perf_counter() - started < timeout, "the runner was not woken"
        time.sleep(0.002)
    return time.perf_counter() - started


def test_a_projection_of_our_own_runs_on_a_bound_view_class(store_url: str) -> None:
    ledger = CustomerLedger.open(store_url)
    ledger.eager_views = False  # only the runner writes views here
    try:
        ledger.first_contact("A001", name="before the runner", type="company")
        runner = ProjectionRunner(
            application_class=CustomerLedger,
            projection_class=EventKinds,
            view_class=PostgresTimelineView.bound("kinds"),  # its own tables
            env=app_env(store_url),
        )
        with runner:
            wait_for(runner.view, ledger.recorder.max_notification_id())  # the backlog
            ledger.tag("A001", tag="vip")
            latency = wait_for(runner.view, ledger.recorder.max_notification_id())
            runner.wait(ledger.recorder.max_notification_id(), timeout=1)
        assert latency < 1.0  # pushed by NOTIFY (the subscription never polls)
        entries = runner.view.entries(TimelineQuery()).items
        assert [e.kind for e in entries] == ["FirstContacted", "Tagged"]
        with PostgresViewSet.from_url(store_url) as views:
            kinds = views.view("timeline", "kinds")
            assert kinds.entries(TimelineQuery()).items == entries
            assert views.view("timeline").entries(TimelineQuery()).items == ()
    finally:
        ledger.close()


def test_the_ledgers_projections_follow_with_the_runner_view_classes(store_url: str) -> None:
    ledger = CustomerLedger.open(store_url)
    ledger.eager_views = False
    views = PostgresViewSet.from_url(store_url)
    try:
        runner = ProjectionRunner(
            application_class=CustomerLedger,
            projection_class=PROJECTIONS["profile"].bound(ledger.personal),
            view_class=views.runner_view_class("profile"),
            env=app_env(store_url),
        )
        with runner:
            ledger.first_contact("A001", name="张三", type="individual")
            ledger.log_interaction("A001", channel="phone", topic="hello")
            runner.wait(ledger.recorder.max_notification_id(), timeout=5)
        profile = ledger.open_profile(views.view("profile").get_by_number("A001"))
        assert (profile.name, profile.interaction_count) == ("张三", 1)
        restarted = ProjectionRunner(  # resumes after its tracked position
            application_class=CustomerLedger,
            projection_class=PROJECTIONS["profile"].bound(ledger.personal),
            view_class=views.runner_view_class("profile"),
            env=app_env(store_url),
        )
        with restarted:
            ledger.tag("A001", tag="vip")
            restarted.wait(ledger.recorder.max_notification_id(), timeout=5)
        assert ledger.open_profile(views.view("profile").get_by_number("A001")).tags == ("vip",)
    finally:
        views.close()
        ledger.close()
