"""Crashes: ``kill -9`` of ``customer-ledger copy`` at random points, then a re-run.

The copy (SQLite to SQLite, and to PostgreSQL, the common move) is killed several times
at seeded random moments of a run, wherever it is then (copying events, carrying keys,
indexing, rebuilding the views, verifying), and run again each time; the last run is
let finish. The target must then hold exactly the source: the same log row for row (no
event lost or copied twice), views, histories, replays, users, duplicates and checkpoint.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path

import pytest
from copy_support import everything, new_master_key, record_everything
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)

from customer_ledger import CustomerLedger
from customer_ledger.testing import clock
from reliability.support import WAIT_SECONDS, cli, figures, scaled, seed, start, store_url

pytestmark = pytest.mark.slow
KILLS = 6


@pytest.mark.parametrize(
    "target_backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_copy_killed_anywhere_ends_identical_on_rerun(
    target_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(f"copy-{target_backend}")
    source_key, target_key = new_master_key(), new_master_key()
    monkeypatch.setenv("CUSTOMER_LEDGER_MASTER_KEY", source_key)  # (seed opens with it)
    env = {
        **os.environ,
        "CUSTOMER_LEDGER_MASTER_KEY": source_key,
        "CUSTOMER_LEDGER_TARGET_MASTER_KEY": target_key,
    }
    # given a SQLite ledger of some thousands of events, with personal data and a forget
    source_url = store_url("sqlite", request, tmp_path)
    with CustomerLedger.open(source_url, clock=clock, master_key=source_key) as source:
        record_everything(source, half_forget=False)
    seed(source_url, scaled(150), 20, rng, first=0)
    with CustomerLedger.open(source_url, clock=clock, master_key=source_key) as source:
        expected = everything(source)

    def copy(target: str) -> subprocess.Popen[str]:
        command = cli(source_url, "copy", "--to", target, "--page-size", "100", "--json")
        return start(command, env=env)

    # and how long an uninterrupted copy takes
    began = time.monotonic()
    whole = copy(store_url(target_backend, request, tmp_path / "scratch"))
    _, err = whole.communicate(timeout=WAIT_SECONDS)
    assert whole.returncode == 0, err
    seconds = time.monotonic() - began

    # when a copy to a fresh store is killed at random moments of its runs, each time
    # run again, and then let finish
    target_url = store_url(target_backend, request, tmp_path / "target")
    killed = 0
    for _ in range(KILLS):
        process = copy(target_url)
        time.sleep(rng.uniform(0.3, seconds))
        if process.poll() is None:
            process.kill()
            killed += 1
        _, err = process.communicate(timeout=WAIT_SECONDS)
        assert "Traceback" not in err, err
    last = copy(target_url)
    _, err = last.communicate(timeout=WAIT_SECONDS)
    assert last.returncode == 0, err

    # then the target holds exactly the source: no event lost or doubled, and everything
    # read from it is the same
    assert killed >= KILLS // 2, "the copies ended before they could be killed"
    with CustomerLedger.open(target_url, clock=clock, master_key=target_key) as target:
        found = everything(target)
    for part, value in expected.items():
        assert found[part] == value, part
    figures(
        "copy killed anywhere",
        backend=target_backend,
        events=len(expected["log"]),
        kills=killed,
        uninterrupted_seconds=round(seconds, 2),
    )
