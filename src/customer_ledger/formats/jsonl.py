"""Imports CustomerLedger commands from JSON Lines, one command per line.

A line looks like ``{"command": "log_interaction", "customer": "A001", "channel":
"phone", "topic": "...", "occurred_at": "2023-10-20"}``: the command is a
``CustomerLedger`` method and the fields are its parameters, except that
``add_contact``/``update_contact``, ``record_needs`` and ``update_profile`` take the
fields of ``Contact``, ``Needs`` and the profile flat. Values are checked against the
method's type hints before anything runs, so a typo fails its line instead of
recording a half-right event.

A bad line records nothing and the import goes on. Every line runs under a
``command_id`` (its own, or one derived from its content), so importing the same
file twice records each command once. No printing here: the CLI prints the report.

Lines are saved a thousand to a transaction (``LineBatch``; ``$CUSTOMER_LEDGER_IMPORT_BATCH``
sets how many, 1 for one transaction per line), with the same outcome per line as one
transaction each; the views catch up on the next read (or once, at the end, for a ledger
with ``eager_views``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import logging
import math
import os
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import attrs
from attrs import define, field, frozen

from customer_ledger.application.batch import IMPORT_LINE
from customer_ledger.application.commands import CommandResult
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.retry import TRANSIENT, retrying
from customer_ledger.application.schema import Command, Param, command_params, nest
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.values import customer_number, is_decimal_text, iso_moment, shown
from customer_ledger.errors import (
    BadLine,
    InvalidJSON,
    InvalidValue,
    LedgerError,
    MissingField,
    StoreError,
    UnknownField,
    WrongType,
)
from customer_ledger.projections.collector import collect_young, paused_collector
from customer_ledger.serialization import converter, decode, encode

BATCH_LINES = 1_000  # lines saved in one transaction, unless $CUSTOMER_LEDGER_IMPORT_BATCH says
READ_AHEAD = 1_000  # lines whose receipts are looked up together before they are run
BATCH_ENV = "CUSTOMER_LEDGER_IMPORT_BATCH"
logger = logging.getLogger(__name__)
DERIVED_ID_PREFIX = "import:"
NoneType = type(None)


@frozen
class Failure:
    """Why one line recorded nothing."""

    line: int
    rule: str
    reason: str
    command: str | None = None
    customer: str | None = None


@define
class ImportReport:
    """What an import did; ``failures`` name each bad line."""

    lines: int = 0
    recorded: int = 0
    skipped: int = 0  # already imported: the command_id had been seen
    failures: list[Failure] = field(factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "recorded": self.recorded,
            "skipped": self.skipped,
            "failed": self.failed,
            "failures": [attrs.asdict(f) for f in self.failures],
        }


# -- what each command takes ------------------------------------------------------------


# -- one line ---------------------------------------------------------------------------


def parse_command(line: Mapping[str, Any], *, actor: Actor | str | None = None) -> Command:
    """Checks a decoded line and converts its values to the method's types."""
    name = line.get("command")
    if not isinstance(name, str):
        raise MissingField('a line needs "command": the name of a ledger command, as a string')
    params, known, required, text = _line_schema(name)
    customer = line.get("customer")
    if not isinstance(customer, str):
        raise MissingField('a line needs "customer": the customer number as a string')
    given = dict(line)
    del given["command"], given["customer"]
    if not known.issuperset(given):
        unknown = sorted(set(given) - known)
        raise UnknownField(
            f"{name} takes no field {', '.join(unknown)}; it takes: {', '.join(params)}"
        )
    missing = [p for p in required if p not in given]
    if missing:
        raise MissingField(f"{name} needs field(s): {', '.join(missing)}")
    if "actor" in given:  # a file's "actor": who it says recorded the line (release 0.1)
        if "source_actor" in given:
            raise WrongType('give "source_actor" or its older name "actor", not both')
        given["source_actor"] = given.pop("actor")
    values = {  # (text for a text field is taken as it is: what ``coerce`` does)
        k: v if k in text and type(v) is str else coerce(v, params[k].hint, k)
        for k, v in given.items()
    }
    values["actor"] = actor  # who does it: never what the file says
    return Command(name, customer, nest(name, values))


@cache
def _line_schema(
    name: str,
) -> tuple[dict[str, Param], frozenset[str], tuple[str, ...], frozenset[str]]:
    """A command's fields; the names a line may give (its fields and ``actor``); those it
    must; those that take text and nothing else (``coerce`` passes a string through)."""
    params = command_params(name)
    text = frozenset(p.name for p in params.values() if _options(p.hint)[1] in ((str,), (Any,)))
    required = tuple(p.name for p in params.values() if p.required)
    return params, frozenset(params) | {"actor"}, required, text


