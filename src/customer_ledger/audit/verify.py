"""Verifying the recorded history: per-aggregate hash chains and whole-log checkpoints.

``verify`` walks the log once, in notification order, a page at a time. Each
aggregate's chain is checked as a whole (``select_events``) when the walk reaches the
notification of its lowest stored version; a bounded set of chains already checked
lets the walk skip their later notifications. So memory is bounded by that set and by
the longest single chain, not by the size of the log, and each chain costs one query.
Reading a chain as a whole is what lets a break be named: a version missing from the
sealed numbering was deleted, a second event sealed as the same version was inserted,
sealed versions out of order were reordered.

``checkpoint`` hashes the whole log in notification order into one head that an
auditor keeps elsewhere; ``verify(against=...)`` recomputes it up to the same
notification, which proves that nothing recorded before it was removed or changed,
including the newest events of a chain, which no chain can vouch for.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, Protocol
from uuid import UUID

import orjson
from attrs import evolve, frozen

from customer_ledger.audit.chain import (
    GENESIS,
    HEADER_SIZE,
    MAGICS,
    Seal,
    check,
    link_hash,
    open_seal,
)
from customer_ledger.domain.registry import AccessLog, CustomerNumber
from customer_ledger.domain.values import customer_number_forms
from customer_ledger.errors import InvalidCheckpoint, UnknownCustomer
from customer_ledger.notifications import notifications, pages


class Ledger(Protocol):
    """What the audit reads: the recorder (rows as stored), the mapper (to decode them
    as a reader would) and the clock (when a checkpoint was taken)."""

    @property
    def recorder(self) -> Any: ...
    @property
    def mapper(self) -> Any: ...
    @property
    def clock(self) -> Callable[[], datetime]: ...


Kind = Literal[
    "payload_edited",
    "metadata_edited",
    "event_deleted",
    "event_inserted",
    "events_reordered",
    "corrupt",
    "unchained",
]
KINDS: tuple[Kind, ...] = (
    "payload_edited",
    "metadata_edited",
    "event_deleted",
    "event_inserted",
    "events_reordered",
    "corrupt",
    "unchained",
)
Progress = Callable[[int, int], None]  # (notifications walked, notifications in the log)
PAGE_SIZE = 1000
CLAIMED_TOPIC = "customer_ledger.CustomerNumber.Claimed"
CHECKED_CHAINS = 100_000  # how many checked chains the walk remembers


@frozen
class Finding:
    """One break in the history (or, for ``unchained``, a note: nothing is broken)."""

    kind: Kind
    detail: str
    customer_id: UUID | None = None
    number: str | None = None
    aggregate: str | None = None  # Customer, CustomerNumber, CommandReceipt, AccessLog
    originator_id: UUID | None = None
    version: int | None = None  # the version the event is stored (or was sealed) as
    notification_id: int | None = None  # for findings about the log as a whole

    @property
    def broken(self) -> bool:
        return self.kind != "unchained"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "customer_id": None if self.customer_id is None else str(self.customer_id),
            "number": self.number,
            "aggregate": self.aggregate,
            "originator_id": None if self.originator_id is None else str(self.originator_id),
            "version": self.version,
            "notification_id": self.notification_id,
            "detail": self.detail,
        }


@frozen
class Checkpoint:
    """The head of the whole-log hash after ``notification_id``: keep it elsewhere."""

    notification_id: int
    hash: str
    events: int
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "notification_id": self.notification_id,
            "hash": self.hash,
            "events": self.events,
            "at": self.at.isoformat(),
        }

    @classmethod
    def parse(cls, given: str | Path | dict[str, Any]) -> Checkpoint:
        """From the JSON text ``checkpoint`` printed, a file holding it, or its dict."""
        data: Any = given
        if isinstance(given, Path) or (isinstance(given, str) and given.lstrip()[:1] != "{"):
            path = Path(given)
            try:
                data = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise InvalidCheckpoint(f"cannot read checkpoint {str(path)!r}: {error}") from None
        if isinstance(data, str):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError as error:
                raise InvalidCheckpoint(f"the checkpoint is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise InvalidCheckpoint("the checkpoint must be a JSON object")
        try:
            notification_id, digest, events = data["notification_id"], data["hash"], data["events"]
            at = datetime.fromisoformat(data["at"])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidCheckpoint(
                f"the checkpoint needs notification_id, hash, events and at ({error})"
            ) from None
        if not (_count(notification_id) and _count(events)):
            raise InvalidCheckpoint("notification_id and events must be whole numbers >= 0")
        if not (isinstance(digest, str) and len(digest) == 64 and _is_hex(digest)):
            raise InvalidCheckpoint("hash must be 64 hexadecimal digits")
        return cls(notification_id, digest.lower(), events, at)


@frozen
class CheckpointResult:
    checkpoint: Checkpoint
    events: int  # events found now up to the checkpoint's notification
    hash: str  # and their hash

    @property
    def ok(self) -> bool:
        return self.events == self.checkpoint.events and self.hash == self.checkpoint.hash

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "notification_id": self.checkpoint.notification_id,
            "events_then": self.checkpoint.events,
            "events_now": self.events,
            "hash_then": self.checkpoint.hash,
            "hash_now": self.hash,
        }


@frozen
class Report:
    events: int  # events whose chain was checked
    chains: int
    unchained_events: int
    findings: tuple[Finding, ...]
    checkpoint: CheckpointResult | None = None

    @property
    def broken(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.broken)

    @property
    def ok(self) -> bool:
        return not self.broken and (self.checkpoint is None or self.checkpoint.ok)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "chains": self.chains,
            "unchained_events": self.unchained_events,
            "findings": [f.to_json() for f in self.findings],
            "checkpoint": None if self.checkpoint is None else self.checkpoint.to_json(),
        }


# -- the whole log ------------------------------------------------------------------------


class LogHash:
    """Running hash of the log in notification order (what a checkpoint anchors)."""

    def __init__(self) -> None:
        self.head = GENESIS
        self.events = 0
        self.notification_id = 0

    def add(self, notification: Any) -> None:
        columns = orjson.dumps(
            [
                notification.id,
                str(notification.originator_id),
                notification.originator_version,
                notification.topic,
            ]
        )
        state = hashlib.sha256(notification.state).digest()
        self.head = hashlib.sha256(self.head + columns + state).digest()
        self.events += 1
        self.notification_id = notification.id


def checkpoint(ledger: Ledger, progress: Progress | None = None) -> Checkpoint:
    """The current head of the whole log, to keep somewhere the store's writers cannot."""
    total = ledger.recorder.max_notification_id() or 0
    log = LogHash()
    for notification in notifications(ledger.recorder, stop=total):
        log.add(notification)
        if progress and log.events % PAGE_SIZE == 0:
            progress(log.events, total)
    if progress:
        progress(log.events, log.events)
    return Checkpoint(log.notification_id, log.head.hex(), log.events, ledger.clock())


