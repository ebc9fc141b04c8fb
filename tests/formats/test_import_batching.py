"""Batched imports answer exactly as one transaction per line would.

``import_lines`` saves up to ``BATCH_LINES`` lines in one transaction. Given any mix of
valid, refused, malformed, repeated and re-sent lines, imported into an empty store or
over an earlier import, the report (every count and every failure, in line order) and
what the store holds must equal the unbatched import's: each line run alone through
the ledger's command pipeline, in its own transaction.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import IntegrityError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_ledger import CustomerLedger, InvalidValue, ReadOnlyLedger
from customer_ledger.domain.access import Actor
from customer_ledger.formats import jsonl as jsonl_import
from customer_ledger.formats.jsonl import ImportReport, _import_one, import_lines
from customer_ledger.testing import stored_profile

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

NUMBERS = ("A001", "B002", " A001 ")  # the last names A001 too, once normalised
DAYS = [f"2023-0{month}-1{day}" for month in range(1, 4) for day in range(0, 10)]


def line_for(kind: str, number: str, day: str, k: int, command_id: str | None) -> Any:
    lines: dict[str, dict[str, Any]] = {
        "first_contact": {"name": f"客户{k}", "type": "company"},
        "log_interaction": {"channel": "phone", "topic": f"call {k % 3}"},
        "record_purchase": {"product": "p", "amount": "10.00"},
        "tag": {"tag": f"t{k % 2}"},  # twice the same tag: nothing_changed
        "untag": {"tag": f"t{k % 2}"},
        "file_complaint": {"complaint": f"K{k % 2}", "subject": "late"},
        "resolve_complaint": {"complaint": f"K{k % 2}", "resolution": "fixed"},
        "churn": {"reason": "price"},
        "reactivate": {},
        "unknown": {},  # unknown_command
        "missing": {},  # missing fields: a first_contact without a name
    }
    if kind == "not an object":
        return [number]
    body = {"command": kind, "customer": number, "occurred_at": day, **lines[kind]}
    if kind == "missing":
        body["command"] = "first_contact"
    if command_id is not None:
        body["command_id"] = command_id
    return body


@st.composite
def import_files(draw: st.DrawFn, max_lines: int = 30) -> list[bytes]:
    kinds = st.sampled_from(
        ["first_contact", "log_interaction", "log_interaction", "record_purchase", "tag",
         "untag", "file_complaint", "resolve_complaint", "churn", "reactivate", "unknown",
         "missing", "not an object"]
    )  # fmt: skip
    count = draw(st.integers(1, max_lines))
    out: list[bytes] = []
    for k in range(count):
        if out and draw(st.integers(0, 9)) == 0:  # a line repeated as is: one command
            out.append(draw(st.sampled_from(out)))
            continue
        if draw(st.integers(0, 19)) == 0:
            out.append(b"{not json\n")
            continue
        command_id = draw(st.sampled_from([None, None, None, "c1", "c2"]))  # re-used ids
        line = line_for(
            draw(kinds), draw(st.sampled_from(NUMBERS)), draw(st.sampled_from(DAYS)), k,
            command_id,
        )  # fmt: skip
        out.append(orjson.dumps(line) + b"\n")
    return out


def unbatched(ledger: CustomerLedger, lines: list[bytes]) -> ImportReport:
    """The reference: every line alone, in its own transaction (views caught up each)."""
    report = ImportReport()
    for number, raw in enumerate(lines, start=1):
        report.lines += 1
        try:
            line = jsonl_import._json(raw)
        except ValueError as error:
            failure = jsonl_import.Failure(number, "invalid_json", f"not JSON: {error}")
            report.failures.append(failure)
            continue
        _import_one(ledger, number, line, report, None)
    return report


def stored(ledger: CustomerLedger) -> list[tuple[Any, ...]]:
    """What the store holds, in log order, without ids and recording times."""
    out = []
    for n in ledger.recorder.select_notifications(start=1, limit=10_000):
        event = ledger.mapper.to_domain_event(n)
        fields = {
            k: v
            for k, v in vars(event).items()
            if k not in ("originator_id", "timestamp", "customer_id", "fingerprint")
        }
        out.append((n.topic, event.originator_version, repr(sorted(fields.items()))))
    return out


def profiles(ledger: CustomerLedger) -> list[tuple[Any, ...]]:
    return [
        (p.number, p.version, p.stage, p.tags, p.interaction_count, p.open_complaints)
        for p in ledger.search().items
    ]


def outcome(report: ImportReport) -> tuple[Any, ...]:
    return (report.lines, report.recorded, report.skipped, report.failures)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(jsonl_import, "BATCH_LINES", 4)  # many batches, many flushes
    yield


def compare(url_a: str, url_b: str, earlier: list[bytes], lines: list[bytes]) -> None:
    with CustomerLedger.open(url_a) as batched, CustomerLedger.open(url_b) as alone:
        assert outcome(import_lines(batched, earlier)) == outcome(unbatched(alone, earlier))
        assert outcome(import_lines(batched, lines)) == outcome(unbatched(alone, lines))
        assert stored(batched) == stored(alone)
        assert profiles(batched) == profiles(alone)  # the views caught up


EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@EXAMPLES
@given(earlier=import_files(), lines=import_files(), ahead=st.sampled_from([1, 3, 1_000]))
def test_batched_import_reports_and_stores_what_lines_alone_would(
    earlier: list[bytes], lines: list[bytes], ahead: int, small_batches: None
) -> None:
    """Whatever the batches and however many lines' receipts are looked up ahead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonl_import, "READ_AHEAD", ahead)
        compare("memory://", "memory://", earlier, lines)


