"""``python -m benchmarks.copy --events 100000 [--to sqlite|postgres] [--json out.json]``.

The rate of ``customer-ledger copy``: records a generated history (``benchmarks.history``,
``benchmarks.seed``) in a SQLite ledger, copies it to a fresh PostgreSQL schema (or
SQLite file) with another master key, and times each phase of the copy (events, keys,
users, duplicate index, views, verify). The baseline, measured in the same run, is
eventsourcing's own recorder of the target inserting the very same stored events,
a page per transaction, into a store of its own: the ratio of the events phase says
what keeping the ids and checking costs beyond writing the rows. Run it under
``flock /tmp/bench.lock``. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from benchmarks.history import lines
from benchmarks.seed import record
from benchmarks.stores import DEFAULT_POSTGRES, Stores
from customer_ledger import CustomerLedger
from customer_ledger.application.copying import PAGE_SIZE, PHASES, copy_ledger
from customer_ledger.notifications import pages


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.copy", description=__doc__)
    parser.add_argument("--events", type=int, default=100_000, help="customer events")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--to", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="the PostgreSQL server")
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-bench-copy-") as tmp:
        stores = Stores(args.to, Path(tmp), args.postgres)
        try:
            result = run(args, stores, Path(tmp))
        finally:
            stores.cleanup()
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    return 0


def run(args: argparse.Namespace, stores: Stores, workdir: Path) -> dict[str, Any]:
    source_key, target_key = _key(), _key()
    source_url = f"sqlite:///{workdir}/source.db"
    with CustomerLedger.open(source_url, master_key=source_key) as source:
        started = time.perf_counter()
        customer_events = record(source, lines(args.events, args.seed))
        seeded = time.perf_counter() - started
        log_events = source.recorder.max_notification_id() or 0

        # the baseline: the same stored events through eventsourcing's own recorder
        baseline_app = Application(env=stores.baseline_env("baseline"))
        started = time.perf_counter()
        for page in pages(source.recorder, page_size=args.page_size):
            baseline_app.recorder.insert_events(
                [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in page]
            )
        baseline = time.perf_counter() - started
        baseline_app.close()

        # the copy, phase by phase
        first: dict[str, float] = {}  # when each phase began

        def progress(phase: str, done: int, total: int | None) -> None:
            first.setdefault(phase, time.perf_counter())

        target_url = stores.ledger_url("copy")
        started = time.perf_counter()
        copied = copy_ledger(
            source, target_url, master_key=target_key, progress=progress,
            page_size=args.page_size,
        )  # fmt: skip
        total = time.perf_counter() - started
    ordered = [p for p in PHASES if p in first]
    ends = {p: (first[ordered[i + 1]] if i + 1 < len(ordered) else started + total)
            for i, p in enumerate(ordered)}  # fmt: skip
    seconds = {p: round(ends[p] - first[p], 3) for p in ordered}
    events_seconds = seconds.get("events", total)
    return {
        "to": args.to,
        "customer_events": customer_events,
        "log_events": log_events,
        "page_size": args.page_size,
        "seed_seconds": round(seeded, 2),
        "copy_seconds": round(total, 2),
        "phase_seconds": seconds,
        "copy_events_per_second": round(log_events / total),
        "events_phase_per_second": round(log_events / events_seconds),
        "baseline_insert_seconds": round(baseline, 2),
        "baseline_events_per_second": round(log_events / baseline),
        "events_phase_vs_baseline": round(events_seconds / baseline, 2),
        "keys": copied.keys,
        "indexed": copied.indexed,
        "snapshots": copied.snapshots,
        "checkpoint_equal": copied.checkpoint.events == log_events,
    }


if __name__ == "__main__":
    raise SystemExit(main())
