"""The command line: ``customer-ledger [--store URL] COMMAND ...``.

It parses, calls the ledger and prints; the logic lives in the library. Exit codes:
0 ok, 1 a ledger error (the rule it broke goes to stderr), 2 a usage error.

Adding a subcommand: write ``run_x(ledger, args) -> int`` in any module, decorate it
with ``@subcommand("x", "what it does", configure)`` and list the module in
``SUBCOMMAND_MODULES``. ``build_parser()`` imports those modules, so their
decorators have registered everything by the time the parser is built.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from attrs import frozen
from eventsourcing.persistence import PersistenceError
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from customer_ledger import demo
from customer_ledger.application import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.errors import LedgerError, StoreError
from customer_ledger.jsonl_import import DEFAULT_ACTOR, ImportReport, import_file
from customer_ledger.privacy import masked_fields
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import TimelineEntry
from customer_ledger.serialization import converter, unstructure_state
from customer_ledger.stores import DEFAULT_URL

PROG = "customer-ledger"
ENV_STORE = "CUSTOMER_LEDGER_STORE"
ENV_ACTOR, ENV_ROLE, DEFAULT_ROLE = "CUSTOMER_LEDGER_ACTOR", "CUSTOMER_LEDGER_ROLE", "admin"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

Handler = Callable[[CustomerLedger, argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


@frozen
class Subcommand:
    name: str
    help: str
    run: Handler
    configure: Configure


REGISTRY: dict[str, Subcommand] = {}
# Modules whose import registers subcommands (this one included); append yours.
SUBCOMMAND_MODULES: list[str] = [__name__, "customer_ledger.cli_views", "customer_ledger.cli_audit"]
SUBCOMMAND_MODULES.append("customer_ledger.cli_analytics")
SUBCOMMAND_MODULES.append("customer_ledger.cli_privacy")
SUBCOMMAND_MODULES.append("customer_ledger.spreadsheets.command")
SUBCOMMAND_MODULES.append("customer_ledger.cli_replay")


def subcommand(
    name: str, help: str, configure: Configure | None = None
) -> Callable[[Handler], Handler]:
    """Registers ``run(ledger, args) -> int`` as ``customer-ledger NAME``."""

    def register(run: Handler) -> Handler:
        REGISTRY[name] = Subcommand(name, help, run, configure or (lambda _: None))
        return run

    return register


def build_parser() -> argparse.ArgumentParser:
    for module in SUBCOMMAND_MODULES:
        importlib.import_module(module)
    parser = argparse.ArgumentParser(
        prog=PROG, description="Customer records (客户档案) as an immutable, event-sourced history."
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"where the ledger lives (default: ${ENV_STORE}, else {DEFAULT_URL})",
    )
    parser.add_argument(  # dest: import has an --actor of its own (for lines naming none)
        "--actor", dest="acting_id", metavar="ID",
        help=f"who you are, recorded with what you do (default: ${ENV_ACTOR}, else your login)",
    )  # fmt: skip
    parser.add_argument(
        "--role", dest="acting_role", metavar="ROLE",
        help=f"the role you act in: what you may do and see (default: ${ENV_ROLE}, else "
        f"{DEFAULT_ROLE})",
    )  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in REGISTRY.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.configure(sub)
        sub.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error (or --help)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    try:
        with CustomerLedger.open(args.store) as ledger:
            code: int = args.handler(ledger, args)
            return code
    except LedgerError as error:
        print_error(error)
        return EXIT_ERROR
    except PersistenceError as error:  # the database itself: unreachable, unreadable...
        sys.stderr.write(f"error [{StoreError.rule}]: cannot use the store: {error}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


# -- output helpers (for every subcommand) ----------------------------------------------


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout/stderr (colour only on a terminal).

    Markup and emoji codes are off: customer data such as ``[VIP] 张三`` prints as is.
    """
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print plain JSON instead of tables")


def print_json(data: Any) -> None:
    """Plain JSON on stdout: UTF-8 text as is, Decimals and dates as strings."""
    text = orjson.dumps(converter.unstructure(data), default=str, option=orjson.OPT_INDENT_2)
    sys.stdout.write(text.decode() + "\n")


def print_error(error: LedgerError) -> None:
    """One line on stderr naming the rule, e.g. ``error [complaint_not_open]: ...``."""
    sys.stderr.write(f"error [{error.rule}]: {error}\n")


def print_failures(report: ImportReport, where: str = "line") -> None:
    """Each failed line on stderr: ``line 3: error [rule]: reason``."""
    for failure in report.failures:
        sys.stderr.write(f"{where} {failure.line}: error [{failure.rule}]: {failure.reason}\n")


def local(moment: datetime, zone: ZoneInfo) -> str:
    """A business or recorded time for people: the date alone when it is midnight."""
    moment = moment.astimezone(zone)
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


# -- what an event says ------------------------------------------------------------------


