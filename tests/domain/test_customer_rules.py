"""Every business rule of a customer record, as given / when / then.

A rejected command raises the ``DomainError`` subclass that names the rule — checked
exactly, with its ``rule`` string — and leaves the store as it was: the ``rejects``
fixture counts the stored events (customers' events, number claims, receipts) before and
after. Lifecycle rules (churn, reactivation, stages) live in ``test_lifecycle.py``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from paths import DOCS
from strategies import (
    DAY,
    EXAMPLE_CONTACT,
    EXAMPLES,
    FIXED_NOW,
    a_customer,
    a_lead,
    at,
    bad_currencies,
    bad_emails,
    bad_phones,
    bad_satisfactions,
    bad_sha256s,
    control_texts,
    currencies,
    customer_numbers,
    emails,
    fresh,
    future_times,
    negative_amounts,
    over_long_texts,
    past_times,
    phones,
    ready_for,
    recorded,
    sha256s,
    with_contact,
)

from customer_ledger import (
    COMMANDS,
    ComplaintNotOpen,
    Contact,
    ContractNotActive,
    Customer,
    DomainError,
    DuplicateAttachment,
    DuplicateComplaint,
    DuplicateContact,
    DuplicateContractNumber,
    DuplicateCustomerNumber,
    DuplicateReminder,
    FutureDate,
    InvalidDateRange,
    InvalidValue,
    MalformedEmail,
    MalformedPhone,
    Meta,
    Needs,
    NegativeAmount,
    NothingChanged,
    ReminderAlreadyCompleted,
    SatisfactionOutOfRange,
    UnknownContact,
    UnknownContract,
    UnknownCurrency,
    UnknownCustomer,
    UnknownReminder,
    ZeroValuePurchase,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROPERTY = settings(max_examples=30)


def test_every_command_has_an_example() -> None:
    assert set(EXAMPLES) | {"first_contact"} == set(COMMANDS)


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_every_example_is_accepted_by_a_ready_customer(command: str) -> None:
    # so a test that changes one thing about an example tests that one thing
    ledger = ready_for(command)
    before = recorded(ledger)
    getattr(ledger, command)("A001", **EXAMPLES[command], occurred_at=at(2))
    assert recorded(ledger) == before + 1


# -- unknown customer, duplicate number ---------------------------------------------------


@pytest.mark.parametrize("command", sorted(EXAMPLES))
def test_a_command_for_an_unknown_customer_is_rejected(ledger, rejects, command: str) -> None:
    # given a ledger with A001 only
    a_lead(ledger)
    # when a command names Z999
    # then UnknownCustomer, nothing recorded
    with rejects(ledger, UnknownCustomer):
        getattr(ledger, command)("Z999", **EXAMPLES[command])


def test_reading_an_unknown_customer_is_rejected(ledger) -> None:
    for read in (ledger.customer, ledger.history, ledger.customer_id):
        with pytest.raises(UnknownCustomer) as info:
            read("Z999")
        assert info.value.rule == "unknown_customer"


@PROPERTY
@given(number=customer_numbers(), name=st.sampled_from(["*先生", "*科技有限公司"]))
def test_a_customer_number_is_claimed_once(rejects, number: str, name: str) -> None:
    # given a customer with this number
    ledger = a_lead(fresh(), number)
    # when another first contact claims it, whatever its name or type
    # then DuplicateCustomerNumber, nothing recorded
    with rejects(ledger, DuplicateCustomerNumber):
        ledger.first_contact(number, name=name, type="company", occurred_at=at(1))
    assert ledger.customer(number).name == "*先生"


@pytest.mark.parametrize("number", ["", " ", "A 001", "A/001", "-A001", "x" * 33, "客户1", 1001])
def test_a_customer_number_is_a_short_code(ledger, rejects, number: object) -> None:
    with rejects(ledger, InvalidValue):
        ledger.first_contact(number, name="*先生", type="individual", occurred_at=at(0))


# -- complaints ---------------------------------------------------------------------------


def test_resolving_an_unknown_complaint_is_rejected(ledger, rejects) -> None:
    a_lead(ledger)
    with rejects(ledger, ComplaintNotOpen):
        ledger.resolve_complaint("A001", complaint="TS-9", resolution="n/a", occurred_at=at(1))


def test_resolving_a_resolved_complaint_is_rejected(ledger, rejects) -> None:
    # given a complaint filed and resolved
    a_lead(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1))
    ledger.resolve_complaint("A001", complaint="TS-1", resolution="re-shipped", occurred_at=at(2))
    # when it is resolved again
    # then ComplaintNotOpen, nothing recorded
    with rejects(ledger, ComplaintNotOpen):
        ledger.resolve_complaint("A001", complaint="TS-1", resolution="again", occurred_at=at(3))


def test_a_complaint_id_is_filed_once(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1))
    ledger.resolve_complaint("A001", complaint="TS-1", resolution="re-shipped", occurred_at=at(2))
    with rejects(ledger, DuplicateComplaint):  # even once resolved
        ledger.file_complaint("A001", complaint="TS-1", subject="again", occurred_at=at(3))


def test_a_complaint_is_not_resolved_before_it_was_filed(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(2))
    with rejects(ledger, InvalidDateRange):
        ledger.resolve_complaint("A001", complaint="TS-1", resolution="x", occurred_at=at(1))


@PROPERTY
@given(score=bad_satisfactions())
@example(score=0)
@example(score=6)
@example(score=True)
@example(score="3")
def test_a_satisfaction_score_is_a_whole_number_from_1_to_5(rejects, score: object) -> None:
    # given a customer with an open complaint
    ledger = a_lead(fresh())
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1))
    # when a score of 0, 6, True, "3", 3.0, ... is given
    # then SatisfactionOutOfRange, nothing recorded
    with rejects(ledger, SatisfactionOutOfRange):
        ledger.rate_satisfaction("A001", score=score, occurred_at=at(2))
    if score is not None:  # None on a resolution means "not asked"
        with rejects(ledger, SatisfactionOutOfRange):
            ledger.resolve_complaint(
                "A001", complaint="TS-1", resolution="ok", satisfaction=score, occurred_at=at(2)
            )


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_satisfaction_scores_1_to_5_are_kept(ledger, score: int) -> None:
    a_lead(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1))
    ledger.resolve_complaint(
        "A001", complaint="TS-1", resolution="ok", satisfaction=score, occurred_at=at(2)
    )
    assert ledger.customer("A001").last_satisfaction == score
    ledger.rate_satisfaction("A001", score=6 - score, occurred_at=at(3))
    assert ledger.customer("A001").last_satisfaction == 6 - score


# -- contracts ----------------------------------------------------------------------------


def test_a_contract_number_is_signed_once(ledger, rejects) -> None:
    a_customer(ledger)
    with rejects(ledger, DuplicateContractNumber):
        ledger.sign_contract("A001", contract="HT-1", signed_on=at(3).date(), occurred_at=at(3))
    ledger.terminate_contract("A001", contract="HT-1", occurred_at=at(4))
    with rejects(ledger, DuplicateContractNumber):  # even once terminated
        ledger.sign_contract("A001", contract="HT-1", signed_on=at(5).date(), occurred_at=at(5))


@pytest.mark.parametrize("command", ["renew_contract", "terminate_contract"])
def test_an_unknown_contract_is_neither_renewed_nor_terminated(
    ledger, rejects, command: str
) -> None:
    a_customer(ledger)
    with rejects(ledger, UnknownContract):
        getattr(ledger, command)("A001", **{**EXAMPLES[command], "contract": "HT-9"})


@pytest.mark.parametrize("command", ["renew_contract", "terminate_contract"])
def test_a_terminated_contract_is_neither_renewed_nor_terminated(
    ledger, rejects, command: str
) -> None:
    # given a terminated contract
    a_customer(ledger)
    ledger.terminate_contract("A001", contract="HT-1", occurred_at=at(3))
    # then ContractNotActive, nothing recorded
    with rejects(ledger, ContractNotActive):
        getattr(ledger, command)("A001", **EXAMPLES[command], occurred_at=at(4))


@PROPERTY
@given(days_short=st.integers(0, 400))
def test_a_renewal_moves_the_expiry_later(rejects, days_short: int) -> None:
    # given HT-1 expiring on a day
    ledger = a_customer(fresh())
    expiry = ledger.customer("A001").contracts["HT-1"].expires_on
    # when renewed to that day or earlier
    # then InvalidDateRange, nothing recorded
    with rejects(ledger, InvalidDateRange):
        ledger.renew_contract(
            "A001", contract="HT-1", expires_on=expiry - days_short * DAY, occurred_at=at(3)
        )
    # and a day later is accepted
    ledger.renew_contract("A001", contract="HT-1", expires_on=expiry + DAY, occurred_at=at(3))
    assert ledger.customer("A001").contracts["HT-1"].renewals == 1


def test_an_open_ended_contract_is_renewed_past_its_start(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.sign_contract(
        "A001", contract="HT-1", signed_on=at(1).date(), starts_on=at(5).date(), occurred_at=at(1)
    )
    with rejects(ledger, InvalidDateRange):
        ledger.renew_contract("A001", contract="HT-1", expires_on=at(5).date(), occurred_at=at(2))
    ledger.renew_contract("A001", contract="HT-1", expires_on=at(6).date(), occurred_at=at(2))


@PROPERTY
@given(days_before=st.integers(0, 800), explicit_start=st.booleans())
def test_a_contract_expires_after_it_starts(
    rejects, days_before: int, explicit_start: bool
) -> None:
    ledger = a_lead(fresh())
    starts = at(3).date()
    with rejects(ledger, InvalidDateRange):
        ledger.sign_contract(
            "A001", contract="HT-1", signed_on=at(1).date() if explicit_start else starts,
            starts_on=starts if explicit_start else None,
            expires_on=starts - days_before * DAY, occurred_at=at(1),
        )  # fmt: skip


# -- money --------------------------------------------------------------------------------


@PROPERTY
@given(amount=negative_amounts(), how=st.sampled_from(["purchase", "sign", "renew"]))
def test_amounts_are_never_negative(rejects, amount: Decimal, how: str) -> None:
    ledger = a_customer(fresh())
    with rejects(ledger, NegativeAmount):
        if how == "purchase":
            ledger.record_purchase("A001", product="product A", amount=amount, occurred_at=at(2))
        elif how == "sign":
            ledger.sign_contract("A001", contract="HT-2", signed_on=at(2).date(), amount=amount)
        else:
            ledger.renew_contract(
                "A001", contract="HT-1", expires_on=date(2030, 1, 1), amount=str(amount)
            )


@pytest.mark.parametrize("amount", [0, "0", "0.00", Decimal("0E+3"), Decimal("-0")])
def test_a_purchase_has_a_value(ledger, rejects, amount: object) -> None:
    a_lead(ledger)
    with rejects(ledger, ZeroValuePurchase):
        ledger.record_purchase("A001", product="sample", amount=amount, occurred_at=at(1))


@PROPERTY
@given(
    quantity=st.one_of(
        st.integers(-(10**6), 0), st.decimals(min_value=-(10**6), max_value=0, places=2)
    )
)
def test_a_purchase_has_a_positive_quantity(rejects, quantity: object) -> None:
    ledger = a_lead(fresh())
    with rejects(ledger, ZeroValuePurchase):
        ledger.record_purchase(
            "A001", product="product A", amount="1000", quantity=quantity, occurred_at=at(1)
        )


@PROPERTY
@given(currency=bad_currencies(), how=st.sampled_from(["purchase", "sign"]))
def test_an_unknown_currency_is_rejected(rejects, currency: object, how: str) -> None:
    ledger = a_lead(fresh())
    with rejects(ledger, UnknownCurrency):
        if how == "purchase":
            ledger.record_purchase(
                "A001", product="product A", amount="1000", currency=currency, occurred_at=at(1)
            )
        else:
            ledger.sign_contract(
                "A001", contract="HT-1", signed_on=at(1).date(), amount="1", currency=currency
            )


@PROPERTY
@given(currency=currencies(), lower=st.booleans())
def test_a_known_currency_is_kept_in_upper_case(currency: str, lower: bool) -> None:
    ledger = a_lead(fresh())
    given_code = currency.lower() if lower else currency
    ledger.record_purchase(
        "A001", product="product A", amount="9.5", currency=given_code, occurred_at=at(1)
    )
    assert ledger.customer("A001").revenue == {currency: Decimal("9.5")}


@pytest.mark.parametrize(
    "amount",
    ["abc", "", "NaN", "Infinity", 1.5, True, None, [], "1e15", "0.0000001", "1,000"],
)
def test_an_amount_is_an_exact_finite_number_in_range(ledger, rejects, amount: object) -> None:
    a_lead(ledger)
    with rejects(ledger, InvalidValue):
        ledger.record_purchase("A001", product="product A", amount=amount, occurred_at=at(1))


# -- contacts -----------------------------------------------------------------------------


@PROPERTY
@given(phone=bad_phones(), update=st.booleans())
def test_a_malformed_phone_is_rejected(rejects, phone: str, update: bool) -> None:
    ledger = with_contact(fresh())
    contact = Contact("c1" if update else "c2", "*先生", phone=phone)
    with rejects(ledger, MalformedPhone):
        (ledger.update_contact if update else ledger.add_contact)(
            "A001", contact=contact, occurred_at=at(2)
        )


@PROPERTY
@given(address=bad_emails(), update=st.booleans())
def test_a_malformed_email_is_rejected(rejects, address: str, update: bool) -> None:
    ledger = with_contact(fresh())
    contact = Contact("c1" if update else "c2", "*先生", email=address)
    with rejects(ledger, MalformedEmail):
        (ledger.update_contact if update else ledger.add_contact)(
            "A001", contact=contact, occurred_at=at(2)
        )


@PROPERTY
@given(phone=phones(), address=emails(), spaced=st.booleans())
def test_phones_and_emails_are_kept_as_given(phone: str, address: str, spaced: bool) -> None:
    # given a phone written with separators, as people type them
    typed = f"{phone[:3]} ({phone[3:6]}) {phone[6:]}-" if spaced else phone
    typed = typed.rstrip("-")
    ledger = a_lead(fresh())
    # when it is recorded on a contact
    ledger.add_contact(
        "A001", contact=Contact("c1", "*先生", phone=typed, email=address), occurred_at=at(1)
    )
    # then the digits and the mask are kept in order, separators dropped
    kept = ledger.customer("A001").contacts["c1"]
    assert (kept.phone, kept.email) == (phone, address)


def test_a_contact_id_is_added_once(ledger, rejects) -> None:
    with_contact(ledger)
    with rejects(ledger, DuplicateContact):
        ledger.add_contact("A001", contact=Contact("c1", "*女士"), occurred_at=at(2))


@pytest.mark.parametrize("command", ["update_contact", "remove_contact"])
def test_an_unknown_contact_is_neither_updated_nor_removed(ledger, rejects, command) -> None:
    with_contact(ledger)
    args = (
        {"contact": Contact("c9", "*女士")} if command == "update_contact" else {"contact_id": "c9"}
    )
    with rejects(ledger, UnknownContact):
        getattr(ledger, command)("A001", **args, occurred_at=at(2))


def test_one_contact_is_primary_at_a_time(ledger) -> None:
    a_lead(ledger)
    ledger.add_contact("A001", contact=Contact("c1", "*先生", primary=True), occurred_at=at(1))
    ledger.add_contact("A001", contact=Contact("c2", "*女士", primary=True), occurred_at=at(2))
    contacts_now = ledger.customer("A001").contacts
    assert [c.contact_id for c in contacts_now.values() if c.primary] == ["c2"]


# -- reminders and attachments -----------------------------------------------------------


def test_a_reminder_id_is_scheduled_once(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.schedule_reminder(
        "A001", reminder="R1", subject="birthday", due_on=date(2024, 9, 1), occurred_at=at(1)
    )
    with rejects(ledger, DuplicateReminder):
        ledger.schedule_reminder(
            "A001", reminder="R1", subject="again", due_on=date(2024, 9, 2), occurred_at=at(2)
        )


def test_an_unknown_reminder_is_not_completed(ledger, rejects) -> None:
    a_lead(ledger)
    with rejects(ledger, UnknownReminder):
        ledger.complete_reminder("A001", reminder="R9", occurred_at=at(1))


def test_a_reminder_is_completed_once(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.schedule_reminder(
        "A001", reminder="R1", subject="birthday", due_on=date(2024, 9, 1), occurred_at=at(1)
    )
    ledger.complete_reminder("A001", reminder="R1", occurred_at=at(2))
    with rejects(ledger, ReminderAlreadyCompleted):
        ledger.complete_reminder("A001", reminder="R1", occurred_at=at(3))


def test_an_attachment_name_is_linked_once(ledger, rejects) -> None:
    a_lead(ledger)
    ledger.link_attachment("A001", **EXAMPLES["link_attachment"], occurred_at=at(1))
    with rejects(ledger, DuplicateAttachment):
        ledger.link_attachment(
            "A001", name="contract scan", uri="s3://crm/other.pdf", sha256="1" * 64
        )


@PROPERTY
@given(digest=bad_sha256s())
def test_an_attachment_checksum_is_a_hex_sha256(rejects, digest: str) -> None:
    ledger = a_lead(fresh())
    with rejects(ledger, InvalidValue):
        ledger.link_attachment("A001", name="scan", uri="s3://crm/x.pdf", sha256=digest)


@PROPERTY
@given(digest=sha256s())
def test_an_upper_case_sha256_is_kept_in_lower_case(digest: str) -> None:
    ledger = a_lead(fresh())
    ledger.link_attachment("A001", name="scan", uri="s3://crm/x.pdf", sha256=digest.upper())
    assert ledger.customer("A001").attachments["scan"].sha256 == digest


# -- nothing changed ------------------------------------------------------------------------


NO_CHANGE: dict[str, dict[str, Any]] = {
    "same profile values": {"command": "update_profile", "changes": {"name": "*先生"}},
    "same type, absent field left absent": {
        "command": "update_profile", "changes": {"type": "individual", "industry": None},
    },
    "empty changes": {"command": "update_profile", "changes": {}},
    "same owner": {"command": "assign_owner", "owner": "*经理"},
    "tagged twice": {"command": "tag", "tag": "VIP"},
    "untag a missing tag": {"command": "untag", "tag": "老客户"},
    "same grade": {"command": "assign_grade", "grade": "B", "vip": False},
    "same contact": {"command": "update_contact", "contact": EXAMPLE_CONTACT},
    "clear a risk flag never set": {"command": "clear_risk_flag"},
    "import the current stage": {"command": "set_stage_on_import", "stage": "lead", "row": "r"},
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(NO_CHANGE))
def test_a_command_that_changes_nothing_is_rejected(ledger, rejects, case: str) -> None:
    # given a lead owned by *经理, tagged VIP, graded B, with contact c1
    with_contact(ledger)
    ledger.assign_owner("A001", owner="*经理", occurred_at=at(1))
    ledger.tag("A001", tag="VIP", occurred_at=at(1))
    ledger.assign_grade("A001", grade="B", occurred_at=at(1))
    args = dict(NO_CHANGE[case])
    # when a command would leave the record as it is
    # then NothingChanged, nothing recorded
    with rejects(ledger, NothingChanged):
        getattr(ledger, args.pop("command"))("A001", **args, occurred_at=at(2))


# -- time -----------------------------------------------------------------------------------


@PROPERTY
@given(when=future_times(), command=st.sampled_from(sorted(EXAMPLES)))
def test_business_time_is_not_in_the_future(rejects, when: datetime, command: str) -> None:
    # given a customer who would accept the example command
    ledger = ready_for(command)
    # when it is said to happen more than 5 minutes after the ledger's now
    # then FutureDate, nothing recorded
    with rejects(ledger, FutureDate):
        getattr(ledger, command)("A001", **EXAMPLES[command], occurred_at=when)


@PROPERTY
@given(when=future_times())
def test_a_first_contact_is_not_in_the_future(rejects, when: datetime) -> None:
    ledger = fresh()
    with rejects(ledger, FutureDate):
        ledger.first_contact("A001", name="*先生", type="individual", occurred_at=when)


@PROPERTY
@given(when=past_times(FIXED_NOW - 2 * DAY, FIXED_NOW + timedelta(minutes=5)))
def test_business_time_up_to_five_minutes_ahead_is_accepted(when: datetime) -> None:
    # the caller's clock may run a little ahead of the ledger's
    ledger = fresh()
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at=when)
    assert ledger.history("A001")[0].occurred_at == when


def test_the_clock_skew_is_five_minutes_exactly(ledger, rejects) -> None:
    ledger.first_contact(
        "A001", name="*先生", type="individual", occurred_at=FIXED_NOW + timedelta(minutes=5)
    )
    with rejects(ledger, FutureDate):
        ledger.tag("A001", tag="VIP", occurred_at=FIXED_NOW + timedelta(minutes=5, microseconds=1))


def test_a_contract_is_not_signed_after_tomorrow(ledger, rejects) -> None:
    # signed_on is a calendar day: a day of slack covers the caller's time zone
    a_lead(ledger)
    today = FIXED_NOW.date()
    with rejects(ledger, FutureDate):
        ledger.sign_contract("A001", contract="HT-1", signed_on=today + 2 * DAY, occurred_at=at(1))
    ledger.sign_contract("A001", contract="HT-1", signed_on=today + DAY, occurred_at=at(1))


def test_the_aggregate_rejects_naive_datetimes() -> None:
    # given the aggregate itself (the ledger localises naive times before it gets here)
    meta, naive = Meta(actor="*助理"), datetime(2024, 6, 1, 10, 0)
    with pytest.raises(InvalidValue):
        Customer.first_contact(
            number="A001", name="*先生", type="individual", occurred_at=naive, meta=meta,
            now=FIXED_NOW,
        )  # fmt: skip
    customer = Customer.first_contact(
        number="A001", name="*先生", type="individual", occurred_at=naive.replace(tzinfo=SHANGHAI),
        meta=meta, now=FIXED_NOW,
    )  # fmt: skip
    # when a command gives a naive datetime
    # then InvalidValue and no new pending event
    with pytest.raises(InvalidValue):
        customer.log_interaction(
            channel="phone", topic="call", occurred_at=naive, meta=meta, now=FIXED_NOW
        )
    assert len(customer.collect_events()) == 1


def test_the_ledger_reads_a_naive_datetime_in_its_time_zone(ledger, rejects) -> None:
    # given a ledger in Asia/Shanghai (UTC+8) whose now is 09:30 UTC = 17:30 local
    a_lead(ledger)
    # when a naive 17:34 is given, it is 09:34 UTC: inside the skew
    ledger.tag("A001", tag="VIP", occurred_at=datetime(2024, 6, 3, 17, 34))
    event = ledger.history("A001")[-1]
    assert event.occurred_at == datetime(2024, 6, 3, 9, 34, tzinfo=ZoneInfo("UTC"))
    assert event.occurred_at.utcoffset() == timedelta(hours=8)
    # and a naive 17:36 is 09:36 UTC: too far ahead
    with rejects(ledger, FutureDate):
        ledger.tag("A001", tag="重点", occurred_at=datetime(2024, 6, 3, 17, 36))


@pytest.mark.parametrize("when", ["yesterday", "2024-13-01", "20/10/2023", 20231020, 1.5])
def test_business_time_is_a_date_or_datetime(ledger, rejects, when: object) -> None:
    a_lead(ledger)
    with rejects(ledger, InvalidValue):
        ledger.tag("A001", tag="VIP", occurred_at=when)


# -- text ---------------------------------------------------------------------------------

TEXT_FIELDS = [
    ("first_contact", "name", 200),
    ("log_interaction", "topic", 4000),
    ("log_interaction", "feedback", 4000),
    ("file_complaint", "subject", 4000),
    ("resolve_complaint", "resolution", 4000),
    ("tag", "tag", 64),
    ("assign_owner", "owner", 200),
    ("churn", "reason", 500),
    ("record_purchase", "product", 200),
    ("schedule_reminder", "subject", 4000),
    ("link_attachment", "name", 200),
    ("set_stage_on_import", "row", 8000),
]


@PROPERTY
@given(
    where=st.sampled_from(TEXT_FIELDS),
    bad=st.one_of(st.just("control"), st.just("long"), st.just("empty")),
    data=st.data(),
)
def test_text_is_printable_non_empty_and_bounded(rejects, where, bad: str, data) -> None:
    # given a customer who would accept the example command
    command, field, limit = where
    ledger = ready_for(command)
    value = {
        "control": lambda: data.draw(control_texts()),
        "long": lambda: data.draw(over_long_texts(limit)),
        "empty": lambda: data.draw(st.sampled_from(["", "   ", "\t\n"])),
    }[bad]()
    if command == "first_contact":
        number, args = "B002", {"name": "*先生", "type": "company"}
    else:
        number, args = "A001", dict(EXAMPLES[command])
    args[field] = value
    if bad == "empty" and field == "feedback":
        return  # an optional field left blank is simply absent
    # then InvalidValue, nothing recorded
    with rejects(ledger, InvalidValue):
        getattr(ledger, command)(number, **args, occurred_at=at(2))


def test_tabs_and_newlines_are_allowed_in_text(ledger) -> None:
    a_lead(ledger)
    ledger.log_interaction("A001", channel="visit", topic="需求\n\t1. 交付", occurred_at=at(1))
    assert ledger.history("A001")[-1].topic == "需求\n\t1. 交付"


# -- other invalid values --------------------------------------------------------------------

INVALID: dict[str, tuple[str, dict[str, Any]]] = {
    "unknown customer type": ("update_profile", {"changes": {"type": "partner"}}),
    "not a profile field": ("update_profile", {"changes": {"colour": "red"}}),
    "a pipeline keyword as profile field": ("update_profile", {"changes": {"occurred_at": "x"}}),
    "profile without a name": ("update_profile", {"changes": {"name": None}}),
    "changes not a mapping": ("update_profile", {"changes": [("name", "x")]}),
    "unknown channel": ("log_interaction", {"channel": "pigeon", "topic": "t"}),
    "empty needs": ("record_needs", {"needs": Needs()}),
    "unknown grade": ("assign_grade", {"grade": "S"}),
    "not a stage": ("set_stage_on_import", {"stage": "vip", "row": "r"}),
    "churned is not imported": ("set_stage_on_import", {"stage": "churned", "row": "r"}),
    "a list as contact id": ("remove_contact", {"contact_id": ["c1"]}),
    "a dict as reminder id": ("complete_reminder", {"reminder": {"id": "R1"}}),
    "a number as tag": ("untag", {"tag": 7}),
    # (a date-time is a day, as occurred_at takes it: tests/application/test_command_dates.py)
    "a number as signing day": ("sign_contract", {"contract": "HT-2", "signed_on": 20240202}),
    "text that is no date as signing day": (
        "sign_contract",
        {"contract": "HT-2", "signed_on": "2024-02-30"},
    ),
    "unexpected meta field": ("tag", {"tag": "VIP", "by": "me"}),
    "blank actor": ("tag", {"tag": "VIP", "actor": "  "}),
    "over-long command id": ("tag", {"tag": "VIP", "command_id": "x" * 501}),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_a_value_the_record_cannot_hold_is_rejected(ledger, rejects, case: str) -> None:
    command, args = INVALID[case]
    with_contact(ledger)
    with rejects(ledger, InvalidValue):
        getattr(ledger, command)("A001", **args)


# -- ids are looked up as they were stored --------------------------------------------------


def test_ids_given_with_surrounding_spaces_find_what_they_named(ledger) -> None:
    # given records created with ids that had stray spaces (kept stripped)
    a_lead(ledger)
    ledger.tag("A001", tag=" VIP ", occurred_at=at(1))
    ledger.add_contact("A001", contact=Contact(" c1 ", "*先生"), occurred_at=at(1))
    ledger.file_complaint("A001", complaint=" TS-1 ", subject="late", occurred_at=at(1))
    ledger.sign_contract("A001", contract=" HT-1 ", signed_on=at(1).date(), occurred_at=at(1))
    ledger.schedule_reminder(
        "A001", reminder=" R1 ", subject="call", due_on=date(2024, 7, 1), occurred_at=at(1)
    )
    # when later commands name them the same way, they find them
    ledger.untag("A001", tag=" VIP ", occurred_at=at(2))
    ledger.remove_contact("A001", contact_id=" c1 ", occurred_at=at(2))
    ledger.resolve_complaint("A001", complaint=" TS-1 ", resolution="ok", occurred_at=at(2))
    ledger.terminate_contract("A001", contract=" HT-1 ", occurred_at=at(2))
    ledger.complete_reminder("A001", reminder=" R1 ", occurred_at=at(2))
    customer = ledger.customer("A001")
    assert not customer.tags and not customer.contacts and customer.open_complaints == 0
    assert customer.contracts["HT-1"].status.value == "terminated"
    assert customer.reminders["R1"].done_at == at(2)
    assert recorded(ledger) == 2 + 10


# -- the rules are documented -----------------------------------------------------------------


def all_subclasses(cls: type) -> set[type]:
    return {cls} | {s for sub in cls.__subclasses__() for s in all_subclasses(sub)}


def test_every_rule_is_in_the_docs_with_its_name() -> None:
    import customer_ledger.domain.access  # noqa: F401 - PermissionDenied lives there

    docs = (DOCS / "domain.md").read_text(encoding="utf-8")
    rules = docs.split("## Rules", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("` "): cells[1].strip("` ")
        for cells in (line.strip("|").split("|") for line in rules.splitlines())
        if len(cells) == 3 and cells[0].strip().startswith("`")
    }
    for error in all_subclasses(DomainError) - {DomainError}:  # the base is never raised
        assert rows.get(error.__name__) == error.rule, f"{error.__name__} ({error.rule})"
