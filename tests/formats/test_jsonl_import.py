"""The JSON Lines importer, through its Python API (the CLI only prints its report)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DOCS

from customer_ledger import COMMANDS, Contact, CustomerLedger, Needs
from customer_ledger.application.arguments import META_FIELDS
from customer_ledger.application.schema import SCHEMA_META, command_params
from customer_ledger.domain.access import Actor
from customer_ledger.errors import InvalidValue, UnknownField, WrongType
from customer_ledger.formats.jsonl import (
    DERIVED_ID_PREFIX,
    ImportReport,
    derived_command_id,
    import_file,
    import_lines,
    import_objects,
    parse_command,
)

COMMANDS_DOC = DOCS / "commands.md"

FIRST = {
    "command": "first_contact",
    "customer": "A001",
    "name": "*先生",
    "type": "individual",
    "occurred_at": "2023-08-15",
}


def jsonl(*lines: dict[str, Any] | str) -> list[bytes]:
    return [
        (line if isinstance(line, str) else orjson.dumps(line).decode()).encode() + b"\n"
        for line in lines
    ]


def event_count(ledger: CustomerLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


@pytest.fixture
def ledger() -> CustomerLedger:
    """On the wall clock (not conftest's fixed one): the docs' examples run into 2025."""
    return CustomerLedger.open("memory://")


@pytest.fixture
def a001(ledger: CustomerLedger) -> CustomerLedger:
    """A ledger that already holds customer A001."""
    assert import_objects(ledger, [FIRST]).ok
    return ledger


# -- good lines -------------------------------------------------------------------------


def test_every_line_becomes_the_command_it_names(ledger: CustomerLedger) -> None:
    # given a file with a customer's first contact, an interaction and a purchase
    lines = jsonl(
        FIRST,
        {
            "command": "log_interaction",
            "customer": "A001",
            "channel": "phone",
            "topic": "asked when the new product launches",
            "occurred_at": "2023-10-20",
            "actor": "*助理",
        },
        {
            "command": "record_purchase",
            "customer": "A001",
            "product": "premium plan",
            "quantity": 2,
            "amount": "1999.90",
            "currency": "CNY",
            "occurred_at": "2023-10-21T15:30:00+08:00",
        },
    )
    # when it is imported
    report = import_lines(ledger, lines)
    # then each line is one recorded command, with its own business time; its "actor" is
    # what the file says (the source's), and the importer (here the ledger's default
    # actor) is who recorded it
    assert report == ImportReport(lines=3, recorded=3, skipped=0)
    profile = ledger.profile("A001")
    assert (profile.stage, profile.total_revenue, profile.purchase_count) == (
        "customer",
        Decimal("1999.90"),
        1,
    )
    logged = ledger.history("A001")[1]
    assert (logged.meta.source_actor, logged.meta.actor) == ("*助理", "system")
    assert logged.occurred_at.date() == date(2023, 10, 20)


def test_contact_needs_and_profile_fields_are_given_flat(a001: CustomerLedger) -> None:
    # given lines for add_contact, record_needs and update_profile with flat fields
    lines = jsonl(
        {
            "command": "add_contact",
            "customer": "A001",
            "contact_id": "c1",
            "name": "*先生",
            "title": "middle manager",
            "phone": "138****5678",
            "birthday": "1985-03-02",
            "primary": True,
            "occurred_at": "2023-10-20",
        },
        {
            "command": "record_needs",
            "customer": "A001",
            "core_needs": "prefers efficient service",
            "upsell_intention": True,
            "occurred_at": "2023-10-20",
        },
        {"command": "update_profile", "customer": "A001", "industry": "internet"},
    )
    # when imported
    report = import_lines(a001, lines)
    # then they land in the Contact, Needs and profile they describe
    assert report.ok, report.failures
    profile = a001.profile("A001", actor=Actor("li", "admin"), unmasked=True, why="check")
    assert profile.contacts == (
        Contact(
            "c1",
            "*先生",
            title="middle manager",
            phone="138****5678",
            birthday=date(1985, 3, 2),
            primary=True,
        ),
    )
    assert profile.needs == Needs(core_needs="prefers efficient service", upsell_intention=True)
    assert profile.industry == "internet"


def test_lines_without_an_actor_are_recorded_by_the_import_actor(ledger: CustomerLedger) -> None:
    import_objects(ledger, [FIRST], actor="migration-2024")
    assert ledger.history("A001")[0].meta.actor == "migration-2024"


def test_blank_lines_and_a_byte_order_mark_are_ignored(ledger: CustomerLedger) -> None:
    lines = [b"\xef\xbb\xbf" + jsonl(FIRST)[0], b"\n", b"   \r\n"]
    report = import_lines(ledger, lines)
    assert (report.lines, report.recorded, report.failed) == (1, 1, 0)


# -- idempotency ------------------------------------------------------------------------


def test_importing_the_same_file_twice_records_nothing_new(
    ledger: CustomerLedger, tmp_path: Path
) -> None:
    # given a file imported once
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b"".join(jsonl(FIRST, {"command": "tag", "customer": "A001", "tag": "vip-candidate"}))
    )
    first = import_file(ledger, path)
    events = event_count(ledger)
    # when it is imported again
    second = import_file(ledger, path)
    # then every line is skipped as already imported and the store is unchanged
    assert (first.recorded, first.skipped) == (2, 0)
    assert (second.recorded, second.skipped, second.failed) == (0, 2, 0)
    assert event_count(ledger) == events


def test_a_derived_command_id_ignores_spacing_and_key_order() -> None:
    same = orjson.loads(b'{"customer": "A001", "command": "tag", "tag": "x"}')
    assert derived_command_id(same) == derived_command_id(
        {"command": "tag", "tag": "x", "customer": "A001"}
    )
    assert derived_command_id(same).startswith(DERIVED_ID_PREFIX)
    assert derived_command_id(same) != derived_command_id({**same, "tag": "y"})


def test_a_line_with_its_own_command_id_runs_once_under_that_id(ledger: CustomerLedger) -> None:
    line = {**FIRST, "command_id": "crm-export:42"}
    import_objects(ledger, [line])
    # a different spelling of the same command under the same id is still the same command
    report = import_objects(ledger, [{**line, "actor": "someone else"}])
    assert (report.recorded, report.skipped) == (0, 1)
    assert ledger.history("A001")[0].meta.command_id == "crm-export:42"


def test_reusing_a_command_id_for_another_command_fails_that_line(a001: CustomerLedger) -> None:
    tag = {"command": "tag", "customer": "A001", "tag": "x", "command_id": "k1"}
    import_objects(a001, [tag])
    report = import_objects(a001, [{**tag, "tag": "y"}])
    assert [(f.line, f.rule) for f in report.failures] == [(1, "command_id_reused")]


# -- bad lines --------------------------------------------------------------------------

BAD_LINES: list[tuple[str, str]] = [
    ("not json at all", "invalid_json"),
    ('{"command": "tag", "customer": "A001", "tag": ', "invalid_json"),
    ("[1, 2, 3]", "bad_line"),
    ('"first_contact"', "bad_line"),
    ('{"customer": "A001", "tag": "x"}', "missing_field"),
    ('{"command": "first_contact", "name": "x", "type": "company"}', "missing_field"),
    ('{"command": "sing_contract", "customer": "A001"}', "unknown_command"),
    ('{"command": "tag", "customer": "A001", "tga": "x"}', "unknown_field"),
    ('{"command": "tag", "customer": "A001"}', "missing_field"),
    ('{"command": "tag", "customer": "A001", "tag": 7}', "wrong_type"),
    ('{"command": "tag", "customer": 1, "tag": "x"}', "missing_field"),
    (
        '{"command": "record_purchase", "customer": "A001", "product": "p", "amount": 10.5}',
        "wrong_type",
    ),
    (
        '{"command": "record_purchase", "customer": "A001", "product": "p", "amount": "ten"}',
        "wrong_type",
    ),
    (
        '{"command": "rate_satisfaction", "customer": "A001", "score": true}',
        "wrong_type",
    ),
    ('{"command": "assign_grade", "customer": "A001", "grade": "A", "vip": 1}', "wrong_type"),
    (
        '{"command": "tag", "customer": "A001", "tag": "x", "occurred_at": "20/10/2023"}',
        "wrong_type",
    ),
    ('{"command": "tag", "customer": "A001", "tag": "x", "occurred_at": 20231020}', "wrong_type"),
    ('{"command": "tag", "customer": "A001", "tag": null}', "wrong_type"),
    (
        '{"command": "sign_contract", "customer": "A001", "contract": "K", '
        '"signed_on": "2023-02-30"}',
        "wrong_type",
    ),
    (
        '{"command": "resolve_complaint", "customer": "A001", "complaint": "K9", '
        '"resolution": "ok"}',
        "complaint_not_open",
    ),
    (
        '{"command": "rate_satisfaction", "customer": "A001", "score": 6}',
        "satisfaction_out_of_range",
    ),
    ('{"command": "tag", "customer": "Z999", "tag": "x"}', "unknown_customer"),
    (
        '{"command": "first_contact", "customer": "A001", "name": "again", "type": "company"}',
        "duplicate_customer_number",
    ),
    (
        '{"command": "record_purchase", "customer": "A001", "product": "p", "amount": "5", '
        '"currency": "XXX"}',
        "unknown_currency",
    ),
    (
        '{"command": "log_interaction", "customer": "A001", "channel": "pigeon", "topic": "t"}',
        "invalid_value",
    ),
    (
        '{"command": "tag", "customer": "A001", "tag": "x", "occurred_at": "2999-01-01"}',
        "future_date",
    ),
    # a key given twice: which value was meant is unknown, so neither is taken
    ('{"command": "tag", "customer": "A001", "customer": "B001", "tag": "x"}', "invalid_json"),
    ('{"command": "tag", "customer": "A001", "tag": "x", "tag": "x"}', "invalid_json"),
    ('{"command": "add_contact", "customer": "A001", "contact": "c", "name": "n", '
     '"name": "m"}', "invalid_json"),
    ('{"command": "tag", "customer": "A001", "tag": "x", "x": {"a": 1, "a": 2}}', "invalid_json"),
    # amounts and dates: the documented forms only
    *[
        ('{"command": "record_purchase", "customer": "A001", "product": "p", '
         f'"amount": "{amount}"}}', "wrong_type")
        for amount in ["1_000", "١٢٣", "１２３", "12,000.00", "0x10", "Infinity", " "]
    ],
    *[
        (f'{{"command": "tag", "customer": "A001", "tag": "x", "occurred_at": "{moment}"}}',
         "wrong_type")
        for moment in ["20231020", "2023-W42-5", "2023-293", "٢٠٢٣-١٠-٢٠", "２０２３-１０-２０",
                       "2023-10-20T09:30:00.1234567", "2023-10-20T09", "2023-10-20T0930"]
    ],
    ('{"command": "sign_contract", "customer": "A001", "contract": "K", '
     '"signed_on": "20230201"}', "wrong_type"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "rule"), BAD_LINES)
def test_a_bad_line_is_reported_by_number_and_rule_and_records_nothing(
    a001: CustomerLedger, line: str, rule: str
) -> None:
    # given a store holding A001, and a file whose second line is bad
    before = event_count(a001)
    lines = jsonl(line, {"command": "tag", "customer": "A001", "tag": "kept"})
    lines.insert(0, b"\n")  # line numbers count every physical line
    # when it is imported
    report = import_lines(a001, lines)
    # then the bad line is reported with its number and rule, and the good one is kept
    assert [(f.line, f.rule) for f in report.failures] == [(2, rule)]
    assert report.failures[0].reason
    assert report.recorded == 1
    assert "kept" in a001.profile("A001").tags
    assert event_count(a001) == before + 2  # the tag and its command receipt, nothing else


@given(
    amount=st.decimals(min_value=0, max_value=10**14, places=2, allow_nan=False),
    form=st.sampled_from(["{}", "{:f}", "{:e}", " {} "]),
    digits=st.sampled_from(["ascii", "fullwidth", "arabic-indic"]),
)
def test_an_amount_is_taken_in_the_documented_forms_only(
    amount: Decimal, form: str, digits: str
) -> None:
    written = form.format(amount)
    if digits != "ascii":
        zero = {"fullwidth": 0xFF10, "arabic-indic": 0x0660}[digits]
        written = "".join(chr(zero + int(c)) if c.isdigit() else c for c in written)
    line = {"command": "record_purchase", "customer": "A001", "product": "p", "amount": written}
    if digits == "ascii":
        assert parse_command(line).kwargs["amount"] == amount
    else:
        with pytest.raises(WrongType, match="ASCII digits"):
            parse_command(line)


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)))
def test_a_date_time_written_by_isoformat_reads_back_exactly(moment: datetime) -> None:
    for written in (moment.isoformat(), moment.isoformat(sep=" "), moment.date().isoformat()):
        line = {"command": "tag", "customer": "A001", "tag": "x", "occurred_at": written}
        parsed = parse_command(line).kwargs["occurred_at"]
        assert parsed.isoformat() in (written, written.replace(" ", "T"))


def test_a_time_finer_than_a_microsecond_is_refused_not_cut() -> None:
    line = {"command": "tag", "customer": "A001", "tag": "x",
            "occurred_at": "2023-10-20T09:30:00.1234567+08:00"}  # fmt: skip
    with pytest.raises(WrongType, match="finer than a microsecond"):
        parse_command(line)


def test_a_float_amount_is_refused_with_a_hint_to_write_a_string() -> None:
    line = {"command": "record_purchase", "customer": "A001", "product": "p", "amount": 0.1}
    with pytest.raises(
        WrongType, match=r'float, which loses cents; write it as a string \("0.1"\)'
    ):
        parse_command(line)


def test_an_unknown_field_message_lists_the_fields_the_command_takes() -> None:
    with pytest.raises(UnknownField, match=r"tag takes no field tga; it takes: tag, occurred_at"):
        parse_command({"command": "tag", "customer": "A001", "tga": "x"})


# -- the documented contract ------------------------------------------------------------


def test_the_issue_field_names_are_kept() -> None:
    wanted = {
        "first_contact": {"name", "type", "occurred_at"},
        "log_interaction": {"channel", "topic", "occurred_at"},
        "record_purchase": {"product", "quantity", "amount", "currency", "occurred_at"},
        "sign_contract": {"contract", "amount", "currency", "signed_on", "expires_on"},
        "file_complaint": {"complaint", "subject", "occurred_at"},
        "resolve_complaint": {"complaint", "resolution", "satisfaction", "occurred_at"},
        "churn": {"reason", "occurred_at"},
        "reactivate": {"occurred_at"},
    }
    for command, fields in wanted.items():
        assert fields <= set(command_params(command)), command


def test_docs_name_every_command_and_every_field() -> None:
    docs = COMMANDS_DOC.read_text(encoding="utf-8")
    for field in SCHEMA_META:  # (who acts, ``actor``, is the importer: not a field of a line)
        assert f"| `{field}` |" in docs, f"meta field {field} undocumented"
    for command in COMMANDS:
        section = re.search(rf"^### `{command}`\n(.*?)(?=^#+ |\Z)", docs, re.M | re.S)
        assert section, f"docs/commands.md has no section for {command}"
        for name, param in command_params(command).items():
            if name not in META_FIELDS or param.required:
                assert f"`{name}`" in section.group(1), f"{command}: field {name} undocumented"


def test_the_docs_examples_import_cleanly_in_order(ledger: CustomerLedger) -> None:
    docs = COMMANDS_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```jsonl\n(.*?)^```", docs, re.M | re.S)
    lines = [line.encode() for block in blocks for line in block.splitlines()]
    report = import_lines(ledger, lines, actor=Actor("docs", "manager"))
    assert report.failures == []
    assert {c["command"] for c in map(orjson.loads, lines)} == set(COMMANDS)
    assert ledger.profile("D001").stage == "customer"


# -- properties -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat)
plausible = {
    str: st.sampled_from(["A001", "K1", "c1", "phone", "email", "A", "CNY", "individual", "x"]),
    int: st.integers(min_value=-1, max_value=7),
    bool: st.booleans(),
    Decimal: st.sampled_from(["0", "1", "-5", "12.50", "1e20", "NaN"]) | st.integers(-3, 10**6),
    date: dates,
}


def values_for(hint: Any) -> st.SearchStrategy[Any]:
    """Mostly values of the field's own type (so lines reach the domain), some of any type."""
    own = [v for t, v in plausible.items() if t is hint or t in getattr(hint, "__args__", ())]
    if hint is datetime:
        own = [dates, st.just("2023-10-20T10:00:00+08:00")]
    if not own:
        return json_values
    return st.integers(0, 9).flatmap(lambda n: json_values if n == 0 else st.one_of(*own))


@st.composite
def lines(draw: st.DrawFn) -> dict[str, Any]:
    """A line for a real command, with its fields often right and sometimes wrong."""
    command = draw(st.sampled_from(COMMANDS))
    params = command_params(command)
    names = [p for p in params if params[p].required or draw(st.booleans())]
    line: dict[str, Any] = {"command": command, "customer": draw(st.sampled_from(["A001", "B2"]))}
    line.update({n: draw(values_for(params[n].hint)) for n in names})
    if draw(st.integers(0, 9)) == 0:  # now and then a field too many, or one missing
        line[draw(st.sampled_from(["bogus", *params, "command", "customer"]))] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        line.pop(draw(st.sampled_from(sorted(line))))
    return line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=lines())