def acting_actor(args: argparse.Namespace) -> Actor:
    """Who runs the command: ``--actor``/``--role``, their variables, else the login as
    admin. Subcommands pass it to the ledger's commands and reads."""
    actor_id = getattr(args, "acting_id", None) or os.environ.get(ENV_ACTOR) or _login()
    role = getattr(args, "acting_role", None) or os.environ.get(ENV_ROLE) or DEFAULT_ROLE
    return Actor(actor_id, role)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name: a container without a passwd entry
        return "unknown"


def add_unmasked_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--unmasked", action="store_true",
        help="show phones and e-mails in full: needs a role that may read personal data and "
        "--why; the read is recorded",
    )  # fmt: skip
    parser.add_argument("--why", metavar="TEXT", help="why you read personal data unmasked")


def unmasked_without_why(args: argparse.Namespace) -> bool:
    """True (after saying so on stderr) when ``--unmasked`` lacks its ``--why``."""
    if args.unmasked and not (args.why or "").strip():
        sys.stderr.write(f"{PROG} {args.command}: error: --unmasked needs --why TEXT (recorded)\n")
        return True
    return False


def event_json(event: Customer.Event, *, masked: bool = True) -> dict[str, Any]:
    """A stored event as plain JSON: version, kind, times, metadata and its fields
    (phones and e-mails masked unless ``masked`` is False)."""
    fields = unstructure_state(type(event), vars(event))
    if masked:
        fields = masked_fields(type(event), fields)
    for internal in ("timestamp", "occurred_at", "meta", "originator_topic"):
        fields.pop(internal, None)
    meta = event.meta
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.timestamp.isoformat(),
        "actor": meta.actor,
        "reason": meta.reason,
        "command_id": meta.command_id,
        "correlation_id": meta.correlation_id,
        "fields": fields,
    }


def entry_json(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "number": entry.number,
        "version": entry.version,
        "event": entry.kind,
        "occurred_at": entry.occurred_at.isoformat(),
        "recorded_at": entry.recorded_at.isoformat(),
        "actor": entry.actor,
        "summary": entry.summary_en,
        "summary_zh": entry.summary_zh,
        "late": entry.late,
    }


# -- rich renderings --------------------------------------------------------------------


def profile_panel(profile: Profile, zone: ZoneInfo) -> Panel:
    """The profile as a two-column panel; empty fields are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in _profile_rows(profile, zone):
        if value not in (None, "", ()):
            grid.add_row(label, str(value))
    return Panel(grid, title=Text(f"{profile.number}  {profile.name}"), title_align="left")


def _profile_rows(p: Profile, zone: ZoneInfo) -> list[tuple[str, Any]]:
    grade = f"{p.grade} (manual)" if p.grade else None
    return [
        ("type", p.type),
        ("stage", f"{p.stage} (risk warning set by hand)" if p.risk_flagged else p.stage),
        ("industry", p.industry),
        ("region", p.region),
        ("size", p.size),
        ("source", p.source),
        ("owner", p.owner),
        ("grade", f"{grade or ''}{' VIP' if p.vip else ''}".strip()),
        ("tags", ", ".join(p.tags)),
        ("first contact", local(p.first_contact_at, zone)),
        ("cooperating since", p.cooperation_since),
        ("contacts", "\n".join(_contact_line(c) for c in p.contacts)),
        ("needs", "; ".join(str(v) for v in converter.unstructure(p.needs).values() if v)),
        ("revenue", _revenue(p)),
        ("interactions", _count_since(p.interaction_count, p.last_interaction_at, zone)),
        ("contracts", "\n".join(_contract_line(c) for c in p.contracts)),
        ("complaints", _complaints(p)),
        ("last satisfaction", None if p.last_satisfaction is None else f"{p.last_satisfaction}/5"),
        ("next reminder", p.next_reminder_on),
        ("churn reason", p.churn_reason),
        ("version", p.version),
    ]


def _money(amount: Any) -> str:
    return "" if amount is None else f", {amount}"


def _contact_line(contact: Any) -> str:
    parts = [contact.name, contact.title, contact.phone, contact.email]
    return " · ".join(str(x) for x in parts if x) + (" (primary)" if contact.primary else "")


def _contract_line(contract: Any) -> str:
    term = f"{contract.starts_on} → {contract.expires_on or 'open-ended'}"
    return f"{contract.number}: {term}{_money(contract.amount)}, {contract.status}"


def _revenue(p: Profile) -> str | None:
    if not p.purchase_count:
        return None
    others = ", ".join(f"{v} {k}" for k, v in p.revenue.items() if k != "CNY")
    average = "" if p.average_order_value is None else f", average {p.average_order_value}"
    text = f"{p.total_revenue} CNY in {p.purchase_count} purchase(s){average}"
    return text + (f" (+ {others})" if others else "")


def _count_since(count: int, last: datetime | None, zone: ZoneInfo) -> str | None:
    return None if not count else f"{count}, last {local(last, zone)}" if last else str(count)


def _complaints(p: Profile) -> str | None:
    if not p.complaints:
        return None
    return f"{p.open_complaints} open of {len(p.complaints)}"


def entries_table(
    entries: Iterable[TimelineEntry], zone: ZoneInfo, title: str, lang: str = "en"
) -> Table:
    """Timeline entries (business-time order) as a table; ``lang`` picks the summary."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("date", no_wrap=True)
    table.add_column("customer", no_wrap=True)
    table.add_column("what", ratio=1, overflow="fold")
    table.add_column("by", no_wrap=True)
    table.add_column("recorded", no_wrap=True)
    for e in entries:
        summary = e.summary_zh if lang == "zh" else e.summary_en
        table.add_row(
            local(e.occurred_at, zone), e.number, summary, e.actor, local(e.recorded_at, zone),
        )  # fmt: skip
    return table


