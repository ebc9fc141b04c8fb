"""Monthly and quarterly indicators, worked out by hand for Q1 2024.

The book: P1, P2, P3 since 2023; P4 a lead of 2024-01-03 who buys on 2024-01-20; P5 a
lead of 2024-02-10; P3 churns on 2024-02-15.

January: customers P1..P4 = 4; calls P1 ×2, P2 ×1 = 3 (0.75 each); P2 complains twice
(1 complaining customer of 4 = 25%); P1's contract expiring 01-20 was renewed, P2's
expiring 01-31 was not, P3's expiring 01-25 had been terminated in December (not
"expiring"): 1 of 2 = 50%; sales ¥5,000 + ¥3,000 + ¥1,000 + ¥1,000 = ¥10,000 by 4
buyers, the top 20% (one, rounded up) bought ¥5,000 = 50%; scores 5 and 2: 3.50; new
lead P4, new customer P4.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import analytics_support as support
import pytest
from analytics_support import buy, customer, d, talk

from customer_ledger import CustomerLedger, InvalidDateRange, InvalidValue
from customer_ledger.analytics import AnalyticsSettings, indicators
from customer_ledger.analytics.dates import periods

pytest_plugins = ("analytics_fixtures",)


def record_q1(ledger: CustomerLedger) -> None:
    for number in ("P1", "P2", "P3"):
        customer(ledger, number, "2023-01-01")
    for number, signed, expires in (
        ("P1", "2023-01-20", "2024-01-20"),
        ("P2", "2023-01-31", "2024-01-31"),
        ("P3", "2023-01-25", "2024-01-25"),
    ):
        ledger.sign_contract(number, contract=f"{number}-1", signed_on=d(signed),
                             expires_on=d(expires))  # fmt: skip
    ledger.terminate_contract("P3", contract="P3-1", occurred_at="2023-12-01")
    ledger.renew_contract(
        "P1", contract="P1-1", expires_on=d("2025-01-20"), occurred_at="2024-01-10"
    )
    customer(ledger, "P4", "2024-01-03")
    talk(ledger, "P1", "2024-01-05", "2024-01-20", "2024-02-05")
    talk(ledger, "P2", "2024-01-10")
    ledger.file_complaint("P2", complaint="c1", subject="late", occurred_at="2024-01-12")
    ledger.file_complaint("P2", complaint="c2", subject="broken", occurred_at="2024-01-15")
    for number, amount in (("P1", "5000"), ("P2", "3000"), ("P3", "1000"), ("P4", "1000")):
        buy(ledger, number, "2024-01-20", amount)
    ledger.rate_satisfaction("P1", score=5, occurred_at="2024-01-25")
    ledger.rate_satisfaction("P2", score=2, occurred_at="2024-01-26")
    customer(ledger, "P5", "2024-02-10")
    ledger.churn("P3", reason="closed", occurred_at="2024-02-15")


def row(p) -> tuple:
    return (
        p.period, p.customers, p.interactions, p.interactions_per_customer, p.complaints,
        p.complaining_customers, p.complaint_rate, p.contracts_expiring, p.contracts_renewed,
        p.renewal_rate, p.revenue, p.buying_customers, p.top_customers, p.top_share,
        p.average_satisfaction, p.new_leads, p.new_customers, p.churned_customers,
    )  # fmt: skip


D = Decimal


q1_store = support.recorded_store(record_q1)


@pytest.fixture
def q1(q1_store: support.RecordedStore) -> Iterator[CustomerLedger]:
    with support.opened(q1_store) as ledger:
        yield ledger


def test_monthly_indicators(q1: CustomerLedger):
    months = q1.indicators("month", start="2024-01-01", end="2024-03-31")
    assert [row(p) for p in months] == [
        ("2024-01", 4, 3, D("0.75"), 2, 1, D("0.2500"), 2, 1, D("0.5000"),
         D(10000), 4, 1, D("0.5000"), D("3.50"), 1, 1, 0),
        # February: P5 joins (5 on the book); P1's one call; P3 churns.
        ("2024-02", 5, 1, D("0.20"), 0, 0, D("0.0000"), 0, 0, None,
         D(0), 0, 0, None, None, 1, 0, 1),
        # March: P3 churned before it began, so 4 on the book; nothing happens.
        ("2024-03", 4, 0, D("0.00"), 0, 0, D("0.0000"), 0, 0, None,
         D(0), 0, 0, None, None, 0, 0, 0),
    ]  # fmt: skip
    assert (months[0].start, months[0].end) == (d("2024-01-01"), d("2024-02-01"))


def test_quarterly_indicators(q1: CustomerLedger):
    """Q1: all five on the book (P3 churned within it); 4 calls; 2 complaints by 1
    customer; 1 of 2 expiring contracts renewed; ¥10,000, top one ¥5,000."""
    [quarter] = q1.indicators("quarter", start="2024-02-15", end="2024-02-15")
    assert row(quarter) == (
        "2024-Q1", 5, 4, D("0.80"), 2, 1, D("0.2000"), 2, 1, D("0.5000"),
        D(10000), 4, 1, D("0.5000"), D("3.50"), 2, 1, 1,
    )  # fmt: skip
    wider = AnalyticsSettings(top_share="0.5")  # the top two: ¥5,000 + ¥3,000
    [quarter] = q1.indicators("quarter", start="2024-01-01", end="2024-03-31", settings=wider)
    assert (quarter.top_customers, quarter.top_revenue, quarter.top_share) == (
        2, D(8000), D("0.8000"),
    )  # fmt: skip


def test_the_domain_notes_customers_by_quarter(sample_on_each_backend: CustomerLedger):
    """2023-Q4: 5 customers; calls A001 10-20 and C003 10-22 (0.40 each); B002's two
    complaints (1 of 5 = 20%); scores A001 4 and B002 2: 3.00. Q3: B002's ¥56,000, and
    two first deals (A001's contract, B002's purchase)."""
    q3, q4 = sample_on_each_backend.indicators("quarter", start="2023-07-01", end="2023-12-31")
    assert (q3.period, q3.customers, q3.revenue, q3.new_customers) == ("2023-Q3", 5, 56000, 2)
    assert (q4.customers, q4.interactions_per_customer, q4.complaints, q4.complaint_rate) == (
        5, D("0.40"), 2, D("0.2000"),
    )  # fmt: skip
    assert q4.average_satisfaction == D("3.00")


def test_periods_cover_every_month_or_quarter_touching_the_range():
    assert [p.label for p in periods("month", d("2023-11-15"), d("2024-02-01"))] == [
        "2023-11", "2023-12", "2024-01", "2024-02",
    ]  # fmt: skip
    assert [p.label for p in periods("quarter", d("2023-12-31"), d("2024-01-01"))] == [
        "2023-Q4", "2024-Q1",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("period", "start", "end", "error"),
    [
        ("week", "2024-01-01", "2024-02-01", InvalidValue),
        ("month", "2024-02-01", "2024-01-01", InvalidDateRange),
        ("month", "2024-13-01", "2024-12-01", InvalidValue),
        ("month", None, "2024-01-01", InvalidValue),
        ("month", "1900-01-01", "2999-12-31", InvalidDateRange),  # 13,200 months
    ],
)
def test_bad_ranges_are_refused(ledger: CustomerLedger, period, start, end, error):
    with pytest.raises(error):
        ledger.indicators(period, start=start, end=end)


def test_no_customers_means_no_rates():
    [p] = indicators([], "month", d("2024-01-01"), d("2024-01-31"))
    assert (p.customers, p.interactions_per_customer, p.complaint_rate, p.top_share) == (
        0, None, None, None,
    )  # fmt: skip
