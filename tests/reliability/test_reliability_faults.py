"""Faults: a connection cut mid-command, a server restart under ``follow``, a locked SQLite
file (docs/reliability.md).

Each time: the interrupted command fails with a typed ``StoreError`` (never a driver
traceback), nothing of it is half-written, the next command succeeds, and a follower
reconnects by itself and keeps applying events.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
    with_options,
)

from customer_ledger import (
    CustomerLedger,
    StoreBusy,
    StoreUnavailable,
    retry_command,
)
from customer_ledger.projections.views import KINDS
from customer_ledger.storage.failures import Backoff
from reliability.private_postgres import PrivateServer, private_server
from reliability.support import (
    WAIT_SECONDS,
    Probe,
    assert_views_hold_exactly_the_log,
    cli,
    fast_directory,
    figures,
    start,
)

PATIENT = Backoff(attempts=40, first_delay=0.05, max_delay=1.0)


def in_thread(call: Callable[[], Any]) -> Any:
    """A future for ``call()``: the test goes on while the command is blocked."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(call)
    executor.shutdown(wait=False)
    return future


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.01)


def customer_events(ledger: CustomerLedger) -> int:
    return sum(len(ledger.history(n)) for n in ledger.numbers())


# -- PostgreSQL: the connection is cut while a command is in flight -----------------------
#
# The command is held at its write (another session holds the lock every event write
# takes), and its backend is terminated from a third session. eventsourcing retries a
# write whose connection failed, on a new connection, up to 10 times.


@pytest.fixture
def held_write(
    postgres_url_factory: Callable[[], str],  # noqa: F811
) -> Iterator[tuple[CustomerLedger, Probe, psycopg.Connection[Any]]]:
    """A ledger with A001, a probe, and a session holding the events table's write lock."""
    url = with_options(postgres_url_factory(), "&lock_timeout=60&pool_size=1&max_overflow=4")
    ledger = CustomerLedger.open(url)
    ledger.eager_views = False
    ledger.first_contact("A001", name="x", type="company", occurred_at="2024-01-02")
    with Probe(url) as probe, psycopg.connect(probe.conn.info.dsn, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute(f"LOCK TABLE {probe.schema}.customerledger_events IN EXCLUSIVE MODE")
        yield ledger, probe, holder
        holder.execute("ROLLBACK")  # (a warning only, when the test released it already)
    ledger.close()


@pytest.mark.postgres
def test_a_write_whose_connection_is_cut_once_is_retried_and_recorded_once(
    held_write: tuple[CustomerLedger, Probe, psycopg.Connection[Any]],
) -> None:
    # given a command held at its write
    ledger, probe, holder = held_write
    before = probe.event_count()
    tagging = in_thread(lambda: ledger.tag("A001", tag="cut", command_id="cmd-cut"))
    # when its connection is cut once, and the lock released
    probe.conn.execute("SELECT pg_terminate_backend(%s)", (blocked_behind(probe, holder),))
    wait_until(lambda: blocked_behind(probe, holder, wait=False) is not None or tagging.done())
    holder.execute("ROLLBACK")
    # then the write went through on a new connection, exactly once
    result = tagging.result(timeout=WAIT_SECONDS)
    assert not result.replayed and result.version == 2
    assert probe.event_count() == before + 2  # the tag and its receipt
    assert [e.originator_version for e in ledger.history("A001")] == [1, 2]


@pytest.mark.postgres
def test_a_command_whose_connection_keeps_being_cut_fails_typed_and_records_nothing(
    held_write: tuple[CustomerLedger, Probe, psycopg.Connection[Any]],
) -> None:
    # given a command held at its write
    ledger, probe, holder = held_write
    before = probe.event_count()
    tagging = in_thread(lambda: ledger.tag("A001", tag="cut", command_id="cmd-cut"))
    # when every connection it writes on is cut
    cuts = 0
    while not tagging.done():
        pid = blocked_behind(probe, holder, wait=False)
        if pid is not None:
            cuts += probe.conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        time.sleep(0.01)
    # then it fails with a typed error naming what happened, not a driver traceback
    with pytest.raises(StoreUnavailable) as failed:
        tagging.result()
    assert failed.value.rule == "store_unavailable"
    assert "connection" in str(failed.value)
    # and nothing of it was written
    holder.execute("ROLLBACK")
    assert probe.event_count() == before
    assert [e.originator_version for e in ledger.history("A001")] == [1]
    # and the same command, sent again, is recorded once on a new connection
    resent = ledger.tag("A001", tag="cut", command_id="cmd-cut")
    assert not resent.replayed and resent.version == 2
    assert ledger.tag("A001", tag="next").version == 3
    figures("connection cut mid-command", backend="postgresql", cuts=cuts, half_written=0)


def blocked_behind(
    probe: Probe, holder: psycopg.Connection[Any], *, wait: bool = True
) -> int | None:
    """The pid of the session waiting for the holder's lock: the ledger's write."""
    found: list[int] = []

    def blocked() -> bool:
        rows = probe.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND %s = ANY(pg_blocking_pids(pid))",
            (holder.info.backend_pid,),
        ).fetchall()
        found.extend(row[0] for row in rows)
        return bool(rows)

    if wait:
        wait_until(blocked)
    elif not blocked():
        return None
    return found[0]


