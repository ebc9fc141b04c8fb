"""What the reliability scenarios share: sizes, seeding, probing a store from outside,
killing a process at a chosen point, and the check that views hold exactly the log.

Sizes are small by default so CI stays fast; ``CUSTOMER_LEDGER_STRESS=10`` multiplies
them. Set ``CUSTOMER_LEDGER_RELIABILITY_REPORT=path.jsonl`` to collect each scenario's
figures (docs/reliability.md quotes them).
"""

from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from customer_ledger_postgres.testing import with_options

from customer_ledger import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CustomerNumber
from customer_ledger.domain.values import Meta, Money
from customer_ledger.projections.views import FORMAT_ROW, KINDS, LIVE
from customer_ledger.storage.urls import StoreURL
from customer_ledger.testing import reference_facts, reference_profiles, snapshot_views

STRESS = max(1, int(os.environ.get("CUSTOMER_LEDGER_STRESS", "1")))
REPORT = os.environ.get("CUSTOMER_LEDGER_RELIABILITY_REPORT")
APP = "CustomerLedger"
SEED_DAY = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
WAIT_SECONDS = 120  # a generous bound for "eventually": never reached unless broken


def scaled(default: int) -> int:
    return default * STRESS


def figures(scenario: str, **values: Any) -> None:
    """Prints a scenario's figures (``pytest -s``) and appends them to the report file."""
    line = json.dumps({"scenario": scenario, "stress": STRESS, **values}, sort_keys=True)
    print(line)
    if REPORT:
        with open(REPORT, "a", encoding="utf-8") as report:
            report.write(line + "\n")


def fast_directory(tmp_path: Path) -> Path:
    """Where a scenario's SQLite file goes: tmpfs when there is one. The scenarios test
    behaviour, not the disk: each commit's fsync would otherwise dominate their time."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return tmp_path
    directory = Path(tempfile.mkdtemp(prefix="ledger-reliability-", dir=shm))
    atexit.register(shutil.rmtree, directory, True)
    return directory


def cli(url: str, *args: str) -> list[str]:
    """The ``customer-ledger`` command line for ``url``."""
    return [sys.executable, "-m", "customer_ledger", "--store", url, *args]


def start(command: list[str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


# -- seeding ------------------------------------------------------------------------------


def seed(url: str, customers: int, events_each: int, rng: random.Random, *, first: int = 0) -> int:
    """Records customers ``S<first>``.. with ``events_each`` events each, one transaction
    per customer (aggregates saved directly: fast). Returns the log's last position."""
    ledger = CustomerLedger.open(url)
    ledger.eager_views = False
    meta = Meta(actor="seed", role="system")
    now = datetime.now(UTC)
    try:
        for c in range(first, first + customers):
            number = f"S{c:04d}"
            day = SEED_DAY - timedelta(days=events_each)
            customer = Customer.first_contact(
                number=number, name=f"客户 {c}", type="company", occurred_at=day, meta=meta,
                region=rng.choice(["北京市", "上海市"]), owner=rng.choice(["*经理", "*主管"]),
            )  # fmt: skip
            for i in range(events_each - 1):
                day += timedelta(days=1)
                add_event(customer, i, day, meta, now, rng)
            ledger.save(customer, CustomerNumber(number=number, customer_id=customer.id))
        return ledger.recorder.max_notification_id() or 0
    finally:
        ledger.close()


def add_event(
    customer: Customer, i: int, day: datetime, meta: Meta, now: datetime, rng: random.Random
) -> None:
    kind = rng.randrange(3)
    if kind == 0:
        customer.tag(f"t{i}", occurred_at=day, meta=meta, now=now)
    elif kind == 1:
        customer.log_interaction(
            channel=rng.choice(["phone", "visit", "wechat"]), topic=f"topic {i}",
            occurred_at=day, meta=meta, now=now,
        )  # fmt: skip
    else:
        customer.record_purchase(
            product=f"P{i}", quantity=1, amount=Money(Decimal(rng.randint(1, 9999)), "CNY"),
            occurred_at=day, meta=meta, now=now,
        )  # fmt: skip


# -- probing a store from outside (read-only, creates nothing) ----------------------------


