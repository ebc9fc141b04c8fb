"""Reading customers: ``profile``, ``history``, ``timeline``, ``status``, ``search``."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from rich.table import Table
from rich.text import Text

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_OK,
    EXIT_USAGE,
    acting_actor,
    add_json_option,
    add_unmasked_options,
    console,
    local,
    print_json,
    unmasked_without_why,
)
from customer_ledger.cli.registry import Group
from customer_ledger.cli.render import entries_table, history_text, profile_panel
from customer_ledger.domain.values import Stage
from customer_ledger.privacy.masking import event_json
from customer_ledger.projections.views import SORT_FIELDS, ProfileQuery, StatusRow

group = Group("reading")


def _number_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="customer number (客户编号), e.g. A001")
    add_json_option(parser)


def _personal_read(parser: argparse.ArgumentParser) -> None:
    _number_and_json(parser)
    add_unmasked_options(parser)


@group.command("profile", "show a customer's current profile", _personal_read, reads=True)
def run_profile(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    if unmasked_without_why(args):
        return EXIT_USAGE
    reader = acting_actor(args)
    profile = ledger.profile(args.number, actor=reader, unmasked=args.unmasked, why=args.why)
    if args.json:
        print_json(profile.to_json())
    else:
        console().print(profile_panel(profile, ledger.timezone))
    return EXIT_OK


@group.command(
    "history", "list a customer's recorded events, oldest first", _personal_read, reads=True
)
def run_history(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    if unmasked_without_why(args):
        return EXIT_USAGE
    events = ledger.history(args.number)
    if args.unmasked:  # checked and recorded before anything is shown
        ledger.record_personal_read(
            args.number, actor=acting_actor(args), why=args.why, what="history"
        )
    masked = not args.unmasked
    names = ledger.policy.shows_names(acting_actor(args))  # masked output shows names?
    if args.json:
        print_json([event_json(e, masked=masked, show_names=names) for e in events])
    else:
        text = history_text(events, ledger.timezone, args.number, masked=masked, show_names=names)
        console().print(text)
    return EXIT_OK


# -- timeline ---------------------------------------------------------------------------


def _configure_timeline(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", nargs="?", help="one customer (default: all)")
    parser.add_argument("--from", dest="start", metavar="DATE", help="first business day")
    parser.add_argument("--to", dest="end", metavar="DATE", help="last business day (inclusive)")
    parser.add_argument("--lang", choices=("zh", "en"), default="en", help="summary language")
    add_json_option(parser)


@group.command(
    "timeline", "one line per event, in business-time order", _configure_timeline, reads=True
)
def run_timeline(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    entries = list(_all_entries(ledger, args))
    if args.json:
        print_json([e.to_json() for e in entries])
    else:
        title = f"{args.number or 'all customers'} timeline (business time)"
        console().print(entries_table(entries, ledger.timezone, title, args.lang))
    return EXIT_OK


def _all_entries(ledger: CustomerLedger, args: argparse.Namespace) -> Iterator[Any]:
    end = None
    if args.end is not None:  # --to is inclusive: stop before the next day starts
        end = ledger.business_time(args.end) + timedelta(days=1)
    page = ledger.timeline(args.number, start=args.start, end=end, limit=1000)
    yield from page.items
    while page.next_cursor is not None:
        page = ledger.timeline(
            args.number, start=args.start, end=end, limit=1000, after=page.next_cursor
        )
        yield from page.items


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


@group.command("status", "each customer's stage and the board", _configure_status, reads=True)
def run_status(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    board = ledger.board(args.as_of, idle_days=args.idle_days)
    rows = ledger.status(args.stage, args.owner)
    if args.json:
        print_json({**board.to_json(), "customers": [_row_json(r) for r in rows]})
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
    stages = ", ".join(s.value for s in Stage)
    parser.add_argument("--stage", help=f"one of {stages} (case and width aside)")
    parser.add_argument("--type", help="company (企业) or individual (个人)")
    parser.add_argument("--grade", help="A, B or C (a = A, full-width letters too)")
    for name in ("industry", "region", "owner", "tag"):
        parser.add_argument(f"--{name}", help="exactly as recorded")
    parser.add_argument("--sort", choices=SORT_FIELDS, default="number")
    parser.add_argument("--desc", action="store_true", help="largest / latest first")
    parser.add_argument("--limit", type=int, default=50, help="page size (default 50)")
    parser.add_argument("--after", metavar="CURSOR", help="the next page's cursor")
    add_json_option(parser)


@group.command(
    "search", "find customers by name or number, with filters", _configure_search, reads=True
)
def run_search(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    query = ProfileQuery(
        text=args.text, stage=args.stage, type=args.type,
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
