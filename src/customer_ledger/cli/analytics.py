"""Command line for analytics: ``analytics``, ``indicators``, ``reminders`` and ``report``.

Every answer is as of a business date: ``--as-of`` (default: today in the ledger's
time zone, printed with the answer). The rules are in ``customer_ledger.analytics``.
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from customer_ledger.analytics import (
    Analytics,
    AnalyticsSettings,
    DueReminder,
    PeriodIndicators,
)
from customer_ledger.analytics.churn import REASON_LABELS_ZH
from customer_ledger.analytics.dates import business_date, months_before
from customer_ledger.analytics.reminders import KIND_LABELS_ZH, MAX_WITHIN_DAYS
from customer_ledger.analytics.segments import CADENCE_LABELS_ZH, SEGMENT_LABELS_ZH
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_OK,
    acting_actor,
    add_json_option,
    console,
    print_json,
)
from customer_ledger.cli.registry import Group
from customer_ledger.formats.output import check_output, write_output
from customer_ledger.formats.report import gather, render
from customer_ledger.formats.report.data import STEPS

group = Group("analytics")

# -- shared options -----------------------------------------------------------------------


def _as_of_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar="DATE",
        help="business date the rules are evaluated on (default: today in the ledger's zone)",
    )


def _settings_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("rule settings (docs/analytics.md)")
    group.add_argument("--grade-a", metavar="SHARE", help="ABC: A up to this share (0.70)")
    group.add_argument("--grade-b", metavar="SHARE", help="ABC: B up to this share (0.90)")
    group.add_argument("--revenue-months", type=int, metavar="N", help="ABC window (12)")
    group.add_argument("--window-days", type=int, metavar="N", help="churn windows (90)")


def _settings(args: argparse.Namespace) -> AnalyticsSettings:
    given = {
        "grade_a_share": args.grade_a,
        "grade_b_share": args.grade_b,
        "revenue_months": args.revenue_months,
        "window_days": args.window_days,
    }
    return AnalyticsSettings(**{k: v for k, v in given.items() if v is not None})


def _as_of(ledger: CustomerLedger, args: argparse.Namespace) -> date:
    if args.as_of is None:
        return ledger.clock().astimezone(ledger.timezone).date()
    return business_date(ledger, args.as_of)


# -- analytics ----------------------------------------------------------------------------


def _configure_analytics(parser: argparse.ArgumentParser) -> None:
    _as_of_option(parser)
    _settings_options(parser)
    add_json_option(parser)


@group.command(
    "analytics",
    "ABC grades (computed and by hand), churn risk with reasons, maintenance segments",
    _configure_analytics,
    reads=True,
)
def run_analytics(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    result = ledger.analytics(_as_of(ledger, args), _settings(args), actor=acting_actor(args))
    if args.json:
        print_json(result)
    else:
        out = console()
        out.print(analytics_table(result))
        out.print(_analytics_summary(result), soft_wrap=True)
    return EXIT_OK


def analytics_table(result: Analytics) -> Table:
    currency = result.settings.currency
    table = Table(
        title=f"analytics as of {result.as_of} (revenue: trailing {result.settings.revenue_months}"
        f" months, {currency})",
        title_justify="left",
    )
    for name in ("no.", "name", "stage", "revenue", "grade", "churn risk", "segment"):
        table.add_column(name, overflow="fold", justify="right" if name == "revenue" else "left")
    for c in result.customers:
        grade = str(c.grade)
        if c.grade_is_manual:
            grade += f" (by hand; computed {c.computed_grade})"
        risk = "\n".join(f"{REASON_LABELS_ZH[r.rule]}: {r.detail}" for r in c.churn_reasons)
        segment = "" if c.segment is None else SEGMENT_LABELS_ZH[c.segment]
        if c.cadence is not None:
            segment += f", {CADENCE_LABELS_ZH[c.cadence]} ({c.cadence})"
        table.add_row(c.number, c.name, c.stage.value, f"{c.revenue:,}", grade, risk, segment)
    return table


def _analytics_summary(result: Analytics) -> str:
    counts = result.grade_counts()
    parts = ", ".join(
        f"{g}: {counts['computed'][g]} computed / {counts['manual'][g]} by hand"
        for g in counts["computed"]
    )
    return f"{len(result.customers)} customers; {parts}; {len(result.at_risk())} at churn risk"


# -- indicators ---------------------------------------------------------------------------


def _configure_indicators(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", choices=("month", "quarter"), default="month")
    parser.add_argument("--start", metavar="DATE", help="first day covered (default: a year back)")
    parser.add_argument("--end", metavar="DATE", help="last day covered (default: today)")
    add_json_option(parser)


@group.command(
    "indicators",
    "monthly or quarterly indicators: interactions, complaint and renewal rates, top share...",
    _configure_indicators,
    reads=True,
)
def run_indicators(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    end = ledger.clock().astimezone(ledger.timezone).date() if args.end is None else args.end
    start = args.start or months_before(business_date(ledger, end, "end"), 11).replace(day=1)
    rows = ledger.indicators(args.period, start=start, end=end)
    if args.json:
        print_json(rows)
    else:
        console().print(indicators_table(rows))
    return EXIT_OK


def indicators_table(rows: tuple[PeriodIndicators, ...]) -> Table:
    table = Table(title="indicators", title_justify="left")
    heads = ("period", "customers", "int./cust.", "complaints", "renewals", "top 20%",
             "satisfaction", "revenue", "new", "churned")  # fmt: skip
    for name in heads:
        table.add_column(name, justify="left" if name == "period" else "right", no_wrap=True)
    for p in rows:
        table.add_row(
            p.period, str(p.customers), _plain(p.interactions_per_customer),
            _pct(p.complaint_rate), _pct(p.renewal_rate), _pct(p.top_share),
            _plain(p.average_satisfaction), f"{p.revenue:,}", str(p.new_customers),
            str(p.churned_customers),
        )  # fmt: skip
    return table


# -- reminders ----------------------------------------------------------------------------


def _configure_reminders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--within",
        type=int,
        default=30,
        metavar="DAYS",
        help=f"how far ahead (0..{MAX_WITHIN_DAYS}, default 30); overdue ones always show",
    )
    parser.add_argument("--owner", metavar="ID", help="only this maintainer's customers (维护人)")
    _as_of_option(parser)
    add_json_option(parser)


@group.command(
    "reminders",
    "contract expiries, birthdays, anniversaries, follow-ups and reminders due or overdue",
    _configure_reminders,
    reads=True,
)
def run_reminders(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    as_of = _as_of(ledger, args)
    due = ledger.reminders_due(as_of, args.within, args.owner, actor=acting_actor(args))
    if args.json:
        print_json({"as_of": as_of, "within_days": args.within, "reminders": due})
    else:
        console().print(reminders_table(due, as_of, args.within))
    return EXIT_OK


def reminders_table(due: list[DueReminder], as_of: date, within: int) -> Table:
    table = Table(title=f"reminders as of {as_of} (next {within} days)", title_justify="left")
    for name in ("due", "when", "kind", "no.", "name", "owner", "what"):
        table.add_column(name, overflow="fold")
    for r in due:
        if r.overdue:
            when = Text(f"{-r.days} days overdue", style="bold red")
        else:
            when = Text("today" if r.days == 0 else f"in {r.days} days")
        table.add_row(
            str(r.due_on), when, f"{KIND_LABELS_ZH[r.kind]} {r.kind}", r.number, r.name,
            r.owner or "", r.subject,
        )  # fmt: skip
    return table


# -- report -------------------------------------------------------------------------------


def _configure_report(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE.html", help="where to write the page"
    )
    parser.add_argument(
        "--within", type=int, default=30, metavar="DAYS", help="reminders horizon (30)"
    )
    _as_of_option(parser)
    _settings_options(parser)


@group.command(
    "report",
    "write one self-contained HTML page of charts: funnel, ABC, revenue, risk, reminders",
    _configure_report,
    reads=True,
)
def run_report(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    check_output(args.out)  # a directory, a link, no such directory: before the work
    as_of, settings = _as_of(ledger, args), _settings(args)
    err = console(stderr=True)
    columns = (TextColumn("report: {task.description}"), BarColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(STEPS[0], total=len(STEPS) + 1)

        def step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        data = gather(
            ledger, as_of, settings=settings, within_days=args.within, step=step,
            actor=acting_actor(args),
        )  # fmt: skip
        bar.update(task, description="writing", completed=len(STEPS))
        write_output(args.out, render(data).encode("utf-8"))
        bar.update(task, completed=len(STEPS) + 1)
    console().print(
        f"{args.out}: report as of {as_of}, {len(data.analytics.customers)} customers, "
        f"{len(data.analytics.at_risk())} at churn risk, {len(data.reminders)} reminders",
        soft_wrap=True,
    )
    return EXIT_OK


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


def _plain(value: Decimal | None) -> str:
    return "—" if value is None else str(value)
