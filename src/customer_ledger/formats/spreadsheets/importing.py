"""Importing a CSV or XLSX sheet: each row rehearsed, then recorded, or reported.

A row is first *rehearsed* on a scratch in-memory ledger that holds the customer as
the real store does (its events copied in), with the same clock, time zone and
permission policy. Only a row whose every command the scratch accepted is then run
against the real store, so a bad row changes nothing there. ``dry_run`` stops after
the rehearsal: the report says, row by row, what would be recorded.

Every command runs under a ``command_id`` derived from its content (``sheet:`` +
SHA-256), so importing the same file again records nothing. Commands that apply a
state the ledger compares (profile, contact, needs, grade, stage...) also include the
customer's version in the id, so a later sheet that changes a value back is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from attrs import define, field, frozen
from eventsourcing.persistence import PersistenceError

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.schema import Command
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CommandReceipt, CustomerNumber
from customer_ledger.errors import (
    LedgerError,
    PermissionDenied,
    StoreError,
    UnexpectedRowError,
    UnknownCustomer,
)
from customer_ledger.formats.jsonl import ImportReport, LineBatch, parse_command
from customer_ledger.formats.spreadsheets.facts import RowFacts, facts_of
from customer_ledger.formats.spreadsheets.layouts import Table, find_table, is_blank
from customer_ledger.formats.spreadsheets.limits import SheetLimits
from customer_ledger.formats.spreadsheets.reading import RawRow, read_sheet
from customer_ledger.formats.spreadsheets.rows import MAX_REASON, STEPS, Context, Line, Plan
from customer_ledger.serialization import encode

ID_PREFIX = "sheet:"
# Commands planned by comparing with the customer's state: their id includes its version.
STATEFUL = frozenset(
    {
        "update_profile", "add_contact", "update_contact", "record_needs", "assign_grade",
        "set_stage_on_import", "churn", "reactivate", "rate_satisfaction",
    }
)  # fmt: skip
META = ("actor", "source_actor", "reason", "command_id", "correlation_id")
# Commands for facts without a date of their own: their reason says how they are dated.
UNDATED = frozenset(
    {
        "update_profile", "add_contact", "update_contact", "record_needs", "rate_satisfaction",
        "assign_grade", "set_stage_on_import",
    }
)  # fmt: skip
RESEED_EVERY = 2000  # rows; bounds the scratch ledger's memory on large sheets
Progress = Callable[[int], None]


@frozen
class RowFailure:
    row: int
    rule: str
    reason: str
    column: str | None = None
    customer: str | None = None
    command: str | None = None


@frozen
class RowResult:
    """A row that passed: what it recorded (or, in a dry run, would record)."""

    row: int
    customer: str
    commands: tuple[str, ...]  # recorded / to be recorded, in order
    skipped: int  # already in the ledger
    notes: tuple[str, ...] = ()


@define
class SheetReport:
    source: str
    layout: str
    dry_run: bool = False
    rows: int = 0
    recorded: int = 0  # commands
    skipped: int = 0  # commands already imported
    results: list[RowResult] = field(factory=list)
    failures: list[RowFailure] = field(factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layout": self.layout,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "recorded": self.recorded,
            "skipped": self.skipped,
            "failed": self.failed,
            "results": [attrs.asdict(r) for r in self.results],
            "failures": [attrs.asdict(f) for f in self.failures],
        }


@frozen
class Planned:
    line: Line
    command: Command
    already: bool  # in the ledger before this import (or earlier in this file)


class Rejected(Exception):
    def __init__(self, error: LedgerError, command: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.command = command


# -- the scratch ledger -----------------------------------------------------------------------


class Rehearsal:
    """A memory ledger that mirrors, customer by customer, the store rows are imported
    into, plus (in a dry run) what earlier rows of the file would have recorded."""

    def __init__(self, real: CustomerLedger) -> None:
        self.real = real
        self.pending: dict[str, list[Command]] = {}  # dry run: accepted, not in the store
        self._reset()

    def _reset(self) -> None:
        self.ledger = CustomerLedger(
            # cached aggregates, not copied: a failed row discards the whole scratch
            {"AGGREGATE_CACHE_MAXSIZE": "1000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"},
            clock=self.real.clock,
            timezone=str(self.real.timezone),
            policy=self.real.policy,
        )
        self.ledger.eager_views = False
        self._seeded: set[str] = set()
        self._new: set[str] = set()  # not in the store when seeded: none of its commands are

    def reset(self) -> None:
        """Forget everything (after a failed row left half its commands here)."""
        self.ledger.close()
        self._reset()

    def customer(self, number: str) -> Customer | None:
        self._seed(number)
        try:
            return self.ledger.customer(number)
        except UnknownCustomer:
            return None

    def latest_known(self, number: str) -> Any:
        """The latest business day among the customer's events."""
        events = self.ledger.events.get(self.ledger.customer_id(number))
        latest = max(e.occurred_at for e in events)  # type: ignore[attr-defined]
        return latest.astimezone(self.real.timezone).date()

    def _seed(self, number: str) -> None:
        if number in self._seeded:
            return
        try:
            customer_id = self.real.customer_id(number)
        except UnknownCustomer:
            customer_id = None
        if customer_id is None:
            self._new.add(number)
        else:
            mapper = self.ledger.mapper
            events = [mapper.to_stored_event(e) for e in self.real.history(number)]
            self.ledger.recorder.insert_events(events)
            self.ledger.save(CustomerNumber(number=number, customer_id=customer_id))
        for command in self.pending.get(number, ()):
            command.run(self.ledger)
        self._seeded.add(number)

    def already(self, number: str, command_id: str) -> bool:
        """Whether the store has recorded the command (ids name their customer, so a
        customer the store did not know has none)."""
        if number in self._new:
            return False
        return CommandReceipt.id_for(command_id) in self.real.repository

    def rehearse(
        self, facts: RowFacts, actor: Actor | str | None
    ) -> tuple[list[Planned], list[str]]:
        """Plans and runs the row's commands here; raises ``Rejected`` at the first one
        the ledger refuses."""
        try:
            state = self.customer(facts.number)
            ctx = Context(None if state is None else self.latest_known(facts.number))
        except StoreError:
            raise  # the store failed, not the row
        except LedgerError as error:
            raise Rejected(error, None) from error
        planned: list[Planned] = []
        notes: list[str] = []
        for step in STEPS:
            plan = Plan()
            try:
                step(facts, state, ctx, plan)
            except LedgerError as error:
                raise Rejected(error, None) from error
            notes += plan.notes
            version = 0 if state is None else state.version  # what the step planned against
            for line in plan.lines:
                planned.append(self._run(finish(line, facts, version), actor))
            if plan.lines:
                state = self.customer(facts.number)
        return planned, notes

    def _run(self, line: Line, actor: Actor | str | None) -> Planned:
        try:
            command = parse_command(line, actor=actor)
            if self.already(line["customer"], line["command_id"]):
                return Planned(line, command, already=True)
            result = command.run(self.ledger)
        except StoreError:
            raise
        except LedgerError as error:
            raise Rejected(error, line["command"]) from error
        return Planned(line, command, already=result.replayed)


