"""``customer-ledger forget NUMBER --reason TEXT``: erase a customer's personal data.

Irreversible, so on a terminal it asks for the number again (``--yes`` skips that).
Who forgets is ``--actor``/``--role`` (a role allowed to ``forget``: admin by default).
"""

from __future__ import annotations

import argparse
import sys

from customer_ledger.application import CustomerLedger
from customer_ledger.cli import (
    EXIT_ERROR,
    EXIT_OK,
    acting_actor,
    add_json_option,
    console,
    print_json,
    subcommand,
)


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


@subcommand(
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
