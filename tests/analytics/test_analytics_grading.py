"""ABC grading: trailing-12-month revenue, ranked, cut at cumulative shares; a grade set by
hand overrides the computed one and both are shown.

Hand-computed examples, the domain notes' customers among them, on every backend; then
properties of the cut for any revenues and cut-offs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from analytics_support import buy, customer
from hypothesis import given
from hypothesis import strategies as st

from customer_ledger import CustomerLedger, Grade, InvalidValue
from customer_ledger.analytics import AnalyticsSettings
from customer_ledger.analytics.grading import abc

pytest_plugins = ("analytics_fixtures",)

A, B, C = Grade.A, Grade.B, Grade.C


def test_the_domain_notes_hand_grades_are_kept_apart_from_the_computed_ones(
    sample_on_each_backend: CustomerLedger,
):
    """As of 2023-10-31 the trailing year is (2022-10-31, 2023-10-31]: B002 bought ¥56,000,
    李四 (W002) ¥2,000, 张三 (W001) ¥1,000; total ¥59,000, so A holds the first 70%
    (¥41,300) and B the first 90% (¥53,100). B002 alone passes both lines: it is A, and
    everyone after it is C. 张三 was graded A by hand and 李四 B: both stay C as computed.
    """
    result = sample_on_each_backend.analytics("2023-10-31")
    rows = {
        c.number: (c.revenue, c.rank, c.cumulative_share, c.computed_grade, c.manual_grade, c.grade)
        for c in result.customers
    }
    assert rows == {
        "A001": (Decimal(0), None, None, C, None, C),
        "B002": (Decimal(56000), 1, Decimal("0.9492"), A, None, A),
        "C003": (Decimal(0), None, None, C, None, C),
        "W001": (Decimal(1000), 3, Decimal("1.0000"), C, A, A),  # 张三: A by hand
        "W002": (Decimal(2000), 2, Decimal("0.9831"), C, B, B),  # 李四: B by hand
    }
    assert result.customer("W001").grade_is_manual
    assert result.total_revenue == Decimal(59000)
    assert result.a_share == Decimal("0.9492")
    assert result.grade_counts() == {
        "computed": {A: 1, B: 0, C: 4},
        "manual": {A: 1, B: 1, C: 0},
        "effective": {A: 2, B: 1, C: 2},
    }


def test_revenue_counts_the_trailing_twelve_months_up_to_and_including_as_of(
    sample_on_each_backend: CustomerLedger,
):
    """张三 bought on 2022-12-01: inside (2022-11-30, 2023-11-30], outside
    (2022-12-01, 2023-12-01]. A later date forgets old revenue; an earlier one does not
    see revenue that came after it (the 2024 leads do not exist yet in 2023)."""
    ledger = sample_on_each_backend
    assert ledger.analytics("2023-11-30").customer("W001").revenue == 1000
    assert ledger.analytics("2023-12-01").customer("W001").revenue == 0
    as_of_june = ledger.analytics("2024-06-01")
    revenue = {c.number: c.revenue for c in as_of_june.customers if c.revenue}
    assert revenue == {"B002": 56000, "L005": 500, "L010": 1000}
    assert {c.number for c in as_of_june.customers if c.computed_grade is A} == {"B002"}
    assert len(ledger.analytics("2023-10-31").customers) == 5  # leads came in 2024


def test_cut_offs_are_settings_and_other_currencies_do_not_count(
    on_each_backend: CustomerLedger,
):
    """Revenues 50, 30, 15, 5 (of 100). Default 70/90: K1 A (0 before it), K2 A (50 <
    70), K3 B (80 < 90), K4 C (95). With 50/80: K1 A, K2 B (50 is not below 50), K3 C
    (80 is not below 80), K4 C. K5's USD purchase is not CNY revenue."""
    ledger = on_each_backend
    for number, amount in (("K1", "50"), ("K2", "30"), ("K3", "15"), ("K4", "5")):
        customer(ledger, number, "2024-01-01")
        buy(ledger, number, "2024-02-01", amount)
    customer(ledger, "K5", "2024-01-01")
    buy(ledger, "K5", "2024-02-01", "1000", currency="USD")

    def grades(settings: AnalyticsSettings | None = None) -> dict[str, Grade]:
        result = ledger.analytics("2024-06-30", settings)
        return {c.number: c.computed_grade for c in result.customers}

    assert grades() == {"K1": A, "K2": A, "K3": B, "K4": C, "K5": C}
    assert grades(AnalyticsSettings(grade_a_share="0.5", grade_b_share="0.8")) == {
        "K1": A, "K2": B, "K3": C, "K4": C, "K5": C,
    }  # fmt: skip
    assert grades(AnalyticsSettings(currency="USD")) == {
        "K1": C, "K2": C, "K3": C, "K4": C, "K5": A,
    }  # fmt: skip
    assert grades(AnalyticsSettings(revenue_months=3)) == dict.fromkeys(
        ["K1", "K2", "K3", "K4", "K5"], C
    )  # 2024-02-01 is outside (2024-03-30, 2024-06-30]