@settings(EXAMPLES, max_examples=5)  # a line alone costs a commit (fsync) here
@given(earlier=import_files(max_lines=12), lines=import_files(max_lines=12))
def test_on_sqlite_and_postgresql_too(
    earlier: list[bytes],
    lines: list[bytes],
    small_batches: None,
    tmp_path: Path,
    postgres_url_factory,  # noqa: F811
) -> None:
    token = uuid.uuid4().hex
    compare(
        f"sqlite:///{tmp_path}/{token}a.db", f"sqlite:///{tmp_path}/{token}b.db", earlier, lines
    )
    compare(postgres_url_factory(), postgres_url_factory(), earlier, lines)


def lose_first_batch_save(ledger: CustomerLedger) -> list[bool]:
    """Another writer wins the race for the ledger's first save of a batch (more than one
    line's events): that save fails; the list returned says whether it happened."""
    save, failed = ledger.save, []

    def racing_save(*objects: Any, **kwargs: Any) -> Any:
        if len(objects) > 3 and not failed:
            failed.append(True)
            raise IntegrityError("another writer got there first")
        return save(*objects, **kwargs)

    ledger.save = racing_save  # type: ignore[method-assign]
    return failed


def test_a_batch_whose_save_fails_is_run_line_by_line(small_batches: None) -> None:
    """Given another writer that wins the race for the first batch's save, when the
    import goes on, then every line still gets its own outcome: nothing lost, nothing
    twice."""
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        *[
            orjson.dumps(line_for("log_interaction", "A001", day, k, None)) + b"\n"
            for k, day in enumerate(DAYS[1:9])
        ],
    ]
    with CustomerLedger.open("memory://") as batched, CustomerLedger.open("memory://") as alone:
        failed = lose_first_batch_save(batched)
        assert outcome(import_lines(batched, lines)) == outcome(unbatched(alone, lines))
        assert failed
        assert stored(batched) == stored(alone)


def test_views_catch_up_once_at_the_end(small_batches: None) -> None:
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        orjson.dumps(line_for("tag", "A001", "2023-01-11", 2, None)) + b"\n",
    ]
    with CustomerLedger.open("memory://", eager_views=True) as ledger:
        report = import_lines(ledger, lines)
        assert (report.recorded, report.failures) == (2, [])
        assert stored_profile(ledger, "A001").tags == ("t0",)


def test_the_batch_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """``$CUSTOMER_LEDGER_IMPORT_BATCH=1``: one transaction per line (as before batching);
    a value that is not a whole number of lines is refused before anything is read."""
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        orjson.dumps(line_for("tag", "A001", "2023-01-11", 2, None)) + b"\n",
    ]
    with CustomerLedger.open("memory://") as ledger:
        save, saves = ledger.save, []

        def counted_save(*objects: Any, **kwargs: Any) -> Any:
            saves.append(len(objects))
            return save(*objects, **kwargs)

        ledger.save = counted_save  # type: ignore[method-assign]
        monkeypatch.setenv(jsonl_import.BATCH_ENV, "1")
        assert import_lines(ledger, lines).recorded == 2
        assert len(saves) == 2
        monkeypatch.setenv(jsonl_import.BATCH_ENV, "lots")
        with pytest.raises(InvalidValue):
            import_lines(ledger, lines)


