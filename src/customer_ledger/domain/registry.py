"""Small aggregates that make uniqueness and idempotency atomic with the change.

Both have ids derived from a natural key, so saving one in the same transaction as
the customer's events fails (and records nothing) if the key was already taken.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid5(NAMESPACE_URL, "https://customer-ledger.invalid/")


class CustomerNumber(Aggregate):
    """Claims a customer number (客户编号) for one customer."""

    TOPIC = "customer_ledger.CustomerNumber"

    class Created(Aggregate.Created):
        TOPIC = "customer_ledger.CustomerNumber.Created"

    @staticmethod
    def id_for(number: str) -> UUID:
        return uuid5(NAMESPACE, f"customer-number:{number}")

    @staticmethod
    def create_id(number: str, customer_id: UUID) -> UUID:
        return CustomerNumber.id_for(number)

    @event("Claimed", topic="customer_ledger.CustomerNumber.Claimed")
    def __init__(self, number: str, customer_id: UUID) -> None:
        self.number = number
        self.customer_id = customer_id


class CommandReceipt(Aggregate):
    """Proof that a command_id was executed, and what it returned."""

    TOPIC = "customer_ledger.CommandReceipt"

    class Created(Aggregate.Created):
        TOPIC = "customer_ledger.CommandReceipt.Created"

    @staticmethod
    def id_for(command_id: str) -> UUID:
        return uuid5(NAMESPACE, f"command:{command_id}")

    @staticmethod
    def create_id(command_id: str, **_: object) -> UUID:
        return CommandReceipt.id_for(command_id)

    class Executed(Aggregate.Created):
        """v2 added ``line``: for a command an import ran from a line, that line's digest
        (``formats.jsonl.line_digest``: its content and the ledger's time zone), by which
        a re-run knows the same line done without running it again; v1 receipts, and
        commands not from a line, read None."""

        TOPIC = "customer_ledger.CommandReceipt.Executed"
        class_version = 2
        command_id: str
        fingerprint: str
        customer_id: UUID
        number: str
        version: int
        line: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["line"] = None

    @staticmethod
    def executed(
        command_id: str,
        fingerprint: str,
        customer_id: UUID,
        number: str,
        version: int,
        line: str | None = None,
    ) -> CommandReceipt.Executed:
        """The event that creates a new receipt, as ``CommandReceipt(...)`` would record
        it, made without building the aggregate (a receipt is only ever saved, and read
        back by its one event): a sixth of what a command's own bookkeeping cost an
        import line."""
        created = object.__new__(CommandReceipt.Executed)
        object.__setattr__(
            created,
            "__dict__",
            {
                "originator_id": CommandReceipt.id_for(command_id),
                "originator_version": 1,
                "timestamp": CommandReceipt.Executed.create_timestamp(),
                "originator_topic": CommandReceipt.TOPIC,
                "command_id": command_id,
                "fingerprint": fingerprint,
                "customer_id": customer_id,
                "number": number,
                "version": version,
                "line": line,
            },
        )
        return created

    @event(Executed)
    def __init__(
        self,
        command_id: str,
        fingerprint: str,
        customer_id: UUID,
        number: str,
        version: int,
        line: str | None = None,
    ) -> None:
        self.command_id = command_id
        self.fingerprint = fingerprint
        self.customer_id = customer_id
        self.number = number
        self.version = version
        self.line = line


class AccessLog(Aggregate):
    """Every unmasked read of one customer's personal data, and every attempt the policy
    refused on the customer: who, when, why. Attempts on a number no customer holds
    (a refused first contact) go to that number's own log (``id_for_number``)."""

    TOPIC = "customer_ledger.AccessLog"

    class Created(Aggregate.Created):
        TOPIC = "customer_ledger.AccessLog.Created"

    @staticmethod
    def id_for(customer_id: UUID) -> UUID:
        return uuid5(NAMESPACE, f"access:{customer_id}")

    @staticmethod
    def id_for_number(number: str) -> UUID:
        return uuid5(NAMESPACE, f"access-number:{number}")

    @staticmethod
    def create_id(customer_id: UUID | None, number: str) -> UUID:
        if customer_id is None:
            return AccessLog.id_for_number(number)
        return AccessLog.id_for(customer_id)

    @event("Opened", topic="customer_ledger.AccessLog.Opened")
    def __init__(self, customer_id: UUID | None, number: str) -> None:
        self.customer_id = customer_id
        self.number = number

    @event("PersonalDataRead", topic="customer_ledger.AccessLog.PersonalDataRead")
    def record_read(self, actor: str, role: str, why: str, what: str) -> None:
        """Applied as recorded: reads are facts, not requests."""

    @event("AccessDenied", topic="customer_ledger.AccessLog.AccessDenied")
    def record_denial(self, actor: str, role: str, what: str, reason: str | None) -> None:
        """A write or an unmasked read the policy refused (``what``: the command, or the
        read); ``reason``: the one the actor gave, if any."""

    @event("Administered", topic="customer_ledger.AccessLog.Administered")
    def record_administration(self, actor: str, role: str, what: str) -> None:
        """A change to who may use the ledger (a user added or disabled, a password set):
        an auditor asks who gave whom access as often as who read what."""
