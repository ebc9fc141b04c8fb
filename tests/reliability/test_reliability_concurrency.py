"""Concurrent writers: several processes hammer the same customers (docs/reliability.md).

Given 20 customers in one store (a SQLite file, or a PostgreSQL database), when 4
processes each send their commands to random customers at the same time (half of them
also catching the views up after every command), then: every command was accepted
(conflicts were retried under the same command id), every accepted command is in the
log exactly once, no update is lost, each customer's versions are gapless, and the
views equal a fresh rebuild.

100 commands per writer by default (CI time); ``CUSTOMER_LEDGER_STRESS=5`` gives the
4 x 500 of the issue, and any N multiplies them. Also here: processes opening one store
at once, importers of the same customers at once, and the fold-sharing regression.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
    with_options,
)
from paths import RELIABILITY

from customer_ledger import CustomerLedger
from customer_ledger.domain.registry import CommandReceipt
from customer_ledger.projections.fold import (
    CustomerFold,
    SharedBatch,
    customer_from_state,
    state_bytes,
)
from customer_ledger.testing import reference_profiles, snapshot_views
from reliability.support import (
    SMALL_POOLS,
    cli,
    figures,
    read_jsonl,
    scaled,
    start,
    store_url,
    views_as_stored,
)

WRITERS = 4
COMMANDS = scaled(100)
CUSTOMERS = 20
WRITER = RELIABILITY / "writer.py"
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, request, tmp_path)


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(store: str, tmp_path: Path):
    # given 20 customers
    ledger = CustomerLedger.open(store)
    for c in range(CUSTOMERS):
        ledger.first_contact(
            f"S{c:02d}", name=f"shared {c}", type="company", occurred_at="2024-01-01"
        )
    # when 4 processes send their commands at once
    started = time.perf_counter()
    logs, summaries = run_writers(store, tmp_path)
    seconds = round(time.perf_counter() - started, 1)
    accepted = [line for log in logs for line in log]
    # then every command was accepted, once, with conflicts retried rather than failed
    assert [s["failures"] for s in summaries] == [[]] * WRITERS
    assert len(accepted) == WRITERS * COMMANDS
    assert not any(line["replayed"] for line in accepted)
    retries = sum((Counter(s["retries"]) for s in summaries), Counter())
    check_each_command_is_in_the_log_once(ledger, accepted)
    check_versions_are_gapless_and_match_the_writers(ledger, accepted)
    check_no_update_is_lost(ledger, accepted)
    # and the views (caught up by half the writers as they went) equal a fresh rebuild
    ledger.refresh()
    incremental = views_as_stored(ledger)
    ledger.rebuild(fresh=True)
    assert snapshot_views(ledger) == incremental
    figures(
        "concurrent writers", backend=store.split(":")[0], writers=WRITERS,
        commands=len(accepted), customers=CUSTOMERS, retried=dict(retries),
        customer_events=sum(len(ledger.history(n)) for n in ledger.numbers()), lost=0,
        duplicated=0, seconds=seconds,
    )  # fmt: skip
    ledger.close()


def run_writers(store: str, tmp_path: Path) -> tuple[list[list[dict[str, Any]]], list[Any]]:
    go = tmp_path / "go"
    paths = [tmp_path / f"writer-{i}.jsonl" for i in range(WRITERS)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    processes = []
    for i in range(WRITERS):
        eager = "1" if i % 2 == 0 else "0"
        arguments = [store, str(i), str(COMMANDS), str(CUSTOMERS), "7", eager, str(go)]
        command = [sys.executable, str(WRITER), *arguments, str(paths[i])]
        processes.append(start(command, env=env))
    go.touch()  # all start together
    summaries = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return [read_jsonl(path) for path in paths], summaries


def check_each_command_is_in_the_log_once(
    ledger: CustomerLedger, accepted: list[dict[str, Any]]
) -> None:
    """By receipt, and by the command ids the customers' events carry."""
    for line in accepted:
        receipt = ledger.repository.get(CommandReceipt.id_for(line["command_id"]))
        assert (receipt.number, receipt.version) == (line["customer"], line["version"])
    in_log = Counter(e.meta.command_id for n in ledger.numbers() for e in ledger.history(n)[1:])
    assert in_log == Counter(line["command_id"] for line in accepted)


def check_versions_are_gapless_and_match_the_writers(
    ledger: CustomerLedger, accepted: list[dict[str, Any]]
) -> None:
    by_customer: dict[str, list[int]] = defaultdict(list)
    for line in accepted:
        by_customer[line["customer"]].append(line["version"])
    for number in ledger.numbers():
        history = ledger.history(number)
        assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
        assert sorted(by_customer[number]) == list(range(2, len(history) + 1))


def check_no_update_is_lost(ledger: CustomerLedger, accepted: list[dict[str, Any]]) -> None:
    """Each customer holds every tag, interaction and purchase the writers were told of."""
    tags, interactions, revenue = defaultdict(set), Counter(), defaultdict(Decimal)
    for line in accepted:
        number = line["customer"]
        if line["kind"] == "tag":
            tags[number].add(line["tag"])
        elif line["kind"] == "log_interaction":
            interactions[number] += 1
        else:
            revenue[number] += Decimal(line["amount"])
    for profile in reference_profiles(ledger):
        number = profile.number
        assert set(profile.tags) == tags[number]
        assert profile.interaction_count == interactions[number]
        assert profile.total_revenue == revenue[number]


