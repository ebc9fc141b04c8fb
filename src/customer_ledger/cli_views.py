"""CLI commands that read the views or maintain them: timeline, status, search,
rebuild and follow."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import orjson
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from customer_ledger.application import CustomerLedger
from customer_ledger.cli import (
    EXIT_OK,
    add_json_option,
    console,
    entries_table,
    local,
    print_json,
    subcommand,
)
from customer_ledger.domain.values import Stage
from customer_ledger.projections.follow import follow
from customer_ledger.projections.views import KINDS, SORT_FIELDS, ProfileQuery, StatusRow

# -- timeline ---------------------------------------------------------------------------


def _configure_timeline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", nargs="?", help="one customer (default: all)")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first business day")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last business day (inclusive)")
    parser.add_argument("--lang", choices=("zh", "en"), default="en", help="summary language")
    add_json_option(parser)


@subcommand("timeline", "one line per event, in business-time order", _configure_timeline)
def run_timeline(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    entries = list(_all_entries(ledger, args))
    if args.json:
        print_json([_entry_json(e) for e in entries])
    else:
        title = f"{args.number or 'all customers'} timeline (business time)"
        console().print(entries_table(entries, ledger.timezone, title, args.lang))
    return EXIT_OK


def _all_entries(ledger: CustomerLedger, args: argparse.Namespace) -> Iterator[Any]:
    end = None
    if args.end is not None:  # --to is inclusive: stop before the next day starts
        from datetime import timedelta

        end = ledger.business_time(args.end) + timedelta(days=1)
    page = ledger.timeline(args.number, start=args.start, end=end, limit=1000)
    yield from page.items
    while page.next_cursor is not None:
        page = ledger.timeline(
            args.number, start=args.start, end=end, limit=1000, after=page.next_cursor
        )
        yield from page.items


def _entry_json(entry: Any) -> dict[str, Any]:
    return {
        "number": entry.number,
        "version": entry.version,
        "kind": entry.kind,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "actor": entry.actor,
        "summary_en": entry.summary_en,
        "summary_zh": entry.summary_zh,
        "late": entry.late,
    }


# -- status -----------------------------------------------------------------------------


def _configure_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage", choices=[s.value for s in Stage], help="only this stage")
    parser.add_argument("--owner", help="only this owner's customers")
    parser.add_argument(
        "--idle-days", type=int, default=30, metavar="N",
        help="flag customers with no interaction for N days (default 30)",
    )  # fmt: skip
    parser.add_argument("--as-of", metavar="DATE", help="the day the board is for (default today)")
    add_json_option(parser)


@subcommand("status", "each customer's stage and the board", _configure_status)
def run_status(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    board = ledger.board(args.as_of, idle_days=args.idle_days)
    rows = ledger.status(args.stage, args.owner)
    if args.json:
        print_json(
            {
                "as_of": board.as_of.date().isoformat(),
                "stages": {stage.value: count for stage, count in board.stages.items()},
                "total": board.total,
                "open_complaints": board.open_complaints,
                "at_risk": [r.number for r in board.at_risk],
                "idle_days": board.idle_days,
                "idle": [r.number for r in board.idle],
                "reminders_due": [r.number for r in board.reminders_due],
                "customers": [_row_json(r) for r in rows],
            }
        )
        return EXIT_OK
    out = console()
    counts = "  ".join(f"{stage.value} {count}" for stage, count in board.stages.items())
    out.print(Text(f"{board.total} customers: {counts}", style="bold"))
    out.print(
        f"open complaints {board.open_complaints} · at risk "
        f"{', '.join(r.number for r in board.at_risk) or '-'} · no interaction for "
        f"{board.idle_days} days {', '.join(r.number for r in board.idle) or '-'}",
        soft_wrap=True,
    )
    out.print(_status_table(rows, ledger))
    return EXIT_OK


def _row_json(row: StatusRow) -> dict[str, Any]:
    return {
        "number": row.number,
        "name": row.name,
        "stage": row.stage.value,
        "owner": row.owner,
        "open_complaints": row.open_complaints,
        "last_interaction_at": row.last_interaction_at and row.last_interaction_at.isoformat(),
        "next_reminder_on": row.next_reminder_on and row.next_reminder_on.isoformat(),
    }


def _status_table(rows: list[StatusRow], ledger: CustomerLedger) -> Table:
    table = Table(title_justify="left")
    for column in ("number", "name", "stage", "owner", "open complaints", "last interaction"):
        table.add_column(column)
    for r in rows:
        last = local(r.last_interaction_at, ledger.timezone) if r.last_interaction_at else "-"
        table.add_row(r.number, r.name, r.stage.value, r.owner or "-", str(r.open_complaints), last)
    return table


# -- search -----------------------------------------------------------------------------


def _configure_search(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", metavar="TEXT", nargs="?", help="part of a name or number")
    parser.add_argument("--stage", choices=[s.value for s in Stage])
    for name in ("type", "industry", "region", "owner", "grade", "tag"):
        parser.add_argument(f"--{name}")
    parser.add_argument("--sort", choices=SORT_FIELDS, default="number")
    parser.add_argument("--desc", action="store_true", help="largest / latest first")
    parser.add_argument("--limit", type=int, default=50, help="page size (default 50)")
    parser.add_argument("--after", metavar="CURSOR", help="the next page's cursor")
    add_json_option(parser)


@subcommand("search", "find customers by name or number, with filters", _configure_search)
def run_search(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    query = ProfileQuery(
        text=args.text, stage=None if args.stage is None else Stage(args.stage), type=args.type,
        industry=args.industry, region=args.region, owner=args.owner, grade=args.grade,
        tag=args.tag, sort=args.sort, descending=args.desc, limit=args.limit, after=args.after,
    )  # fmt: skip
    page = ledger.search(query)
    if args.json:
        print_json(
            {"customers": [p.to_json() for p in page.items], "next_cursor": page.next_cursor}
        )
        return EXIT_OK
    table = Table(title_justify="left")
    for column in ("number", "name", "type", "stage", "industry", "region", "owner", "revenue"):
        table.add_column(column)
    for p in page.items:
        table.add_row(
            p.number, p.name, p.type.value, p.stage.value, p.industry or "-", p.region or "-",
            p.owner or "-", f"{p.total_revenue}",
        )  # fmt: skip
    out = console()
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --after {page.next_cursor}", soft_wrap=True)
    return EXIT_OK


# -- rebuild and follow -----------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Events per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else f"{speed:,.0f} events/s")


def _configure_rebuild(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--projection", choices=(*KINDS, "all"), default="all", help="which view (default all)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="discard a half-done rebuild instead of resuming it"
    )
    add_json_option(parser)


@subcommand("rebuild", "replay the whole log into fresh views and swap them in", _configure_rebuild)
def run_rebuild(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    kinds = KINDS if args.projection == "all" else (args.projection,)
    err = console(stderr=True)
    columns = (
        TextColumn("rebuilding"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("rebuild", total=None)
        results = ledger.rebuild(
            kinds,
            fresh=args.fresh,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    for result in results:
        line = {"projection": result.projection, "events": result.events,
                "seconds": result.seconds}  # fmt: skip
        if args.json:
            sys.stdout.write(orjson.dumps(line).decode() + "\n")
        else:
            console().print(
                f"{result.projection}: {result.events} events in {result.seconds:.2f} s"
            )
    return EXIT_OK


def _configure_follow(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--poll", type=float, default=0.5, metavar="SECONDS",
        help="how often to look for new events where the store cannot notify (default 0.5)",
    )  # fmt: skip


@subcommand("follow", "keep the views current until stopped (SIGINT/SIGTERM)", _configure_follow)
def run_follow(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    err = console(stderr=True)
    applied = follow(ledger, stop, poll_seconds=args.poll, report=err.print)
    err.print(f"follow stopped cleanly ({applied} event applications)")
    return EXIT_OK