def verify(
    ledger: Ledger,
    number: str | None = None,
    *,
    against: Checkpoint | None = None,
    progress: Progress | None = None,
    remembered: int = CHECKED_CHAINS,
) -> Report:
    """Checks every chain (or only customer ``number``'s) and, given a checkpoint, the log
    up to it. Every break found is in the report; nothing stops the walk."""
    tally = _Tally(ledger)
    log = LogHash() if against is not None else None
    if number is not None:
        for events in _customer_chains(ledger, number):
            tally.chain(events)
    if number is None or log is not None:
        total = ledger.recorder.max_notification_id() or 0
        checked: OrderedDict[str, None] = OrderedDict()
        walked = 0
        for notification in notifications(ledger.recorder):
            if log is not None and notification.id <= against.notification_id:  # type: ignore[union-attr]
                log.add(notification)
            if number is None:
                _visit(ledger, notification, checked, remembered, tally)
            walked += 1
            if progress and walked % PAGE_SIZE == 0:
                progress(walked, max(total, walked))
        if progress:
            progress(walked, walked)
    result = None
    if log is not None and against is not None:
        result = CheckpointResult(against, log.events, log.head.hex())
        if not result.ok:
            tally.findings.append(_checkpoint_finding(result))
    findings = _named(ledger, tally.findings)
    return Report(tally.events, tally.chains, tally.unchained, tuple(findings), result)