OPENER = """
import sys, time
from pathlib import Path
from customer_ledger import CustomerLedger
while not Path(sys.argv[2]).exists():
    time.sleep(0.002)
CustomerLedger.open(sys.argv[1]).close()
"""


@pytest.mark.postgres
def test_processes_opening_one_postgresql_store_at_once_all_open_it(
    postgres_url_factory: Callable[[], str],  # noqa: F811
    tmp_path: Path,
) -> None:
    # given a store (its tables exist), and processes waiting for the same instant
    url = with_options(postgres_url_factory(), SMALL_POOLS)
    CustomerLedger.open(url).close()
    for attempt in range(2):
        go = tmp_path / f"go-{attempt}"
        openers = [start([sys.executable, "-c", OPENER, url, str(go)]) for _ in range(6)]
        # when they open it at once (each runs the idempotent schema statements)
        go.touch()
        # then every one of them opens it: a lost schema race is retried, not raised
        for opener in openers:
            _, err = opener.communicate(timeout=120)
            assert opener.returncode == 0, err


def test_views_another_process_moved_on_are_read_right(store: str) -> None:
    # given two processes' ledgers on one store, the first having caught its views up
    first, second = CustomerLedger.open(store), CustomerLedger.open(store)
    first.eager_views = second.eager_views = False
    first.first_contact("A001", name="x", type="company", occurred_at="2024-01-02")
    first.refresh()
    # when the second records a change and moves the views on, then the first another
    second.tag("A001", tag="second", occurred_at="2024-01-02")
    second.refresh()
    first.tag("A001", tag="first", occurred_at="2024-01-02")
    # then the first catches up from the stored states, not from what it last knew
    assert first.profile("A001").tags == ("first", "second")
    assert first.profile("A001").version == 3
    incremental = views_as_stored(first)
    first.rebuild(fresh=True)
    assert snapshot_views(first) == incremental
    first.close()
    second.close()


def test_views_folding_one_batch_from_states_of_different_ages_each_keep_every_event() -> None:
    """Views caught up together share one fold of a batch. When one view's stored state
    was already past some of the batch's events (another process got there between
    reading the position and reading the states), that fold skips them, and sharing its
    result would make the other views lose them."""
    # given A001 at version 2, a view that already holds version 2, another that holds 1
    ledger = CustomerLedger.open("memory://")
    ledger.first_contact("A001", name="x", type="company", occurred_at="2024-01-02")
    ledger.tag("A001", tag="second", occurred_at="2024-01-02")
    fields = ledger.personal
    stored = {v: state_bytes(ledger.customer("A001", version=v), fields) for v in (1, 2)}
    shared = SharedBatch(fields)
    ahead = CustomerFold(lambda ids: dict.fromkeys(ids, stored[2]), fields, shared)
    behind = CustomerFold(lambda ids: dict.fromkeys(ids, stored[1]), fields, shared)
    batch = ledger.history("A001")[1:]  # version 2, read as new by both
    # when both fold the batch
    ahead.apply(batch)
    changed = behind.apply(batch)
    # then the view that was behind gets version 2, tag and all
    (customer,) = changed.values()
    assert customer.version == 2 and customer.tags == {"second"}
    assert customer_from_state(behind.state(customer), fields, customer.id).version == 2


def test_concurrent_imports_of_lines_for_the_same_customers_all_succeed(
    store: str, tmp_path: Path
) -> None:
    # given 10 customers, and three files of commands for them, one per importer
    with CustomerLedger.open(store) as ledger:
        for c in range(10):
            ledger.first_contact(f"S{c:02d}", name=f"shared {c}", type="company")
    files = []
    for i in range(3):
        path = tmp_path / f"import-{i}.jsonl"
        lines = [
            {"command": "tag", "customer": f"S{n % 10:02d}", "tag": f"file {i} line {n}"}
            for n in range(scaled(100))
        ]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        files.append(path)
    # when they are imported at the same time (batches and single lines alike)
    importers = [
        start(cli(store, "import", str(path), "--json"),
              env={**os.environ, "CUSTOMER_LEDGER_IMPORT_BATCH": batch})
        for path, batch in zip(files, ["1", "10", "1000"], strict=True)
    ]  # fmt: skip
    reports = []
    for importer in importers:
        out, err = importer.communicate(timeout=600)
        assert importer.returncode == 0, err
        reports.append(json.loads(out))
    # then no line failed on a conflict, and each is recorded once
    assert [(r["failed"], r["recorded"]) for r in reports] == [(0, scaled(100))] * 3
    with CustomerLedger.open(store) as ledger:
        tags = [e.tag for n in ledger.numbers() for e in ledger.history(n)[1:]]
    assert sorted(tags) == sorted(
        f"file {i} line {n}" for i in range(3) for n in range(scaled(100))
    )
