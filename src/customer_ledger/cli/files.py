"""Files in and out: ``import`` (JSON Lines, or a CSV/XLSX sheet) and ``export``.

Output conventions are the CLI's: failures on stderr as ``line N: error [rule]: reason``
(``row N: error [rule] column: reason`` for sheets), a summary on stdout, ``--json`` for
the report, exit code 1 if a line or row failed. A progress bar is drawn on stderr when
it is a terminal (for sheets, only when large); never otherwise, so pipes and logs stay
clean.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    acting_actor,
    add_json_option,
    console,
    print_failures,
    print_json,
    row_progress,
    row_total,
)
from customer_ledger.cli.registry import Group
from customer_ledger.domain.access import Actor
from customer_ledger.formats.jsonl import ImportReport, import_file, import_lines
from customer_ledger.formats.output import check_output, output_file
from customer_ledger.formats.spreadsheets.exports import EXPORT_SOURCES, ExportRequest, export
from customer_ledger.formats.spreadsheets.importing import SheetReport, import_sheet
from customer_ledger.formats.spreadsheets.layouts import LAYOUTS
from customer_ledger.formats.spreadsheets.reading import is_spreadsheet
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.formats.spreadsheets.writing import FORMATS

group = Group("files: import and export")
LARGE = 200  # rows: smaller imports finish before a bar would help


# -- import ---------------------------------------------------------------------------------


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        metavar="FILE",
        type=Path,
        help="FILE.jsonl, or a spreadsheet: .csv / .xlsx; - reads JSON Lines from stdin",
    )
    add_json_option(parser)
    parser.add_argument(
        "--dry-run", action="store_true",
        help="spreadsheets: check every row and say what it would record; write nothing",
    )  # fmt: skip
    parser.add_argument(
        "--layout", choices=("auto", *LAYOUTS), default="auto",
        help="spreadsheets: the sheet's layout (default: found from its header)",
    )  # fmt: skip


@group.command(
    "import",
    "record the commands of a JSON Lines file, or the rows of a CSV/XLSX sheet "
    "(docs/commands.md, docs/spreadsheets.md)",
    _configure_import,
)
def run_import(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    path: Path = args.file
    if str(path) == "-":
        return _import_stdin(ledger, args)
    sheet = is_spreadsheet(path)
    if not sheet and (args.dry_run or args.layout != "auto"):
        sys.stderr.write(f"{PROG} import: error: --dry-run and --layout are for .csv/.xlsx\n")
        return EXIT_USAGE
    if not path.is_file():
        sys.stderr.write(f"{PROG} import: error: cannot read {path}: no such file\n")
        return EXIT_USAGE
    return _import_sheet(ledger, args) if sheet else _import_lines(ledger, args)


def _import_stdin(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    if args.dry_run or args.layout != "auto":
        sys.stderr.write(f"{PROG} import: error: --dry-run and --layout are for .csv/.xlsx\n")
        return EXIT_USAGE
    report = import_lines(ledger, sys.stdin.buffer, actor=acting_actor(args))
    return _report(report, "stdin", args)


def _import_lines(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    report = _import_with_progress(ledger, args.file, acting_actor(args))
    return _report(report, str(args.file), args)


def _report(report: ImportReport, source: str, args: argparse.Namespace) -> int:
    print_failures(report)
    if args.json:
        print_json(report.to_json())
    else:
        console().print(_report_line(report, source), soft_wrap=True)
    return EXIT_OK if report.ok else EXIT_ERROR


def _import_with_progress(ledger: CustomerLedger, path: Path, actor: Actor) -> ImportReport:
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


def _import_sheet(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    path: Path = args.file
    with row_progress("importing") as (bar, task):
        report = import_sheet(
            ledger, path, layout=args.layout, dry_run=args.dry_run, actor=acting_actor(args),
            progress=lambda n: bar.advance(task, n), total=row_total(bar, task, LARGE),
        )  # fmt: skip
    if args.json:
        print_json(report.to_json())
    elif report.dry_run:
        _print_dry_run(report)
    else:
        _print_import(report)
    return EXIT_OK if report.ok else EXIT_ERROR


def _failure_line(f: object) -> str:
    column = f"{f.column}: " if getattr(f, "column", None) else ""  # type: ignore[attr-defined]
    return f"row {f.row}: error [{f.rule}] {column}{f.reason}"  # type: ignore[attr-defined]


def _print_import(report: SheetReport) -> None:
    for failure in report.failures:
        sys.stderr.write(_failure_line(failure) + "\n")
    for result in report.results:
        for note in result.notes:
            sys.stderr.write(f"row {result.row}: note: {note}\n")
    console().print(
        f"{report.source} ({report.layout} layout): {report.rows} rows, {report.recorded} "
        f"commands recorded, {report.skipped} already in the ledger, {report.failed} rows "
        "failed",
        soft_wrap=True,
    )


def _print_dry_run(report: SheetReport) -> None:
    """Every row in order: what it would record, or why it fails."""
    lines: list[tuple[int, str]] = [(f.row, _failure_line(f)) for f in report.failures]
    for r in report.results:
        did = (
            f"would record {len(r.commands)}: {', '.join(r.commands)}"
            if r.commands
            else "nothing new"
        )
        lines.append(
            (r.row, f"row {r.row}: {r.customer}: {did} ({r.skipped} already in the ledger)")
        )
        lines += [(r.row, f"row {r.row}: note: {note}") for note in r.notes]
    out = console()
    for _, line in sorted(lines, key=lambda pair: pair[0]):
        out.print(line, soft_wrap=True)
    out.print(
        f"{report.source} ({report.layout} layout), dry run: {report.rows} rows, "
        f"{report.recorded} commands would be recorded, {report.skipped} already in the "
        f"ledger, {report.failed} rows failed; nothing was written",
        soft_wrap=True,
    )


# -- export -----------------------------------------------------------------------------------


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=sorted(EXPORT_SOURCES), help="what to export")
    parser.add_argument(
        "--format", choices=FORMATS, help="csv, xlsx or jsonl (default: --out's suffix, else csv)"
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="where to (default: stdout)")
    parser.add_argument("--lang", choices=[x.value for x in Lang], default="zh",
                        help="header language (default zh)")  # fmt: skip
    parser.add_argument(
        "--layout", choices=tuple(LAYOUTS),
        help="profiles only: write a source layout that imports back (docs/spreadsheets.md)",
    )  # fmt: skip
    parser.add_argument("--as-of", metavar="DATE", help="the day 'now' means (default today)")
    parser.add_argument(
        "--unmasked", action="store_true",
        help="full phones and e-mails: needs a role that may read them and --why; recorded",
    )  # fmt: skip
    parser.add_argument("--why", metavar="TEXT", help="the reason for an unmasked export")


@group.command(
    "export",
    "write profiles, timeline or status as CSV, XLSX or JSON Lines (docs/spreadsheets.md)",
    _configure_export,
    reads=True,
)
def run_export(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    fmt = args.format or (args.out.suffix.lstrip(".").lower() if args.out else "csv")
    if fmt not in FORMATS:
        sys.stderr.write(f"{PROG} export: error: unknown format {fmt!r}; use --format\n")
        return EXIT_USAGE
    if args.layout and args.source != "profiles":
        sys.stderr.write(f"{PROG} export: error: --layout is for profiles\n")
        return EXIT_USAGE
    if args.unmasked and not args.why:
        sys.stderr.write(f"{PROG} export: error: --unmasked needs --why\n")
        return EXIT_USAGE
    if args.out is None and fmt == "xlsx" and sys.stdout.isatty():
        sys.stderr.write(f"{PROG} export: error: XLSX is binary; write it with --out FILE\n")
        return EXIT_USAGE
    if args.out is not None:
        check_output(args.out)  # a directory, a link, no such directory: before any read
    request = ExportRequest(
        as_of=ledger.business_time(args.as_of),
        lang=Lang(args.lang),
        unmasked=args.unmasked,
        actor=acting_actor(args),
        why=args.why,
        layout=args.layout,
    )
    with row_progress("exporting") as (bar, task):
        options = dict(
            format=fmt, request=request, tick=lambda n: bar.advance(task, n),
            total=row_total(bar, task, 0),
        )  # fmt: skip
        if args.out is None:  # a failure is main's to report; a reader that stops too
            rows = export(ledger, args.source, sys.stdout.buffer, **options)  # type: ignore[arg-type]
            sys.stdout.buffer.flush()
        else:
            with output_file(args.out) as out:
                rows = export(ledger, args.source, out, **options)  # type: ignore[arg-type]
    where = "stdout" if args.out is None else str(args.out)
    console(stderr=True).print(f"{args.source}: {rows} rows to {where} ({fmt})", soft_wrap=True)
    return EXIT_OK