def finish(line: Line, facts: RowFacts, version: int) -> Line:
    """Adds who, why and the command id; drops what the row leaves unknown. ``version``
    is the customer's when the line was planned (0: not yet recorded)."""
    done = {k: v for k, v in line.items() if v is not None}
    body = {k: v for k, v in done.items() if k not in META}
    if line["command"] in STATEFUL:
        body["after_version"] = version
    done["command_id"] = ID_PREFIX + hashlib.sha256(encode(body)).hexdigest()
    if facts.actor:  # the sheet's 登记人: what the source says, never who records it
        done["source_actor"] = facts.actor
    if line["command"] != "churn":  # the churn reason is the row itself already
        why = facts.source + (f"; {line['reason']}" if line.get("reason") else "")
        if line["command"] in UNDATED:
            why += f"; dated with {facts.dated_by}"
        done["reason"] = why if len(why) <= MAX_REASON else why[: MAX_REASON - 1] + "…"
    return done


# -- the import ---------------------------------------------------------------------------------


@define
class SheetImport:
    """Runs a found table's rows into ``ledger``; see the module docstring."""

    ledger: CustomerLedger
    table: Table
    dry_run: bool = False
    actor: Actor | str | None = None
    report: SheetReport = field(init=False)
    rehearsal: Rehearsal = field(init=False)
    batch: LineBatch | None = field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        self.report = SheetReport(self.table.source, self.table.layout.name, self.dry_run)
        self.rehearsal = Rehearsal(self.ledger)

    def run(self, progress: Progress | None = None) -> SheetReport:
        eager, self.ledger.eager_views = self.ledger.eager_views, False  # one refresh at the end
        self.batch = None if self.dry_run else LineBatch(self.ledger, self.actor)
        try:  # the batch saves what is pending at the end (not on ^C), then the views
            with self.batch if self.batch is not None else contextlib.nullcontext():
                for done, raw in enumerate(self.table.rows, start=1):
                    if not is_blank(raw):
                        self.row(raw)
                    if done % RESEED_EVERY == 0:
                        self._reset()
                    if progress is not None:
                        progress(1)
        finally:
            self.rehearsal.ledger.close()
            self.ledger.eager_views = eager
        if self.batch is not None:
            self._reconcile(self.batch.report)
        return self.report

    def _reset(self) -> None:
        """A fresh scratch ledger; it reads customers from the store again, so the store
        must first hold everything accepted so far."""
        if self.batch is not None:
            self.batch.flush()
        self.rehearsal.reset()

    def row(self, raw: RawRow) -> None:
        self.report.rows += 1
        try:
            facts = facts_of(self.table.row(raw), self.table)
        except LedgerError as error:
            self._fail(raw.number, error)
            return
        try:
            planned, notes = self.rehearsal.rehearse(facts, self.actor)
        except Rejected as rejected:
            if isinstance(rejected.error, PermissionDenied) and not self.dry_run:
                # refused in the rehearsal, so never tried on the store: recorded there
                what = rejected.command or "import a row"
                self.ledger.record_denial(facts.number, self.ledger.acting(self.actor), what)
            self._fail(raw.number, rejected.error, facts.number, rejected.command)
            self._reset()
            return
        except (StoreError, PersistenceError):
            raise  # the store failed, not the row: stop; a re-run resumes (command ids)
        except Exception as error:  # anything else: this row fails, the import goes on
            unexpected = UnexpectedRowError(f"{type(error).__name__}: {error}")
            self._fail(raw.number, unexpected, facts.number)
            self._reset()
            return
        if self.dry_run:
            new = [p.command for p in planned if not p.already]
            self.rehearsal.pending.setdefault(facts.number, []).extend(new)
        else:
            self._record(raw.number, planned)
        self.report.results.append(
            RowResult(
                raw.number,
                facts.number,
                tuple(p.line["command"] for p in planned if not p.already),
                sum(p.already for p in planned),
                tuple(notes),
            )
        )
        self.report.recorded += sum(not p.already for p in planned)
        self.report.skipped += sum(p.already for p in planned)

    def _record(self, number: int, planned: list[Planned]) -> None:
        """Hands the rehearsed commands to the batch that saves many rows in one
        transaction (``jsonl_import.LineBatch``, which retries conflicts and falls back
        to one command at a time when it must)."""
        assert self.batch is not None
        for p in planned:
            if not p.already:
                self.batch.run(number, p.line)

    def _reconcile(self, saved: ImportReport) -> None:
        """The store's word over the rehearsal's: a command refused when it was saved
        (another writer changed the customer meanwhile) fails its row."""
        failed = {f.line for f in saved.failures}
        self.report.recorded = saved.recorded
        self.report.skipped = sum(r.skipped for r in self.report.results) + saved.skipped
        self.report.results = [r for r in self.report.results if r.row not in failed]
        for f in saved.failures:
            reason = (
                f"{f.reason} (the store changed after the row was checked; its other "
                "commands were recorded: import the file again to complete it)"
            )
            self.report.failures.append(
                RowFailure(f.line, f.rule, reason, None, f.customer, f.command)
            )
        self.report.failures.sort(key=lambda f: f.row)

    def _fail(
        self, row: int, error: LedgerError, customer: str | None = None, command: str | None = None
    ) -> None:
        column = getattr(error, "column", None)
        self.report.failures.append(
            RowFailure(row, error.rule, str(error), column, customer, command)
        )


def import_sheet(
    ledger: CustomerLedger,
    path: str | Path,
    *,
    layout: str = "auto",
    dry_run: bool = False,
    actor: Actor | str | None = None,
    progress: Progress | None = None,
    total: Callable[[int], None] | None = None,
    limits: SheetLimits | None = None,
) -> SheetReport:
    """Imports a ``.csv`` or ``.xlsx`` file; ``total`` is told the number of data rows
    before the first one runs, ``progress`` each row as it is done.

    Raises a ``SpreadsheetError`` when the file as a whole cannot be read (format,
    header, layout) or is beyond ``limits`` (``SheetTooLarge``; default
    ``SheetLimits()``, see ``limits.py``): the file is read whole once before any row is
    imported, and again, a row at a time, as they are. Failed rows are in the report.
    """
    table = find_table(read_sheet(Path(path), limits), layout)  # the whole file, once
    if total is not None:
        total(table.size)
    return SheetImport(ledger, table, dry_run, actor).run(progress)
