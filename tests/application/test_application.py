"""CustomerLedger as a library user meets it: opening stores, commands and their results,
look-ups by number, history and past versions, event metadata and business time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from strategies import (
    FIXED_NOW,
    a_customer,
    a_lead,
    at,
    fixed_clock,
    recorded,
)

from customer_ledger import (
    CommandResult,
    Contact,
    CustomerLedger,
    InvalidValue,
    Stage,
    StoreError,
    UnknownCurrency,
)
from customer_ledger.domain.access import Actor
from customer_ledger.errors import ActorRequired, PermissionDenied

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)

# -- opening a store -------------------------------------------------------------------------


def test_memory_is_a_throw_away_store() -> None:
    ledger = CustomerLedger.open("memory://", clock=fixed_clock)
    ledger.first_contact("A001", name="*先生", type="individual")
    assert ledger.url.scheme == "memory"
    assert list(CustomerLedger.open("memory://").numbers()) == []


def test_a_sqlite_file_keeps_the_history_across_a_reopen(sqlite_url: str) -> None:
    # given customers recorded in a SQLite file
    ledger = CustomerLedger.open(sqlite_url, clock=fixed_clock)
    a_customer(ledger)
    a_lead(ledger, "B002")
    history = ledger.history("A001")
    ledger.close()
    # when the file is opened again
    reopened = CustomerLedger.open(sqlite_url, clock=fixed_clock)
    try:
        # then the same customers, events and states are there
        assert list(reopened.numbers()) == ["A001", "B002"]
        assert [vars(e) for e in reopened.history("A001")] == [vars(e) for e in history]
        assert reopened.customer("A001").stage is Stage.CUSTOMER
    finally:
        reopened.close()


@pytest.mark.parametrize("url", ["nowhere", "ftp://host/x", "sqlite://", "sqlite:///:memory:"])
def test_a_bad_store_url_is_refused(url: str) -> None:
    with pytest.raises(StoreError):
        CustomerLedger.open(url)


# -- commands and look-ups ------------------------------------------------------------------


def test_each_command_returns_the_customer_and_its_new_version(ledger) -> None:
    first = ledger.first_contact("A001", name="*先生", type="individual")
    second = ledger.log_interaction("A001", channel="phone", topic="enquiry")
    assert first == CommandResult(first.customer_id, "A001", 1)
    assert second == CommandResult(first.customer_id, "A001", 2)
    assert ledger.customer_id("A001") == first.customer_id


def test_numbers_are_listed_in_the_order_customers_were_recorded(ledger) -> None:
    for number in ("C003", "A001", "B002"):
        a_lead(ledger, number)
    assert list(ledger.numbers()) == ["C003", "A001", "B002"]


def test_a_customer_can_be_read_as_it_stood_at_any_version(ledger) -> None:
    # given a lead that became a customer, then at risk
    a_customer(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(2))
    # then each version shows the stage of its time
    stages = [ledger.customer("A001", version=v).stage for v in (1, 2, 3)]
    assert stages == [Stage.LEAD, Stage.CUSTOMER, Stage.AT_RISK]
    assert ledger.customer("A001").version == 3


@pytest.mark.parametrize("version", [0, -1, True])
def test_a_version_counts_from_1(ledger, version: object) -> None:
    a_lead(ledger)
    with pytest.raises(InvalidValue):
        ledger.customer("A001", version=version)


def test_the_history_is_every_event_oldest_first(ledger) -> None:
    a_customer(ledger)
    ledger.tag("A001", tag="VIP", occurred_at=at(2))
    history = ledger.history("A001")
    assert [type(e).__name__ for e in history] == ["FirstContacted", "ContractSigned", "Tagged"]
    assert [e.originator_version for e in history] == [1, 2, 3]
    assert {e.originator_id for e in history} == {ledger.customer_id("A001")}


def test_a_rejected_command_leaves_the_customer_usable(ledger) -> None:
    # given a command rejected half-way through its arguments
    a_lead(ledger)
    with pytest.raises(UnknownCurrency):
        ledger.record_purchase("A001", product="x", amount="10", currency="XXX")
    # when a valid command follows, it is the next version
    assert ledger.tag("A001", tag="VIP").version == 2
    assert ledger.customer("A001").purchase_count == 0


def test_a_contact_is_recorded_in_its_stored_form(ledger) -> None:
    a_lead(ledger)
    ledger.add_contact(
        "A001",
        contact=Contact(" c1 ", " 张三 ", title=" ", phone="010-8888 1234", email="zs@abc.com"),
        occurred_at=at(1),
    )
    assert ledger.customer("A001").contacts == {
        "c1": Contact("c1", "张三", title=None, phone="01088881234", email="zs@abc.com")
    }


# -- metadata ---------------------------------------------------------------------------------


def test_an_event_records_who_why_and_under_which_command(ledger) -> None:
    a_lead(ledger)
    ledger.assign_owner(
        "A001", owner="*经理", occurred_at=at(1), actor=Actor("*主管", "manager"),
        reason="hand-over", command_id="cmd-9", correlation_id="import-7",
    )  # fmt: skip
    meta = ledger.history("A001")[-1].meta
    assert (meta.actor, meta.role, meta.reason) == ("*主管", "manager", "hand-over")
    assert (meta.command_id, meta.correlation_id) == ("cmd-9", "import-7")


def test_a_bare_actor_name_is_an_ordinary_user_and_no_actor_is_the_embedding_program(
    ledger,
) -> None:
    # given a lead recorded by a name alone, and a tag recorded naming no one
    a_lead(ledger)  # actor="*助理"
    ledger.tag("A001", tag="VIP")
    # then the name acts in the policy's default role (sales), the other as system
    metas = [e.meta for e in ledger.history("A001")]
    assert [(m.actor, m.role) for m in metas] == [("*助理", "sales"), ("system", "system")]
    # and a name alone may do only what that role may: no churn
    with pytest.raises(PermissionDenied):
        ledger.churn("A001", reason="gone", actor="*助理")
    assert len(ledger.history("A001")) == 2


def test_a_ledger_without_a_default_actor_refuses_calls_that_name_no_one() -> None:
    with CustomerLedger.open("memory://", default_actor=None) as ledger:
        with pytest.raises(ActorRequired):
            ledger.first_contact("A001", name="x", type="company")
        ledger.first_contact("A001", name="x", type="company", actor=Actor("li", "sales"))
        assert [e.meta.actor for e in ledger.history("A001")] == ["li"]


def test_business_time_is_kept_apart_from_recorded_time(ledger) -> None:
    # a visit on Monday may be logged on Tuesday
    a_lead(ledger)
    ledger.log_interaction("A001", channel="visit", topic="visit", occurred_at=at(1))
    event = ledger.history("A001")[-1]
    assert event.occurred_at == at(1)
    assert event.timestamp != event.occurred_at and event.timestamp.tzinfo is not None


# -- business time ------------------------------------------------------------------------------


def test_without_a_business_time_the_command_happened_now(ledger) -> None:
    a_lead(ledger)
    ledger.tag("A001", tag="VIP")
    assert ledger.history("A001")[-1].occurred_at == FIXED_NOW


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (date(2024, 5, 20), datetime(2024, 5, 20, tzinfo=SHANGHAI)),
        ("2024-05-20", datetime(2024, 5, 20, tzinfo=SHANGHAI)),
        ("2024-05-20T10:15:00+02:00", datetime(2024, 5, 20, 10, 15, tzinfo=timezone(2 * HOUR))),
        ("2024-05-20 10:15", datetime(2024, 5, 20, 10, 15, tzinfo=SHANGHAI)),
        (datetime(2024, 5, 20, 10, 15), datetime(2024, 5, 20, 10, 15, tzinfo=SHANGHAI)),
    ],
)
def test_dates_and_naive_times_are_read_in_the_ledgers_time_zone(
    ledger, given: object, expected: datetime
) -> None:
    a_lead(ledger)
    ledger.tag("A001", tag="VIP", occurred_at=given)
    occurred_at = ledger.history("A001")[-1].occurred_at
    assert occurred_at == expected and occurred_at.utcoffset() == expected.utcoffset()


def test_the_ledgers_time_zone_is_a_setting() -> None:
    ledger = CustomerLedger.open("memory://", clock=fixed_clock, timezone="Europe/Berlin")
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at=date(2024, 5, 20))
    occurred_at = ledger.history("A001")[0].occurred_at
    assert occurred_at.utcoffset() == timedelta(hours=2)  # CEST


def test_a_contract_happened_on_the_day_it_was_signed(ledger) -> None:
    a_lead(ledger)
    ledger.sign_contract("A001", contract="HT-1", signed_on=date(2024, 5, 20))
    assert ledger.history("A001")[-1].occurred_at == datetime(2024, 5, 20, tzinfo=SHANGHAI)


def test_recorded_events_count_claims_and_receipts(ledger) -> None:
    # the store holds the customer's events, its number claim and command receipts
    ledger.first_contact("A001", name="*先生", type="individual", command_id="c1")
    ledger.tag("A001", tag="VIP")
    assert recorded(ledger) == 2 + 1 + 1
