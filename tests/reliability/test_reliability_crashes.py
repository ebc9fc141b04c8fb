"""Crashes: ``kill -9`` of rebuild, follow and import at random points (docs/reliability.md).

Each scenario kills the real ``customer-ledger`` process (SIGKILL: no cleanup runs) at
seeded random points while it works, at least 10 times, restarts it, and then checks
that the views hold exactly the log: every view at the log's end, profiles equal to
what the aggregates say, one timeline entry per customer event, analytics facts equal
to the reference, and a clean rebuild giving the very same views. The import, killed
mid-file (one line per transaction, or batches of lines) and re-run, must have recorded
each line exactly once.

A kill is triggered by progress seen from outside (a view's tracked position or the
log's end moved past a random target) plus a random few milliseconds, so it lands
inside the work, not before it starts. ``CUSTOMER_LEDGER_STRESS=N`` scales the data.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)

from customer_ledger import CustomerLedger
from customer_ledger.formats.jsonl import derived_command_id
from customer_ledger.projections.views import KINDS, LIVE, REBUILD
from reliability.support import (
    WAIT_SECONDS,
    Probe,
    assert_views_hold_exactly_the_log,
    cli,
    figures,
    kill_when,
    scaled,
    seed,
    start,
    store_url,
)

KILLS = 10
SEED = 20240601
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, request, tmp_path)


def test_a_rebuild_killed_anywhere_resumes_and_ends_with_exact_views(store: str) -> None:
    # given a store of a few thousand events whose live views are current
    rng = random.Random(SEED)
    last = seed(store, customers=scaled(40), events_each=75, rng=rng)
    with CustomerLedger.open(store) as ledger:
        ledger.refresh()
    kills = completed = 0
    with Probe(store) as probe:
        while kills < KILLS:
            assert kills + completed < 4 * KILLS, "the rebuild kept finishing before the kill"
            # when a rebuild is killed once it has gone a random way past where it starts
            done = sum(probe.positions(REBUILD).values())
            process = start(cli(store, "rebuild", "--json"))
            if done >= len(KINDS) * last:  # killed in the swaps: let it finish them
                _, err = process.communicate(timeout=WAIT_SECONDS)
                assert process.returncode == 0, err
                completed += 1
                continue
            target = done + rng.randint(1, len(KINDS) * last - done)
            killed, err = kill_when(
                process, lambda t=target: sum(probe.positions(REBUILD).values()) >= t, rng
            )
            assert killed or process.returncode == 0, err
            kills += killed
            completed += not killed
            # then readers still see complete views: the old ones, or swapped-in new ones
            assert probe.positions(LIVE) == dict.fromkeys(KINDS, last)
    # and a rebuild run after the last kill finishes the job
    process = start(cli(store, "rebuild", "--json"))
    out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, err
    assert [orjson.loads(line)["events"] for line in out.splitlines()] == [last] * len(KINDS)
    checked = assert_views_hold_exactly_the_log(store)
    figures(
        "rebuild killed", backend=store.split(":")[0], kills=kills, runs_completed=completed,
        lost=0, applied_twice=0, **checked,
    )  # fmt: skip


def test_follow_killed_anywhere_restarts_and_ends_with_exact_views(store: str) -> None:
    # given a store with a backlog the views have never seen
    rng = random.Random(SEED + 1)
    customers, events_each = scaled(20), 60
    last = seed(store, customers=customers, events_each=events_each, rng=rng)
    kills, rounds = 0, 0
    with Probe(store) as probe:
        while kills < KILLS:
            rounds += 1
            if rounds % 2:  # killed while catching up a backlog it has never seen
                last = seed(store, scaled(5), events_each, rng, first=customers)
                done = sum(probe.positions().values())
                process = start(cli(store, "follow", "--poll", "0.05"))
            else:  # killed while following new events live (runner or polling)
                process = start(cli(store, "follow", "--poll", "0.05"))
                done = len(KINDS) * last
                wait_until(lambda n=done: sum(probe.positions().values()) == n)
                last = seed(store, scaled(5), events_each, rng, first=customers)
            customers += scaled(5)
            # when follow is killed a random way into the events it has to apply
            target = done + rng.randint(1, len(KINDS) * last - done)
            killed, err = kill_when(
                process, lambda t=target: sum(probe.positions().values()) >= t, rng
            )
            assert killed, f"follow exited by itself ({process.returncode}): {err}"
            kills += 1
            assert all(p <= last for p in probe.positions().values())
        # then a restarted follow catches up and stops cleanly on SIGTERM
        process = start(cli(store, "follow", "--poll", "0.05"))
        wait_until(lambda: probe.positions() == dict.fromkeys(KINDS, last))
    # (the killed one may have applied everything already: wait until this one is up,
    # with its signal handlers, before the SIGTERM, or Python's default handler ends it)
    assert process.stderr is not None
    said = []
    for line in process.stderr:  # "following by polling ..." once caught up and listening
        said.append(line)
        if "following" in line:
            break
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=WAIT_SECONDS)
    err = "".join(said) + err
    assert process.returncode == 0 and "stopped cleanly" in err, err
    # and the views hold every event exactly once
    checked = assert_views_hold_exactly_the_log(store)
    figures(
        "follow killed", backend=store.split(":")[0], kills=kills, lost=0, applied_twice=0,
        **checked,
    )  # fmt: skip


def test_an_import_killed_mid_file_completes_on_rerun_without_duplicates(
    store: str, tmp_path: Path
) -> None:
    # given a JSON Lines file of first contacts and commands for them (it grows when an
    # import got to its end, so every run has lines left to be killed in)
    rng = random.Random(SEED + 2)
    path = tmp_path / "commands.jsonl"
    customers, lines = scaled(20), []

    def grow() -> int:
        """Appends lines; returns the rows the log holds once they are all imported: each
        line's event and receipt, and each number's claim."""
        lines.extend(import_file_lines(rng, customers, scaled(200), first=len(lines)))
        text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
        path.write_text(text + "\n", encoding="utf-8")
        return 2 * len(lines) + customers

    rows = grow()
    CustomerLedger.open(store).close()  # an empty store
    kills = 0
    with Probe(store) as probe:
        while kills < KILLS:
            done = probe.event_count()
            if done >= rows - 2:
                rows = grow()
                continue
            # when the import is killed a random way into what is left of the file
            share = (rows - done) // (KILLS - kills + 1)  # leave some for the later kills
            target = done + rng.randint(1, max(1, share))
            # lines per transaction: one, or batches a kill may cut through the middle of
            batch = {"CUSTOMER_LEDGER_IMPORT_BATCH": str(rng.choice([1, 4, 12]))}
            command = cli(store, "import", str(path), "--json")
            process = start(command, env={**os.environ, **batch})
            killed, err = kill_when(process, lambda t=target: probe.event_count() >= t, rng)
            assert killed or process.returncode == 0, err
            kills += killed
    # then re-running it records the rest, and nothing twice
    process = start(cli(store, "import", str(path), "--json"))
    out, err = process.communicate(timeout=WAIT_SECONDS)
    assert process.returncode == 0, err
    report = json.loads(out)
    assert report["failed"] == 0 and report["recorded"] + report["skipped"] == len(lines)
    with CustomerLedger.open(store) as ledger:
        events = [e for n in ledger.numbers() for e in ledger.history(n)]
        assert len(events) == len(lines)
        assert Counter(e.meta.command_id for e in events) == Counter(
            derived_command_id(line) for line in lines
        )
        ledger.refresh()  # (an import that saved nothing new leaves the views to the next read)
    checked = assert_views_hold_exactly_the_log(store)
    figures(
        "import killed", backend=store.split(":")[0], kills=kills, lines=len(lines),
        resumed_recorded=report["recorded"], resumed_skipped=report["skipped"],
        duplicated=0, lost=0, **checked,
    )  # fmt: skip


def import_file_lines(
    rng: random.Random, customers: int, commands: int, first: int = 0
) -> list[dict[str, Any]]:
    """First contacts (at the start of the file), then commands for those customers,
    each line different from every other (so each has its own derived command id)."""
    lines: list[dict[str, Any]] = []
    if first == 0:
        lines += [
            {"command": "first_contact", "customer": f"I{c:03d}", "name": f"导入 {c}",
             "type": "company", "occurred_at": "2024-01-01"}
            for c in range(customers)
        ]  # fmt: skip
    for i in range(first, first + commands):
        customer = f"I{rng.randrange(customers):03d}"
        if rng.random() < 0.5:
            lines.append({"command": "tag", "customer": customer, "tag": f"t{i}"})
        else:
            lines.append(
                {"command": "log_interaction", "customer": customer, "channel": "phone",
                 "topic": f"call {i}", "occurred_at": "2024-01-02"}
            )  # fmt: skip
    return lines


def wait_until(condition: object) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.01)
