"""The retry helper and typed store failures (docs/reliability.md).

Given a command that fails only because another writer got there first, or because the
store was busy or briefly gone, when it is retried, then it is recorded exactly once,
under the one command id every attempt carried; anything else is not retried.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import DataError, IntegrityError, InternalError, OperationalError
from hypothesis import given
from hypothesis import strategies as st
from paths import DOCS

from customer_ledger import (
    ConcurrencyConflict,
    CustomerLedger,
    NothingChanged,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    retry_command,
    retrying,
)
from customer_ledger.formats.jsonl import import_objects
from customer_ledger.storage.failures import Backoff, is_store_failure, retry_opening, store_failure


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff pauses are recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr("customer_ledger.storage.failures.time.sleep", slept.append)
    return slept


@pytest.fixture
def two_writers(tmp_path: Path) -> Iterator[tuple[CustomerLedger, CustomerLedger]]:
    """Two ledgers on one SQLite file, as two processes would be; A001 exists."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    first, second = CustomerLedger.open(url), CustomerLedger.open(url)
    first.eager_views = second.eager_views = False
    first.first_contact("A001", name="x", type="company", occurred_at="2024-01-02")
    yield first, second
    first.close()
    second.close()


def interleave_once(ledger: CustomerLedger, other_writer: Any) -> list[str]:
    """The next save of ``ledger`` first lets ``other_writer()`` record a change: a real
    conflict, between the command's read and its write. Returns the command ids seen."""
    save = ledger.save
    seen: list[str] = []

    def racing_save(*aggregates: Any, **kwargs: Any) -> Any:
        seen.append(next(a.command_id for a in aggregates if hasattr(a, "fingerprint")))
        if len(seen) == 1:
            other_writer()
        return save(*aggregates, **kwargs)

    ledger.save = racing_save  # type: ignore[method-assign]
    return seen


def test_a_conflicting_command_is_retried_under_one_command_id_and_recorded_once(
    two_writers: tuple[CustomerLedger, CustomerLedger], no_sleep: list[float]
) -> None:
    # given a writer whose first save loses a race with another writer
    ledger, other = two_writers
    seen = interleave_once(ledger, lambda: other.tag("A001", tag="theirs"))
    retried: list[type[Exception]] = []
    # when it tags through retry_command
    result = retry_command(
        ledger.tag, "A001", tag="mine", on_retry=lambda error, *_: retried.append(type(error))
    )
    # then the conflict was retried once, with the same command id, and both tags are kept
    assert retried == [ConcurrencyConflict]
    assert len(seen) == 2 and seen[0] == seen[1] and seen[0].startswith("retry:")
    assert not result.replayed and result.version == 3
    tags = [e.tag for e in ledger.history("A001") if type(e).__name__ == "Tagged"]
    assert tags == ["theirs", "mine"]
    assert len(no_sleep) == 1


def test_the_callers_command_id_is_kept_and_a_resend_replays(
    two_writers: tuple[CustomerLedger, CustomerLedger], no_sleep: list[float]
) -> None:
    ledger, _ = two_writers
    first = retry_command(ledger.tag, "A001", tag="key", command_id="cmd-1")
    again = retry_command(ledger.tag, "A001", tag="key", command_id="cmd-1")
    assert again.replayed and again.version == first.version
    assert [e.meta.command_id for e in ledger.history("A001")][-1] == "cmd-1"


def test_a_broken_rule_is_not_retried(ledger: CustomerLedger, no_sleep: list[float]) -> None:
    ledger.first_contact("A001", name="x", type="company")
    ledger.tag("A001", tag="key")
    with pytest.raises(NothingChanged):
        retry_command(ledger.tag, "A001", tag="key")
    assert no_sleep == []


@pytest.mark.parametrize(("failure", "calls"), [(ConcurrencyConflict, 6), (StoreBusy, 2)])
def test_failures_that_recorded_nothing_are_retried_until_the_attempts_run_out(
    failure: type[Exception], calls: int, no_sleep: list[float]
) -> None:
    made: list[int] = []

    def always_fails() -> None:
        made.append(1)
        raise failure("again")

    # (a busy store was waited for on each attempt already: it has fewer of them)
    with pytest.raises(failure):
        retrying(always_fails, backoff=Backoff(attempts=6, busy_attempts=2))
    assert len(made) == calls and len(no_sleep) == calls - 1


