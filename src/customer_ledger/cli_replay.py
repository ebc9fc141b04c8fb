"""``customer-ledger audit replay`` and ``audit log``: what an auditor reads.

``replay`` shows a customer at a version, as recorded at a time, or as of a business
date (``CustomerLedger.replay``), folded from the sealed events alone (no snapshot);
``log`` lists every change and every unmasked read (``CustomerLedger.audit_log``). Both
print rich output, or plain JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from rich.table import Table
from rich.text import Text

from customer_ledger.application import CustomerLedger
from customer_ledger.audit_log import AuditEntry
from customer_ledger.cli import EXIT_OK, add_json_option, console, local, print_json, profile_panel
from customer_ledger.cli_audit import audit_action

# -- audit replay ------------------------------------------------------------------------


def _configure_replay(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="customer number (客户编号), e.g. B002")
    point = parser.add_mutually_exclusive_group(required=True)
    point.add_argument("--version", type=int, metavar="N", help="as it stood after its N-th event")
    point.add_argument(
        "--recorded-at",
        metavar="T",
        help="what the ledger knew at T (ISO date-time; a date alone: the end of that day)",
    )
    point.add_argument(
        "--as-of",
        metavar="D",
        help="what had happened by the end of business date D (ISO date)",
    )
    add_json_option(parser)


@audit_action(
    "replay",
    "a customer at a version, as recorded at a time, or as of a business date",
    _configure_replay,
)
def run_replay(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    profile = ledger.replay(  # from sealed events only: no snapshot is trusted
        args.number,
        version=args.version,
        recorded_at=args.recorded_at,
        as_of=args.as_of,
        snapshots=False,
    )
    mode, given = _point(args)
    if args.json:
        print_json({"number": profile.number, "mode": mode, "at": given, **profile.to_json()})
        return EXIT_OK
    words = {"version": "at version", "recorded_at": "as recorded at", "as_of": "as of"}
    out = console()
    out.print(Text(f"{profile.number} {words[mode]} {given}", style="bold"))
    out.print(profile_panel(profile, ledger.timezone))
    return EXIT_OK


def _point(args: argparse.Namespace) -> tuple[str, str]:
    if args.version is not None:
        return "version", str(args.version)
    if args.recorded_at is not None:
        return "recorded_at", args.recorded_at
    return "as_of", args.as_of


# -- audit log ---------------------------------------------------------------------------


def _configure_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", metavar="NUMBER", help="only this customer")
    parser.add_argument("--actor", metavar="ACTOR", help="only what this actor did or read")
    add_json_option(parser)


@audit_action("log", "every change and every unmasked read: who, when, what, why", _configure_log)
def run_log(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    entries = ledger.audit_log(args.customer, actor=args.actor)
    if args.json:
        _stream_json(entry_json(e) for e in entries)
    else:
        console().print(log_table(entries, ledger.timezone))
    return EXIT_OK


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "recorded_at": entry.recorded_at.isoformat(),
        "occurred_at": None if entry.occurred_at is None else entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "role": entry.role,
        "customer": entry.number,
        "kind": entry.kind,
        "event": entry.event,
        "version": entry.version,
        "summary": entry.summary,
        "why": entry.why,
    }


def _stream_json(items: Iterable[dict[str, Any]]) -> None:
    """A JSON array written item by item: the whole log never sits in memory."""
    out = sys.stdout
    separator = "[\n  "
    for item in items:
        out.write(separator + orjson.dumps(item).decode())
        separator = ",\n  "
    out.write("[]\n" if separator.startswith("[") else "\n]\n")


def log_table(entries: Iterable[AuditEntry], zone: ZoneInfo) -> Table:
    """One row per entry; who (actor and role) and what (event and summary) stack, so the
    table stays readable in 80 columns."""
    table = Table(title="audit log (recorded order)", title_justify="left")
    table.add_column("recorded", no_wrap=True)
    table.add_column("who", overflow="fold")
    table.add_column("customer", no_wrap=True)
    table.add_column("what", ratio=3, overflow="fold")
    table.add_column("why", ratio=2, overflow="fold")
    for e in entries:
        style = "bold" if e.kind == "change" else "bold yellow"  # reads stand out
        what = Text.assemble((e.event, style), "\n", e.summary)
        who = f"{e.actor}\n({e.role})" if e.role else e.actor
        table.add_row(local(e.recorded_at, zone), who, e.number, what, e.why or "")
    return table
