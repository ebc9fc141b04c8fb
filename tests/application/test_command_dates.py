"""Every date field of every command takes what ``occurred_at`` takes: a date, an ISO
date or date-time as text, a date-time (its day in the ledger's time zone), through
the one command schema — from Python, JSON Lines and the command line alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from cli_support import invoke
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import fixed_clock

from customer_ledger import COMMANDS, Contact, CustomerLedger, InvalidValue
from customer_ledger.application.schema import command_params, date_fields, with_dates
from customer_ledger.formats.jsonl import import_lines

# What each command with a date field needs besides it, and where its day is read back.
Setup = Callable[[CustomerLedger], None]
Read = Callable[[CustomerLedger], date | None]


def _customer(ledger: CustomerLedger) -> None:
    ledger.first_contact("A001", name="*科技有限公司", type="company", occurred_at="2020-01-01")


def _contract(ledger: CustomerLedger) -> None:
    _customer(ledger)
    ledger.sign_contract("A001", contract="C1", signed_on=date(2020, 1, 2))


def _last(ledger: CustomerLedger, kind: str, field: str) -> Any:
    event = [e for e in ledger.history("A001") if type(e).__name__ == kind][-1]
    return getattr(event, field)


CASES: dict[tuple[str, str], tuple[Setup, dict[str, Any], Read]] = {
    ("sign_contract", "signed_on"): (
        _customer, {"contract": "C2"}, lambda x: x.customer("A001").contracts["C2"].signed_on),
    ("sign_contract", "starts_on"): (
        _customer, {"contract": "C2", "signed_on": "1999-12-31"},
        lambda x: x.customer("A001").contracts["C2"].starts_on),
    ("sign_contract", "expires_on"): (
        _customer, {"contract": "C2", "signed_on": "1999-12-31"},
        lambda x: x.customer("A001").contracts["C2"].expires_on),
    ("renew_contract", "expires_on"): (
        _contract, {"contract": "C1"}, lambda x: x.customer("A001").contracts["C1"].expires_on),
    ("schedule_reminder", "due_on"): (
        _customer, {"reminder": "R1", "subject": "回访"},
        lambda x: x.customer("A001").reminders["R1"].due_on),
    ("log_interaction", "follow_up_on"): (
        _customer, {"channel": "phone", "topic": "询价", "follow_up": "回电"},
        lambda x: _last(x, "InteractionLogged", "follow_up_on")),
    ("add_contact", "birthday"): (
        _customer, {"contact_id": "c1", "name": "王五"},
        lambda x: x.customer("A001").contacts["c1"].birthday),
    ("update_contact", "birthday"): (
        lambda x: (_customer(x), x.add_contact("A001", contact=Contact("c1", "王五")))[0],
        {"contact_id": "c1", "name": "王五"},
        lambda x: x.customer("A001").contacts["c1"].birthday),
}  # fmt: skip


def test_every_date_field_of_every_command_is_covered() -> None:
    assert {(n, f) for n in COMMANDS for f in date_fields(n)} == set(CASES)


def spellings(day: date) -> st.SearchStrategy[Any]:
    """``day`` as occurred_at takes it; date-times are some time of that day in the
    ledger's zone (Asia/Shanghai), written in another zone or none."""
    at = st.builds(lambda m: datetime.combine(day, time(0)) + timedelta(minutes=m),
                   st.integers(0, 24 * 60 - 1))  # fmt: skip
    return st.one_of(
        st.just(day),
        st.just(day.isoformat()),
        st.just(f" {day.isoformat()} "),
        at.map(lambda t: t.isoformat()),  # naive: in the ledger's zone
        at.map(lambda t: t.isoformat(" ", "minutes")),
        at.map(lambda t: (t - timedelta(hours=8)).isoformat() + "+00:00"),  # the same moment
        at.map(lambda t: t.replace(tzinfo=fixed_zone())),
    )


def fixed_zone() -> Any:
    return CustomerLedger.open("memory://").timezone


def run(ledger: CustomerLedger, command: str, number: str, /, **fields: Any) -> None:
    if command in ("add_contact", "update_contact"):
        contact = Contact(fields.pop("contact_id"), fields.pop("name"), **fields)
        getattr(ledger, command)(number, contact=contact, occurred_at="2020-02-01")
    else:
        getattr(ledger, command)(number, occurred_at="2020-02-01", **fields)


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(sorted(CASES)),
    spelt=st.dates(date(2000, 1, 1), date(2020, 1, 31)).flatmap(
        lambda d: st.tuples(st.just(d), spellings(d))
    ),
)
def test_a_date_field_takes_what_occurred_at_takes(
    case: tuple[str, str], spelt: tuple[date, Any]
) -> None:
    (name, field), (day, written) = case, spelt
    if (name, field) == ("renew_contract", "expires_on"):
        day, written = date(2030, 1, 1), "2030-01-01T09:00:00+08:00"
    setup, fields, read = CASES[name, field]
    # given a customer ready for the command
    ledger = CustomerLedger.open("memory://", clock=fixed_clock)
    setup(ledger)
    # when the command gives its date field as occurred_at may be given
    run(ledger, name, "A001", **fields, **{field: written})
    # then the field holds that day
    assert read(ledger) == day


@pytest.mark.parametrize("written", ["2024-13-01", "not a date", "", "2024/02/02x"])
def test_text_that_is_no_date_is_refused_naming_the_field(written: str) -> None:
    ledger = CustomerLedger.open("memory://", clock=fixed_clock)
    _customer(ledger)
    before = len(ledger.history("A001"))
    with pytest.raises(InvalidValue, match="signed_on"):
        ledger.sign_contract("A001", contract="C2", signed_on=written, occurred_at="2020-02-01")
    assert len(ledger.history("A001")) == before


def test_a_date_in_any_spelling_is_the_same_command_for_idempotency() -> None:
    # given a contract recorded with its dates as objects under a command id
    ledger = CustomerLedger.open("memory://", clock=fixed_clock)
    _customer(ledger)
    first = ledger.sign_contract("A001", contract="C2", signed_on=date(2020, 1, 3), command_id="k1")
    # when it is sent again with its date as text
    again = ledger.sign_contract("A001", contract="C2", signed_on="2020-01-03", command_id="k1")
    # then it is the same command, replayed, not a reused command id
    assert again.replayed and again.version == first.version


def test_json_lines_and_the_command_line_take_date_times_for_dates(
    capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'dates.db'}"
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    _customer(ledger)
    report = import_lines(
        ledger,
        ['{"command": "schedule_reminder", "customer": "A001", "reminder": "R1", '
         '"subject": "续约", "due_on": "2024-07-01T10:00:00+08:00"}'],
    )  # fmt: skip
    assert report.failed == 0, report
    ledger.close()
    ran = invoke(capsys, ["--store", url, "schedule-reminder", "A001", "--reminder", "R2",
                          "--subject", "回访", "--due-on", "2024-07-02 09:30"])  # fmt: skip
    assert ran.code == 0, ran.err
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    reminders = ledger.customer("A001").reminders
    assert (reminders["R1"].due_on, reminders["R2"].due_on) == (date(2024, 7, 1), date(2024, 7, 2))
    ledger.close()
    assert "due_on" in command_params("schedule_reminder")


def test_a_command_outside_the_schema_passes_its_arguments_as_they_are() -> None:
    args = {"kept": {"name": "x"}}
    assert with_dates("forget", args, fixed_zone()) is args
