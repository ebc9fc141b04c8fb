"""``customer-ledger copy --to URL``: move a ledger to another store (``application.copying``)."""

from __future__ import annotations

import argparse
import os
import sys

import orjson
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from customer_ledger.application.copying import PAGE_SIZE, TARGET_MASTER_KEY_ENV, copy_ledger
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_OK,
    RateColumn,
    acting_actor,
    add_json_option,
    console,
    print_json,
)
from customer_ledger.cli.registry import Group

group = Group("storage: moving a ledger")

LABELS = {
    "check": "checking the target",
    "events": "copying events",
    "keys": "carrying data keys",
    "users": "copying users",
    "snapshots": "copying snapshots",
    "duplicates": "indexing duplicates",
    "views": "rebuilding views",
    "verify": "verifying the copy",
}


def _configure_copy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to", required=True, metavar="URL",
        help="the store to copy to: empty, or holding an interrupted copy of this ledger "
        f"(its master key: ${TARGET_MASTER_KEY_ENV}, else as for any store)",
    )  # fmt: skip
    parser.add_argument(
        "--page-size", type=_positive, default=PAGE_SIZE, metavar="N",
        help=f"events per transaction on the target (default {PAGE_SIZE})",
    )  # fmt: skip
    add_json_option(parser)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 100_000:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to 100000, not {value!r}")
    return number


@group.command(
    "copy",
    "copy the ledger, event by event as stored, with its keys and users, to another store "
    "(resumable); ends by verifying it and printing its checkpoint",
    _configure_copy,
    reads=True,
)
def run_copy(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    err = console(stderr=True)
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(LABELS.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        result = copy_ledger(
            ledger,
            args.to,
            master_key=os.environ.get(TARGET_MASTER_KEY_ENV) or None,
            actor=acting_actor(args),
            progress=progress,
            page_size=args.page_size,
        )
    if args.json:
        print_json(result.to_json())
        return EXIT_OK
    resumed = f", resumed after notification {result.resumed_from}" * bool(result.resumed_from)
    err.print(
        f"copied {result.events} events to {result.to}{resumed} in {result.seconds:.1f} s: "
        f"{result.keys} data keys carried over, {result.destroyed} forgotten customers kept "
        f"forgotten, {result.users} users and {result.snapshots} snapshots added, "
        f"{result.indexed} customers indexed for duplicates, views rebuilt; every chain "
        "verifies. The target's checkpoint (below) equals 'customer-ledger audit "
        "checkpoint' of the source",
        soft_wrap=True,
        highlight=False,
    )
    for note in result.notes:
        err.print(f"note: {note}", soft_wrap=True, highlight=False)
    sys.stdout.write(orjson.dumps(result.checkpoint.to_json()).decode() + "\n")
    return EXIT_OK
