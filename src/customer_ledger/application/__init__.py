"""The application: ``CustomerLedger``, its commands, queries, replays and batches."""

from customer_ledger.application.commands import COMMANDS, CommandResult
from customer_ledger.application.ledger import CustomerLedger

__all__ = ["COMMANDS", "CommandResult", "CustomerLedger"]
