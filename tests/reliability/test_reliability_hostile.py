"""Hostile input: malformed JSON Lines and command arguments (docs/reliability.md).

Given a customer ready for any command, on memory, SQLite and PostgreSQL, when a command
comes with one argument replaced by something hostile (wrong type, huge or empty text,
control characters, lone surrogates, SQL-injection-looking text, spreadsheet formulas,
dates at the ends of the calendar, numbers beyond int64, NaN and infinities, deep
nesting), or an import line is corrupted the same way or at the byte level, then:
either a typed ``LedgerError`` (a reported failure, for a line) with the store exactly
as it was, or the command is recorded and every store keeps and answers it (the views
catch up, the history decodes). Never a raw ``TypeError``/``ValueError``/crash.

Examples per test: 200 on memory, 60 on SQLite and PostgreSQL (x CUSTOMER_LEDGER_STRESS).
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import EXAMPLES, import_line

from customer_ledger import COMMANDS, Contact, CustomerLedger, LedgerError, Needs
from customer_ledger.application.arguments import META_FIELDS
from customer_ledger.audit.verify import verify
from customer_ledger.formats.jsonl import import_lines
from customer_ledger.projections.views import SORT_FIELDS, ProfileQuery
from reliability.support import STRESS, figures, store_url

DAY = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
EXAMPLES_PER_BACKEND = {"memory": 200, "sqlite": 60, "postgresql": 60}

# -- what hostile looks like ----------------------------------------------------------------

SQL = [
    "'); DROP TABLE stored_events; --", "A001' OR '1'='1", "1; DELETE FROM profile_live",
    "\\'; SELECT pg_sleep(10); --", "%", "_", "\\", '"', "' --", "$$", "E'\\x00'",
]  # fmt: skip
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)"]
ODD_TEXT = [
    "", " ", "\t", "\x00", "a\x00b", "\x1b[31m", "\x7f", "\ud800", "x\udfff", "\u202e",
    "\ufeff", "\ufffe", "\U0010ffff", "١٢٣", "１２３", "A001\n", "e\u0301",
]  # fmt: skip
DATE_TEXT = [
    "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
    "2024-02-30", "2024-13-01", "2024-01-01T25:00", "+002024-01-01", "1899-12-31",
    "3000-01-01", "2024-01-02T09:00:00+25:00", "2024-W01-1",
]  # fmt: skip
EDGE_MOMENTS = [
    date.min, date.max, datetime.min, datetime.max, date(1899, 12, 31), date(3000, 1, 1),
    datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
]  # fmt: skip
HUGE_NUMBERS = [2**63, -(2**63) - 1, 2**64, 10**30, 10**5000, -(10**5000)]


def hostile_texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=30),
        st.text(st.characters(codec=None, categories=["Cs", "Cc", "Cf", "Co", "Zs"]), max_size=8),
        st.sampled_from(SQL + FORMULAS + ODD_TEXT + DATE_TEXT),
        st.integers(3_990, 4_010).map(lambda n: "长" * n),  # about the 4000-character limit
        st.just("x" * 1_000_000),
    )


def hostile_values() -> st.SearchStrategy[Any]:
    """Anything a Python caller might pass."""
    return st.one_of(
        hostile_texts(),
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(HUGE_NUMBERS),
        st.floats(),
        st.decimals(),
        st.sampled_from([Decimal("sNaN"), Decimal("1e999999999"), Decimal("-0"), Decimal("1e-99")]),
        st.binary(max_size=8),
        st.dates(),
        st.datetimes(timezones=st.none() | st.timezones()),
        st.sampled_from(EDGE_MOMENTS),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.builds(object),
        st.just(Contact("c9", "x")),
        st.just(Needs(core_needs="x")),
    )


def hostile_json() -> st.SearchStrategy[Any]:
    """Anything a JSON line might hold (DEEP stands for 5000 nested arrays, HUGE for a
    5000-digit number: more than Python's json may write)."""
    return st.one_of(
        hostile_texts(),
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(HUGE_NUMBERS[:4]),
        st.just(HUGE),
        st.floats(),  # NaN and infinities are written as the non-JSON tokens
        st.lists(st.integers() | st.text(max_size=3), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        st.just(DEEP),
    )


DEEP = "\x00deep\x00"
HUGE = "\x00huge\x00"

# -- a customer ready for every command ----------------------------------------------------

ARGUMENTS: dict[str, dict[str, Any]] = {
    "first_contact": {"name": "*先生", "type": "individual"},
    **EXAMPLES,
    "renew_contract": {"contract": "HT-1", "expires_on": date(2027, 1, 1)},  # HT-1 ends 2026
}
assert set(ARGUMENTS) == set(COMMANDS)
NESTED = {"add_contact": Contact, "update_contact": Contact, "record_needs": Needs}


def as_json_line(command: str, number: str) -> dict[str, Any]:
    """The same command as an import line."""
    return import_line(command, number, ARGUMENTS[command])


class Ready:
    """A store, and fresh customers each holding contact c1, contract HT-1, open
    complaint TS-1, reminder R1 and tag VIP (churned for ``reactivate``)."""

    def __init__(self, url: str, examples: int) -> None:
        self.examples = examples
        self.ledger = CustomerLedger.open(url)
        self.ledger.eager_views = False  # the test catches up itself, and checks that it can
        self.numbers = itertools.count(1)
        self.tally: Counter[str] = Counter()

    def customer(self, command: str) -> str:
        if command == "first_contact":
            return f"N{next(self.numbers):05d}"
        ledger, number, when = self.ledger, f"H{next(self.numbers):05d}", {"occurred_at": DAY}
        ledger.first_contact(number, name="*先生", type="individual", **when)
        ledger.add_contact(number, contact=Contact("c1", "*先生"), **when)
        ledger.sign_contract(
            number, contract="HT-1", signed_on=DAY.date(), expires_on=date(2026, 1, 1)
        )
        ledger.file_complaint(number, complaint="TS-1", subject="late", **when)
        ledger.schedule_reminder(
            number, reminder="R1", subject="call", due_on=date(2024, 9, 1), **when
        )
        ledger.tag(number, tag="VIP", **when)
        if command == "reactivate":
            ledger.churn(number, reason="no answer", **when)
        return number

    def recorded(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def added_since(self, position: int) -> list[str]:
        """The topics of the events recorded after ``position``."""
        found = self.ledger.recorder.select_notifications(start=position + 1, limit=100)
        return [n.topic for n in found]

    def check_kept(self, number: str) -> None:
        """An accepted command's values are kept and answered by every view."""
        self.ledger.refresh()  # raises if a view cannot store what the log holds
        self.ledger.history(number)
        self.ledger.profile(number)
        self.ledger.timeline(number)
        self.ledger.status()


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def ready(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ready]:
    """One store for all of a test's examples (each uses customers of its own)."""
    backend = request.param
    url = "memory://" if backend == "memory" else store_url(backend, request, tmp_path)
    prepared = Ready(url, examples=EXAMPLES_PER_BACKEND[backend] * STRESS)
    yield prepared
    # and after every example the log verifies whole: each chain unbroken, so no refused
    # input changed a stored event's bytes (a refusal is checked above to add none)
    report = verify(prepared.ledger)
    assert report.ok, [f.to_json() for f in report.broken]
    tried = sum(prepared.tally.values())
    if tried:
        figures(
            "hostile input", backend=backend, tried=tried, outcomes=dict(prepared.tally),
            crashes=0, refused_but_recorded=0,
        )  # fmt: skip
    prepared.ledger.close()


# -- command arguments -----------------------------------------------------------------


@st.composite
def hostile_commands(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], str]:
    """(command, which argument was replaced, arguments, the customer number to use)."""
    command = draw(st.sampled_from(COMMANDS))
    arguments = dict(ARGUMENTS[command])
    targets = ["number", *META_FIELDS, *arguments]
    if command in NESTED:
        targets += [f"{command}.{f.name}" for f in attrs.fields(NESTED[command])]
    if command == "update_profile":
        targets += ["changes.key", "changes.value"]
    target = draw(st.sampled_from(targets))
    value = draw(hostile_values())
    number = "{fresh}"
    if target == "number":
        number = value
    elif target.startswith(f"{command}."):
        param = "needs" if command == "record_needs" else "contact"
        field = target.split(".", 1)[1]
        arguments[param] = attrs.evolve(arguments[param], **{field: value})
    elif target == "changes.key":
        try:  # unhashable, or Decimal("sNaN"), which refuses to be hashed
            hash(value)
            key = value
        except TypeError:
            key = type(value).__name__
        arguments["changes"] = {key: "教育", "industry": "教育"}
    elif target == "changes.value":
        arguments["changes"] = {"industry": value}
    else:
        arguments[target] = value
    return command, target, arguments, number


def test_any_hostile_command_argument_is_refused_typed_or_kept(ready: Ready) -> None:
    @settings(
        max_examples=ready.examples, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(hostile_commands())
    def check(drawn: tuple[str, str, dict[str, Any], Any]) -> None:
        command, target, arguments, number = drawn
        fresh = ready.customer(command)
        before = ready.recorded()
        try:
            result = getattr(ready.ledger, command)(
                fresh if number == "{fresh}" else number, **arguments
            )
        except LedgerError as error:
            # then a typed error naming its rule, and the store exactly as it was, but for
            # the record of a refusal by the policy (the audit log keeps those)
            assert error.rule and str(error)
            added = ready.added_since(before)
            if error.rule == "permission_denied":
                added = [t for t in added if t != "customer_ledger.AccessLog.AccessDenied"]
                added = [t for t in added if t != "customer_ledger.AccessLog.Opened"]
            assert added == [], f"{command}({target}) refused but recorded {added}"
            ready.tally["refused:" + error.rule] += 1
            return
        # or it was recorded, and every view keeps and answers it
        ready.check_kept(result.number)
        ready.tally["recorded"] += 1

    check()


# -- JSON Lines ---------------------------------------------------------------------------


@st.composite
def hostile_lines(draw: st.DrawFn) -> tuple[str, Any, str]:
    """(command, a function of the customer number giving the line's bytes, how it was
    made hostile)."""
    command = draw(st.sampled_from(COMMANDS))
    how = draw(st.sampled_from(["value", "key", "bytes", "cut", "whole", "twice"]))
    line = as_json_line(command, "{fresh}")
    if how == "value":
        line[draw(st.sampled_from(sorted(line)))] = draw(hostile_json())
    elif how == "key":
        line[draw(hostile_texts())] = draw(hostile_json())
    elif how == "whole":
        line = draw(hostile_json())
    twice = draw(st.sampled_from(sorted(line))) if how == "twice" else None
    again = draw(hostile_json()) if how == "twice" else None
    ascii_only = draw(st.booleans())
    position = draw(st.floats(0, 1))
    garbage = draw(
        st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\x00", b"\xc0\xaf", b"\xef\xbb\xbf", b'"'])
    )

    def render(number: str) -> bytes:
        text = json.dumps(line, ensure_ascii=ascii_only, allow_nan=True)
        if twice is not None:  # the same key once more, with the same value or another
            repeat = json.dumps({twice: again if again is not None else line[twice]})
            text = text[:-1] + ", " + repeat[1:]
        text = text.replace("{fresh}", number)
        text = text.replace(json.dumps(DEEP), "[" * 5000 + "]" * 5000)
        text = text.replace(json.dumps(HUGE), "9" * 5000)
        data = text.encode("utf-8", "surrogatepass")
        at = int(position * len(data))
        if how == "bytes":
            data = data[:at] + garbage + data[at:]
        elif how == "cut":
            data = data[:at]
        return data

    return command, render, how


def test_any_hostile_jsonl_line_is_reported_or_kept_never_raised(ready: Ready) -> None:
    @settings(
        max_examples=ready.examples, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(hostile_lines())
    def check(drawn: tuple[str, Any, str]) -> None:
        command, render, how = drawn
        fresh = ready.customer(command)
        before = ready.recorded()
        report = import_lines(ready.ledger, [render(fresh)])
        if how == "twice":  # a key given twice is refused, whatever its values
            assert [f.rule for f in report.failures] == ["invalid_json"], report.failures
        if report.failures:
            (failure,) = report.failures
            assert failure.rule and failure.reason and failure.line == 1
            assert ready.recorded() == before, "a reported line recorded something"
            ready.tally["line refused:" + failure.rule] += 1
        elif report.recorded:
            ready.check_kept(fresh)
            ready.tally["line recorded"] += 1
        else:  # blank after all (e.g. cut to nothing)
            assert ready.recorded() == before

    check()


def test_a_file_that_is_not_utf8_is_reported_line_by_line(ready: Ready, tmp_path: Path) -> None:
    from customer_ledger.formats.jsonl import import_file

    fresh = ready.customer("tag")
    good = json.dumps({"command": "tag", "customer": fresh, "tag": "kept"}).encode()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        b"\xff\xfe{\x00}\x00\n"  # UTF-16
        + good.replace(b"kept", b"\xed\xa0\x80")  # an encoded surrogate
        + b"\n"
        + good.replace(b"kept", b"caf\xe9")  # Latin-1
        + b"\n"
        + good
        + b"\n"
    )
    before = ready.recorded()
    report = import_file(ready.ledger, path)
    assert [(f.line, f.rule) for f in report.failures] == [(n, "invalid_json") for n in (1, 2, 3)]
    assert report.recorded == 1 and ready.recorded() > before
    ready.check_kept(fresh)
    assert "kept" in ready.ledger.profile(fresh).tags


# -- query arguments ---------------------------------------------------------------------

QUERIES = [
    ("status", "stage"), ("status", "owner"), ("board", "as_of"), ("board", "idle_days"),
    ("timeline", "start"), ("timeline", "end"), ("timeline", "limit"), ("timeline", "after"),
    ("timeline", "number"), ("customer", "version"), ("profile", "number"),
    ("history", "number"), ("search", "nonsense"),
    *(("search", a.name) for a in attrs.fields(ProfileQuery) if a.init),
]  # fmt: skip


def forged_cursors() -> st.SearchStrategy[str]:
    """Cursors a client could make up: base64 of any JSON list, of the right length or
    not, with keys of every type, including the shapes this ledger gives out."""
    keys = st.one_of(
        hostile_texts(), st.integers(-(2**70), 2**70), st.sampled_from(HUGE_NUMBERS[:4]), st.none(),
        st.booleans(), st.floats(allow_nan=False),
    )  # fmt: skip
    shaped = st.tuples(
        st.sampled_from(["profile", "timeline", "x"]), st.sampled_from([*SORT_FIELDS, 1]),
        st.booleans(), keys, keys,
    ).map(list)  # fmt: skip
    lists = st.lists(keys, max_size=6) | shaped | shaped.map(lambda k: [k[0], *k[3:], 1])
    return st.one_of(
        lists.map(lambda key: base64.urlsafe_b64encode(json.dumps(key).encode()).decode()),
        st.text(max_size=40),
        st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    )


def test_any_hostile_query_argument_is_refused_typed_or_answered(ready: Ready) -> None:
    @settings(
        max_examples=ready.examples, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(st.sampled_from(QUERIES), st.data())
    def check(query: tuple[str, str], data: st.DataObject) -> None:
        method, argument = query
        values = forged_cursors() | hostile_values() if argument == "after" else hostile_values()
        value = data.draw(values)
        number = ready.customer("tag")
        before = ready.recorded()
        arguments = {argument: value}
        if method == "customer":
            arguments["number"] = number
        try:
            getattr(ready.ledger, method)(**arguments)
        except LedgerError as error:
            assert error.rule and str(error)
            ready.tally["query refused:" + error.rule] += 1
        else:
            ready.tally["query answered"] += 1
        assert ready.recorded() == before  # a query records nothing (no unmasked read here)

    check()
