"""Subcommands and the groups ``--help`` lists them in.

A group module makes ``group = Group("title")`` and decorates each handler
``run(ledger, args) -> int`` with ``@group.command(name, help, configure)``;
``cli.main`` imports the group modules by name and builds the parser from them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from attrs import frozen

from customer_ledger.application.ledger import CustomerLedger

Handler = Callable[[CustomerLedger, argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


@frozen
class Subcommand:
    name: str
    help: str
    run: Handler
    configure: Configure
    # Only reads: the ledger opens read-only (a missing store is an error, not a new
    # one; no master key reads [encrypted]), unless the call reads unmasked: recorded.
    reads: bool = False


class Group:
    """Subcommands shown together under one title in ``customer-ledger --help``."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.commands: list[Subcommand] = []

    def command(
        self, name: str, help: str, configure: Configure | None = None, *, reads: bool = False
    ) -> Callable[[Handler], Handler]:
        """Registers ``run(ledger, args) -> int`` as ``customer-ledger NAME``; ``reads``:
        it records nothing (see ``Subcommand.reads``)."""

        def register(run: Handler) -> Handler:
            self.commands.append(
                Subcommand(name, help, run, configure or (lambda _: None), reads=reads)
            )
            return run

        return register

    def add(self, command: Subcommand) -> None:
        self.commands.append(command)