def history_text(
    events: Sequence[Customer.Event], zone: ZoneInfo, number: str, *, masked: bool = True
) -> Group:
    """Each event as a heading line and an indented line of fields: readable at any width."""
    lines: list[RenderableType] = [Text(f"{number}: {len(events)} events", style="bold")]
    for e in events:
        data = event_json(e, masked=masked)
        head = Text.assemble(
            (f"v{data['version']:<4}", "dim"),
            (f"{data['event']:<19}", "bold cyan"),
            f"{local(e.occurred_at, zone)}  by {data['actor']}",
            (f"  (recorded {local(e.timestamp, zone)})", "dim"),
        )
        fields = "  ".join(f"{k}={_short(v)}" for k, v in data["fields"].items() if v is not None)
        lines += [head, Padding(Text(fields), (0, 0, 0, 5), expand=False)]
    return Group(*lines)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, False))
        return "{" + inner + "}"
    return str(value)


# -- the commands -----------------------------------------------------------------------


def _number_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("number", metavar="NUMBER", help="customer number (客户编号), e.g. A001")
    add_json_option(parser)


def _personal_read(parser: argparse.ArgumentParser) -> None:
    _number_and_json(parser)
    add_unmasked_options(parser)


@subcommand("profile", "show a customer's current profile", _personal_read)
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


@subcommand("history", "list a customer's recorded events, oldest first", _personal_read)
def run_history(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    if unmasked_without_why(args):
        return EXIT_USAGE
    events = ledger.history(args.number)
    if args.unmasked:  # checked and recorded before anything is shown
        ledger.record_personal_read(
            args.number, actor=acting_actor(args), why=args.why, what="history"
        )
    masked = not args.unmasked
    if args.json:
        print_json([event_json(e, masked=masked) for e in events])
    else:
        console().print(history_text(events, ledger.timezone, args.number, masked=masked))
    return EXIT_OK


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", metavar="FILE", type=Path, help="FILE.jsonl, or a spreadsheet: .csv / .xlsx"
    )
    parser.add_argument(
        "--actor",
        default=DEFAULT_ACTOR,
        help=f"who records lines that name no actor (default: {DEFAULT_ACTOR})",
    )
    add_json_option(parser)
    from customer_ledger.spreadsheets.command import configure_import_options  # cycle-free

    configure_import_options(parser)


@subcommand(
    "import",
    "record the commands of a JSON Lines file, or the rows of a CSV/XLSX sheet "
    "(docs/commands.md, docs/spreadsheets.md)",
    _configure_import,
)
def run_import(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    from customer_ledger.spreadsheets.command import import_command  # .csv / .xlsx

    code = import_command(ledger, args)
    if code is not None:
        return code
    if not args.file.is_file():
        sys.stderr.write(f"{PROG} import: error: cannot read {args.file}: no such file\n")
        return EXIT_USAGE
    report = _import_with_progress(ledger, args.file, args.actor)
    print_failures(report)
    if args.json:
        print_json(report.to_json())
    else:
        console().print(_report_line(report, str(args.file)), soft_wrap=True)
    return EXIT_OK if report.ok else EXIT_ERROR


def _import_with_progress(ledger: CustomerLedger, path: Path, actor: str) -> ImportReport:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    err = console(stderr=True)
    columns = (TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("import", total=path.stat().st_size)
        return import_file(ledger, path, actor=actor, progress=lambda n: bar.advance(task, n))


def _report_line(report: ImportReport, source: str) -> str:
    return (
        f"{source}: {report.lines} lines, {report.recorded} recorded, "
        f"{report.skipped} already imported, {report.failed} failed"
    )


def _configure_demo(parser: argparse.ArgumentParser) -> None:
    add_json_option(parser)


@subcommand(
    "demo",
    "record the example customers of the domain notes (idempotent) and show them",
    _configure_demo,
)
def run_demo(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    report = demo.record(ledger)
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
                    {"profile": p.to_json(), "timeline": [entry_json(e) for e in t]}
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
        out.print(Group(profile_panel(profile, zone), entries_table(entries, zone, title)))
        out.print()
    out.print(
        f"demo: {report.recorded} commands recorded, {report.skipped} already in the store "
        f"({_store(ledger)})",
        soft_wrap=True,
    )


if __name__ == "__main__":  # run as `python -m customer_ledger.cli`: use the one registry
    from customer_ledger.cli import main as registered_main

    sys.exit(registered_main())