def test_a_re_run_answers_done_lines_from_their_receipts_without_running_them(
    small_batches: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Given an import that stopped half-way (its first lines done), when the whole file
    is imported again, then the done lines are skipped from their stored receipts, in
    batches (no batch fails over to line-by-line, no customer is loaded for them), the
    rest is recorded, and the store ends as one uninterrupted import leaves it."""
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        *[
            orjson.dumps(line_for("log_interaction", "A001", day, k, None)) + b"\n"
            for k, day in enumerate(DAYS[1:21])
        ],
    ]
    with CustomerLedger.open("memory://") as rerun, CustomerLedger.open("memory://") as once:
        import_lines(rerun, lines[:12])
        loads: list[str] = []
        load = rerun._customer_for_command

        def counted(number: str) -> Any:
            loads.append(number)
            return load(number)

        rerun._customer_for_command = counted  # type: ignore[method-assign]
        with caplog.at_level("INFO", logger=jsonl_import.__name__):
            report = import_lines(rerun, lines)
        assert (report.skipped, report.recorded, report.failures) == (12, 9, [])
        assert "one by one" not in caplog.text
        assert loads == ["A001"]  # once, for the first line not done
        import_lines(once, lines)
        assert stored(rerun) == stored(once)


def test_a_re_run_looks_up_the_receipts_of_many_lines_in_one_query(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a file imported whole, when it is imported again, then its done lines'
    receipts are read ``READ_AHEAD`` lines at a time (one ``Adapter.first_events``
    each), never one line's alone, and every line is reported skipped."""
    monkeypatch.setattr(jsonl_import, "READ_AHEAD", 10)
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        *[
            orjson.dumps(line_for("log_interaction", "A001", day, k, f"id-{k}")) + b"\n"
            for k, day in enumerate(DAYS[1:25])
        ],
    ]
    with CustomerLedger.open("memory://") as ledger:
        import_lines(ledger, lines)
        assert ledger.adapter is not None
        asked: list[int] = []
        first_events = ledger.adapter.first_events

        def counted(recorder: Any, ids: Any) -> Any:
            asked.append(len(ids))
            return first_events(recorder, ids)

        def alone(command_id: str) -> Any:
            raise AssertionError(f"{command_id} looked up alone")

        monkeypatch.setattr(ledger.adapter, "first_events", counted)
        monkeypatch.setattr(ledger, "_stored_receipt", alone)
        report = import_lines(ledger, lines)
        assert (report.skipped, report.recorded, report.failures) == (25, 0, [])
        assert asked == [10, 10, 5]


ACTORS = st.sampled_from([None, Actor("importer", "admin"), Actor("s", "sales"), "auditor:x"])


@EXAMPLES
@given(earlier=import_files(), more=import_files(), first=ACTORS, again=ACTORS)
def test_a_re_run_skips_a_done_line_exactly_when_running_it_would(
    earlier: list[bytes], more: list[bytes], first: Any, again: Any, small_batches: None
) -> None:
    """Given lines imported before (some refused, some by another importer), when they
    are imported again with more lines (as after a crash), then the report and the store
    are those of running every line through the whole pipeline: a line skipped from its
    receipt's digest (``LineBatch._done``) is one the pipeline would have answered from
    its receipt, and an importer refused now is refused as before."""
    if first == "auditor:x":
        first = Actor("x", "auditor")
    if again == "auditor:x":
        again = Actor("x", "auditor")
    with CustomerLedger.open("memory://") as skipping, CustomerLedger.open("memory://") as running:
        for ledger in (skipping, running):
            import_lines(ledger, earlier, actor=first)
        skipped = import_lines(skipping, earlier + more, actor=again)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(jsonl_import.LineBatch, "_done", lambda self, line: False)
            ran = import_lines(running, earlier + more, actor=again)
        assert outcome(skipped) == outcome(ran)
        assert stored(skipping) == stored(running)