def _visit(
    ledger: Ledger,
    notification: Any,
    checked: OrderedDict[str, None],
    remembered: int,
    tally: _Tally,
) -> None:
    """Checks the notification's chain if this is its lowest stored version."""
    key = str(notification.originator_id)
    if key in checked:
        checked.move_to_end(key)
        return
    recorder = ledger.recorder
    version = notification.originator_version
    # Rarely past version 1: a chain whose start was lost, or one no longer remembered.
    if version != 1 and recorder.select_events(
        notification.originator_id, lte=version - 1, limit=1
    ):
        return  # not its lowest version: the chain is checked at that one
    events = sorted(
        recorder.select_events(notification.originator_id), key=lambda e: e.originator_version
    )
    if not events or events[0].originator_version != version:
        return
    tally.chain(events)
    if len(events) > 1:  # a one-event chain has no later notification to skip
        checked[key] = None
        while len(checked) > remembered:
            checked.popitem(last=False)


def _customer_chains(ledger: Ledger, number: str) -> Iterator[Sequence[Any]]:
    """The chains of one customer: its number claim, its events, its access log."""
    recorder = ledger.recorder
    claim: list[Any] = []
    for form in customer_number_forms(number):  # (a claim older than the normalisation)
        claim = claim or list(recorder.select_events(CustomerNumber.id_for(form)))
    if not claim:
        raise UnknownCustomer(f"no customer numbered {number!r}")
    yield claim
    customer_id = next(filter(None, (_body_field(e, "customer_id") for e in claim)), None)
    if customer_id is None:
        return
    for originator_id in (UUID(customer_id), AccessLog.id_for(UUID(customer_id))):
        events = list(recorder.select_events(originator_id))
        if events:
            yield events


def _named(ledger: Ledger, findings: list[Finding]) -> list[Finding]:
    """Findings whose chain does not name its customer (its first event was lost) get the
    number from the customer's claim; only the claims are read, and only when needed."""
    unnamed = {f.customer_id for f in findings if f.number is None and f.customer_id}
    if not unnamed:
        return findings
    numbers: dict[UUID, str] = {}
    for page in pages(ledger.recorder, topics=[CLAIMED_TOPIC]):
        for claim in page:
            customer_id, number = _body_field(claim, "customer_id"), _body_field(claim, "number")
            if customer_id and number and _uuid(customer_id) in unnamed:
                numbers[_uuid(customer_id)] = number  # type: ignore[index]
        if not unnamed - set(numbers):
            break
    return [
        evolve(f, number=numbers[f.customer_id]) if f.customer_id in numbers and not f.number else f
        for f in findings
    ]


def _checkpoint_finding(result: CheckpointResult) -> Finding:
    then, now, at = result.checkpoint.events, result.events, result.checkpoint.notification_id
    if now < then:
        kind: Kind = "event_deleted"
        detail = f"{then - now} of the {then} events recorded up to notification {at} are gone"
    elif now > then:
        kind = "event_inserted"
        detail = f"{now - then} events were added before notification {at}"
    else:
        kind = "payload_edited"
        detail = f"an event recorded up to notification {at} was changed or replaced"
    return Finding(kind, f"the log does not match the checkpoint: {detail}", notification_id=at)


# -- one chain ----------------------------------------------------------------------------


@frozen
class _Record:
    """One stored event of a chain, as the checks see it."""

    stored: Any
    seal: Seal | None
    damaged_seal: bool  # looks sealed but its header cannot be trusted
    hashes: frozenset[bytes]  # what a successor's ``prev`` may equal

    @property
    def version(self) -> int:
        return int(self.stored.originator_version)

    @property
    def sealed_as(self) -> int:
        return self.seal.version if self.seal and not self.damaged_seal else self.version


@frozen
class _Identity:
    aggregate: str | None
    customer_id: UUID | None
    number: str | None
    originator_id: UUID | None


class _Tally:
    def __init__(self, ledger: Ledger) -> None:
        self.decode = ledger.mapper.to_domain_event
        self.events = 0
        self.chains = 0
        self.unchained = 0
        self.findings: list[Finding] = []

    def chain(self, events: Sequence[Any]) -> None:
        self.chains += 1
        self.events += len(events)
        found, unchained = check_chain(events, self.decode)
        self.unchained += unchained
        self.findings.extend(found)


