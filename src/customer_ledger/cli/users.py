"""Users of the HTTP API and its pages: ``users add|list|disable|set-password``.

Passwords are read from stdin (``--password-stdin``: the first line, without its line
end), never from an option, which would leave them in the shell's history and in
``ps``. Who manages users is ``--actor``/``--role`` (a role with ``manage_users``:
admin, the CLI's default).
"""

from __future__ import annotations

import argparse
import sys

from rich.table import Table

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import (
    EXIT_OK,
    acting_actor,
    add_json_option,
    console,
    print_json,
)
from customer_ledger.cli.registry import Group
from customer_ledger.errors import InvalidValue
from customer_ledger.storage.users import User

group = Group("users: who may use the HTTP API and its pages")


def _password_stdin() -> str:
    line = sys.stdin.readline()
    if not line:
        raise InvalidValue("no password on stdin (--password-stdin reads its first line)")
    return line.removesuffix("\n").removesuffix("\r")


def _user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
        "changed_at": user.changed_at.isoformat(),
    }


def _print_user(user: User, args: argparse.Namespace, done: str) -> None:
    if args.json:
        print_json(_user_json(user))
    else:
        console().print(f"{done} user {user.name} ({user.role})")


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from the first line of stdin (at least 8 characters)",
    )


def _configure_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the user's login name (letters, digits, . _ @ -)")
    parser.add_argument("--role", required=True, help="a role of the policy, e.g. sales, admin")
    _password_option(parser)
    add_json_option(parser)


def run_add(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    by = acting_actor(args)
    user = ledger.users.add(args.name, role=args.role, password_text=_password_stdin(), by=by)
    _print_user(user, args, "added")
    return EXIT_OK


def _configure_list(parser: argparse.ArgumentParser) -> None:
    add_json_option(parser)


def run_list(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    users = ledger.users.list(by=acting_actor(args))
    if args.json:
        print_json([_user_json(u) for u in users])
        return EXIT_OK
    table = Table("name", "role", "disabled", "changed")
    for user in users:
        table.add_row(
            user.name, user.role, "yes" if user.disabled else "no", user.changed_at.isoformat()
        )
    console().print(table)
    return EXIT_OK


def _configure_name(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the user's login name")
    add_json_option(parser)


def run_disable(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    user = ledger.users.disable(args.name, by=acting_actor(args))
    _print_user(user, args, "disabled")
    return EXIT_OK


def _configure_set_password(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="the user's login name")
    _password_option(parser)
    add_json_option(parser)


def run_set_password(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    user = ledger.users.set_password(args.name, _password_stdin(), by=acting_actor(args))
    _print_user(user, args, "new password for")
    return EXIT_OK


_ACTIONS = {
    "add": (_configure_add, run_add, "add a user of the HTTP API, in a role"),
    "list": (_configure_list, run_list, "list the users, their roles and whether disabled"),
    "disable": (
        _configure_name,
        run_disable,
        "disable a user: refused at once, on every open session and token",
    ),
    "set-password": (
        _configure_set_password,
        run_set_password,
        "give a user a new password (its tokens and sessions end)",
    ),
}


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True)
    for name, (configure, _, help_text) in _ACTIONS.items():
        configure(actions.add_parser(name, help=help_text, description=help_text))


@group.command(
    "users", "manage the users of the HTTP API: add, list, disable, set-password", _configure
)
def run_users(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    return _ACTIONS[args.users_action][1](ledger, args)
