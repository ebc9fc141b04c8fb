"""Duplicates and merge: ``duplicates``, ``reindex-duplicates`` and ``merge``.

``duplicates`` lists the groups of customers that are likely one customer recorded more
than once, with the reason (never the matching value: the index holds keyed hashes).
"""

from __future__ import annotations

import argparse

from rich.table import Table

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_OK,
    acting_actor,
    add_json_option,
    console,
    print_json,
)
from customer_ledger.cli.registry import Group

group = Group("duplicates and merge")


@group.command(
    "duplicates",
    "list groups of customers that are likely the same one, with the reason",
    add_json_option,
    reads=True,
)
def run_duplicates(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    found = ledger.duplicates()
    if args.json:
        print_json([g.to_json() for g in found])
        return EXIT_OK
    if not found:
        console().print("no likely duplicates")
        return EXIT_OK
    table = Table("customers", "why they look alike", title="likely duplicates")
    for group_ in found:
        table.add_row(", ".join(group_.numbers), ", ".join(group_.reasons))
    console().print(table)
    return EXIT_OK


@group.command(
    "reindex-duplicates",
    "rebuild the duplicate index from the history (a store recorded before it existed)",
    add_json_option,
)
def run_reindex(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    indexed = ledger.reindex_duplicates(actor=acting_actor(args))
    if args.json:
        print_json({"indexed": indexed})
    else:
        console().print(f"duplicate index rebuilt: {indexed} customers have keys in it")
    return EXIT_OK


def _configure_merge(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="the record to merge (客户编号)")
    parser.add_argument(
        "--into", required=True, metavar="NUMBER", help="the customer it is merged into"
    )
    parser.add_argument("--reason", required=True, metavar="TEXT", help="why (recorded)")
    parser.add_argument(
        "--occurred-at", metavar="DATE|DATETIME", help="business time (default: now)"
    )
    parser.add_argument("--command-id", metavar="ID", help="idempotency key for a re-run")
    add_json_option(parser)


@group.command(
    "merge",
    "merge a duplicate record into another: nothing is rewritten, the survivor takes over",
    _configure_merge,
)
def run_merge(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    result = ledger.merge(
        args.number,
        into=args.into,
        reason=args.reason,
        actor=acting_actor(args),
        occurred_at=args.occurred_at,
        command_id=args.command_id,
    )
    if args.json:
        print_json({"merged": args.number, **result.to_json()})
    else:
        done = "already merged (replayed)" if result.replayed else "merged"
        console().print(
            f"{args.number} {done} into {result.number} (now at version {result.version}); "
            f"{args.number} takes no more commands, and looking it up shows {result.number}",
            soft_wrap=True,
        )
    return EXIT_OK
