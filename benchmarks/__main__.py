"""``python -m benchmarks --backend sqlite --events 100000 [--json out.json]``.

Runs every phase against the ledger and the plain-eventsourcing baseline in one
process, prints the table (rich) and writes the numbers as JSON. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson
from rich.console import Console

from benchmarks.report import markdown, metrics, print_report
from benchmarks.runner import PHASES, Run
from benchmarks.stores import BACKENDS, DEFAULT_POSTGRES


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument("--events", type=int, default=100_000, help="customer events")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path, metavar="OUT.json", help="write the results here")
    parser.add_argument("--markdown", type=Path, metavar="OUT.md", help="write the table here")
    parser.add_argument(
        "--only", default=",".join(PHASES), help=f"comma-separated phases of {', '.join(PHASES)}"
    )
    parser.add_argument("--commands", type=int, help="commands per command measurement")
    parser.add_argument(
        "--rss-1m", action="store_true", help="peak RSS at 100k and 1M events (slow)"
    )
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="the PostgreSQL server")
    parser.add_argument("--workdir", type=Path, help="keep SQLite files here (default: temp)")
    parser.add_argument(
        "--profile", choices=[*PHASES, "commands-lazy"], help="profile one phase (pyinstrument)"
    )
    args = parser.parse_args(argv)
    args.only = tuple(p for p in args.only.split(",") if p)
    unknown = set(args.only) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    run = Run(
        args.backend, args.events, seed=args.seed, only=args.only, rss_1m=args.rss_1m,
        commands=args.commands, workdir=args.workdir, postgres=args.postgres,
        profile=args.profile, profile_dir=args.json.parent if args.json else None,
    )  # fmt: skip
    output = run.execute()
    rows = metrics(output["results"], args.backend)
    output["metrics"] = [m.to_json() for m in rows]
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a file or pipe: no wrapping in the middle of rows
    print_report(rows, output["run"], console)
    if args.markdown:
        args.markdown.write_text(markdown(rows))
    if args.json:
        options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        args.json.write_bytes(orjson.dumps(output, option=options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