def coerce(value: Any, hint: Any, name: str) -> Any:
    """A JSON value as ``hint`` wants it, refusing lossy or surprising conversions."""
    nullable, options = _options(hint)
    if value is None:
        if nullable:
            return None
        raise WrongType(f"{name} must not be null")
    if Decimal in options:
        return _decimal(value, name)
    if len(options) != 1:
        raise TypeError(f"no JSON conversion for {name}: {hint!r}")  # a new signature
    wanted = options[0]
    if wanted is datetime or wanted is date:  # a date field takes what occurred_at takes:
        return _moment(value, name)  # a date-time gives its day in the ledger's zone
    if wanted is bool:
        if not isinstance(value, bool):
            raise WrongType(f"{name} must be true or false, got {value!r}")
        return value
    if wanted is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise WrongType(f"{name} must be a whole number, got {value!r}")
        return value
    if wanted is str or wanted is Any:
        if not isinstance(value, str):
            raise WrongType(f"{name} must be a string, got {value!r}")
        return value
    raise TypeError(f"no JSON conversion for {name}: {hint!r}")


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


@cache
def _options(hint: Any) -> tuple[bool, tuple[Any, ...]]:
    """Whether ``hint`` takes None, and the types it takes besides (worked out once)."""
    options = typing.get_args(hint) if _is_union(hint) else (hint,)
    return NoneType in options, tuple(o for o in options if o is not NoneType)


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, float):
        raise WrongType(
            f"{name} {value!r} is a JSON float, which loses cents; "
            f'write it as a string ("{value}") or a whole number'
        )
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise WrongType(f"{name} must be a decimal string or a whole number, got {shown(value)}")
    if isinstance(value, str) and not is_decimal_text(value):
        raise WrongType(
            f"{name} {shown(value)} is not a decimal number written with ASCII digits "
            'and an optional point ("1999.90")'
        )
    try:
        number: Decimal = converter.structure(value, Decimal)
    except (ArithmeticError, ValueError):
        raise WrongType(f"{name} {value!r} is not a decimal number") from None
    return number


def _moment(value: Any, name: str) -> date | datetime:
    """A business date (start of day in the ledger's zone) or an exact date-time."""
    moment: date | datetime = _parsed(
        value, name, datetime, "an ISO date such as 2023-10-20 or date-time"
    )
    return moment


def _parsed(value: Any, name: str, cls: type, example: str) -> Any:
    """An ISO date (``cls`` date) or date or date-time (``cls`` datetime), in the
    documented forms only (``domain.values.iso_moment``)."""
    if not isinstance(value, str):
        raise WrongType(f"{name} must be {example}, got {shown(value)}")
    try:
        moment = iso_moment(value, name)
    except InvalidValue as error:
        raise WrongType(f"{error}; write {example}") from None
    if cls is date and isinstance(moment, datetime):
        raise WrongType(f"{name} {shown(value)} is not {example}")
    return moment


def derived_command_id(line: Mapping[str, Any]) -> str:
    """The same line content (whatever its spacing or key order) gives the same id."""
    return _derived_id(_content(line))


def _content(line: Mapping[str, Any]) -> bytes:
    try:
        return encode(line)
    except TypeError as error:  # e.g. a lone surrogate in an already decoded line
        raise BadLine(f"the line cannot be recorded: {error}") from error


def _derived_id(content: bytes) -> str:
    return DERIVED_ID_PREFIX + hashlib.sha256(content).hexdigest()


# Versions what a digest stands for: a release that reads lines differently (stricter
# checks, another parse) changes it, so that its re-runs run old lines again.
LINE_DIGEST_VERSION = b"customer-ledger line digest 1\n"


def line_digest(content: bytes, zone: tzinfo) -> str:
    """What a command's receipt keeps of the import line that ran it (``content``: the
    line as ``encode`` writes it; ``zone``: the ledger's time zone, in which the line's
    dates were read). The same digest means the same command, as checked, run again:
    a re-run skips such a line from its receipt without running it (``LineBatch``)."""
    return hashlib.sha256(LINE_DIGEST_VERSION + content + b"\n" + str(zone).encode()).hexdigest()


