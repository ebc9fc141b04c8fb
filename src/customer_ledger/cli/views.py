"""Maintaining the views: ``rebuild`` them from the log, ``follow`` it to keep them current."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from customer_ledger.application.follow import follow
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import EXIT_ERROR, EXIT_OK, RateColumn, add_json_option, console
from customer_ledger.cli.registry import Group
from customer_ledger.errors import CorruptEvent
from customer_ledger.projections.fold import Damage
from customer_ledger.projections.views import KINDS

group = Group("views: keeping the read models current")


def _configure_rebuild(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--projection", choices=(*KINDS, "all"), default="all", help="which view (default all)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="discard a half-done rebuild instead of resuming it"
    )
    add_json_option(parser)


@group.command(
    "rebuild", "replay the whole log into fresh views and swap them in", _configure_rebuild
)
def run_rebuild(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    kinds = KINDS if args.projection == "all" else (args.projection,)
    err = console(stderr=True)
    columns = (
        TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    started = time.perf_counter()
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("rebuild", total=None)
        results = ledger.rebuild(
            kinds,
            fresh=args.fresh,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    total = time.perf_counter() - started
    damaged: dict[str, Damage] = {}
    for result in results:
        line = {
            "projection": result.projection, "events": result.events,
            "seconds": result.seconds, "resumed_from": result.resumed_from,
            "damaged": [d.to_json() for d in result.damaged],
        }  # fmt: skip
        damaged.update((str(d.customer_id), d) for d in result.damaged)
        if args.json:
            sys.stdout.write(orjson.dumps(line).decode() + "\n")
        else:
            resumed = f", resumed from event {result.resumed_from}" if result.resumed_from else ""
            console().print(
                f"{result.projection}: {result.events} events in {result.seconds:.2f} s{resumed}",
                highlight=False,
            )
    if not args.json:
        console().print(
            f"rebuilt {len(results)} view(s) in {total:.2f} s (reading and decoding the log "
            "once for all of them included)",
            highlight=False,
        )
    for damage in damaged.values():  # every other customer was rebuilt
        sys.stderr.write(
            f"error [{CorruptEvent.rule}]: customer {damage.number or damage.customer_id} set "
            f"aside at version {damage.version}: {damage.reason}\n"
        )
    if damaged:
        sys.stderr.write(
            f"{len(damaged)} customer(s) damaged: their views keep their last good state; "
            "run 'customer-ledger audit verify' to see what is wrong\n"
        )
        return EXIT_ERROR
    return EXIT_OK


def _configure_follow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll", type=float, default=0.5, metavar="SECONDS",
        help="how often to look for new events where the store cannot notify (default 0.5)",
    )  # fmt: skip


@group.command("follow", "keep the views current until stopped (SIGINT/SIGTERM)", _configure_follow)
def run_follow(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    err = console(stderr=True)
    applied = follow(ledger, stop, poll_seconds=args.poll, report=err.print)
    err.print(f"follow stopped cleanly ({applied} event applications)")
    return EXIT_OK
