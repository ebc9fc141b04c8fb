"""A unit of work: many commands, saved in one transaction.

An import hands its lines to a ``Batch`` (``CustomerLedger.batch()``), which offers the
same command methods as the ledger. Each command runs through the ledger's own pipeline
(``CustomerLedger.execute``), checked exactly as alone, but on customers held here in
memory; what it would save (the customer's new events, its receipt, a number's claim)
is kept here until ``save()`` records all of it in one transaction. The batch also
answers the pipeline's questions about what it holds: a receipt or a number claimed by
an earlier command of the same batch. Numbers and receipts stored before the batch are
met when it saves: then the save fails whole, and the caller runs its commands again one
by one (``formats.jsonl.LineBatch`` does).

Re-running an import after a crash meets a prefix of lines already done. An importer
that knows its next lines' command ids looks their receipts up together
(``look_up_receipts``: one query for a thousand lines); the pipeline answers a line
whose receipt was found from it, without loading its customer, and runs a line whose
receipt was not. What the batch saves afterwards is added to what it found; the
command ids of lines then run alone (after a refusal or a failed save) are dropped, so
the pipeline asks the store itself again. For a command id not looked up ahead, while
``looks_up_receipts`` is on (at the start, and again after a save met a stored
receipt), the pipeline looks for its receipt in the store; the first line not done
turns it off, so importing new lines costs one look-up in all, not one a line.

Whatever is looked up ahead, a receipt stored meanwhile by another writer (or by a
line of this import run alone) is met when the batch saves: its save fails whole and
its lines are run one by one, as for a receipt not looked up at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, Protocol
from uuid import UUID

from customer_ledger.application.commands import CommandResult, Commands
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CommandReceipt, CustomerNumber

KEEP_CUSTOMERS = 10_000  # customers kept in memory from one save to the next

# The digest of the import line whose command runs now (``formats.jsonl.line_digest``),
# set by the importer around it: its receipt keeps it (``CommandReceipt.line``).
IMPORT_LINE: ContextVar[str | None] = ContextVar("customer_ledger_import_line", default=None)


class Receipt(Protocol):
    """What a re-sent command is answered from: a ``CommandReceipt``, or the event that
    created a stored one."""

    @property
    def command_id(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def customer_id(self) -> UUID: ...
    @property
    def number(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def line(self) -> str | None: ...


class Executor(Protocol):
    """What a batch needs of its ledger."""

    def execute(
        self,
        name: str,
        number: str,
        meta: dict[str, Any],
        args: dict[str, Any],
        batch: Batch | None = None,
    ) -> CommandResult: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def stored_receipts(self, command_ids: Iterable[str]) -> dict[str, Receipt | None]: ...

    def index_duplicates(self, customers: Iterable[Customer]) -> None: ...


class Batch(Commands):
    """Commands run on in-memory customers, recorded together by ``save()``."""

    def __init__(self, ledger: Executor) -> None:
        self.ledger = ledger
        self._customers: dict[str, Customer] = {}  # as saved, or pending in this batch
        self._events: list[Any] = []
        self._touched: dict[Any, Customer] = {}
        self._reindex: dict[Any, Customer] = {}  # customers whose duplicate keys may change
        self._claims: set[str] = set()
        self._receipts: dict[str, CommandReceipt.Executed] = {}
        # pending first contacts by their identity keys (name, licence, ID number)
        self._identities: dict[tuple[str, str], set[str]] = {}
        self.looks_up_receipts = True
        # receipts looked up ahead by command id (None: none was stored)
        self._stored: dict[str, Receipt | None] = {}

    def _run(self, name: str, number: str, meta: dict[str, Any], /, **args: Any) -> CommandResult:
        return self.ledger.execute(name, number, meta, args, self)

    def save(self) -> None:
        """Records every pending command's events in one transaction (the aggregates go
        along, for the ledger to snapshot them from memory). What is pending is dropped
        either way: after a failure, run the commands again (alone, or in a new batch)."""
        events, touched, reindex = self._events, self._touched, self._reindex
        receipts = self._receipts
        self.discard()
        if not events:
            return
        if any(c.pending_events for c in touched.values()):  # a refused command's leftovers
            raise RuntimeError("a customer holds events of no pending command")
        try:
            self.ledger.save(*events, *touched.values())
        except BaseException:  # its lines are run again alone: they may store receipts
            self.unknown_receipts(receipts)
            raise
        self._stored.update(receipts)
        self.ledger.index_duplicates(reindex.values())
        if len(self._customers) > KEEP_CUSTOMERS:
            self._customers.clear()

    def discard(self) -> None:
        """Drops what is pending (the customers in memory stay, as last saved)."""
        self._events, self._touched, self._reindex = [], {}, {}
        self._claims, self._receipts, self._identities = set(), {}, {}

    def forget(self, number: str | None = None) -> None:
        """Drops a customer held in memory (all of them with no ``number``): it is loaded
        again from the store by its next command (after a refused or failed one)."""
        if number is None:
            self._customers.clear()
        else:
            self._customers.pop(number, None)

    def look_up_receipts(self, command_ids: Iterable[str]) -> None:
        """Looks the stored receipts of ``command_ids`` up together, in place of what was
        looked up before: the pipeline answers these commands from what was found."""
        self._stored = self.ledger.stored_receipts(set(command_ids))

    def forget_receipts(self) -> None:
        """Nothing looked up ahead: the pipeline asks the store line by line."""
        self._stored = {}

    def unknown_receipts(self, command_ids: Iterable[str]) -> None:
        """Forgets what was looked up ahead for ``command_ids`` (their lines are run
        alone, which may store their receipts): the pipeline asks the store again."""
        for command_id in command_ids:
            self._stored.pop(command_id, None)

    # -- what the ledger's pipeline asks ------------------------------------------------

    def receipt(self, command_id: str) -> Receipt | None:
        return self._receipts.get(command_id)

    def looked_up(self, command_id: str) -> bool:
        """Whether ``command_id``'s stored receipt was looked up ahead (and is still known)."""
        return command_id in self._stored

    def stored_receipt(self, command_id: str) -> Receipt | None:
        """The receipt looked up ahead for ``command_id``, or saved by this batch since."""
        return self._stored.get(command_id)

    def claimed(self, number: str) -> bool:
        return number in self._claims

    def identify(self, number: str, keys: Iterable[tuple[str, str]]) -> None:
        """A first contact of this batch, by the identity keys the duplicate index will
        hold for it once saved: the batch's later first contacts meet it before then."""
        for key in keys:
            self._identities.setdefault(key, set()).add(number)

    def pending_duplicates(self, keys: Iterable[tuple[str, str]]) -> set[str]:
        """The numbers of this batch's first contacts sharing one of ``keys``."""
        return {number for key in keys for number in self._identities.get(key, ())}

    def customer(self, number: str, load: Callable[[str], Customer]) -> Customer:
        customer = self._customers.get(number)
        if customer is None:
            customer = self._customers[number] = load(number)
        return customer

    def add(
        self,
        customer: Customer,
        claim: CustomerNumber | None,
        receipt: CommandReceipt.Executed | None,
        reindex: bool = False,
    ) -> None:
        self._events += customer.collect_events()  # in command order, as unbatched
        self._touched[customer.id] = customer
        if reindex:
            self._reindex[customer.id] = customer
        if claim is not None:
            self._events += claim.collect_events()
            self._claims.add(customer.number)
            self._customers[customer.number] = customer
        if receipt is not None:
            self._events.append(receipt)
            self._receipts[receipt.command_id] = receipt
