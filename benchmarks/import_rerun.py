"""``python -m benchmarks.import_rerun --backend sqlite --lines 50000``.

Re-running an import after a crash: imports a file of the benchmark history into a
fresh store (the baseline, measured in the same run), then imports the same file again,
every line already done, and prints lines/s of both and their ratio. A crashed run is
the same with its done prefix: ``--done 0.5`` imports the first half first, then the
whole file (skipping half, importing half). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.history import write_jsonl
from benchmarks.stores import DEFAULT_POSTGRES, Stores
from customer_ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.formats.jsonl import import_file

ADMIN = Actor("bench", "admin")


def timed_import(url: str, path: Path) -> tuple[float, int, int]:
    with CustomerLedger.open(url) as ledger:
        started = time.perf_counter()
        report = import_file(ledger, path, actor=ADMIN)
        seconds = time.perf_counter() - started
    assert not report.failures, report.failures[:3]
    return seconds, report.recorded, report.skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_rerun", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--lines", type=int, default=50_000, help="events in the file")
    parser.add_argument("--done", type=float, default=1.0, help="share done before the re-run")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    if args.backend == "postgres":
        os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", "A" * 43 + "=")
    stores = Stores(args.backend, postgres=args.postgres)  # its cleanup drops the schemas
    try:
        whole = stores.workdir / "whole.jsonl"
        write_jsonl(whole, args.lines)
        lines = whole.read_bytes().splitlines(keepends=True)
        prefix = stores.workdir / "prefix.jsonl"
        prefix.write_bytes(b"".join(lines[: int(len(lines) * args.done)]))
        # baseline: the whole file into a fresh store
        baseline, recorded, _ = timed_import(stores.ledger_url("fresh"), whole)
        # the re-run: the prefix done (as by a crashed run), then the whole file again
        url = stores.ledger_url("rerun")
        timed_import(url, prefix)
        rerun, new, skipped = timed_import(url, whole)
    finally:
        stores.cleanup()
    print(f"backend {args.backend}, {len(lines)} lines, {args.done:.0%} done before the re-run")
    print(f"import into a fresh store: {baseline:8.2f} s  {recorded / baseline:9,.0f} lines/s")
    print(
        f"re-run ({skipped} skipped, {new} new): {rerun:8.2f} s  {len(lines) / rerun:9,.0f} lines/s"
    )
    print(f"ratio (import time / re-run time): {baseline / rerun:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
