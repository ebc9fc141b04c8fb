"""Merging a duplicate record into the customer it duplicates, on memory, SQLite and
PostgreSQL.

Nothing recorded is rewritten (the hash chains verify): the survivor records
``CustomerAbsorbed`` with what the absorbed record brings, the absorbed one
``MergedIntoCustomer``; after it, every command on the absorbed number but ``forget``
is refused with ``merged_into`` naming the survivor, and its profile is the survivor's.
A replay as of a date before the merge shows both as they were.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_support import invoke
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import at, fixed_clock, fresh, recorded

from customer_ledger import (
    Contact,
    CustomerLedger,
    InvalidValue,
    LedgerError,
    MergedInto,
    UnknownCustomer,
)
from customer_ledger.audit.verify import verify
from customer_ledger.domain.access import Actor, PermissionDenied
from customer_ledger.formats.spreadsheets.exports import ExportRequest, export, profiles

BACKENDS = ("memory", "sqlite", "postgres")
MANAGER = Actor("*主管", "manager")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(request.param, request, tmp_path)


@pytest.fixture
def ledger(store: str) -> Iterator[CustomerLedger]:
    ledger = CustomerLedger.open(store, clock=fixed_clock)
    yield ledger
    ledger.close()


def two_records_of_one_company(ledger: CustomerLedger) -> None:
    """B001, a customer with a contact; B002, the same company recorded again, with its
    own contact, a contract in force, an open complaint, a tag, a purchase, two calls."""
    ledger.first_contact("B001", name="ABC公司", type="company", occurred_at=at(0))
    ledger.add_contact(
        "B001", contact=Contact("c1", "张三", phone="13812345678"), occurred_at=at(0)
    )
    ledger.record_purchase("B001", product="A", amount="1000", occurred_at=at(1))
    ledger.first_contact(
        "B002", name="ABC 公司", type="company", occurred_at=at(2), allow_duplicate=True
    )
    ledger.add_contact(
        "B002", contact=Contact("c1", "李四", phone="13987654321"), occurred_at=at(2)
    )
    ledger.sign_contract("B002", contract="HT-9", signed_on=at(3).date(), amount="5000",
                         expires_on=at(300).date(), occurred_at=at(3))  # fmt: skip
    ledger.record_purchase("B002", product="B", amount="2000", occurred_at=at(4))
    ledger.file_complaint("B002", complaint="K1", subject="late delivery", occurred_at=at(5))
    ledger.tag("B002", tag="华东", occurred_at=at(5))
    for day in (5, 6):
        ledger.log_interaction("B002", channel="phone", topic="follow-up", occurred_at=at(day))


def test_the_survivor_takes_over_and_nothing_is_rewritten(ledger) -> None:
    # given two records of one company
    two_records_of_one_company(ledger)
    before = {n: [e.__dict__ for e in ledger.history(n)] for n in ("B001", "B002")}
    # when B002 is merged into B001 by a manager
    result = ledger.merge("B002", into="B001", reason="same company", actor=MANAGER,
                          occurred_at=at(10))  # fmt: skip
    assert (result.number, result.events) == ("B001", 2)
    # then B001 holds what B002 brings
    b001 = ledger.customer("B001")
    assert sorted(c.name for c in b001.contacts.values()) == ["张三", "李四"]
    assert "B002-c1" in b001.contacts  # the id B001 already used, prefixed
    assert set(b001.contracts) == {"HT-9"} and set(b001.complaints) == {"K1"}
    assert b001.tags == {"华东"} and b001.revenue == {"CNY": Decimal("3000")}
    assert (b001.interaction_count, b001.purchase_count) == (2, 2)
    assert b001.stage.value == "at_risk"  # the open complaint came along
    # and the merge is recorded on both, by the manager, with the reason
    absorbed, merged = ledger.history("B001")[-1], ledger.history("B002")[-1]
    assert (type(absorbed).__name__, type(merged).__name__) == (
        "CustomerAbsorbed",
        "MergedIntoCustomer",
    )
    assert (merged.meta.actor, merged.meta.reason, merged.survivor_number) == (
        "*主管",
        "same company",
        "B001",
    )
    # and the earlier history is as it was, every chain intact
    for number, events in before.items():
        assert [e.__dict__ for e in ledger.history(number)][: len(events)] == events
    assert verify(ledger).ok


def test_the_absorbed_number_leads_to_the_survivor_and_takes_no_command(ledger, rejects) -> None:
    two_records_of_one_company(ledger)
    ledger.merge("B002", into="B001", reason="same company", actor=MANAGER)
    # its profile is the survivor's, saying how it was found
    profile = ledger.profile("b002")
    assert (profile.number, profile.looked_up_as, profile.merged_from) == (
        "B001",
        "B002",
        ("B002",),
    )
    # every command is refused, pointing to the survivor
    with rejects(ledger, MergedInto) as info:
        ledger.tag("B002", tag="x", occurred_at=at(11))
    assert info.value.survivor == "B001" and "B001" in str(info.value)
    with rejects(ledger, MergedInto):
        ledger.merge("B002", into="B001", reason="again", actor=MANAGER)
    with rejects(ledger, MergedInto):
        ledger.merge("B001", into="B002", reason="back", actor=MANAGER)
    # the board and the analytics count the company once
    assert [r.number for r in ledger.status()] == ["B001"]
    assert ledger.board().total == 1
    assert [c.number for c in ledger.analytics(at(20).date()).customers] == ["B001"]
    # and they are no longer listed as likely duplicates
    assert ledger.duplicates() == []


def test_a_replay_before_the_merge_shows_both_as_they_were(ledger) -> None:
    two_records_of_one_company(ledger)
    ledger.merge("B002", into="B001", reason="same company", actor=MANAGER, occurred_at=at(10))
    b001, b002 = (ledger.replay(n, as_of=at(8)) for n in ("B001", "B002"))
    assert (b001.revenue, b002.revenue) == ({"CNY": Decimal("1000")}, {"CNY": Decimal("2000")})
    assert (b001.merged_from, b002.merged_into) == ((), None)
    assert ledger.replay("B002", as_of=at(11)).merged_into == "B001"


def test_merge_needs_a_role_that_may_and_a_refusal_is_recorded(ledger, rejects) -> None:
    two_records_of_one_company(ledger)
    before = len(list(ledger.audit_log("B002")))
    with pytest.raises(PermissionDenied):
        ledger.merge("B002", into="B001", reason="same company", actor="*助理")  # sales
    denied = list(ledger.audit_log("B002"))[before:]
    assert [(e.kind, e.actor, e.summary) for e in denied] == [("denied", "*助理", "refused: merge")]
    assert ledger.customer("B002").merged_into is None


def test_what_cannot_be_merged(ledger, rejects) -> None:
    two_records_of_one_company(ledger)
    with rejects(ledger, InvalidValue):
        ledger.merge("B001", into="b001", reason="self", actor=MANAGER)
    with rejects(ledger, UnknownCustomer):
        ledger.merge("B002", into="Z999", reason="gone", actor=MANAGER)


def test_a_re_sent_merge_records_nothing(ledger) -> None:
    two_records_of_one_company(ledger)
    first = ledger.merge("B002", into="B001", reason="r", actor=MANAGER, command_id="m-1")
    again = ledger.merge("B002", into="B001", reason="r", actor=MANAGER, command_id="m-1")
    assert again.replayed and again == first


def test_merges_carry_on_down_a_chain_and_count_once(ledger) -> None:
    # given three records, merged A into B, then B into C
    for number, day in (("A1", 0), ("A2", 1), ("A3", 2)):
        ledger.first_contact(number, name="*先生", type="individual", occurred_at=at(day))
        ledger.log_interaction(number, channel="visit", topic="hello", occurred_at=at(day))
        ledger.record_purchase(number, product="P", amount="100", occurred_at=at(day))
    ledger.merge("A1", into="A2", reason="same", actor=MANAGER, occurred_at=at(5))
    ledger.merge("A2", into="A3", reason="same", actor=MANAGER, occurred_at=at(6))
    # then A3 holds all three, counted once, dated as they happened
    [facts] = ledger.analytics_facts()
    assert facts.number == "A3"
    assert sorted(i.on for i in facts.interactions) == [at(d).date() for d in (0, 1, 2)]
    assert [ledger.profile(n).number for n in ("A1", "A2")] == ["A3", "A3"]  # down the chain
    assert ledger.profile("A1").looked_up_as == "A1"
    assert ledger.customer("A3").revenue == {"CNY": Decimal("300")}


def test_a_merged_record_can_still_be_forgotten(ledger) -> None:
    two_records_of_one_company(ledger)
    ledger.merge("B002", into="B001", reason="same company", actor=MANAGER)
    ledger.forget("B002", actor=Actor("dpo", "admin"), reason="request 9")
    assert ledger.customer("B002").forgotten


def test_the_command_line_merges_and_lists_duplicates(capsys, tmp_path) -> None:
    store = ["--store", f"sqlite:///{tmp_path}/cli.db"]
    company = ["--name", "ABC公司", "--type", "company"]
    assert invoke(capsys, [*store, "first-contact", "B001", *company]).code == 0
    refused = invoke(capsys, [*store, "first-contact", "B002", *company])
    assert (
        refused.code == 1 and "error [possible_duplicate]" in refused.err and "B001" in refused.err
    )
    assert (
        invoke(capsys, [*store, "first-contact", "B002", *company, "--allow-duplicate"]).code == 0
    )
    listed = invoke(capsys, [*store, "duplicates", "--json"])
    assert listed.json() == [{"numbers": ["B001", "B002"], "reasons": ["same company name"]}]
    denied = invoke(capsys, [*store, "--role", "sales", "merge", "B002", "--into", "B001",
                             "--reason", "same"])  # fmt: skip
    assert denied.code == 1 and "error [permission_denied]" in denied.err
    merged = invoke(capsys, [*store, "--role", "manager", "merge", "B002", "--into", "B001",
                             "--reason", "same", "--json"])  # fmt: skip
    assert merged.code == 0 and merged.json()["number"] == "B001"
    refused = invoke(capsys, [*store, "tag", "B002", "--tag", "x"])
    assert refused.code == 1 and "error [merged_into]" in refused.err and "B001" in refused.err
    shown = invoke(capsys, [*store, "profile", "B002"])
    assert "B002 was merged into B001" in shown.out
    assert invoke(capsys, [*store, "duplicates", "--json"]).json() == []


def test_exports_list_the_merged_company_once(ledger) -> None:
    two_records_of_one_company(ledger)
    ledger.merge("B002", into="B001", reason="same company", actor=MANAGER)
    request = ExportRequest(as_of=at(20), actor=MANAGER)
    assert [p.number for p in profiles(ledger, request)] == ["B001"]
    unmasked = ExportRequest(as_of=at(20), actor=MANAGER, unmasked=True, why="audit")
    assert [p.number for p in profiles(ledger, unmasked)] == ["B001"]
    out = io.BytesIO()
    assert export(ledger, "status", out, request=request) == 1
    assert b"B001" in out.getvalue() and b"B002" not in out.getvalue()


HOSTILE = [None, 123, 2**70, float("nan"), "", " ", "\x00", "\ud800", "x" * 10_000, [], {},
           "B001'; DROP TABLE x; --", "=cmd|' /C calc'!A0", date.max, datetime.min]  # fmt: skip


@settings(max_examples=60)
@given(argument=st.sampled_from(["number", "into", "reason", "occurred_at", "command_id"]),
       value=st.sampled_from(HOSTILE))  # fmt: skip
def test_hostile_merge_arguments_are_typed_errors_that_change_nothing(
    argument: str, value: object
) -> None:
    ledger = fresh()
    two_records_of_one_company(ledger)
    args: dict[str, Any] = {"number": "B002", "into": "B001", "reason": "same"}
    args[argument] = value
    before = recorded(ledger)
    try:
        ledger.merge(args.pop("number"), **args, actor=MANAGER)
    except LedgerError:
        assert recorded(ledger) == before
    else:  # a value the merge may take (an odd but valid command id or reason)
        assert ledger.customer("B002").merged_into == "B001"