def test_equal_revenue_is_ranked_by_customer_number():
    revenues = {"X2": Decimal(50), "X1": Decimal(50)}
    ranked = abc(revenues, AnalyticsSettings(grade_a_share="0.5", grade_b_share="0.9"))
    assert (ranked["X1"].rank, ranked["X1"].grade) == (1, A)
    assert (ranked["X2"].rank, ranked["X2"].grade) == (2, B)


@pytest.mark.parametrize(
    ("settings", "rule"),
    [
        ({"grade_a_share": "0.9", "grade_b_share": "0.7"}, "invalid_value"),
        ({"grade_a_share": "0"}, "invalid_value"),
        ({"grade_b_share": "1.5"}, "invalid_value"),
        ({"grade_a_share": "lots"}, "invalid_value"),
        ({"revenue_months": 0}, "invalid_value"),
        ({"window_days": True}, "invalid_value"),
        ({"low_satisfaction": 6}, "invalid_value"),
        ({"currency": "XXX"}, "invalid_value"),
    ],
)
def test_bad_settings_are_refused_with_the_rule_they_break(settings, rule):
    with pytest.raises(InvalidValue) as error:
        AnalyticsSettings(**settings)
    assert error.value.rule == rule


def test_as_of_must_be_given_as_a_date(ledger: CustomerLedger):
    with pytest.raises(InvalidValue, match="required"):
        ledger.analytics(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue):
        ledger.analytics("2024-02-30")
    with pytest.raises(InvalidValue):
        ledger.analytics(20240101)  # type: ignore[arg-type]


# -- properties of the cut --------------------------------------------------------------

revenue_maps = st.dictionaries(
    st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    max_size=30,
)
cut_offs = (
    st.tuples(st.integers(1, 99), st.integers(1, 100))
    .filter(lambda ab: ab[0] < ab[1])
    .map(lambda ab: AnalyticsSettings(grade_a_share=ab[0] / 100, grade_b_share=ab[1] / 100))
)


@given(revenues=revenue_maps, settings=cut_offs)
def test_the_a_set_is_the_smallest_top_group_reaching_the_first_cut_off(revenues, settings):
    ranked = abc(revenues, settings)
    total = sum(revenues.values(), Decimal(0))
    for grades, share in (({A}, settings.grade_a_share), ({A, B}, settings.grade_b_share)):
        top = sorted((r.revenue for r in ranked.values() if r.grade in grades), reverse=True)
        if total == 0:
            assert not top
            continue
        assert sum(top) >= share * total
        assert sum(top[:-1]) < share * total  # without its smallest member it falls short


@given(revenues=revenue_maps, settings=cut_offs)
def test_grades_never_get_worse_as_revenue_grows(revenues, settings):
    ranked = abc(revenues, settings)
    order = {A: 0, B: 1, C: 2}
    for x in ranked.values():
        for y in ranked.values():
            if x.revenue > y.revenue:
                assert order[x.grade] <= order[y.grade]
    assert all(r.grade is C and r.rank is None for r in ranked.values() if r.revenue == 0)
    ranks = sorted(r.rank for r in ranked.values() if r.rank is not None)
    assert ranks == list(range(1, len(ranks) + 1))