def _own_copy(line: Mapping[str, Any], content: bytes) -> tuple[Mapping[str, Any], bool]:
    """A copy of a caller's ``line`` for the batch to run later (a caller may refill one
    mapping for each line it gives), and whether it is what its JSON text reads back as:
    only then does its digest stand for it. A caller's Python values may encode like
    other ones (a ``date`` as its ISO text, a tuple as a list, NaN as null) that the
    pipeline would not accept alike; such a line gets no digest, and is never skipped."""
    with contextlib.suppress(ValueError):
        parsed = decode(content)
        if parsed == line:
            return parsed, True
    try:
        return copy.deepcopy(line), False
    except Exception:  # a value that cannot be copied: run as given
        return line, False


# -- many lines -------------------------------------------------------------------------


def import_objects(
    ledger: CustomerLedger,
    lines: Iterable[Mapping[str, Any]],
    *,
    actor: Actor | str | None = None,
) -> ImportReport:
    """Runs already-decoded lines (numbered from 1), e.g. the demo's commands."""
    batch = LineBatch(ledger, actor)
    with batch:
        for number, line in enumerate(lines, start=1):
            batch.run(number, line)
    return batch.report


def import_lines(
    ledger: CustomerLedger,
    lines: Iterable[bytes | str],
    *,
    actor: Actor | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Runs JSON Lines; ``progress`` is told how many bytes each line took."""
    batch = LineBatch(ledger, actor, decoded=True)
    with paused_collector(), batch:
        _run_lines(batch, lines, progress)
    return batch.report


def _run_lines(
    batch: LineBatch, lines: Iterable[bytes | str], progress: Callable[[int], None] | None
) -> None:
    report = batch.report
    for number, raw in enumerate(lines, start=1):
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
        if progress is not None:
            progress(len(data))
        if number == 1:
            data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM some editors add
        if not data.strip():
            continue
        try:
            line = _json(data)
        except ValueError as error:
            report.lines += 1
            report.failures.append(Failure(number, InvalidJSON.rule, f"not JSON: {error}"))
            continue
        batch.run(number, line)


def _json(data: bytes) -> Any:
    """A line as JSON, strictly: UTF-8 only, every key of an object once (a key given
    twice is refused, not last-one-wins: which one the writer meant is unknown), no
    NaN or infinities, no lone surrogates, bounded depth and numbers. The standard
    library's parser, as it reports duplicated keys (orjson keeps the last, silently);
    it costs about 2 µs a line, under 1% of recording one."""
    try:
        text = data.decode("utf-8")
        try:
            value = _CHECKING_DECODER.decode(text)
        except _Unstorable:  # refused as before: a broken line first, then the walk's reason
            return _storable(_DECODER.decode(text))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 ({error.reason} at byte {error.start})") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    # The numbers were checked as they were parsed; a lone surrogate can only come from a
    # \u escape (strict UTF-8 refuses an encoded one): most lines need no walk.
    return _storable(value) if b"\\u" in data else value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {shown(key)} appears more than once")
            seen.add(key)
    return obj


def _storable(value: Any) -> Any:
    """``value``, unless a string in it holds a lone surrogate (``"\\ud800"`` decodes to
    one): no store can keep it; or a whole number has more than 64 bits: no field takes
    one, and past 4300 digits Python cannot even print it in an error message."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 2**63:
            raise ValueError("a whole number beyond 64 bits")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("a number too large for JSON (infinite)")
        if isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("a string holds a lone surrogate (not Unicode text)") from None
        elif isinstance(item, dict):
            pending.extend([*item.keys(), *item.values()])
        elif isinstance(item, list):
            pending.extend(item)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_no_constant)


class _Unstorable(ValueError):
    """A number ``_storable`` refuses, met while parsing."""


def _checked_int(digits: str) -> int:
    number = int(digits)
    if len(digits) >= 19 and abs(number) >= 2**63:  # (18 digits never reach 2**63)
        raise _Unstorable
    return number


def _checked_float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise _Unstorable
    return number


_CHECKING_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_constant=_no_constant,
    parse_int=_checked_int,
    parse_float=_checked_float,
)


