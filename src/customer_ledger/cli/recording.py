"""Recording: ``demo`` (the example customers of the domain notes) and ``forget``.

``forget NUMBER --reason TEXT`` erases a customer's personal data: irreversible, so on a
terminal it asks for the number again (``--yes`` skips that). Who forgets is
``--actor``/``--role`` (a role allowed to ``forget``: admin by default).
"""

from __future__ import annotations

import argparse
import sys

from rich.console import Group as Lines

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli import changes, demo
from customer_ledger.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    acting_actor,
    add_json_option,
    console,
    print_failures,
    print_json,
)
from customer_ledger.cli.registry import Group
from customer_ledger.cli.render import entries_table, profile_panel
from customer_ledger.errors import LedgerError
from customer_ledger.formats.jsonl import ImportReport
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import TimelineEntry

group = Group("recording: one command per change, with the fields of the import format")
group.commands.extend(changes.subcommands())  # one per ledger command, listed first


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    add_json_option(parser)


@group.command(
    "demo",
    "record the example customers of the domain notes (idempotent) and show them",
    _configure_demo,
)
def run_demo(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    report = demo.record(ledger, acting_actor(args))
    print_failures(report, "demo command")
    customers = [
        (ledger.profile(n), list(ledger.timeline(n, limit=1000).items))
        for n in demo.NUMBERS
        if _known(ledger, n)
    ]
    if args.json:
        print_json(
            {
                "store": _store(ledger),
                **report.to_json(),
                "customers": [
                    {"profile": p.to_json(), "timeline": [e.to_json() for e in t]}
                    for p, t in customers
                ],
            }
        )
    else:
        _print_demo(ledger, report, customers)
    return EXIT_OK if report.ok else EXIT_ERROR


def _known(ledger: CustomerLedger, number: str) -> bool:
    try:
        ledger.customer_id(number)
    except LedgerError:
        return False
    return True


def _store(ledger: CustomerLedger) -> str:
    return ledger.url.raw if ledger.url is not None else "?"


def _print_demo(
    ledger: CustomerLedger,
    report: ImportReport,
    customers: list[tuple[Profile, list[TimelineEntry]]],
) -> None:
    out = console()
    zone = ledger.timezone
    for profile, entries in customers:
        title = f"{profile.number} timeline (business time)"
        out.print(Lines(profile_panel(profile, zone), entries_table(entries, zone, title)))
        out.print()
    out.print(
        f"demo: {report.recorded} commands recorded, {report.skipped} already in the store "
        f"({_store(ledger)})",
        soft_wrap=True,
    )


# -- forget -----------------------------------------------------------------------------


def _configure_forget(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="customer number (客户编号)")
    parser.add_argument(
        "--reason", required=True, metavar="TEXT",
        help="why (recorded with the CustomerForgotten event, e.g. the request's reference; "
        "no personal data here: it is kept)",
    )  # fmt: skip
    parser.add_argument("--command-id", metavar="ID", help="idempotency key for a re-run")
    parser.add_argument(
        "--vacuum-full", action="store_true",
        help="PostgreSQL: VACUUM FULL the views, so no old row version's bytes remain "
        "(locks each table while it is rewritten)",
    )  # fmt: skip
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_json_option(parser)


@group.command(
    "forget",
    "erase a customer's personal data for good; its history and facts stay (docs/privacy.md)",
    _configure_forget,
)
def run_forget(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    actor = acting_actor(args)
    if not args.yes and sys.stdin.isatty() and not _confirmed(args.number):
        sys.stderr.write("forget: not confirmed; nothing was changed\n")
        return EXIT_ERROR
    result = ledger.forget(
        args.number,
        actor=actor,
        reason=args.reason,
        command_id=args.command_id,
        vacuum_full=args.vacuum_full,
    )
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    if args.json:
        print_json(result)
    else:
        done = (
            "its key destroyed"
            if result.key_destroyed
            else "no live key to destroy (none was ever made, or an earlier run destroyed it)"
        )
        console().print(
            f"{result.number}: forgotten at version {result.version}, {done}; personal fields "
            "now read [erased] everywhere, the rest of its history stays",
            soft_wrap=True,
        )
    return EXIT_OK


def _confirmed(number: str) -> bool:
    sys.stderr.write(
        f"Forgetting {number} erases its personal data for good (it cannot be undone).\n"
        f"Type the customer number to confirm: "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip() == number