def check_chain(
    events: Sequence[Any], decode: Callable[[Any], Any] | None = None
) -> tuple[list[Finding], int]:
    """The findings for one aggregate's stored events (any order), and how many of them
    were recorded before chaining. ``decode`` is tried on unchained events only (a
    sealed event is checked against its seal instead)."""
    records = [_record(e) for e in sorted(events, key=lambda e: e.originator_version)]
    if not records:
        return [], 0
    who = _identify(records)
    found: list[tuple[Kind, int, str]] = []
    first_sealed = next((i for i, r in enumerate(records) if r.seal or r.damaged_seal), None)
    legacy = records if first_sealed is None else records[:first_sealed]
    flagged: set[int] = set()  # indexes of records with a finding

    def report(kind: Kind, index: int | None, version: int, detail: str) -> None:
        found.append((kind, version, detail))
        if index is not None:
            flagged.add(index)

    # Events recorded before chaining: readable, gapless, and noted once.
    for i, r in enumerate(legacy):
        if decode is not None and not _decodes(r.stored, decode):
            report("corrupt", i, r.version, "its bytes cannot be decoded")
    if legacy:
        report(
            "unchained",
            None,
            legacy[0].version,
            f"versions {legacy[0].version}–{legacy[-1].version} were recorded before the "
            "hash chain began; only the last is vouched for by the chain",
        )
    sealed_index = [] if first_sealed is None else list(range(first_sealed, len(records)))

    # Each sealed event against its own seal; unchained events among sealed ones.
    genuine: list[int] = []
    for i in sealed_index:
        r = records[i]
        if r.damaged_seal:
            report("corrupt", i, r.version, "its header is damaged")
            continue
        if r.seal is None:
            if decode is not None and not _decodes(r.stored, decode):
                report("corrupt", i, r.version, "its bytes cannot be decoded")
            else:
                report("event_inserted", i, r.version, "an unsealed event among sealed ones")
            continue
        broken = check(r.stored, r.seal)
        if broken is not None and broken[0] != "moved":
            report(broken[0], i, r.version, broken[1])  # type: ignore[arg-type]
            if broken[0] == "corrupt":
                continue
        genuine.append(i)

    # Two events sealed as one version: all but the best-placed one were inserted.
    by_sealed: dict[int, list[int]] = {}
    for i in genuine:
        by_sealed.setdefault(records[i].sealed_as, []).append(i)
    for sealed_as, members in by_sealed.items():
        if len(members) > 1:
            keep = max(members, key=lambda i: (_fit(records, i, sealed_as, flagged), -i))
            for i in members:
                if i != keep:
                    report(
                        "event_inserted",
                        i,
                        records[i].version,
                        f"a second event sealed as version {sealed_as}",
                    )
            by_sealed[sealed_as] = [keep]
    genuine = [i for i in genuine if by_sealed[records[i].sealed_as] == [i]]

    # Sealed versions out of stored order: the fewest moves that explain it.
    in_order = set(_longest_increasing(records, genuine))
    for i in genuine:
        if i not in in_order:
            report(
                "events_reordered",
                i,
                records[i].version,
                f"the event sealed as version {records[i].sealed_as} is stored as version "
                f"{records[i].version}",
            )

    # Sealed (or, before chaining, stored) versions that are nowhere: deleted.
    present = {records[i].sealed_as for i in genuine} | {r.version for r in legacy}
    highest = max(present, default=0)
    present |= {records[i].version for i in flagged}  # in their place, whatever they hold
    for version in range(1, highest + 1):
        if version not in present:
            report("event_deleted", None, version, f"version {version} is missing")

    # Each sealed event must link to the one sealed (or stored, before chaining) before it.
    sealed_at = {records[i].sealed_as: i for i in genuine}
    legacy_at = {r.version: r for r in legacy}
    for i in genuine:
        r = records[i]
        assert r.seal is not None
        before = r.sealed_as - 1
        if before == 0:
            if r.seal.prev != GENESIS and i not in flagged:
                detail = "it is sealed as a first event but links to another"
                report("metadata_edited", i, r.version, detail)
            continue
        if before in sealed_at:
            q_index = sealed_at[before]
            q_hashes = records[q_index].hashes
        elif before in legacy_at:
            q_index = records.index(legacy_at[before])
            q_hashes = legacy_at[before].hashes
        else:
            continue  # its predecessor is gone: reported above
        if r.seal.prev in q_hashes or q_index in flagged or i in flagged:
            continue
        q = records[q_index]
        report(
            "payload_edited",
            q_index,
            q.version,
            f"it is not the event that version {r.sealed_as} was chained to: it was replaced "
            "or re-sealed (or the next event's link was forged)",
        )

    # Renumbered without any deletion, insertion or reordering to explain it.
    if not any(kind in _MOVES for kind, _, _ in found):
        for i in genuine:
            r = records[i]
            if r.sealed_as != r.version and i not in flagged:
                report(
                    "metadata_edited",
                    i,
                    r.version,
                    f"it is stored as version {r.version} but sealed as {r.sealed_as}",
                )

    findings = [
        Finding(
            kind,
            detail,
            customer_id=who.customer_id,
            number=who.number,
            aggregate=who.aggregate,
            originator_id=who.originator_id,
            version=version,
        )
        for kind, version, detail in sorted(found, key=lambda f: (f[1], KINDS.index(f[0])))
    ]
    return findings, len(legacy)