def import_file(
    ledger: CustomerLedger,
    path: str | Path,
    *,
    actor: Actor | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Imports a ``.jsonl`` file; raises ``OSError`` if it cannot be read."""
    with open(path, "rb") as file:
        return import_lines(ledger, file, actor=actor, progress=progress)


def _import_one(
    ledger: CustomerLedger,
    number: int,
    line: Any,
    report: ImportReport,
    actor: Actor | str | None,
    *,
    digested: bool = True,
) -> None:
    """One line in its own transaction. ``digested``: its receipt keeps the line's digest
    (False for a caller's line whose values are not JSON's own: ``_own_copy``)."""
    if not isinstance(line, Mapping):
        report.failures.append(Failure(number, BadLine.rule, "a line must be a JSON object"))
        return
    try:
        command = parse_command(line, actor=actor)
        content = _content(line)
        if command.kwargs.get("command_id") is None:
            command.kwargs["command_id"] = _derived_id(content)
        # Conflicts with concurrent writers are retried; every attempt has the same id.
        with _running(line_digest(content, ledger.timezone) if digested else None):
            result = retrying(lambda: command.run(ledger), retry_on=TRANSIENT)
    except StoreError:
        raise  # the store failed, not the line: stop here; a re-run resumes (command ids)
    except LedgerError as error:
        report.failures.append(_failure(number, line, error))
        return
    if result.replayed:
        report.skipped += 1
    else:
        report.recorded += 1


@contextlib.contextmanager
def _running(digest: str | None) -> Iterator[None]:
    """The command run inside is ``digest``'s line's: its receipt keeps the digest."""
    token = IMPORT_LINE.set(digest)
    try:
        yield
    finally:
        IMPORT_LINE.reset(token)


def batch_size() -> int:
    """Lines per transaction: ``$CUSTOMER_LEDGER_IMPORT_BATCH``, else ``BATCH_LINES``."""
    raw = os.environ.get(BATCH_ENV) or str(BATCH_LINES)
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidValue(f"${BATCH_ENV} must be a whole number of lines (1 or more), not {raw!r}")
    return int(raw)


def _failure(number: int, line: Mapping[str, Any], error: LedgerError) -> Failure:
    name, customer = line.get("command"), line.get("customer")
    return Failure(
        number,
        error.rule,
        str(error),
        name if isinstance(name, str) else None,
        customer if isinstance(customer, str) else None,
    )


@define
class _Ahead:
    """A line taken, before it is run: its receipt's command id and its digest."""

    number: int
    line: Any
    command_id: object = None  # (what the line gives: checked when it is run)
    digest: str | None = None


class LineBatch:
    """Runs lines as commands of one unit of work (``CustomerLedger.batch()``) and saves
    a batch of them in one transaction.

    Each line runs through the ledger's own command pipeline, exactly as alone, except
    that what it would save is kept by the unit of work. Wherever the batch cannot vouch
    for a line's outcome, the one-line-one-transaction path decides it, so reports and
    idempotency are those of unbatched lines:

    * a line the ledger refuses is run again alone, after the lines before it are
      saved (its receipt may be stored already: then it was imported before);
    * a batch whose save fails (a receipt or a number stored before, another writer,
      a busy store) is run again line by line.

    A batch is also saved when a customer reaches a snapshot's version, so the ledger
    snapshots it from memory. Views are not caught up per line but, for a ledger with
    ``eager_views``, once, when the batch is closed (otherwise on the next read).

    Lines are run ``READ_AHEAD`` at a time, once their receipts have been looked up
    together (``Batch.look_up_receipts``): a re-run after a crash answers each done
    line from its receipt, as before, without a query of its own. A receipt keeps the
    digest of the line that ran its command (``line_digest``: its content and the
    ledger's time zone); a line whose receipt keeps its own digest is skipped without
    being parsed or run (``_done``), once the checks that depend on who imports pass
    (the ledger writable, the actor allowed the command): running it again could only
    answer from that receipt. Any other line runs through the pipeline, which answers a
    done one from its receipt (one without a digest, or a line's id reused) as ever.
    """

    def __init__(
        self, ledger: CustomerLedger, actor: Actor | str | None = None, *, decoded: bool = False
    ) -> None:
        self.ledger, self.actor = ledger, actor
        self.decoded = decoded  # the lines come from ``_json``: JSON's own values only
        self.report = ImportReport()
        self.size = batch_size()
        self.unit = ledger.batch()
        self._ahead: list[_Ahead] = []
        self._pending: list[tuple[_Ahead, bool]] = []  # (a line run, whether replayed)
        self._saved = False

    def __enter__(self) -> LineBatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:  # lines after a failure are not run, as if never read
            self._ahead = []
        if kind is None or issubclass(kind, Exception):  # not on ^C: nothing more is written
            self.flush()
        self.report.failures.sort(key=lambda f: f.line)  # a re-run batch reports late
        if self._saved:
            self.ledger.after_command()

    def run(self, number: int, line: Any) -> None:
        """Takes line ``number``; it is run with the next ``READ_AHEAD`` lines, or by
        ``flush()``."""
        ahead = _Ahead(number, line)
        if isinstance(line, Mapping):
            with contextlib.suppress(LedgerError):  # (then its line fails when run)
                content = _content(line)
                native = self.decoded
                if not native:  # a caller's mapping: run as it is now, not when its turn comes
                    ahead.line, native = _own_copy(line, content)
                if native:
                    ahead.digest = line_digest(content, self.ledger.timezone)
                given = line.get("command_id")
                ahead.command_id = _derived_id(content) if given is None else given
        self._ahead.append(ahead)
        if len(self._ahead) >= READ_AHEAD:
            self._run_ahead()

    def _run_ahead(self) -> None:
        ahead, self._ahead = self._ahead, []
        ids = [a.command_id for a in ahead if isinstance(a.command_id, str)]
        if ids:
            try:
                self.unit.look_up_receipts(ids)
            except TRANSIENT as error:  # the pipeline reads them line by line, retrying
                logger.info("receipts could not be looked up ahead (%s): line by line", error)
                self.unit.forget_receipts()
        for line in ahead:
            self._run(line)

    def _done(self, line: _Ahead) -> bool:
        """Whether ``line`` ran before, exactly as it is (its receipt, looked up ahead,
        keeps its digest), so that running it again would only answer from the receipt,
        as long as the actor may still run it on this ledger: the checks that depend on
        neither the line nor the code, made here (any refusal: the line is run, and
        refused there as ever)."""
        command_id, unit = line.command_id, self.unit
        if not isinstance(command_id, str) or not unit.looked_up(command_id):
            return False
        receipt = unit.stored_receipt(command_id)
        if receipt is None or receipt.line is None or receipt.line != line.digest:
            return False
        if unit.receipt(command_id) is not None:  # (a pending one of this batch)
            return False
        try:
            self.ledger.refuse_if_read_only("record")
            actor = self.ledger.acting(self.actor)
            self.ledger.policy.check(actor, line.line["command"])
        except LedgerError:
            return False
        unit.looks_up_receipts = True  # as the pipeline would set it, answering from it
        return True

    def _run(self, ahead: _Ahead) -> None:
        number, line = ahead.number, ahead.line
        self.report.lines += 1
        if not isinstance(line, Mapping):
            self.report.failures.append(
                Failure(number, BadLine.rule, "a line must be a JSON object")
            )
            return
        if self._done(ahead):
            self._pending.append((ahead, True))
            if len(self._pending) >= self.size:
                self._save()
            return
        try:
            command = parse_command(line, actor=self.actor)
            if command.kwargs.get("command_id") is None:
                command.kwargs["command_id"] = ahead.command_id or derived_command_id(line)
        except LedgerError as error:
            self.report.failures.append(_failure(number, line, error))
            return
        try:
            with _running(ahead.digest):
                result = command.run(self.unit)
        except LedgerError:
            self._forget(command.customer)
            self._save()
            self.unit.unknown_receipts([command.kwargs["command_id"]])  # run alone:
            self._import_alone(ahead)  # it may store it
            self._forget(command.customer)  # alone, it may have changed the customer
            return
        self._pending.append((ahead, result.replayed))
        if len(self._pending) >= self.size or self._snapshot_due(result):
            self._save()

    def _snapshot_due(self, result: CommandResult) -> bool:
        """The customer just reached a snapshot's version: saved now, the ledger snapshots
        it as it is in memory, instead of reading up to ``interval`` events back after
        the batch has taken it further."""
        interval = self.ledger.snapshotting_intervals.get(Customer)
        return interval is not None and not result.replayed and result.version % interval == 0

    def flush(self) -> None:
        """Runs the lines taken, and saves them."""
        self._run_ahead()
        self._save()

    def _save(self) -> None:
        """Saves the pending lines in one transaction, or runs them one by one."""
        pending, self._pending = self._pending, []
        if not pending:
            self.unit.discard()
            return
        try:
            self.unit.save()
        except Exception as error:
            logger.info(
                "%d lines could not be saved together (%s): one by one", len(pending), error
            )
            self.unit.forget()
            for ahead, _ in pending:
                self._import_alone(ahead)
            self.unit.looks_up_receipts = True  # lines done before may follow
            return
        self._saved = True
        collect_young()  # the collector is paused during an import: once per batch
        for _, replayed in pending:
            if replayed:
                self.report.skipped += 1
            else:
                self.report.recorded += 1

    def _import_alone(self, ahead: _Ahead) -> None:
        _import_one(self.ledger, ahead.number, ahead.line, self.report, self.actor,
                    digested=ahead.digest is not None)  # fmt: skip

    def _forget(self, number: str) -> None:
        """Drops a customer a refused line ran on: the next line loads it again."""
        with contextlib.suppress(LedgerError):  # no such number: nothing kept under it
            self.unit.forget(customer_number(number))
