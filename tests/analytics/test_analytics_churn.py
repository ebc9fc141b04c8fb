"""Churn risk with its reasons, and the maintenance segment (with its contact cadence).

As of 2024-06-30 with 90-day windows, the last window is (2024-04-01, 2024-06-30] and
the one before it (2024-01-02, 2024-04-01]. Every expected value below is worked out
by hand from the commands in the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import analytics_support as support
import pytest
from analytics_support import buy, customer, talk

from customer_ledger import CustomerLedger, Needs
from customer_ledger.analytics import AnalyticsSettings, Cadence, Segment

pytest_plugins = ("analytics_fixtures",)

AS_OF = "2024-06-30"


def reasons(ledger: CustomerLedger, number: str, as_of: str = AS_OF, **settings) -> list[str]:
    result = ledger.analytics(as_of, AnalyticsSettings(**settings) if settings else None)
    return [r.rule for r in result.customer(number).churn_reasons]


def test_falling_interactions_and_falling_orders_together_flag_risk(
    on_each_backend: CustomerLedger,
):
    """F: 3 calls and ¥5,000 in the previous window, 1 call and ¥1,000 in the last: both
    fall. G: calls fall (2 → 1) but orders rise (¥1,000 → ¥2,000): no risk. H: orders
    fall (¥3,000 → 0) but calls rise (0 → 1): no risk."""
    ledger = on_each_backend
    for number in ("F", "G", "H"):
        customer(ledger, number, "2023-12-01")
    talk(ledger, "F", "2024-01-15", "2024-02-15", "2024-03-15", "2024-05-15")
    buy(ledger, "F", "2024-02-01", "3000")
    buy(ledger, "F", "2024-03-01", "2000")
    buy(ledger, "F", "2024-05-01", "1000")
    talk(ledger, "G", "2024-02-10", "2024-03-10", "2024-05-10")
    buy(ledger, "G", "2024-02-10", "1000")
    buy(ledger, "G", "2024-05-10", "2000")
    buy(ledger, "H", "2024-02-10", "3000")
    talk(ledger, "H", "2024-06-01")

    result = ledger.analytics(AS_OF)
    f = result.customer("F")
    assert (f.interactions_last, f.interactions_previous) == (1, 3)
    assert (f.orders_last, f.orders_previous) == (Decimal(1000), Decimal(5000))
    assert f.churn_risk
    [reason] = f.churn_reasons
    assert reason.rule == "falling_engagement"
    assert reason.detail == (
        "interactions 1 < 3 and orders 1000 < 5000 CNY in the last 90 days vs the 90 before"
    )
    assert reason.label_zh == "互动与订单双降"
    assert not result.customer("G").churn_risk
    assert not result.customer("H").churn_risk
    assert [c.number for c in result.at_risk()] == ["F"]
    # a 30-day window sees other numbers: F's last window (05-31, 06-30] has no call
    # and no order, the one before (05-01, 05-31] one call and no order: orders do not fall.
    assert reasons(ledger, "F", window_days=30) == []


def test_an_open_complaint_flags_risk_until_it_is_resolved(on_each_backend: CustomerLedger):
    ledger = on_each_backend
    customer(ledger, "K", "2024-01-01")
    ledger.file_complaint("K", complaint="K-1", subject="late delivery", occurred_at="2024-06-10")
    ledger.resolve_complaint("K", complaint="K-1", resolution="re-sent", occurred_at="2024-06-20")
    assert reasons(ledger, "K", "2024-06-09") == []  # not filed yet
    assert reasons(ledger, "K", "2024-06-10") == ["open_complaint"]
    detail = ledger.analytics("2024-06-19").customer("K").churn_reasons[0].detail
    assert detail == "complaint K-1 (late delivery) open since 2024-06-10"
    assert reasons(ledger, "K", "2024-06-20") == []  # resolved that day


def test_the_latest_satisfaction_at_or_below_two_flags_risk(on_each_backend: CustomerLedger):
    ledger = on_each_backend
    customer(ledger, "S", "2024-01-01")
    ledger.rate_satisfaction("S", score=2, occurred_at="2024-05-01")
    ledger.rate_satisfaction("S", score=3, occurred_at="2024-06-15")
    assert reasons(ledger, "S", "2024-04-30") == []
    assert reasons(ledger, "S", "2024-06-14") == ["low_satisfaction"]
    assert reasons(ledger, "S", "2024-06-15") == []  # 3 is not low by default...
    assert reasons(ledger, "S", "2024-06-15", low_satisfaction=3) == ["low_satisfaction"]


def test_the_domain_notes_b002_as_of_three_dates(sample_on_each_backend: CustomerLedger):
    """B002: complaint K-1 filed 2023-10-10, resolved 2023-10-16 with satisfaction 2;
    K-2 filed 2023-10-18 and still open."""
    ledger = sample_on_each_backend
    assert reasons(ledger, "B002", "2023-10-12") == ["open_complaint"]
    assert reasons(ledger, "B002", "2023-10-17") == ["low_satisfaction"]
    assert reasons(ledger, "B002", "2023-10-31") == ["open_complaint", "low_satisfaction"]
    b002 = ledger.analytics("2023-10-31").customer("B002")
    assert (b002.open_complaints, b002.last_satisfaction) == (1, 2)
    assert (b002.segment, b002.cadence) == (Segment.RISK_WARNING, Cadence.WEEKLY)


def test_a_churned_customer_is_lost_not_at_risk(on_each_backend: CustomerLedger):
    ledger = on_each_backend
    customer(ledger, "X", "2024-01-01")
    buy(ledger, "X", "2024-01-10", "500")
    ledger.rate_satisfaction("X", score=1, occurred_at="2024-02-01")
    ledger.churn("X", reason="moved to a competitor", occurred_at="2024-03-01")
    before, after = ledger.analytics("2024-02-15"), ledger.analytics("2024-03-01")
    assert before.customer("X").churn_risk
    assert (before.customer("X").segment, before.customer("X").cadence) == (
        Segment.RISK_WARNING, Cadence.WEEKLY,
    )  # fmt: skip
    x = after.customer("X")
    assert (x.stage.value, x.churn_risk, x.segment, x.cadence) == (
        "churned",
        False,
        Segment.LOST,
        None,
    )


def test_a_hand_set_risk_warning_is_a_reason_until_cleared(on_each_backend: CustomerLedger):
    ledger = on_each_backend
    customer(ledger, "R", "2024-01-01")
    ledger.set_stage_on_import("R", stage="at_risk", row="R,风险预警", occurred_at="2024-02-01")
    ledger.clear_risk_flag("R", occurred_at="2024-03-01")
    assert reasons(ledger, "R", "2024-01-31") == []
    assert reasons(ledger, "R", "2024-02-01") == ["flagged_at_risk"]
    assert reasons(ledger, "R", "2024-03-01") == []


def record_segments(ledger: CustomerLedger) -> None:
    """Revenue (2023-06-30, 2024-06-30]: K ¥60,000, R ¥30,000, B ¥12,000 (total ¥102,000;
    70% = ¥71,400, 90% = ¥91,800): K is A (0 before it), R is A (60,000 < 71,400), B is
    B (90,000 < 91,800); everyone else C."""
    for number in ("K", "R", "B", "Q", "M", "U", "L"):
        customer(ledger, number, "2023-12-01")
    buy(ledger, "K", "2024-05-10", "60000")
    talk(ledger, "K", "2024-06-01")  # A and engaged: key
    buy(ledger, "R", "2024-02-10", "30000")
    talk(ledger, "R", "2024-06-15")  # A and engaged, but...
    ledger.file_complaint("R", complaint="R-1", subject="wrong invoice", occurred_at="2024-06-20")
    buy(ledger, "B", "2024-03-01", "4000")
    buy(ledger, "B", "2024-05-01", "8000")  # B with orders rising 4,000 -> 8,000
    ledger.assign_grade("Q", grade="A", occurred_at="2024-01-05")
    talk(ledger, "Q", "2024-01-05")  # A by hand, but quiet for 90 days
    ledger.assign_grade("M", grade="A", occurred_at="2024-01-05")
    talk(ledger, "M", "2024-06-10")  # A by hand and engaged: key
    ledger.record_needs("U", needs=Needs(upsell_intention=True), occurred_at="2024-04-15")
    talk(ledger, "L", "2024-01-10")
    ledger.churn("L", reason="closed down", occurred_at="2024-05-01")


segments_store = support.recorded_store(record_segments)


@pytest.fixture
def segments(segments_store: support.RecordedStore) -> Iterator[CustomerLedger]:
    with support.opened(segments_store) as ledger:
        yield ledger


def test_each_customer_gets_one_segment_by_precedence(segments: CustomerLedger):
    result = segments.analytics(AS_OF)
    table = {c.number: (c.grade.value, c.segment, c.cadence) for c in result.customers}
    assert table == {
        "B": ("B", Segment.POTENTIAL, Cadence.QUARTERLY),
        "K": ("A", Segment.KEY, Cadence.MONTHLY),
        "L": ("C", Segment.LOST, None),
        "M": ("A", Segment.KEY, Cadence.MONTHLY),
        "Q": ("A", None, None),
        "R": ("A", Segment.RISK_WARNING, Cadence.WEEKLY),  # risk before key
        "U": ("C", Segment.POTENTIAL, Cadence.QUARTERLY),
    }
    assert result.customer("B").segment_reason == "grade B, orders rising (4000 → 8000 CNY)"
    assert result.customer("U").segment_reason == "upsell / renewal intention recorded"
    assert result.customer("M").grade_is_manual
    assert result.segment_counts() == {
        Segment.LOST: 1, Segment.RISK_WARNING: 1, Segment.KEY: 2, Segment.POTENTIAL: 2, None: 1,
    }  # fmt: skip


def test_segments_move_with_the_date(segments: CustomerLedger):
    """On 2024-06-19 R's complaint is not filed yet: R is key. On 2024-04-14 U has stated
    no intention yet. Three months on, K has neither called nor ordered in the last 90
    days after a call and ¥60,000 in the 90 before: the key customer is now at risk."""
    ledger = segments
    assert ledger.analytics("2024-06-19").customer("R").segment is Segment.KEY
    assert ledger.analytics("2024-04-14").customer("U").segment is None
    quiet = ledger.analytics("2024-09-30").customer("K")  # (07-02, 09-30]: nothing
    assert (quiet.segment, [r.rule for r in quiet.churn_reasons]) == (
        Segment.RISK_WARNING, ["falling_engagement"],
    )  # fmt: skip
    quick = AnalyticsSettings(engagement_days=10)
    assert ledger.analytics(AS_OF, quick).customer("K").segment is None  # 06-01 is 29 days back


@pytest.mark.parametrize("as_of", ["2023-10-31", "2024-06-01"])
def test_segments_of_the_domain_notes_customers(sample_on_each_backend: CustomerLedger, as_of):
    result = sample_on_each_backend.analytics(as_of)
    segments = {c.number: c.segment for c in result.customers if c.segment is not None}
    if as_of == "2023-10-31":
        assert segments == {"B002": Segment.RISK_WARNING}
    else:  # 李四 churned in January; the leads L004, L008, L012 and L005, L010 are quiet C
        assert segments == {"B002": Segment.RISK_WARNING, "W002": Segment.LOST}
