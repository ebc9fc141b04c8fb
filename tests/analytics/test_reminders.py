"""Reminders due as of a date: contract expiries within N days, birthdays and cooperation
anniversaries one month ahead, planned follow-ups and scheduled reminders (overdue ones
too). As of 2024-06-01 with the default 30 days, everything up to 2024-07-01 shows.
"""

from __future__ import annotations

from collections.abc import Iterator

import analytics_support as support
import pytest
from analytics_support import buy, customer, d, talk

from customer_ledger import Contact, CustomerLedger, InvalidValue
from customer_ledger.analytics.dates import next_yearly
from customer_ledger.analytics.reminders import _ordinal

pytest_plugins = ("analytics_fixtures",)
ANNIVERSARY = "anniversary of cooperation"


def contract(ledger: CustomerLedger, number: str, ref: str, expires: str) -> None:
    ledger.sign_contract(number, contract=ref, signed_on=d("2023-03-01"), expires_on=d(expires))


def record_due(ledger: CustomerLedger) -> None:
    for number in ("T1", "T2", "T3", "T4", "T5", "T6", "T8"):
        customer(ledger, number, "2023-01-01")
    customer(ledger, "T7", "2023-01-01", owner="*主管")
    contract(ledger, "T1", "T1-A", "2024-06-20")  # in 19 days
    contract(ledger, "T1", "T1-B", "2024-07-02")  # in 31 days: not yet
    contract(ledger, "T2", "T2-A", "2024-06-10")
    ledger.renew_contract(
        "T2", contract="T2-A", expires_on=d("2025-06-10"), occurred_at="2024-05-20"
    )
    contract(ledger, "T3", "T3-A", "2024-06-15")
    ledger.terminate_contract("T3", contract="T3-A", occurred_at="2024-05-01")
    buy(ledger, "T4", "2023-06-15", "800")  # cooperating since 2023-06-15
    for ref, born in (("c1", "1990-06-25"), ("c2", "1985-07-05"), ("c3", "1990-05-20")):
        contact = Contact(ref, f"联系人{ref}", birthday=d(born))
        ledger.add_contact("T5", contact=contact, occurred_at="2024-01-01")
    talk(ledger, "T6", "2024-05-01")
    for day, due, plan in (
        ("2024-05-01", "2024-05-10", "call back"),  # done: T6 was called on 05-20
        ("2024-05-20", "2024-05-28", "send quote"),  # nobody called since: overdue
        ("2024-05-25", "2024-06-10", "product demo"),
    ):
        ledger.log_interaction(
            "T6", channel="phone", topic="visit", follow_up=plan, follow_up_on=d(due),
            occurred_at=day,
        )  # fmt: skip
    for ref, due in (("R1", "2024-05-30"), ("R2", "2024-06-05"), ("R3", "2024-07-15")):
        ledger.schedule_reminder(
            "T7", reminder=ref, subject=f"reminder {ref}", due_on=d(due), occurred_at="2024-05-01"
        )
    ledger.complete_reminder("T7", reminder="R2", occurred_at="2024-05-31")
    ledger.add_contact(
        "T8", contact=Contact("c1", "老客户", birthday=d("1990-06-05")), occurred_at="2024-01-01"
    )
    ledger.churn("T8", reason="closed", occurred_at="2024-05-01")
    ledger.schedule_reminder(
        "T8",
        reminder="R",
        subject="win-back call",
        due_on=d("2024-06-03"),
        occurred_at="2024-05-02",
    )


def summary(reminders) -> list[tuple]:
    return [(r.due_on.isoformat(), r.days, r.kind.value, r.number, r.subject) for r in reminders]


due_store = support.recorded_store(record_due)


@pytest.fixture
def due(due_store: support.RecordedStore) -> Iterator[CustomerLedger]:
    with support.opened(due_store) as ledger:
        yield ledger