# -- PostgreSQL: the server restarts while `follow` runs ------------------------------------


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    yield from private_server()


@pytest.mark.postgres
@pytest.mark.slow
def test_follow_reconnects_after_a_server_restart_and_keeps_applying(
    server: PrivateServer,
) -> None:
    # given a follower that has caught up with a few customers
    url = server.url
    ledger = CustomerLedger.open(url)
    ledger.eager_views = False
    for i in range(5):
        ledger.first_contact(f"R{i}", name=f"before {i}", type="company")
    follower = start(cli(url, "follow"))
    last = ledger.recorder.max_notification_id()
    with Probe(url) as probe:
        wait_until(lambda: probe.positions() == dict.fromkeys(KINDS, last))
    # when the server goes down
    server.stop()
    # then a command fails with a typed error, not a driver traceback
    with pytest.raises(StoreUnavailable):
        ledger.tag("R0", tag="while down", command_id="down-1")
    # and when it is back, commands go through (retried while the pool reconnects)
    server.start()
    for i in range(5, 10):
        retry_command(ledger.first_contact, f"R{i}", name=f"after {i}", type="company",
                      backoff=PATIENT)  # fmt: skip
    retry_command(ledger.tag, "R0", tag="while down", command_id="down-1", backoff=PATIENT)
    # and the follower, which never stopped, applies them too
    last = ledger.recorder.max_notification_id()
    with Probe(url) as probe:
        wait_until(lambda: probe.positions() == dict.fromkeys(KINDS, last))
    assert follower.poll() is None, "follow died with the server"
    follower.send_signal(signal.SIGTERM)
    _, err = follower.communicate(timeout=WAIT_SECONDS)
    assert follower.returncode == 0 and "stopped cleanly" in err, err
    assert "reconnecting" in err
    ledger.close()
    checked = assert_views_hold_exactly_the_log(url)
    assert checked["customers"] == 10
    figures(
        "server restart under follow", backend="postgresql", restarts=1,
        reconnect_reports=err.count("reconnecting"), lost=0, **checked,
    )  # fmt: skip


# -- SQLite: another writer holds the file's lock -----------------------------------------


@pytest.fixture
def locked_store(tmp_path: Path) -> Iterator[tuple[str, sqlite3.Connection, CustomerLedger]]:
    """A store waiting at most 1 s for a lock, with A001, and a second connection to it."""
    path = fast_directory(tmp_path) / "ledger.db"
    url = f"sqlite:///{path}?lock_timeout=1"
    ledger = CustomerLedger.open(url)
    ledger.first_contact("A001", name="x", type="company", occurred_at="2024-01-02")
    other = sqlite3.connect(path, isolation_level=None)
    yield url, other, ledger
    other.close()
    ledger.close()


