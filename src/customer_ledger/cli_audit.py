"""``customer-ledger audit ACTION ...``: what an auditor runs.

``audit`` is one top-level subcommand whose actions live in a small registry, so
other modules add their own (``audit replay``, ``audit log``) without touching this
one: decorate ``run(ledger, args) -> int`` with ``@audit_action(name, help,
configure)`` in a module listed in ``cli.SUBCOMMAND_MODULES``. Every listed module is
imported before the parser is built, so all actions are known by then.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import orjson
from attrs import frozen
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from customer_ledger.application import CustomerLedger
from customer_ledger.audit import Checkpoint, Report, checkpoint, verify
from customer_ledger.cli import (
    EXIT_OK,
    Configure,
    Handler,
    add_json_option,
    console,
    print_json,
    subcommand,
)
from customer_ledger.cli_views import RateColumn

EXIT_BROKEN = 3  # the history does not verify


@frozen
class AuditAction:
    name: str
    help: str
    run: Handler
    configure: Configure


AUDIT_ACTIONS: dict[str, AuditAction] = {}


def audit_action(
    name: str, help: str, configure: Configure | None = None
) -> Callable[[Handler], Handler]:
    """Registers ``run(ledger, args) -> int`` as ``customer-ledger audit NAME``."""

    def register(run: Handler) -> Handler:
        AUDIT_ACTIONS[name] = AuditAction(name, help, run, configure or (lambda _: None))
        return run

    return register


def _configure_audit(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    for action in AUDIT_ACTIONS.values():
        sub = actions.add_parser(action.name, help=action.help, description=action.help)
        action.configure(sub)
        sub.set_defaults(audit_handler=action.run)


@subcommand("audit", "check, anchor and replay the recorded history", _configure_audit)
def run_audit(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    code: int = args.audit_handler(ledger, args)
    return code


# -- verify and checkpoint ----------------------------------------------------------------


def _progress_bar(label: str) -> Progress:
    """Events checked and events/s on stderr when it is a terminal; nothing otherwise."""
    err = console(stderr=True)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), RateColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


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


@audit_action(
    "verify",
    "check every hash chain (and the log against a checkpoint); exit 3 when broken",
    _configure_verify,
)
def run_verify(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    against = None if args.against is None else Checkpoint.parse(args.against)
    started = time.perf_counter()
    with _progress_bar("verifying") as bar:
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


@audit_action(
    "checkpoint",
    "print the head of the whole log's hash, to keep elsewhere and verify against later",
    _configure_checkpoint,
)
def run_checkpoint(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    with _progress_bar("hashing the log") as bar:
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
