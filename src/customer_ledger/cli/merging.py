"""Duplicates and merge: ``duplicates``, ``reindex-duplicates`` and ``merge``.

``duplicates`` lists the groups of customers that are likely one customer recorded more
than once, with the reason (never the matching value: the index holds keyed hashes).
"""

from __future__ import annotations

import argparse

from rich.table import Table

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import EXIT_OK, add_json_option, console, print_json
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
    indexed = ledger.reindex_duplicates()
    if args.json:
        print_json({"indexed": indexed})
    else:
        console().print(f"duplicate index rebuilt: {indexed} customers have keys in it")
    return EXIT_OK
