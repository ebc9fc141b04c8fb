"""``customer-ledger audit ACTION ...``: what an auditor runs.

``verify`` checks every hash chain (and the log against a checkpoint); ``checkpoint``
prints the log's head to keep elsewhere; ``replay`` shows a customer at a version, as
recorded at a time, or as of a business date, folded from the sealed events alone (no
snapshot); ``log`` lists every change and every unmasked read. Rich output, or plain
JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from rich.table import Table
from rich.text import Text

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.audit.verify import Checkpoint, Report, checkpoint, verify
from customer_ledger.cli.output import (
    EXIT_OK,
    add_json_option,
    console,
    local,
    print_json,
    progress_bar,
)
from customer_ledger.cli.registry import Group
from customer_ledger.cli.render import profile_panel
from customer_ledger.projections.audit_log import AuditEntry

group = Group("audit")
actions = Group("audit actions")  # customer-ledger audit ACTION
EXIT_BROKEN = 3  # the history does not verify


def _configure_audit(parser: argparse.ArgumentParser) -> None:
    parsers = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    for action in actions.commands:
        sub = parsers.add_parser(action.name, help=action.help, description=action.help)
        action.configure(sub)
        sub.set_defaults(audit_handler=action.run)


@group.command(
    "audit", "check, anchor and replay the recorded history", _configure_audit, reads=True
)
def run_audit(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    code: int = args.audit_handler(ledger, args)
    return code


# -- verify and checkpoint ----------------------------------------------------------------


def _configure_verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "number", metavar="NUMBER", nargs="?", help="one customer (default: the whole store)"
    )
    parser.add_argument(
        "--against",
        metavar="CHECKPOINT",
        help="a checkpoint printed earlier by 'audit checkpoint' (a file, or its JSON text)",
    )
    add_json_option(parser)


@actions.command(
    "verify",
    "check every hash chain (and the log against a checkpoint); exit 3 when broken",
    _configure_verify,
)
def run_verify(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    against = None if args.against is None else Checkpoint.parse(args.against)
    started = time.perf_counter()
    with progress_bar("verifying") as bar:
        task = bar.add_task("verify", total=None)
        report = verify(
            ledger,
            args.number,
            against=against,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if args.json:
        print_json(report.to_json())
    else:
        _print_report(report, args.number, time.perf_counter() - started)
    return EXIT_OK if report.ok else EXIT_BROKEN


def _print_report(report: Report, number: str | None, seconds: float) -> None:
    out = console()
    if report.findings:
        table = Table(title="findings", title_justify="left")
        for column in ("customer", "aggregate", "version", "kind", "detail"):
            table.add_column(column, overflow="fold", no_wrap=column != "detail")
        for f in report.findings:
            customer = f.number or (str(f.customer_id) if f.customer_id else "(the log)")
            version = "" if f.version is None else str(f.version)
            table.add_row(customer, f.aggregate or "", version, f.kind, f.detail)
        out.print(table)
    scope = f"customer {number}" if number else "the store"
    verdict = "OK" if report.ok else f"BROKEN: {len(report.broken)} finding(s)"
    unchained = f", {report.unchained_events} recorded before chaining" * bool(
        report.unchained_events
    )
    out.print(
        f"{scope}: {report.events} events in {report.chains} chains checked{unchained} "
        f"in {seconds:.1f}s: {verdict}",
        soft_wrap=True,
    )
    if report.checkpoint is not None:
        result = report.checkpoint
        state = "matches" if result.ok else "does NOT match"
        out.print(
            f"log up to notification {result.checkpoint.notification_id} {state} the "
            f"checkpoint of {result.checkpoint.at.isoformat()} "
            f"({result.events} events now, {result.checkpoint.events} then)",
            soft_wrap=True,
        )


def _configure_checkpoint(parser: argparse.ArgumentParser) -> None:
    add_json_option(parser)


@actions.command(
    "checkpoint",
    "print the head of the whole log's hash, to keep elsewhere and verify against later",
    _configure_checkpoint,
)
def run_checkpoint(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    with progress_bar("hashing the log") as bar:
        task = bar.add_task("checkpoint", total=None)
        anchor = checkpoint(
            ledger, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if args.json:
        print_json(anchor.to_json())
    else:
        console(stderr=True).print(
            f"checkpoint after notification {anchor.notification_id} ({anchor.events} events); "
            "keep the JSON below where the store's writers cannot change it, and later run: "
            "customer-ledger audit verify --against CHECKPOINT",
            soft_wrap=True,
        )
        sys.stdout.write(orjson.dumps(anchor.to_json()).decode() + "\n")
    return EXIT_OK


# -- replay -------------------------------------------------------------------------------


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


@actions.command(
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


# -- log ----------------------------------------------------------------------------------


def _configure_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", metavar="NUMBER", help="only this customer")
    parser.add_argument("--actor", metavar="ACTOR", help="only what this actor did or read")
    add_json_option(parser)


@actions.command(
    "log", "every change and every unmasked read: who, when, what, why", _configure_log
)
def run_log(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    entries = ledger.audit_log(args.customer, actor=args.actor)
    if args.json:
        _stream_json(e.to_json() for e in entries)
    else:
        console().print(log_table(entries, ledger.timezone))
    return EXIT_OK


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
