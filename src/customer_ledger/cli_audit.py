"""``customer-ledger audit ACTION ...``: what an auditor runs.

``audit`` is one top-level subcommand whose actions live in a small registry, so
other modules add their own (``audit replay``, ``audit log``) without touching this
one: decorate ``run(ledger, args) -> int`` with ``@audit_action(name, help,
configure)`` in a module listed in ``cli.SUBCOMMAND_MODULES``. Every listed module is
imported before the parser is built, so all actions are known by then.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from attrs import frozen

from customer_ledger.application import CustomerLedger
from customer_ledger.cli import Configure, Handler, subcommand

EXIT_BROKEN = 3  # the history does not verify


@frozen
class AuditAction:
    name: str
    help: str
    run: Handler
    configure: Configure


AUDIT_ACTIONS: dict[str, AuditAction] = {}


def audit_action(
    name: str, help: str, configure: Configure | None = None
) -> Callable[[Handler], Handler]:
    """Registers ``run(ledger, args) -> int`` as ``customer-ledger audit NAME``."""

    def register(run: Handler) -> Handler:
        AUDIT_ACTIONS[name] = AuditAction(name, help, run, configure or (lambda _: None))
        return run

    return register


def _configure_audit(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    for action in AUDIT_ACTIONS.values():
        sub = actions.add_parser(action.name, help=action.help, description=action.help)
        action.configure(sub)
        sub.set_defaults(audit_handler=action.run)


@subcommand("audit", "check, anchor and replay the recorded history", _configure_audit)
def run_audit(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    code: int = args.audit_handler(ledger, args)
    return code
