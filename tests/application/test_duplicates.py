"""Likely duplicates: a first contact that looks like a customer already recorded is
refused (``possible_duplicate``, naming it) unless ``allow_duplicate``, which the event
records; ``duplicates()`` lists the groups with their reason. What matches (phones, ID
numbers) is kept as keyed hashes in the store's duplicate index, never in clear, on
memory, SQLite and PostgreSQL; forgetting a customer removes its rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import at, fixed_clock, fresh
from v1_fixture import v1_stored_events

from customer_ledger import Contact, CustomerLedger, PossibleDuplicate
from customer_ledger.application.duplicates import DuplicateGroup
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer
from customer_ledger.errors import PermissionDenied
from customer_ledger.formats.jsonl import import_lines
from customer_ledger.storage.mapper import CattrsMapper

BACKENDS = ("memory", "sqlite", "postgres")
PHONE = "13912347788"
ID_NUMBER = "110101198503047777"


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    ledger = CustomerLedger.open(
        fresh_store_url(request.param, request, tmp_path), clock=fixed_clock
    )
    yield ledger
    ledger.close()


def a_company(ledger: CustomerLedger, number: str, name: str = "ABC科技有限公司", **more) -> None:
    ledger.first_contact(number, name=name, type="company", occurred_at=at(0), **more)


def an_individual(ledger: CustomerLedger, number: str, phone: str | None = None, **more) -> None:
    ledger.first_contact(number, name="*先生", type="individual", occurred_at=at(0), **more)
    if phone is not None:
        ledger.add_contact(number, contact=Contact("c1", "*先生", phone=phone), occurred_at=at(1))


def test_a_company_of_the_same_name_is_refused_naming_the_first(ledger, rejects) -> None:
    # given a company
    a_company(ledger, "B001")
    # when another first contact names it with other case, width and spaces
    # then possible_duplicate naming B001, and nothing is recorded
    with rejects(ledger, PossibleDuplicate) as info:
        a_company(ledger, "B002", name=" abc科技 有限公司 ")
    assert info.value.numbers == ("B001",)
    assert "B001" in str(info.value)
    assert ledger.duplicates() == []


def test_allow_duplicate_records_it_with_that_choice_in_the_event(ledger) -> None:
    # given a company, and a first contact of the same name allowed as a duplicate
    a_company(ledger, "B001", licence_no="91110000MA01")
    a_company(ledger, "B002", name="ＡＢＣ科技有限公司", allow_duplicate=True)
    # then the event says the choice and what it looked like
    first = ledger.history("B002")[0]
    assert (first.allow_duplicate, first.duplicate_of) == (True, ("B001",))
    # and an ordinary first contact records that no such choice was made
    assert (ledger.history("B001")[0].allow_duplicate, ledger.history("B001")[0].duplicate_of) == (
        False,
        (),
    )
    # and the two are listed as a group, with the reason
    assert ledger.duplicates() == [DuplicateGroup(("B001", "B002"), ("same company name",))]


def test_a_licence_or_id_number_is_a_duplicate_whatever_the_name(ledger, rejects) -> None:
    a_company(ledger, "B001", licence_no="91110000MA01")
    an_individual(ledger, "A001", licence_no=ID_NUMBER)
    with rejects(ledger, PossibleDuplicate) as company:
        a_company(ledger, "B002", name="另一家公司", licence_no="91110000 ma01")
    with rejects(ledger, PossibleDuplicate) as person:
        an_individual(ledger, "A002", licence_no=f" {ID_NUMBER}")
    assert (company.value.numbers, person.value.numbers) == (("B001",), ("A001",))
    # individuals of the same name are different people
    an_individual(ledger, "A003")
    assert ledger.duplicates() == []


def test_individuals_sharing_a_phone_are_listed_and_the_index_holds_no_phone(ledger) -> None:
    # given two individuals whose contacts have one phone, written two ways, and one
    # whose phone is only known masked
    an_individual(ledger, "A001", phone=PHONE)
    an_individual(ledger, "A002", phone="+86 139 1234 7788")
    an_individual(ledger, "A003", phone="139****7788")
    # then they are one group, because of the phone
    assert ledger.duplicates() == [DuplicateGroup(("A001", "A002"), ("same phone",))]
    # and the index holds keyed hashes, not the digits
    rows = ledger.keys.index_rows()
    assert rows and all(PHONE not in repr(row) and PHONE.encode() not in row[3] for row in rows)
    assert all(len(row[3]) == 32 for row in rows)


def test_forgetting_a_customer_removes_its_rows(ledger) -> None:
    an_individual(ledger, "A001", phone=PHONE, licence_no=ID_NUMBER)
    an_individual(ledger, "A002", phone=PHONE)
    ledger.forget("A001", actor=Actor("dpo", "admin"), reason="request 7")
    assert ledger.duplicates() == []
    assert {row[1] for row in ledger.keys.index_rows()} == {"A002"}
    an_individual(ledger, "A004", licence_no=ID_NUMBER)  # no longer a likely duplicate


def test_json_lines_carry_allow_duplicate(ledger) -> None:
    a_company(ledger, "B001")
    line = {"command": "first_contact", "customer": "B002", "name": "ABC科技有限公司"}
    line |= {"type": "company", "occurred_at": "2024-05-01"}
    refused = import_lines(ledger, [json.dumps(line)])
    allowed = import_lines(ledger, [json.dumps(line | {"allow_duplicate": True})])
    assert (refused.recorded, allowed.recorded) == (0, 1)
    assert ledger.history("B002")[0].allow_duplicate is True


def test_an_older_store_is_indexed_by_reindex(ledger) -> None:
    # given two companies of one name recorded before the index had rows for them
    a_company(ledger, "B001")
    a_company(ledger, "B002", allow_duplicate=True)
    for number in ("B001", "B002"):
        ledger.keys.index(ledger.customer_id(number), number, [])
    assert ledger.duplicates() == []
    # when the index is rebuilt from the history, then they are a group again
    assert ledger.reindex_duplicates() == 2
    assert [g.numbers for g in ledger.duplicates()] == [("B001", "B002")]


def test_a_release_0_1_first_contact_decodes_as_no_choice_made() -> None:
    # given the FirstContacted events release 0.1 stored (tests/fixtures/v1_events.jsonl)
    stored = [e for e in v1_stored_events() if e.topic.endswith(".FirstContacted")]
    assert stored and all(b"allow_duplicate" not in e.state for e in stored)
    # when decoded, then each is a v2 event with no duplicate allowed
    for event in map(CattrsMapper().to_domain_event, stored):
        assert type(event) is Customer.FirstContacted
        assert (event.allow_duplicate, event.duplicate_of) == (False, ())


def _spelling(name: str) -> st.SearchStrategy[str]:
    full = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    return st.sampled_from([name, name.lower(), name.upper(), full, f" {name} ", " ".join(name)])


@settings(max_examples=30)
@given(data=st.data(), name=st.from_regex(r"[A-Za-z][A-Za-z0-9]{1,8}(公司|集团)?", fullmatch=True))
def test_any_spelling_of_a_company_name_is_a_likely_duplicate(rejects, data, name: str) -> None:
    ledger = fresh()
    a_company(ledger, "B001", name=data.draw(_spelling(name)))
    with rejects(ledger, PossibleDuplicate):
        a_company(ledger, "B002", name=data.draw(_spelling(name)))


def test_one_import_file_registering_a_company_three_times_records_it_once(
    ledger: CustomerLedger,
) -> None:
    """Given a file (one batch) with the same company under three numbers, when it is
    imported, then the first is recorded and the others are refused as possible
    duplicates of it, though the index holds none of them until the batch is saved;
    a line that says allow_duplicate is recorded."""
    same = {"command": "first_contact", "name": "恒通贸易有限公司", "type": "company"}
    lines = [json.dumps({**same, "customer": f"H00{i}"}, ensure_ascii=False) for i in (1, 2, 3)]
    lines.append(json.dumps({**same, "customer": "H004", "allow_duplicate": True}))
    report = import_lines(ledger, lines, actor=Actor("admin-1", "admin"))
    assert report.recorded == 2
    assert [(f.line, f.rule) for f in report.failures] == [
        (2, "possible_duplicate"), (3, "possible_duplicate")
    ]  # fmt: skip
    assert "H001" in report.failures[0].reason
    assert sorted(ledger.numbers()) == ["H001", "H004"]


@pytest.mark.parametrize("role", ["sales", "service", "manager", "auditor"])
def test_only_a_role_the_policy_allows_rebuilds_the_index_and_a_refusal_is_recorded(
    ledger, role: str
) -> None:
    # given two companies of one name the index has lost
    a_company(ledger, "B001")
    a_company(ledger, "B002", allow_duplicate=True)
    for number in ("B001", "B002"):
        ledger.keys.index(ledger.customer_id(number), number, [])
    # when another role asks for the rebuild: refused, recorded, the index as it was
    with pytest.raises(PermissionDenied):
        ledger.reindex_duplicates(actor=Actor("eve", role))
    assert [e.kind for e in ledger.audit_log(actor="eve")] == ["denied"]
    assert ledger.duplicates() == []
    # then an admin's rebuild goes through
    assert ledger.reindex_duplicates(actor=Actor("root", "admin")) == 2
    assert [g.numbers for g in ledger.duplicates()] == [("B001", "B002")]
