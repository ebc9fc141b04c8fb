"""``python -m benchmarks.scaling [--writers 1,2,4,8] [--ledgers 1,4,16] [--seconds 10]``.

How far one PostgreSQL primary carries the ledger (docs/scaling.md), by process count:

* commands: N writer processes, each recording commands (an interaction logged, a tag)
  on customers picked at random from a shared set, for ``--seconds``; commands/s in all,
  p50/p99 latency, and how often a sample of ``pg_stat_activity`` found a writer waiting
  on a lock (eventsourcing takes an EXCLUSIVE lock on the events table for each write,
  so that notification ids follow commit order): where the lock is the limit, that
  share grows with N while commands/s stops growing. ``customer-ledger follow`` runs
  beside them; its lag (events recorded but not yet in every view) is sampled, and how
  long it needs to drain once the writers stop.
* imports: N processes each importing its own JSON Lines file at once: lines/s in all.
* ledgers: M ledgers (one schema each, ``?prefix=``) on one server, one writer each:
  commands/s in all, against one ledger alone.

The baseline, measured in the same run, is one writer (one ledger) alone: each line's
ratio is its throughput over that one, so the machine's speed cancels out. Needs the
server at ``--postgres`` and runs under ``flock /tmp/bench.lock``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psycopg

from benchmarks.follower import start_follower
from benchmarks.stores import DEFAULT_POSTGRES, Stores
from benchmarks.timing import milliseconds_at
from customer_ledger import CustomerLedger
from customer_ledger.errors import ConcurrencyConflict
from customer_ledger.formats.jsonl import import_lines

CUSTOMERS = 200  # shared by the writers: they meet on the same customers at times
# Small pools: eight writers and a follower (four runners, each with a pool of its own)
# must fit in a server's 100 connections beside whatever else it serves.
POOLS = "&pool_size=1&max_overflow=3"
RESULT_TIMEOUT = 600  # seconds: a writer that died must not hang the run
os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", "YmVuY2htYXJrLW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")


def seed(url: str, prefix: str = "W") -> list[str]:
    numbers = [f"{prefix}{i:05d}" for i in range(CUSTOMERS)]
    with CustomerLedger.open(url) as ledger:
        batch = ledger.batch()
        for number in numbers:
            batch.first_contact(number, name=f"客户{number}", type="company")
        batch.save()
    return numbers


def writer(url: str, numbers: list[str], seconds: float, start: Any, out: Any, seed_: int) -> None:
    rng = random.Random(seed_)
    ledger = CustomerLedger.open(url)  # commands only write events: the follower keeps views
    latencies: list[float] = []
    conflicts = 0
    start.wait()
    stop = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < stop:
        number = rng.choice(numbers)
        began = time.perf_counter()
        try:
            if i % 2:
                ledger.tag(number, tag=f"t{seed_}-{i}")
            else:
                ledger.log_interaction(number, channel="phone", topic=f"call {seed_}-{i}")
        except ConcurrencyConflict:
            conflicts += 1
        latencies.append(time.perf_counter() - began)
        i += 1
    ledger.close()
    out.put((latencies, conflicts))


def lock_waits(dsn: str, stop: Any, out: Any) -> None:
    """Samples pg_stat_activity: (backends running a statement, of them waiting on a lock)."""
    active = waiting = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE state = 'active' "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND datname = current_database() AND query NOT ILIKE '%LISTEN%'"
            ).fetchall()
            active += len(rows)
            waiting += sum(1 for (kind,) in rows if kind == "Lock")
            time.sleep(0.02)
    out.put((active, waiting))


def lag_probe(url: str, stop: Any, out: Any) -> None:
    """Events recorded but not yet applied by every view, sampled every 0.1 s."""
    ledger = CustomerLedger.open(url, catch_up=False)
    views = [ledger.views.view(k) for k in ("profile", "timeline", "status", "analytics")]
    samples = []
    while not stop.is_set():
        last = ledger.recorder.max_notification_id() or 0
        applied = min(v.max_tracking_id(ledger.name) or 0 for v in views)
        samples.append(last - applied)
        time.sleep(0.1)
    ledger.close()
    out.put(samples)


def race(procs: list[Any], start: Any, out: Any) -> tuple[list[Any], float]:
    """Starts ``procs``, lets them go at once (``start``) when all are up, and returns
    what each put on ``out`` and the seconds from the start to the last of them."""
    for p in procs:
        p.start()
    time.sleep(1.0)  # every process has opened its ledger
    start.set()
    began = time.perf_counter()
    results = [out.get(timeout=RESULT_TIMEOUT) for _ in procs]
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return results, elapsed


def run_writers(url: str, numbers: list[str], n: int, seconds: float, dsn: str) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    start, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    follower = start_follower(url)
    lags, waits = ctx.Queue(), ctx.Queue()
    probes = [ctx.Process(target=lag_probe, args=(url, stop, lags)),
              ctx.Process(target=lock_waits, args=(dsn, stop, waits))]  # fmt: skip
    procs = [ctx.Process(target=writer, args=(url, numbers, seconds, start, out, k))
             for k in range(n)]  # fmt: skip
    try:
        for p in probes:
            p.start()
        results, elapsed = race(procs, start, out)
        with CustomerLedger.open(url, catch_up=False) as probe_ledger:  # the drain, timed
            target = probe_ledger.recorder.max_notification_id() or 0
            drained = time.perf_counter()
            probe_ledger.wait_for_views(target, timeout=600)
            drain = time.perf_counter() - drained
        stop.set()
        lag = lags.get(timeout=RESULT_TIMEOUT)
        active, waiting = waits.get(timeout=RESULT_TIMEOUT)
        for p in probes:
            p.join()
    finally:
        stop.set()
        for p in [*procs, *probes]:
            if p.is_alive():
                p.kill()
        follower.terminate()
        follower.wait(timeout=60)
    latencies = [x for r in results for x in r[0]]
    p50, p99 = milliseconds_at(latencies, 50, 99)
    return {
        "writers": n,
        "commands": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
        "conflicts": sum(r[1] for r in results),
        "lock_wait_share": waiting / active if active else 0.0,
        "lag_max": max(lag, default=0),
        "lag_mean": statistics.fmean(lag) if lag else 0.0,
        "drain_seconds": drain,
    }


def importer(url: str, path: str, start: Any, out: Any) -> None:
    ledger = CustomerLedger.open(url)
    start.wait()
    with open(path, "rb") as handle:
        report = import_lines(ledger, handle)
    ledger.close()
    out.put(report.recorded)


def run_imports(url: str, n: int, lines_each: int, workdir: Path) -> dict[str, Any]:
    paths = []
    for k in range(n):
        path = workdir / f"import-{n}-{k}.jsonl"
        with path.open("wb") as handle:
            for i in range(lines_each // 2):
                number = f"I{n}x{k}x{i:05d}"
                first = {"command": "first_contact", "customer": number,
                         "name": f"导入{number}", "type": "company"}  # fmt: skip
                call = {"command": "log_interaction", "customer": number,
                        "channel": "phone", "topic": "import"}  # fmt: skip
                handle.write(orjson.dumps(first) + b"\n" + orjson.dumps(call) + b"\n")
        paths.append(str(path))
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=importer, args=(url, p, start, out)) for p in paths]
    results, elapsed = race(procs, start, out)
    recorded = sum(results)
    return {"processes": n, "lines": recorded, "per_second": recorded / elapsed}


def run_ledgers(stores: Stores, m: int, seconds: float) -> dict[str, Any]:
    urls = [stores.ledger_url(f"tenant{m}_{k}") + POOLS for k in range(m)]
    numbers = [seed(url) for url in urls]
    ctx = mp.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(url, nums, seconds, start, out, k))
             for k, (url, nums) in enumerate(zip(urls, numbers, strict=True))]  # fmt: skip
    results, elapsed = race(procs, start, out)
    latencies = [x for r in results for x in r[0]]
    (p99,) = milliseconds_at(latencies, 99)
    return {"ledgers": m, "per_second": len(latencies) / elapsed, "p99_ms": p99}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--ledgers", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--import-lines", type=int, default=4000, help="per import process")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--json", type=Path, metavar="OUT.json")
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.writers.split(",") if w]
    tenants = [int(m) for m in args.ledgers.split(",") if m]
    stores = Stores("postgres", postgres=args.postgres)
    workdir = Path(tempfile.mkdtemp(prefix="ledger-scaling-"))
    results: dict[str, list[dict[str, Any]]] = {"commands": [], "imports": [], "ledgers": []}
    try:
        for n in counts:
            url = stores.ledger_url(f"writers{n}") + POOLS
            numbers = seed(url)
            results["commands"].append(run_writers(url, numbers, n, args.seconds, args.postgres))
            print(results["commands"][-1], file=sys.stderr)
        for n in counts:
            url = stores.ledger_url(f"imports{n}") + POOLS
            results["imports"].append(run_imports(url, n, args.import_lines, workdir))
            print(results["imports"][-1], file=sys.stderr)
        for m in tenants:
            results["ledgers"].append(run_ledgers(stores, m, args.seconds))
            print(results["ledgers"][-1], file=sys.stderr)
    finally:
        stores.cleanup()
    print_tables(results)
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    return 0


def print_tables(results: dict[str, list[dict[str, Any]]]) -> None:
    base = results["commands"][0]["per_second"] if results["commands"] else 1.0
    print("| writers | commands/s | vs 1 writer | p50 | p99 | lock waits | conflicts "
          "| follower lag max / mean (events) | drain |")  # fmt: skip
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in results["commands"]:
        print(f"| {r['writers']} | {r['per_second']:,.0f} | {r['per_second'] / base:.2f}× "
              f"| {r['p50_ms']:.1f} ms | {r['p99_ms']:.1f} ms | {r['lock_wait_share']:.0%} "
              f"| {r['conflicts']} | {r['lag_max']} / {r['lag_mean']:.0f} "
              f"| {r['drain_seconds']:.1f} s |")  # fmt: skip
    if results["imports"]:
        base = results["imports"][0]["per_second"]
        print("\n| import processes | lines/s | vs 1 process |\n|--:|--:|--:|")
        for r in results["imports"]:
            print(f"| {r['processes']} | {r['per_second']:,.0f} | {r['per_second'] / base:.2f}× |")
    if results["ledgers"]:
        base = results["ledgers"][0]["per_second"]
        print("\n| ledgers on one server | commands/s | vs 1 ledger | p99 |\n|--:|--:|--:|--:|")
        for r in results["ledgers"]:
            print(f"| {r['ledgers']} | {r['per_second']:,.0f} | {r['per_second'] / base:.2f}× "
                  f"| {r['p99_ms']:.1f} ms |")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