class Probe:
    """One plain DB-API connection that reads positions while other processes work.

    Raw SQL on purpose: opening the ledger's views could create the very tables a
    scenario watches being built, renamed or dropped.
    """

    def __init__(self, url: str) -> None:
        store = StoreURL.parse(url)
        self.sqlite = store.scheme == "sqlite"
        if self.sqlite:
            from customer_ledger_sqlite.urls import database_path

            self.prefix = f"{store.prefix}_" if store.prefix else ""
            self.events = f"{self.prefix}stored_events"
            path = database_path(store)
            # (a connection made before the file exists would not see its later writes)
            assert Path(path).exists(), f"open the store before probing it: {path}"
            self.conn: Any = sqlite3.connect(path, isolation_level=None)
            return
        import psycopg
        from customer_ledger_postgres.settings import PostgresSettings

        s = PostgresSettings.from_url(store)
        self.schema = s.schema
        self.prefix, self.events = "", "customerledger_events"
        self.conn = psycopg.connect(
            dbname=s.dbname, host=s.host, port=s.port, user=s.user, password=s.password,
            autocommit=True, options=f"-c search_path={s.schema}",
        )  # fmt: skip

    def last_event(self) -> int:
        column = "rowid" if self.sqlite else "notification_id"
        return self._max(f"SELECT max({column}) FROM {self.events}")

    def event_count(self) -> int:
        """Rows in the log (PostgreSQL's ids have gaps where a killed insert took one)."""
        return self._max(f"SELECT count(*) FROM {self.events}")

    def positions(self, generation: str = LIVE) -> dict[str, int]:
        """Each view's tracked position (0 when its tables do not exist); the format row
        (``FORMAT_ROW``, its id the format's number) is no position."""
        return {
            kind: self._max(
                f"SELECT max(notification_id) FROM {self.prefix}{kind}_{generation}_tracking"
                f" WHERE application_name <> '{FORMAT_ROW}'"
            )
            for kind in KINDS
        }

    def _max(self, statement: str) -> int:
        try:
            row = self.conn.execute(statement).fetchone()
        except (sqlite3.OperationalError, *_psycopg_errors()):  # no such table (now)
            return 0
        return int(row[0] or 0)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _psycopg_errors() -> tuple[type[Exception], ...]:
    try:
        import psycopg
    except ImportError:
        return ()
    return (psycopg.errors.UndefinedTable,)


def positions(url: str, generation: str = LIVE) -> dict[str, int]:
    with Probe(url) as probe:
        return probe.positions(generation)


# -- killing at a chosen point --------------------------------------------------------------


def kill_when(
    process: subprocess.Popen[str],
    reached: Callable[[], bool],
    rng: random.Random,
    *,
    extra: float = 0.02,
) -> tuple[bool, str]:
    """SIGKILLs ``process`` a random moment (up to ``extra`` s) after ``reached()`` turns
    true, so the kill lands inside whatever the process does next. Returns whether it
    was killed (not ended first) and what it wrote on stderr."""
    deadline = time.monotonic() + WAIT_SECONDS
    while process.poll() is None:
        assert time.monotonic() < deadline, "the process neither progressed nor ended"
        if reached():
            time.sleep(rng.uniform(0, extra))
            process.kill()
            break
        time.sleep(0.003)
    _, err = process.communicate()
    return process.returncode == -signal.SIGKILL, err


# -- the exactly-once check -------------------------------------------------------------


def views_as_stored(ledger: CustomerLedger) -> dict[str, Any]:
    """``snapshot_views`` without the catch-up it does first: what the views hold now."""
    refresh = ledger.refresh
    ledger.refresh = lambda: 0  # type: ignore[method-assign]
    try:
        return snapshot_views(ledger)
    finally:
        ledger.refresh = refresh  # type: ignore[method-assign]


def assert_views_hold_exactly_the_log(url: str) -> dict[str, Any]:
    """Every live view is at the log's end and equals what the aggregates say (no event
    skipped or applied twice), and a clean rebuild gives the very same views."""
    ledger = CustomerLedger.open(url)
    try:
        last = ledger.recorder.max_notification_id() or 0
        assert positions(url) == dict.fromkeys(KINDS, last), "a view is not at the log's end"
        stored = views_as_stored(ledger)
        expected = {p.number: p for p in reference_profiles(ledger)}
        assert stored["profile"] == expected
        events = sum(len(ledger.history(n)) for n in expected)
        assert len(stored["timeline"]) == events, "timeline entries != customer events"
        assert len({(e.number, e.version) for e in stored["timeline"]}) == events
        assert stored["analytics"] == reference_facts(ledger)
        ledger.rebuild(fresh=True)
        assert snapshot_views(ledger) == stored, "a clean rebuild differs"
        with Probe(url) as probe:
            rows = probe.event_count()
        return {"log_rows": rows, "customer_events": events, "customers": len(expected)}
    finally:
        ledger.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def store_url(backend: str, request: Any, tmp_path: Path) -> str:
    """A fresh store: a SQLite file (on tmpfs), or a schema in the session's PostgreSQL
    database (``testing_postgres.postgres_url_factory``: skipped, or failed under CI=true,
    without a server)."""
    if backend == "sqlite":
        return f"sqlite:///{fast_directory(tmp_path)}/ledger.db"
    make: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
    return with_options(make(), SMALL_POOLS)


# Each process (and each of follow's ProjectionRunners) opens pools of its own: keep them
# small, so scenarios running beside the rest of the suite stay within max_connections.
SMALL_POOLS = "&pool_size=1&max_overflow=4"