def test_a_done_line_is_skipped_without_running_its_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a file imported whole, when it is imported again, then no line's command
    runs at all (its receipt keeps the line's digest): every line is skipped."""
    lines = [
        orjson.dumps(line_for("first_contact", "A001", "2023-01-10", 1, None)) + b"\n",
        orjson.dumps(line_for("tag", "A001", "2023-01-11", 2, "given-id")) + b"\n",
    ]
    with CustomerLedger.open("memory://") as ledger:
        import_lines(ledger, lines)

        def never(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("a done line's command ran")

        monkeypatch.setattr(ledger, "execute", never)
        report = import_lines(ledger, lines)
        assert (report.skipped, report.recorded, report.failures) == (2, 0, [])


def test_an_id_a_line_derives_but_another_command_took_is_still_refused() -> None:
    """Given a command recorded under the command id a line derives from its content
    (but not from that line), when the line is imported, then it fails as a reused
    command id, as ever: only a receipt that keeps the line's own digest skips it."""
    line = line_for("tag", "A001", "2023-01-11", 2, None)
    with CustomerLedger.open("memory://") as ledger:
        import_lines(ledger, [orjson.dumps(line_for("first_contact", "A001", DAYS[0], 1, None))])
        ledger.tag("A001", tag="other", command_id=jsonl_import.derived_command_id(line))
        report = import_lines(ledger, [orjson.dumps(line)])
        assert [(f.line, f.rule) for f in report.failures] == [(1, "command_id_reused")]


def test_a_re_run_into_a_read_only_ledger_is_refused_as_before(tmp_path: Path) -> None:
    """Given a file imported whole, when it is imported again into the store opened
    read-only, then the import stops at its first line, as running it would."""
    url = f"sqlite:///{tmp_path}/ro.db"
    lines = [orjson.dumps(line_for("first_contact", "A001", DAYS[0], 1, None)) + b"\n"]
    with CustomerLedger.open(url) as ledger:
        import_lines(ledger, lines)
    with CustomerLedger.open(url, read_only=True) as ledger, pytest.raises(ReadOnlyLedger):
        import_lines(ledger, lines)


def test_a_caller_refilling_one_mapping_for_each_line_records_each_line() -> None:
    """Given ``import_objects`` handed the same mapping refilled for three customers,
    when they are imported, then each is recorded under its own receipt (a line is
    worked out again as it is when run, not as it was when taken), and a re-run of the
    three as fresh mappings skips all three."""
    rows = [{"command": "first_contact", "customer": f"A00{k}", "name": f"客户{k}",
             "type": "company"} for k in range(3)]  # fmt: skip

    def refilled() -> Iterator[dict[str, Any]]:
        line: dict[str, Any] = {}
        for row in rows:
            line.clear()
            line.update(row)
            yield line

    with CustomerLedger.open("memory://") as ledger:
        first = jsonl_import.import_objects(ledger, refilled())
        assert (first.recorded, first.failures) == (3, [])
        again = jsonl_import.import_objects(ledger, [dict(row) for row in rows])
        assert (again.skipped, again.recorded, again.failures) == (3, 0, [])
        assert {p.number for p in ledger.search().items} == {"A000", "A001", "A002"}


def test_python_values_that_encode_like_a_done_line_are_run_not_skipped() -> None:
    """Given a line imported from JSON, when a caller passes the same line with a
    Python ``date`` where the JSON held its text, then that line goes through the
    pipeline (its digest would match, but such values are not what the line read): it
    is refused as the pipeline refuses it, not reported skipped."""
    from datetime import date

    text = line_for("log_interaction", "A001", "2023-01-11", 2, None)
    with CustomerLedger.open("memory://") as ledger:
        import_lines(ledger, [orjson.dumps(line_for("first_contact", "A001", DAYS[0], 1, None)),
                              orjson.dumps(text)])  # fmt: skip
        report = jsonl_import.import_objects(ledger, [{**text, "occurred_at": date(2023, 1, 11)}])
        assert report.skipped == 0
        assert [(f.line, f.rule) for f in report.failures] == [(1, "wrong_type")]


def test_a_damaged_receipt_fails_its_own_line_and_the_rest_are_skipped(tmp_path: Path) -> None:
    """Given an imported file one of whose receipts was altered in the store, when the
    file is imported again, then that line fails as a corrupt event and every other
    line is skipped, as when each line looked its receipt up alone: one damaged receipt
    does not stop the import (nor every re-run after it)."""
    import sqlite3

    from customer_ledger.domain.registry import CommandReceipt

    rows = [{"command": "first_contact", "customer": f"A00{k}", "name": f"客户{k}",
             "type": "company"} for k in range(5)]  # fmt: skip
    lines = [orjson.dumps(row) for row in rows]
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url) as ledger:
        import_lines(ledger, lines)
        table = ledger.recorder.events_table_name  # type: ignore[attr-defined]
    receipt = CommandReceipt.id_for(jsonl_import.derived_command_id(rows[2])).hex
    with sqlite3.connect(f"{tmp_path}/ledger.db") as db:
        (state,) = db.execute(
            f"SELECT state FROM {table} WHERE originator_id = ?", (receipt,)
        ).fetchone()
        altered = bytearray(state)
        altered[-5] ^= 1
        db.execute(f"UPDATE {table} SET state = ? WHERE originator_id = ?",
                   (bytes(altered), receipt))  # fmt: skip
    with CustomerLedger.open(url) as ledger:
        report = import_lines(ledger, lines)
    assert (report.skipped, report.recorded) == (4, 0)
    assert [(f.line, f.rule) for f in report.failures] == [(3, "corrupt_event")]


def test_a_store_busy_while_receipts_are_looked_up_ahead_costs_only_the_look_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a file imported whole, when the store is busy as the re-run looks its
    receipts up ahead, then the lines are answered from their receipts one by one (with
    the pipeline's retries): every line is skipped, nothing is refused."""
    from customer_ledger.errors import StoreBusy

    lines = [
        orjson.dumps(line_for("first_contact", "A001", DAYS[0], 1, None)),
        *[orjson.dumps(line_for("log_interaction", "A001", day, k, None))
          for k, day in enumerate(DAYS[1:6])],
    ]  # fmt: skip
    with CustomerLedger.open("memory://") as ledger:
        import_lines(ledger, lines)
        looked_up = ledger.stored_receipts

        def busy_once(ids: Any) -> Any:
            monkeypatch.setattr(ledger, "stored_receipts", looked_up)
            raise StoreBusy("the store is busy")

        monkeypatch.setattr(ledger, "stored_receipts", busy_once)
        report = import_lines(ledger, lines)
    assert (report.skipped, report.recorded, report.failures) == (6, 0, [])


def test_a_line_re_run_in_another_time_zone_is_read_again_not_skipped(tmp_path: Path) -> None:
    """Given a contract signed at an instant whose date depends on the zone it is read
    in, imported into a UTC ledger, when the same file is imported into the ledger
    opened in Asia/Shanghai, then the line is not skipped: read there it is another
    command under the same id, refused as a reused command id."""
    lines = [
        orjson.dumps({"command": "first_contact", "customer": "A001", "name": "客户",
                      "type": "company"}),
        orjson.dumps({"command": "sign_contract", "customer": "A001", "contract": "C1",
                      "signed_on": "2024-02-02T20:00:00+00:00", "amount": "10.00"}),
    ]  # fmt: skip
    url = f"sqlite:///{tmp_path}/zones.db"
    with CustomerLedger.open(url, timezone="UTC") as ledger:
        assert import_lines(ledger, lines).recorded == 2
    with CustomerLedger.open(url, timezone="Asia/Shanghai") as ledger:
        report = import_lines(ledger, lines)
    assert report.skipped == 1
    assert [(f.line, f.rule) for f in report.failures] == [(2, "command_id_reused")]


def test_a_line_given_no_digest_gets_none_when_its_batch_is_run_line_by_line(
    small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given caller's lines that get no digest (values that are not JSON's own), when
    their batch's save fails and they are run one by one, then their receipts keep no
    digest either: the line-by-line path digests a line exactly when the batch does."""
    rows = [
        line_for("first_contact", "A001", DAYS[0], 1, None),
        *[line_for("log_interaction", "A001", day, k, None) for k, day in enumerate(DAYS[1:6])],
    ]
    monkeypatch.setattr(jsonl_import, "_own_copy", lambda line, content: (dict(line), False))
    with CustomerLedger.open("memory://") as ledger:
        failed = lose_first_batch_save(ledger)
        report = jsonl_import.import_objects(ledger, rows)
        assert (report.recorded, report.failures, bool(failed)) == (6, [], True)
        receipts = ledger.stored_receipts(jsonl_import.derived_command_id(r) for r in rows)
        assert [r.line if r else "missing" for r in receipts.values()] == [None] * 6
