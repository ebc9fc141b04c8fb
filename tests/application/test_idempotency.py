"""Idempotency: a command re-sent with the same ``command_id`` records nothing and returns
what it returned the first time, even after a restart; a ``command_id`` reused for
another command is rejected (``CommandIdReused``) and records nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import given, settings
from strategies import (
    EXAMPLES,
    Command,
    a_lead,
    at,
    fixed_clock,
    fresh,
    histories,
    ready_for,
    recorded,
    replay,
)

from customer_ledger import (
    CommandIdReused,
    CommandResult,
    ComplaintNotOpen,
    CustomerLedger,
)
from customer_ledger.domain.registry import CommandReceipt


def test_a_result_says_whether_it_was_replayed_but_compares_equal() -> None:
    first = CommandResult(customer_id=uuid4(), number="A001", version=3)
    again = CommandResult(first.customer_id, "A001", 3, replayed=True)
    assert first == again and not first.replayed and again.replayed


@pytest.mark.parametrize("command", ["first_contact", *sorted(EXAMPLES)])
def test_every_command_re_sent_with_its_id_records_nothing(command: str) -> None:
    # given a command recorded under a command_id
    if command == "first_contact":
        ledger, args = fresh(), {"name": "*先生", "type": "individual"}
    else:
        ledger, args = ready_for(command), EXAMPLES[command]
    first = getattr(ledger, command)("A001", **args, occurred_at=at(2), command_id="cmd-1")
    before = recorded(ledger)
    # when it is sent again
    again = getattr(ledger, command)("A001", **args, occurred_at=at(2), command_id="cmd-1")
    # then the first result comes back, marked replayed, and nothing is recorded
    assert again == first and again.replayed and not first.replayed
    assert recorded(ledger) == before


@settings(max_examples=20)
@given(history=histories(max_size=25))
def test_re_sending_a_whole_history_records_nothing(history: list[Command]) -> None:
    # given a history recorded once, some commands with ids
    ledger = fresh()
    results = replay(ledger, history)
    before = recorded(ledger)
    # when every command that had an id is sent again
    with_ids = [(c, r) for c, r in zip(history, results, strict=True) if "command_id" in c.kwargs]
    again = [command(ledger) for command, _ in with_ids]
    # then each returns its first result, and the store is as it was
    assert again == [r for _, r in with_ids]
    assert all(r.replayed for r in again)
    assert recorded(ledger) == before


def test_the_receipt_keeps_the_result(ledger) -> None:
    result = ledger.first_contact("A001", name="*先生", type="individual", command_id="cmd-1")
    ledger.tag("A001", tag="VIP", command_id="cmd-2")
    receipt = ledger.repository.get(CommandReceipt.id_for("cmd-1"))
    assert (receipt.customer_id, receipt.number, receipt.version) == (result.customer_id, "A001", 1)
    assert ledger.repository.get(CommandReceipt.id_for("cmd-2")).version == 2


def test_a_re_send_survives_a_restart(sqlite_url: str) -> None:
    # given a command recorded under an id in a SQLite file, and the ledger closed
    ledger = CustomerLedger.open(sqlite_url, clock=fixed_clock)
    first = ledger.first_contact("A001", name="*先生", type="individual", command_id="cmd-1")
    ledger.tag("A001", tag="VIP", occurred_at=at(1), command_id="cmd-2")
    count = recorded(ledger)
    ledger.close()
    # when the file is opened again and the commands re-sent
    reopened = CustomerLedger.open(sqlite_url, clock=fixed_clock)
    try:
        again = reopened.first_contact("A001", name="*先生", type="individual", command_id="cmd-1")
        reopened.tag("A001", tag="VIP", occurred_at=at(1), command_id="cmd-2")
        # then they are recognised: same result, nothing recorded
        assert again == first and again.replayed
        assert recorded(reopened) == count
        # and an id reused for another command is still refused
        with pytest.raises(CommandIdReused):
            reopened.tag("A001", tag="重点", occurred_at=at(1), command_id="cmd-2")
        assert recorded(reopened) == count
    finally:
        reopened.close()


DIFFERENT: dict[str, dict[str, Any]] = {
    "another value": {"tag": "重点"},
    "another customer": {"number": "B002"},
    "another command": {"command": "assign_owner", "tag": None, "owner": "*经理"},
    "another business time": {"occurred_at": at(3)},
}


@pytest.mark.parametrize("case", sorted(DIFFERENT))
def test_a_command_id_reused_for_another_command_is_rejected(ledger, rejects, case: str) -> None:
    # given A001 and B002, and a tag recorded under cmd-1
    a_lead(ledger)
    a_lead(ledger, "B002")
    ledger.tag("A001", tag="VIP", occurred_at=at(2), command_id="cmd-1")
    args: dict[str, Any] = {"number": "A001", "command": "tag", "tag": "VIP", "occurred_at": at(2)}
    args.update(DIFFERENT[case])
    number, command = args.pop("number"), args.pop("command")
    args = {k: v for k, v in args.items() if v is not None}
    # when cmd-1 comes with different content
    # then CommandIdReused, nothing recorded
    with rejects(ledger, CommandIdReused) as info:
        getattr(ledger, command)(number, **args, command_id="cmd-1")
    assert info.value.rule == "command_id_reused"


def test_a_re_send_is_known_by_its_content_not_by_its_sender(ledger) -> None:
    a_lead(ledger)
    first = ledger.tag("A001", tag="VIP", occurred_at=at(1), actor="*助理", command_id="c")
    again = ledger.tag(
        "A001", tag="VIP", occurred_at=at(1), actor="*经理", correlation_id="retry", command_id="c"
    )
    assert again == first and again.replayed


@pytest.mark.parametrize("amount", [1000, "1000", Decimal("1000")])
def test_an_amount_written_as_int_text_or_decimal_is_the_same_command(ledger, amount) -> None:
    a_lead(ledger)
    first = ledger.record_purchase(
        "A001", product="product A", amount=Decimal("1000"), occurred_at=at(1), command_id="p"
    )
    again = ledger.record_purchase(
        "A001", product="product A", amount=amount, occurred_at=at(1), command_id="p"
    )
    assert again == first and again.replayed


def test_a_rejected_command_leaves_its_id_free(ledger, rejects) -> None:
    # given a command rejected under an id
    a_lead(ledger)
    with rejects(ledger, ComplaintNotOpen):
        ledger.resolve_complaint(
            "A001", complaint="TS-1", resolution="ok", occurred_at=at(2), command_id="r"
        )
    # when the state then allows it and it is sent again
    ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(1))
    result = ledger.resolve_complaint(
        "A001", complaint="TS-1", resolution="ok", occurred_at=at(2), command_id="r"
    )
    # then it is executed, not replayed
    assert not result.replayed and ledger.customer("A001").open_complaints == 0
