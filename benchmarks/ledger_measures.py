"""What the ledger side of each comparison measures.

Each function times one thing through the public API a user would call, and returns
plain numbers (events, seconds, rate or milliseconds) for the report.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median, quantiles
from typing import Any
from unittest import mock

import orjson

from benchmarks.baseline import read_and_decode
from benchmarks.timing import stopwatch, throughput
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.main import main as cli_main
from customer_ledger.projections import projectors
from customer_ledger.projections.views import KINDS, Kind

ROOT = Path(__file__).resolve().parent.parent


def import_file(url: str, path: Path) -> dict[str, Any]:
    """``customer-ledger --store URL import FILE --json``, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with stopwatch() as times, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(["--store", url, "import", str(path), "--json"])
    report = orjson.loads(out.getvalue())
    if code != 0 or report["failed"]:
        raise RuntimeError(f"import failed ({code}): {err.getvalue()[:2000]}")
    stored = None  # a memory store is gone with the command's process
    if not url.startswith("memory:"):
        with CustomerLedger.open(url) as ledger:  # each line's receipt, each number's claim
            stored = ledger.recorder.max_notification_id() or 0
    return throughput(report["recorded"], times, lines=report["lines"], stored=stored)


def rebuild(ledger: CustomerLedger, kinds: Sequence[Kind] = KINDS) -> dict[str, Any]:
    """Views rebuilt from the whole log, then swapped in (``rebuild(kinds, fresh=True)``)."""
    events = ledger.recorder.max_notification_id() or 0
    with stopwatch() as times:
        results = ledger.rebuild(kinds, fresh=True)
    return throughput(events, times, views=[r.projection for r in results])


def rebuild_process(url: str) -> dict[str, Any]:
    """``customer-ledger --store URL rebuild --fresh`` of every view, as a deploy runs it:
    a process of its own, interpreter start-up and store opening included."""
    with CustomerLedger.open(url) as ledger:
        events = ledger.recorder.max_notification_id() or 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    command = [sys.executable, "-m", "customer_ledger", "--store", url, "rebuild", "--fresh"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, env=os.environ, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"rebuild process failed: {done.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return throughput(events, {"seconds": seconds, "cpu_seconds": cpu})


def without_search_indexes() -> Any:
    """The profile view as if it kept no search indexes (no blind keys, no clear texts):
    a diagnostic, to put a price on them; the view it builds must be rebuilt after."""
    return mock.patch.multiple(
        projectors,
        blind_keys=lambda secret, terms: frozenset(),
        personal_terms=lambda profile: set(),
        public_text=lambda profile: iter(()),
        described=lambda event: ("", ""),
    )


def without_search(ledger: CustomerLedger, kinds: Sequence[Kind]) -> dict[str, Any]:
    """``rebuild(kinds)`` as if the profile view kept no search indexes: what the views
    cost apart from them (issue 17 counts the indexes as views of their own). The views
    it swaps in lack the indexes: rebuild the profile view after."""
    with without_search_indexes():
        return rebuild(ledger, kinds)


def decode(ledger: CustomerLedger) -> dict[str, Any]:
    """The ledger's own read-and-decode rate (diagnostic: what a rebuild cannot beat)."""
    return read_and_decode(ledger, ledger.recorder.max_notification_id() or 0)


def replay(
    ledger: CustomerLedger, number: str, length: int, samples: int, rng: random.Random
) -> dict[str, Any]:
    """Milliseconds to load ``number`` as it stood at random versions."""
    ledger.customer(number, version=1)  # warm: the number look-up, code paths
    versions = [rng.randrange(1, length + 1) for _ in range(samples)]
    times = []
    for version in versions:
        started = time.perf_counter()
        customer = ledger.customer(number, version=version)
        times.append((time.perf_counter() - started) * 1000)
        assert customer.version == version
    return {
        "median_ms": median(times),
        "p95_ms": quantiles(times, n=20)[-1] if len(times) > 1 else times[0],
        "max_ms": max(times),
        "samples": samples,
        "length": length,
    }


def commands(ledger: CustomerLedger, numbers: list[str], count: int, eager: bool) -> dict[str, Any]:
    """Load a customer, log one interaction, save: ``count`` times, round robin."""
    ledger.eager_views = eager
    if eager:
        ledger.refresh()  # start from views that are up to date, as a live ledger's are
    with stopwatch() as times:
        for k in range(count):
            ledger.log_interaction(numbers[k % len(numbers)], channel="phone", topic=f"bench {k}")
    ledger.eager_views = True
    return throughput(count, times)