def test_an_unknown_outcome_is_retried_only_when_asked_for(no_sleep: list[float]) -> None:
    outcomes = iter([StoreUnavailable("cut"), "done"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(StoreUnavailable):  # plain retrying: the default retries no such risk
        retrying(flaky)
    outcomes = iter([StoreUnavailable("cut"), "done"])
    assert retrying(flaky, retry_on=(StoreUnavailable,)) == "done"


@given(
    failures=st.integers(1, 200),
    first=st.floats(0.001, 1),
    ceiling=st.floats(0.001, 10),
    seed=st.integers(0, 2**32),
)
def test_backoff_is_full_jitter_below_an_exponential_capped_ceiling(
    failures: int, first: float, ceiling: float, seed: int
) -> None:
    backoff = Backoff(first_delay=first, max_delay=ceiling)
    delay = backoff.delay(failures, random.Random(seed))
    assert 0 <= delay <= min(ceiling, first * 2 ** (failures - 1))


def busy_sqlite() -> OperationalError:
    try:
        raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as cause:
        error = OperationalError(cause)
        error.__cause__ = cause
        return error


class FakePsycopgError(Exception):
    def __init__(self, sqlstate: str, message: str = "") -> None:
        super().__init__(message or f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("database_error", "typed", "worth_reconnecting"),
    [
        (busy_sqlite(), StoreBusy, True),
        (wrapped(OperationalError("lock"), FakePsycopgError("55P03")), StoreBusy, True),
        (wrapped(OperationalError("gone"), FakePsycopgError("57P01")), StoreUnavailable, True),
        (OperationalError("server closed the connection unexpectedly"), StoreUnavailable, True),
        (DataError("value too long"), StoreError, False),
    ],
)
def test_database_errors_become_typed_store_failures(
    database_error: Exception, typed: type[StoreError], worth_reconnecting: bool
) -> None:
    failure = store_failure(database_error)  # type: ignore[arg-type]
    assert type(failure) is typed and failure.rule == typed.rule
    assert is_store_failure(database_error) is worth_reconnecting


def schema_race() -> Exception:
    """What PostgreSQL says to the second of two processes creating the same schema."""
    message = "tuple concurrently updated"
    return wrapped(InternalError(message), FakePsycopgError("XX000", message))


def test_opening_a_store_is_retried_when_it_loses_a_schema_race(no_sleep: list[float]) -> None:
    # given a store whose first opening races another process's schema statements
    outcomes: list[Exception | str] = [schema_race(), schema_race(), "ledger"]

    def open_store() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    # when it is opened, then it is opened (the race retried), and other errors are not
    assert retry_opening(open_store) == "ledger" and len(no_sleep) == 2

    def refused() -> str:
        raise DataError("not a race")

    with pytest.raises(DataError):
        retry_opening(refused)


def test_a_bug_is_not_mistaken_for_a_store_failure() -> None:
    assert not is_store_failure(KeyError("x"))
    assert not is_store_failure(NothingChanged("x"))
    assert is_store_failure(IntegrityError("another process wrote the view first"))
    assert is_store_failure(schema_race())


def test_a_command_the_store_fails_raises_a_typed_error_and_records_nothing(
    two_writers: tuple[CustomerLedger, CustomerLedger],
) -> None:
    ledger, _ = two_writers
    before = ledger.recorder.max_notification_id()

    def failing_save(*aggregates: Any, **kwargs: Any) -> Any:
        raise busy_sqlite()

    ledger.save = failing_save  # type: ignore[method-assign]
    with pytest.raises(StoreBusy) as info:
        ledger.tag("A001", tag="x")
    assert "database is locked" in str(info.value)
    assert ledger.recorder.max_notification_id() == before


def test_an_import_line_that_loses_a_race_is_retried_not_failed(
    two_writers: tuple[CustomerLedger, CustomerLedger], no_sleep: list[float]
) -> None:
    # given an import whose first save loses a race with another writer
    ledger, other = two_writers
    seen = interleave_once(ledger, lambda: other.tag("A001", tag="theirs"))
    # when a line is imported
    report = import_objects(ledger, [{"command": "tag", "customer": "A001", "tag": "mine"}])
    # then it is recorded, once, under its derived command id
    assert report.failures == [] and report.recorded == 1
    assert seen[0] == seen[1] and seen[0].startswith("import:")
    assert [e.tag for e in ledger.history("A001")[1:]] == ["theirs", "mine"]


def test_an_import_stops_at_a_store_failure_and_a_rerun_completes_it(
    two_writers: tuple[CustomerLedger, CustomerLedger], no_sleep: list[float]
) -> None:
    ledger, _ = two_writers
    lines = [{"command": "tag", "customer": "A001", "tag": f"t{i}"} for i in range(4)]
    save = ledger.save

    def unavailable_from_third(*objects: Any, **kwargs: Any) -> Any:
        # whether lines are saved alone or in a batch: the store fails recording "t2"
        events = [e for o in objects for e in getattr(o, "pending_events", [o])]
        if any(getattr(e, "tag", None) == "t2" for e in events):
            raise OperationalError("server closed the connection unexpectedly")
        return save(*objects, **kwargs)

    ledger.save = unavailable_from_third  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):  # not reported as a bad line: the store failed
        import_objects(ledger, lines)
    ledger.save = save  # type: ignore[method-assign]
    report = import_objects(ledger, lines)
    assert (report.skipped, report.recorded, report.failed) == (2, 2, 0)
    assert [e.tag for e in ledger.history("A001")[1:]] == ["t0", "t1", "t2", "t3"]


DOC = (DOCS / "reliability.md").read_text(encoding="utf-8")


def test_the_reliability_docs_example_runs() -> None:
    (example,) = re.findall(r"```python\n(.*?)```", DOC, re.S)
    exec(compile(example, "docs/reliability.md", "exec"), {})


def test_the_reliability_docs_name_each_typed_failure_by_its_rule() -> None:
    for error in (ConcurrencyConflict, StoreBusy, StoreUnavailable):
        assert f"`{error.__name__}` (rule `{error.rule}`)" in DOC