def test_a_command_waits_for_a_held_sqlite_lock_then_fails_typed_and_records_nothing(
    locked_store: tuple[str, sqlite3.Connection, CustomerLedger],
) -> None:
    # given another writer holding the file's write lock
    _, other, ledger = locked_store
    before = ledger.recorder.max_notification_id()
    other.execute("BEGIN EXCLUSIVE")
    # when a command comes: it waits out the lock timeout, then fails with a typed error
    tagging = in_thread(lambda: ledger.tag("A001", tag="x", command_id="cmd-1"))
    with pytest.raises(StoreBusy) as busy:
        tagging.result(timeout=WAIT_SECONDS)  # bounded: it does not wait forever
    assert busy.value.rule == "store_busy" and "locked" in str(busy.value)
    other.execute("ROLLBACK")
    # then nothing was recorded, and once the lock is gone the same command goes through
    assert ledger.recorder.max_notification_id() == before
    result = ledger.tag("A001", tag="x", command_id="cmd-1")
    assert not result.replayed and result.version == 2


def test_an_import_meeting_a_held_lock_stops_with_a_typed_error_and_a_rerun_completes(
    locked_store: tuple[str, sqlite3.Connection, CustomerLedger], tmp_path: Path
) -> None:
    url, other, ledger = locked_store
    path = tmp_path / "tags.jsonl"
    lines = [f'{{"command": "tag", "customer": "A001", "tag": "t{i}"}}\n' for i in range(3)]
    path.write_text("".join(lines))
    before = ledger.recorder.max_notification_id()
    other.execute("BEGIN EXCLUSIVE")
    try:
        blocked = start(cli(url, "import", str(path)))
        _, err = blocked.communicate(timeout=WAIT_SECONDS)
    finally:
        other.execute("ROLLBACK")
    assert blocked.returncode == 1 and "error [store_busy]" in err, err
    assert "Traceback" not in err
    assert ledger.recorder.max_notification_id() == before
    rerun = start(cli(url, "import", str(path), "--json"))
    _, err = rerun.communicate(timeout=WAIT_SECONDS)
    assert rerun.returncode == 0, err
    assert [e.tag for e in ledger.history("A001")[1:]] == ["t0", "t1", "t2"]


@pytest.mark.slow
def test_follow_outlasts_a_lock_held_past_its_timeout_on_sqlite(
    locked_store: tuple[str, sqlite3.Connection, CustomerLedger],
) -> None:
    # given a follower polling a store
    url, other, ledger = locked_store
    follower = start(cli(url, "follow", "--poll", "0.05"))
    with Probe(url) as probe:
        last = ledger.recorder.max_notification_id()
        wait_until(lambda: probe.positions() == dict.fromkeys(KINDS, last))
        # when, while it is paused, an event arrives and another writer takes the lock,
        # and it resumes and holds the lock past two of the follower's lock timeouts
        follower.send_signal(signal.SIGSTOP)
        ledger.eager_views = False
        ledger.tag("A001", tag="pending")
        other.execute("BEGIN EXCLUSIVE")
        follower.send_signal(signal.SIGCONT)
        time.sleep(2.5)  # (a window, not a check)
        other.execute("ROLLBACK")
        # then the follower, still alive, applies them once the lock is free
        last = ledger.recorder.max_notification_id()
        wait_until(lambda: probe.positions() == dict.fromkeys(KINDS, last))
    assert follower.poll() is None, "follow died on a held lock"
    follower.send_signal(signal.SIGTERM)
    _, err = follower.communicate(timeout=WAIT_SECONDS)
    assert follower.returncode == 0, err
    assert "store failure" in err and "locked" in err
    assert_views_hold_exactly_the_log(url)
