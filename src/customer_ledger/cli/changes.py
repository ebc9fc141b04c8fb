"""One subcommand per ledger command, made from the one command schema.

``customer-ledger log-interaction C003 --channel phone --topic "续约" --occurred-at
2024-03-01`` is the JSON Lines line ``{"command": "log_interaction", "customer": "C003",
"channel": "phone", "topic": "续约", "occurred_at": "2024-03-01"}``: the subcommand
builds that line from its options and hands it to the same parser and checks as
``import`` (``formats.jsonl.parse_command``), as the acting ``--actor``/``--role``. A
field's option is its name with dashes; flags are ``--vip``/``--no-vip``; nested values
(a contact's, needs') are flat, as on a line. Nothing here states a command's fields.
"""

from __future__ import annotations

import argparse
import datetime
import decimal
from typing import Any

from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.schema import (
    FIELD_HELP,
    Param,
    command_help,
    command_params,
    from_text,
    options_of,
)
from customer_ledger.cli.output import EXIT_OK, acting_actor, add_json_option, console, print_json
from customer_ledger.cli.registry import Subcommand
from customer_ledger.formats.jsonl import parse_command

# Meta fields with a word of help: the others are the command's own.
META_HELP = {
    "occurred_at": "when it happened (business time): a date, or a date-time with its offset; "
    "default now. More than a day ago: marked late (补录)",
    "reason": "why (recorded with the event)",
    "command_id": "an idempotency key: running it again with the same id records nothing",
    "correlation_id": "ties this change to others of one request or process",
    "source_actor": "who the source (a form, a file) says did it; you are recorded as the actor",
}


def subcommand_name(command: str) -> str:
    return command.replace("_", "-")


def subcommands() -> list[Subcommand]:
    """``first-contact``, ``log-interaction``, ... : every command of the schema."""
    return [
        Subcommand(subcommand_name(name), _summary(name), _runner(name), _configurer(name))
        for name in COMMANDS
    ]


def _summary(name: str) -> str:
    """The schema's help as the other subcommands word theirs (``records a ...``)."""
    words = command_help(name).rstrip(".")
    return words[:1].lower() + words[1:]


def _configurer(name: str) -> Any:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("number", metavar="NUMBER", help="customer number (客户编号)")
        own = parser.add_argument_group("fields")
        meta = parser.add_argument_group("every command")
        for param in command_params(name).values():
            target = meta if param.name in META_HELP else own
            _add_option(target, param)
        add_json_option(parser)

    return configure


def _add_option(group: argparse._ArgumentGroup, param: Param) -> None:
    flag = "--" + param.name.replace("_", "-")
    dest = f"field_{param.name}"
    words = META_HELP.get(param.name) or FIELD_HELP.get(param.name, "")
    if _is_flag(param):
        group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, help=words)
        return
    help = f"{words} (required)" if param.required else words
    group.add_argument(
        flag, dest=dest, metavar=_metavar(param), required=param.required, help=help or None
    )


def _runner(name: str) -> Any:
    def run(ledger: CustomerLedger, args: argparse.Namespace) -> int:
        line: dict[str, Any] = {"command": name, "customer": args.number}
        for param in command_params(name).values():
            given = getattr(args, f"field_{param.name}", None)
            if given is None:
                continue
            value = given if isinstance(given, bool) else from_text(param, given)
            if value is not None:
                line[param.name] = value
        result = parse_command(line, actor=acting_actor(args)).run(ledger)
        if args.json:
            print_json({"command": name, **result.to_json()})
            return EXIT_OK
        what = subcommand_name(name)
        if result.replayed:
            said = f"already recorded (command id {line.get('command_id')}): nothing new"
        else:
            said = "recorded"
        console().print(
            f"{what} {result.number}: {said}; the customer is at version {result.version}",
            soft_wrap=True,
            highlight=False,
        )
        return EXIT_OK

    return run


def _is_flag(param: Param) -> bool:
    return param.hint is bool


def _metavar(param: Param) -> str:
    _, options = options_of(param.hint)
    for kind, word in (
        (datetime.datetime, "DATE|DATETIME"),
        (datetime.date, "DATE"),
        (decimal.Decimal, "AMOUNT"),
        (int, "N"),
    ):
        if kind in options:
            return word
    return "TEXT"
