"""The command line: ``customer-ledger [--store URL] [--actor ID] [--role ROLE] COMMAND ...``.

It parses, calls the ledger and prints; the logic lives in the library. Exit codes:
0 ok, 1 a ledger error (the rule it broke goes to stderr), 2 a usage error. Stdout that
cannot be written (a full disk) is an error like any other (``output_disk_full``, exit
1, no traceback); a reader that stops early (``| head``) is not: exit 0.

Adding a subcommand: in the module of its group (or a new one, listed in ``GROUPS``),
decorate ``run(ledger, args) -> int`` with ``@group.command("name", "what it does",
configure)``.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence

from eventsourcing.persistence import PersistenceError

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli import (
    analytics,
    audit,
    copying,
    files,
    merging,
    reading,
    recording,
    serve,
    users,
    views,
)
from customer_ledger.cli.output import (
    DEFAULT_ROLE,
    ENV_ACTOR,
    ENV_ROLE,
    ENV_STORE,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    guarded_stdout,
    print_error,
    stdout_to_devnull,
)
from customer_ledger.cli.registry import Group
from customer_ledger.errors import LedgerError, OutputError
from customer_ledger.storage.failures import store_failure
from customer_ledger.storage.urls import (
    DEFAULT_URL,
    FOLLOWED_ENV,
    REPLICA_ENV,
    replica_url,
    views_followed,
)

GROUPS: tuple[Group, ...] = (
    recording.group,
    reading.group,
    merging.group,
    files.group,
    views.group,
    audit.group,
    copying.group,
    analytics.group,
    users.group,
    serve.group,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Customer records (客户档案) as an immutable, event-sourced history.",
        epilog=command_list(GROUPS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help=f"where the ledger lives (default: ${ENV_STORE}, else {DEFAULT_URL})",
    )
    parser.add_argument(  # dest: audit log has an --actor filter of its own
        "--actor", dest="acting_id", metavar="ID",
        help=f"who you are, recorded with what you do (default: ${ENV_ACTOR}, else your login)",
    )  # fmt: skip
    parser.add_argument(
        "--role", dest="acting_role", metavar="ROLE",
        help=f"the role you act in: what you may do and see (default: ${ENV_ROLE}, else "
        f"{DEFAULT_ROLE})",
    )  # fmt: skip
    parser.add_argument(
        "--replica", metavar="URL",
        help=f"a streaming replica of the store: reads go there, commands to --store, and "
        f"each read waits for your own last write (default: ${REPLICA_ENV})",
    )  # fmt: skip
    parser.add_argument(
        "--followed", action="store_true",
        help=f"the views are kept by `{PROG} follow`: reads wait for it to apply your own "
        f"writes and never write the views themselves (default: ${FOLLOWED_ENV}=1)",
    )  # fmt: skip
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="one of the commands below"
    )
    for group in GROUPS:
        for command in group.commands:  # (no help= here: the epilog lists them by group)
            sub = commands.add_parser(command.name, description=command.help)
            command.configure(sub)
            sub.set_defaults(handler=command.run, reads=command.reads)
    return parser


def command_list(groups: Sequence[Group], width: int = 100) -> str:
    """The commands by group, for ``--help``: 40 of them in one list would be unreadable."""
    lines = [f"commands ({PROG} COMMAND --help shows each one's options):"]
    column = max(len(c.name) for g in groups for c in g.commands) + 4
    for group in groups:
        lines += ["", f"{group.title}:"]
        for command in group.commands:
            summary = textwrap.shorten(command.help, width - column, placeholder="...")
            lines.append(f"  {command.name:<{column - 2}}{summary}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs one command; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage error (or --help)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    with guarded_stdout() as stdout_failures:
        code = EXIT_OK
        try:
            code = _run(args)
            if not stdout_failures:
                sys.stdout.flush()  # what is still buffered fails here, not at exit
        except BrokenPipeError:  # the reader stopped early (| head): not an error
            stdout_to_devnull()
            return code
        except OutputError as error:  # the last flush: stdout cannot be written
            print_error(error)
            code = EXIT_ERROR
        if stdout_failures:  # reported once; what is still buffered is dropped quietly
            stdout_to_devnull()
        return code


def _run(args: argparse.Namespace) -> int:
    """The command's handler on the store; a ledger error (a file output's or stdout's
    included) is printed as one line, ``error [rule]: ...``, and exits with 1."""
    read_only = args.reads and not getattr(args, "unmasked", False)
    try:
        with CustomerLedger.open(
            args.store, read_only=read_only, replica=args.replica or replica_url(),
            catch_up=not (args.followed or views_followed()),
        ) as ledger:  # fmt: skip
            code: int = args.handler(ledger, args)
            return code
    except LedgerError as error:
        print_error(error)
        return EXIT_ERROR
    except PersistenceError as error:  # the database itself, on a path no ledger call typed
        print_error(store_failure(error))
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
