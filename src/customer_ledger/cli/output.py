"""What every subcommand prints with: the console, JSON, errors, progress bars, who
acts (``--actor``/``--role``), and the guard on stdout. Output conventions: results on
stdout (tables, or plain JSON with ``--json``), errors and progress on stderr, progress
only on a terminal."""

from __future__ import annotations

import argparse
import errno
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time
from typing import Any, TextIO, cast
from zoneinfo import ZoneInfo

import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from customer_ledger.domain.access import Actor
from customer_ledger.errors import LedgerError
from customer_ledger.formats.jsonl import ImportReport
from customer_ledger.formats.output import output_failure
from customer_ledger.serialization import converter

PROG = "customer-ledger"
ENV_STORE = "CUSTOMER_LEDGER_STORE"
ENV_ACTOR, ENV_ROLE, DEFAULT_ROLE = "CUSTOMER_LEDGER_ACTOR", "CUSTOMER_LEDGER_ROLE", "admin"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich's own ends the program with exit 1; the reader going away (``| head``)
        is main's to handle, like every other output: exit 0, quietly."""
        raise BrokenPipeError(errno.EPIPE, "the reader of stdout went away")


# Output piped to a file or a program is as wide as its content needs: rich would cut
# tables and wrap lines at 80 columns, which no reader of a file asked for. ($COLUMNS,
# when set, still wins, as it does for rich on a terminal.)
PIPED_WIDTH = 1_000


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout/stderr (colour only on a terminal).

    Markup and emoji codes are off: customer data such as ``[VIP] 张三`` prints as is.
    """
    stream = sys.stderr if stderr else sys.stdout
    piped = not (hasattr(stream, "isatty") and stream.isatty())
    width = PIPED_WIDTH if piped and not os.environ.get("COLUMNS") else None
    return _Console(stderr=stderr, highlight=False, markup=False, emoji=False, width=width)


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


# -- stdout -------------------------------------------------------------------------------

STDOUT = "stdout"


class _Guarded:
    """A stream (stdout, or its binary ``buffer``) whose write failures are
    ``OutputError``s naming stdout (``error [output_disk_full]: cannot write stdout: No
    space left on device``); a reader that went away stays a ``BrokenPipeError``, which
    is no error (``| head``). Everything else is the stream's own. A command does not
    close stdout: ``close`` does nothing."""

    def __init__(self, stream: Any, failures: list[OSError]) -> None:
        self._stream = stream
        self._failures = failures

    def write(self, data: Any) -> int:
        try:
            return int(self._stream.write(data))
        except BrokenPipeError:
            raise
        except OSError as error:
            self._failures.append(error)
            raise output_failure(STDOUT, error) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            self._failures.append(error)
            raise output_failure(STDOUT, error) from None

    def close(self) -> None:
        pass

    @property
    def buffer(self) -> Any:
        return _Guarded(self._stream.buffer, self._failures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded_stdout() -> Iterator[list[OSError]]:
    """``sys.stdout`` guarded while the block runs (see ``_Guarded``); the list gathers
    the failures met writing it. Restored after."""
    original, failures = sys.stdout, list[OSError]()
    if original is not None:  # None: started with stdout closed, and print() ignores it
        sys.stdout = cast(TextIO, _Guarded(original, failures))
    try:
        yield failures
    finally:
        sys.stdout = original


def stdout_to_devnull() -> None:
    """Points stdout's file descriptor at ``os.devnull``, after a failure or a reader
    that went away, so what is still buffered is dropped quietly when the interpreter
    exits (no "Exception ignored ... BrokenPipeError"). Nothing to do for a stream
    without a descriptor (a test's capture)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, descriptor)
    finally:
        os.close(devnull)


# -- progress -----------------------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Events per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else f"{speed:,.0f} events/s")


class RowRateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-" if speed is None else f"{speed:,.0f} rows/s")


def progress_bar(label: str) -> Progress:
    """Events checked and events/s on stderr when it is a terminal; nothing otherwise."""
    err = console(stderr=True)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), RateColumn())
    return Progress(*columns, console=err, transient=True, disable=not err.is_terminal)


@contextmanager
def row_progress(label: str) -> Iterator[tuple[Progress, TaskID]]:
    """A transient bar on stderr, drawn only on a terminal and only once ``_total`` says
    the work is large enough."""
    err = console(stderr=True)
    columns = (
        TextColumn(label), BarColumn(), MofNCompleteColumn(), RowRateColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=None, visible=False)
        yield bar, task


def row_total(bar: Progress, task: TaskID, large: int) -> Callable[[int | None], None]:
    def set_total(total: int | None) -> None:
        bar.update(task, total=total, visible=total is None or total >= large)

    return set_total


# -- who acts -------------------------------------------------------------------------------


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