def test_any_json_object_is_recorded_or_reported_and_never_half_recorded(
    line: dict[str, Any],
) -> None:
    # given a store with one customer
    ledger = CustomerLedger.open("memory://")
    import_objects(ledger, [FIRST])
    before = event_count(ledger)
    # when any JSON object is imported as a line
    report = import_lines(ledger, [json.dumps(line, ensure_ascii=False)])
    # then it is recorded, or reported by line number and rule with the store as it was
    assert report.lines == 1
    if report.failures:
        (failure,) = report.failures
        assert failure.line == 1 and failure.rule and failure.reason
        assert event_count(ledger) == before
    else:
        assert report.recorded == 1
        assert event_count(ledger) > before


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=40))
def test_any_bytes_are_reported_never_raised(raw: bytes) -> None:
    ledger = CustomerLedger.open("memory://")
    report = import_lines(ledger, [raw])
    assert report.recorded + report.failed <= 1
    assert event_count(ledger) == 2 * report.recorded  # customer event + its claim or receipt


@pytest.mark.parametrize("amount", ["1_000", "١٢٣", "１２３", "1,000"])
def test_python_callers_are_held_to_the_same_amount_forms(
    a001: CustomerLedger, amount: str
) -> None:
    before = event_count(a001)
    with pytest.raises(InvalidValue, match="ASCII digits"):
        a001.record_purchase("A001", product="p", amount=amount)
    assert event_count(a001) == before


@pytest.mark.parametrize("moment", ["20231020", "2023-W42-5", "２０２３-１０-２０",
                                    "2023-10-20T09:30:00.1234567"])  # fmt: skip
def test_python_callers_are_held_to_the_same_date_forms(a001: CustomerLedger, moment: str) -> None:
    before = event_count(a001)
    with pytest.raises(InvalidValue):
        a001.tag("A001", tag="x", occurred_at=moment)
    with pytest.raises(InvalidValue):
        a001.replay("A001", as_of=moment)
    assert event_count(a001) == before