_MOVES = frozenset({"event_deleted", "event_inserted", "events_reordered"})


def _record(stored: Any) -> _Record:
    seal = open_seal(stored.state)
    if seal is None:
        damaged = _looks_sealed(stored.state)
        return _Record(stored, None, damaged, frozenset({link_hash(stored)}))
    damaged = not seal.self_consistent
    return _Record(stored, seal, damaged, frozenset({seal.computed_hash, seal.own_hash}))


def _looks_sealed(state: bytes) -> bool:
    """A header whose magic lost a byte is a damaged seal, not an older event."""
    if len(state) < HEADER_SIZE:
        return False
    return any(sum(a == b for a, b in zip(state[:4], magic, strict=True)) >= 3 for magic in MAGICS)


def _fit(records: list[_Record], i: int, sealed_as: int, flagged: set[int]) -> tuple[int, ...]:
    """How well record ``i`` fits the place its seal claims (for telling a copy apart)."""
    before = records[i - 1].sealed_as if i > 0 else 0
    after = records[i + 1].sealed_as if i + 1 < len(records) else sealed_as + 1
    return (
        int(i not in flagged),
        int(before == sealed_as - 1) + int(after == sealed_as + 1),
        int(records[i].version == sealed_as),
    )


def _longest_increasing(records: list[_Record], indexes: list[int]) -> list[int]:
    """The longest run of ``indexes`` (stored order) whose sealed versions increase,
    preferring events stored under their own version; O(n log n) (a Fenwick tree)."""
    sealed = [records[i].sealed_as for i in indexes]
    if all(a < b for a, b in pairwise(sealed)):
        return indexes
    ranks = {v: n + 1 for n, v in enumerate(sorted(set(sealed)))}
    size = len(ranks)
    tree: list[tuple[int, int, int]] = [(0, 0, -1)] * (size + 1)  # (length, in place, at)
    best_at: list[tuple[int, int, int]] = []
    for position, i in enumerate(indexes):
        rank = ranks[sealed[position]]
        best = (0, 0, -1)
        k = rank - 1
        while k > 0:
            best = max(best, tree[k])
            k -= k & -k
        here = (best[0] + 1, best[1] + int(records[i].version == sealed[position]), position)
        best_at.append((best[2], *here[:2]))
        k = rank
        while k <= size:
            tree[k] = max(tree[k], here)
            k += k & -k
    end = max(range(len(indexes)), key=lambda p: (best_at[p][1], best_at[p][2]))
    chosen = []
    while end != -1:
        chosen.append(indexes[end])
        end = best_at[end][0]
    return chosen[::-1]


def _identify(records: list[_Record]) -> _Identity:
    aggregate = next(
        (
            r.stored.topic.split(".")[1]
            for r in records
            if r.stored.topic.startswith("customer_ledger.") and r.stored.topic.count(".") >= 2
        ),
        None,
    )
    originator_id = _uuid(records[0].stored.originator_id)
    number = next(filter(None, (_body_field(r.stored, "number") for r in records)), None)
    customer = originator_id if aggregate == "Customer" else None
    if customer is None:
        found = next(filter(None, (_body_field(r.stored, "customer_id") for r in records)), None)
        customer = _uuid(found) if found else None
    return _Identity(aggregate, customer, number, originator_id)


def _body_field(stored: Any, name: str) -> str | None:
    seal = open_seal(stored.state)
    body = stored.state if seal is None else seal.body
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _decodes(stored: Any, decode: Callable[[Any], Any]) -> bool:
    try:
        decode(stored)
    except Exception:
        return False
    return True


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


__all__ = [
    "KINDS",
    "Checkpoint",
    "CheckpointResult",
    "Finding",
    "InvalidCheckpoint",
    "Kind",
    "Report",
    "check_chain",
    "checkpoint",
    "verify",
]