def test_what_is_due_and_overdue_on_a_date(due: CustomerLedger):
    ledger = due
    assert summary(ledger.reminders_due("2024-06-01")) == [
        ("2024-05-28", -4, "follow_up", "T6", "send quote"),
        ("2024-05-30", -2, "reminder", "T7", "reminder R1"),
        ("2024-06-03", 2, "reminder", "T8", "win-back call"),  # churned: no birthday, though
        ("2024-06-10", 9, "follow_up", "T6", "product demo"),
        ("2024-06-15", 14, "anniversary", "T4", f"1st {ANNIVERSARY} (since 2023-06-15)"),
        ("2024-06-20", 19, "contract_expiry", "T1", "contract T1-A expires"),
        ("2024-06-25", 24, "birthday", "T5", "birthday of 联系人c1"),
    ]  # fmt: skip
    found = ledger.reminders_due("2024-06-01")
    assert [r.overdue for r in found[:3]] == [True, True, False]
    refs = [r.ref for r in found if r.kind.value in ("contract_expiry", "reminder", "birthday")]
    assert refs == ["R1", "R", "T1-A", "c1"]


def test_what_the_ledger_words_is_also_worded_in_chinese_and_what_was_typed_is_kept(
    due: CustomerLedger,
):
    assert [(r.kind.value, r.subject_zh) for r in due.reminders_due("2024-06-01")] == [
        ("follow_up", None),  # the plan as typed ("send quote")
        ("reminder", None),
        ("reminder", None),
        ("follow_up", None),
        ("anniversary", "合作 1 周年（自 2023-06-15 起）"),
        ("contract_expiry", "合同 T1-A 到期"),
        ("birthday", "联系人c1 的生日"),
    ]  # fmt: skip


def test_the_date_decides_what_shows(due: CustomerLedger):
    ledger = due
    before_renewal = summary(ledger.reminders_due("2024-05-15"))
    assert ("2024-06-10", 26, "contract_expiry", "T2", "contract T2-A expires") in before_renewal
    assert (
        "2024-06-15",
        31,
        "contract_expiry",
        "T3",
        "contract T3-A expires",
    ) not in before_renewal
    assert ("2024-06-05", 21, "reminder", "T7", "reminder R2") in before_renewal  # not done yet
    # T1-A's expiry is the last day inside a 19-day horizon, and out of an 18-day one
    assert "T1" in [r.number for r in ledger.reminders_due("2024-06-01", 19)]
    assert "T1" not in [r.number for r in ledger.reminders_due("2024-06-01", 18)]


def test_birthdays_and_anniversaries_show_a_month_ahead_whatever_the_horizon(
    due: CustomerLedger,
):
    assert [r.kind.value for r in due.reminders_due("2024-06-01", 0)] == [
        "follow_up", "reminder", "anniversary", "birthday",
    ]  # fmt: skip


def test_owner_filter(due: CustomerLedger):
    ledger = due
    assert summary(ledger.reminders_due("2024-06-01", owner="*主管")) == [
        ("2024-05-30", -2, "reminder", "T7", "reminder R1"),
    ]
    assert ledger.reminders_due("2024-06-01", owner="nobody") == []


def test_the_domain_notes_annual_contract_comes_up_for_renewal(
    sample_on_each_backend: CustomerLedger,
):
    """A001 signed its annual contract on 2023-08-15, to 2024-08-14."""
    assert summary(sample_on_each_backend.reminders_due("2024-07-20")) == [
        ("2024-08-14", 25, "contract_expiry", "A001", "contract HT-2023-001 expires"),
        ("2024-08-15", 26, "anniversary", "A001", f"1st {ANNIVERSARY} (since 2023-08-15)"),
    ]  # fmt: skip


@pytest.mark.parametrize("within", [-1, True, 3661, "30"])
def test_a_bad_horizon_is_refused(ledger: CustomerLedger, within):
    with pytest.raises(InvalidValue) as error:
        ledger.reminders_due("2024-06-01", within)
    assert error.value.rule == "invalid_value"


def test_yearly_dates_skip_to_the_next_occurrence_and_feb_29_falls_on_feb_28():
    assert next_yearly(d("1990-06-25"), d("2024-06-01")) == (d("2024-06-25"), 34)
    assert next_yearly(d("1990-05-20"), d("2024-06-01")) == (d("2025-05-20"), 35)
    assert next_yearly(d("1992-02-29"), d("2025-02-10")) == (d("2025-02-28"), 33)
    assert next_yearly(d("1992-02-29"), d("2028-02-10")) == (d("2028-02-29"), 36)
    assert next_yearly(d("2024-06-01"), d("2024-06-01"), first_year=1) == (d("2025-06-01"), 1)
    words = [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)]
    assert words == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]
