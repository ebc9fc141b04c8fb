"""The analytics view keeps dated facts, never conclusions, so answers are reproducible.

Given commands, the view holds each customer's dated records exactly as the fold of its
own history says; a rebuild on another day holds the same; and a question asked about a
past date reads only what had happened by then.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from analytics_support import NOW, buy, customer, d, talk

from customer_ledger import Contact, CustomerLedger, Needs, Stage
from customer_ledger.analytics import analyse
from customer_ledger.projections.analytics_facts import (
    ComplaintFacts,
    ContractFacts,
    Interaction,
    Purchase,
    Score,
    StageChange,
    Term,
    latest,
)
from customer_ledger.projections.analytics_fold import facts_of
from customer_ledger.testing import record_sample, stored_facts

pytest_plugins = ("analytics_fixtures",)


def facts_in_view(ledger):
    """The analytics view's rows, once a read has caught the views up."""
    ledger.refresh()
    return stored_facts(ledger)


def test_the_view_holds_each_customers_dated_records(on_each_backend: CustomerLedger):
    ledger = on_each_backend
    customer(ledger, "F001", "2024-01-05")
    talk(ledger, "F001", "2024-01-10")
    ledger.log_interaction(
        "F001", channel="visit", topic="demo", follow_up="send quote",
        follow_up_on=d("2024-02-01"), occurred_at="2024-01-20",
    )  # fmt: skip
    buy(ledger, "F001", "2024-01-25", "1200.50")
    ledger.sign_contract(
        "F001", contract="HT-1", signed_on=d("2024-02-01"), expires_on=d("2025-01-31")
    )
    ledger.renew_contract(
        "F001", contract="HT-1", expires_on=d("2026-01-31"), occurred_at="2024-12-01"
    )
    ledger.file_complaint("F001", complaint="K1", subject="late", occurred_at="2024-03-01")
    ledger.resolve_complaint(
        "F001", complaint="K1", resolution="re-sent", satisfaction=3, occurred_at="2024-03-04"
    )
    ledger.assign_grade("F001", grade="B", occurred_at="2024-04-01")
    ledger.record_needs("F001", needs=Needs(upsell_intention=True), occurred_at="2024-04-02")
    ledger.add_contact(
        "F001", contact=Contact("c1", "王五", birthday=d("1980-05-06")), occurred_at="2024-04-03"
    )

    [facts] = facts_in_view(ledger)

    assert facts.number == "F001" and facts.owner == "*经理"
    assert facts.first_contact_on == d("2024-01-05")
    assert facts.cooperation_since == d("2024-01-25")
    assert facts.interactions == (
        Interaction(d("2024-01-10")),
        Interaction(d("2024-01-20"), d("2024-02-01"), "send quote"),
    )
    assert facts.purchases == (Purchase(d("2024-01-25"), Decimal("1200.50"), "CNY"),)
    assert facts.contracts == (
        ContractFacts(
            "HT-1", d("2024-02-01"), d("2024-02-01"),
            (Term(d("2025-01-31"), renewed_on=d("2024-12-01")), Term(d("2026-01-31"))),
        ),
    )  # fmt: skip
    assert facts.complaints == (ComplaintFacts("K1", "late", d("2024-03-01"), d("2024-03-04")),)
    assert facts.scores == (Score(d("2024-03-04"), 3),)
    assert facts.stages == (
        StageChange(d("2024-01-05"), Stage.LEAD),
        StageChange(d("2024-01-10"), Stage.PROSPECT),
        StageChange(d("2024-01-25"), Stage.CUSTOMER),
        StageChange(d("2024-03-01"), Stage.AT_RISK),
        StageChange(d("2024-03-04"), Stage.CUSTOMER),
    )
    assert [b.birthday for b in facts.birthdays] == [d("1980-05-06")]
    assert facts.manual_grade(d("2024-03-31")) is None
    assert facts.manual_grade(d("2024-04-01")).value == "B"
    assert facts.upsell_intention(d("2024-04-02")) and not facts.upsell_intention(d("2024-04-01"))
    assert facts == facts_of(ledger.history("F001"))


def test_a_contracts_expiry_and_a_complaint_are_read_as_of_a_date():
    contract = ContractFacts(
        "HT-1", d("2023-02-01"), d("2023-02-01"),
        (Term(d("2024-01-31"), renewed_on=d("2024-01-10")), Term(d("2025-01-31"))),
        terminated_on=d("2024-06-30"),
    )  # fmt: skip
    assert contract.expiry(d("2024-01-09")) == d("2024-01-31")  # not renewed yet
    assert contract.expiry(d("2024-01-10")) == d("2025-01-31")
    assert not contract.active(d("2023-01-31"))  # not signed yet
    assert contract.active(d("2024-06-29")) and not contract.active(d("2024-06-30"))
    complaint = ComplaintFacts("K", "late", d("2024-03-01"), d("2024-03-04"))
    days = ("2024-02-29", "2024-03-01", "2024-03-03", "2024-03-04")
    assert [complaint.open(d(x)) for x in days] == [False, True, True, False]


def test_latest_reads_the_last_dated_record_by_then_and_a_later_correction_wins_a_tie():
    scores = (Score(d("2024-03-04"), 3), Score(d("2024-02-01"), 5), Score(d("2024-03-04"), 1))
    assert latest(scores, d("2024-01-31")) is None
    assert latest(scores, d("2024-02-01")) == Score(d("2024-02-01"), 5)  # logged late, dated early
    assert latest(scores, d("2024-03-04")) == Score(d("2024-03-04"), 1)


def test_a_rebuild_on_another_day_holds_the_same_facts(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    ledger = CustomerLedger.open(url, clock=lambda: NOW)
    record_sample(ledger)
    before = facts_in_view(ledger)
    ledger.close()
    later = NOW.replace(year=2030)
    again = CustomerLedger.open(url, clock=lambda: later)
    try:
        again.rebuild(["analytics"], fresh=True)
        assert stored_facts(again) == before
        assert again.analytics("2023-10-31") == analyse(before, date(2023, 10, 31))
    finally:
        again.close()


def test_an_interaction_registered_late_is_dated_when_it_happened(on_each_backend):
    ledger = on_each_backend
    customer(ledger, "L001", "2024-01-01")
    talk(ledger, "L001", "2024-03-01", "2024-01-15")  # the January call logged in March
    [facts] = facts_in_view(ledger)
    assert [i.on for i in facts.interactions] == [d("2024-03-01"), d("2024-01-15")]
    engagement = ledger.analytics("2024-02-01").customer("L001")
    assert engagement.interactions_last == 1  # only the January call had happened


def test_the_sample_customers_facts_on_every_backend(sample_on_each_backend):
    ledger = sample_on_each_backend
    facts = {f.number: f for f in facts_in_view(ledger)}
    b002 = facts["B002"]
    assert [(s.on, s.stage) for s in b002.stages] == [
        (date(2023, 5, 1), Stage.LEAD),
        (date(2023, 9, 1), Stage.CUSTOMER),
        (date(2023, 10, 10), Stage.AT_RISK),
        (date(2023, 10, 16), Stage.CUSTOMER),
        (date(2023, 10, 18), Stage.AT_RISK),
    ]
    assert [c.complaint_id for c in b002.open_complaints(date(2023, 10, 31))] == ["K-2"]
    assert b002.satisfaction(date(2023, 10, 31)) == 2
    assert facts["W002"].stage(date(2024, 1, 10)) is Stage.CHURNED
    assert facts["W002"].stage(date(2024, 1, 9)) is Stage.CUSTOMER
    assert [f.number for f in stored_facts(ledger, owner="*顾问")] == ["C003"]
