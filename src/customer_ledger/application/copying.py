"""Moving a ledger: every event copied as stored to another store, with its keys and users.

``copy_ledger(source, to)`` copies the source's log, event by event as stored (the same
notification ids, originator ids, versions, topics and bytes: recorded times, metadata,
encrypted fields and hash seals are inside those bytes), to the store at ``to``, which
may be of any backend and may have another master key. Then it carries over what the
store holds that the events do not say: the customers' data keys (opened with the
source's master key, wrapped again with the target's), the tombstones of destroyed
keys, and the users of the front ends. What the events do say is rebuilt on the target:
the duplicate index and the four views. Last, it verifies every chain on the target
and the target's whole log against the source's checkpoint.

It is resumable: each page of events is one transaction on the target, so a copy killed
at any point leaves the target holding the start of the source's log; the next run
checks that it does (the hash of the target's log equals the source's up to the same
notification) and goes on from there. A target holding anything else is refused
(``TargetNotEmpty``) before anything is written. Keys and users are put only where the
target has none, or are the same already; a differing one is a ``CopyConflict``.

A forgotten customer stays forgotten: its tombstone is copied as a tombstone, and a
customer whose log holds ``CustomerForgotten`` gets a tombstone even where the source
still has a key (a forget interrupted before its key was destroyed), so no key is ever
resurrected.

Snapshots are copied as stored too (derived, but a long customer's replays need them).
Not copied: the views' tables (rebuilt), attached files (a folder beside the store, not
in it: copy it yourself).
"""

from __future__ import annotations

from collections.abc import Callable
from time import perf_counter
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from attrs import evolve, frozen

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.replay import SNAPSHOT_INTERVAL
from customer_ledger.audit.verify import Checkpoint, LogHash, verify
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.duplicates import customer_keys
from customer_ledger.errors import (
    CopyConflict,
    CopyMismatch,
    CopyToItself,
    InvalidValue,
    KeyProblem,
    MasterKeyInvalid,
    MasterKeyMissing,
    TargetNotEmpty,
)
from customer_ledger.notifications import notifications, pages
from customer_ledger.privacy.keys import MasterKey
from customer_ledger.projections.views import MAX_PAGE, ProfileQuery
from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL

TARGET_MASTER_KEY_ENV = "CUSTOMER_LEDGER_TARGET_MASTER_KEY"
PAGE_SIZE = 1000  # events per transaction on the target
FORGOTTEN_TOPIC: str = Customer.CustomerForgotten.TOPIC  # type: ignore[attr-defined]
PHASES = ("check", "events", "keys", "users", "snapshots", "views", "duplicates", "verify")

Progress = Callable[[str, int, int | None], None]
"""(phase, done, total or None): one of ``PHASES``, called as each phase starts and as
it goes; events and verify count notifications, keys customers, views events applied."""


@frozen
class CopyResult:
    to: str  # the target, as shown (no password)
    resumed_from: int  # the target's last notification id before this run
    events: int  # events copied by this run
    keys: int  # live data keys the target holds for the source's customers
    destroyed: int  # tombstones (forgotten customers)
    users: int  # users copied by this run
    indexed: int  # customers in the target's duplicate index
    snapshots: int  # snapshots copied by this run
    checkpoint: Checkpoint  # the target's, equal to the source's
    seconds: float
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "resumed_from": self.resumed_from,
            "events": self.events,
            "keys": self.keys,
            "destroyed": self.destroyed,
            "users": self.users,
            "indexed": self.indexed,
            "snapshots": self.snapshots,
            "checkpoint": self.checkpoint.to_json(),
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
        }


def copy_ledger(
    source: CustomerLedger,
    to: str | CustomerLedger,
    *,
    master_key: str | None = None,
    actor: Actor | str | None = None,
    progress: Progress | None = None,
    page_size: int = PAGE_SIZE,
) -> CopyResult:
    """Copies ``source`` to the store at ``to`` (a URL, or a ledger opened for writing),
    or finishes a copy there that was interrupted; see the module's docstring.

    ``master_key`` (base64) is the target's master key (default: as for any ledger,
    ``$CUSTOMER_LEDGER_MASTER_KEY`` or the target's key file). Needs a role that may
    ``copy_ledger`` (admin, or the embedding program's ``system``). Returns the target's
    checkpoint, which equals ``audit checkpoint`` of the source while nothing is
    recorded there."""
    if (
        isinstance(page_size, bool)
        or not isinstance(page_size, int)
        or not 0 < page_size <= 100_000
    ):
        raise InvalidValue(f"page_size must be a whole number from 1 to 100000, not {page_size!r}")
    who = source.acting(actor)
    source.check_or_record(who, "copy_ledger")
    if source.without_keys:  # before the target is even opened
        raise MasterKeyMissing(
            f"copying a ledger carries its data keys over, which needs its master key: "
            f"{source.without_keys}"
        )
    if isinstance(to, CustomerLedger):
        if to is source:
            raise CopyToItself("a ledger cannot be copied onto itself")
        return _copy(source, to, progress, page_size)
    url = StoreURL.parse(to)
    if url.scheme != "memory" and url.raw == source.url.raw:
        raise CopyToItself(f"{url.shown} is the store being copied")
    if master_key is not None:  # a bad key is refused before the target is made
        try:
            MasterKey.from_text(master_key, TARGET_MASTER_KEY_ENV)
        except MasterKeyInvalid as error:
            raise MasterKeyInvalid(
                f"the target's master key ({TARGET_MASTER_KEY_ENV}, or master_key=) must be "
                f"32 random bytes in base64: {str(error).split(':')[0]}"
            ) from None
    try:
        target = CustomerLedger.open(
            to,
            master_key=master_key,
            clock=source.clock,
            timezone=str(source.timezone),
            policy=source.policy,
        )
    except KeyProblem as error:  # say whose key it is: the source's is another one
        raise type(error)(
            f"the target {url.shown}: {error} (a copy takes the target's master key from "
            f"${TARGET_MASTER_KEY_ENV}, or master_key=, and the source's as always)"
        ) from error
    try:
        return _copy(source, target, progress, page_size)
    finally:
        target.close()


def _copy(
    source: CustomerLedger, target: CustomerLedger, progress: Progress | None, page_size: int
) -> CopyResult:
    started = perf_counter()
    report: Progress = progress or (lambda phase, done, total: None)
    target.refuse_if_read_only("take a copy of a ledger")
    end = source.recorder.max_notification_id() or 0
    copied_hash, forgotten, long, resumed_from = _resume_point(source, target, end, report)

    # the events, a page per transaction, at their own notification ids
    adapter = target.adapter or adapter_for(target.url)
    copied = 0
    report("events", resumed_from, end)
    for page in pages(source.recorder, start=resumed_from + 1, stop=end, page_size=page_size):
        adapter.insert_notifications(target.recorder, page)
        for notification in page:
            copied_hash.add(notification)
            if notification.topic == FORGOTTEN_TOPIC:
                forgotten.add(notification.originator_id)
            if notification.originator_version % SNAPSHOT_INTERVAL == 0:
                long.add(notification.originator_id)
        copied += len(page)
        report("events", page[-1].id, end)

    # the data keys: opened with the source's master key, wrapped with the target's
    live = destroyed = 0
    replaced: list[UUID] = []
    report("keys", 0, None)
    for opened in source.keys.data_keys(page_size):
        keys = [(owner, None if owner in forgotten else secret) for owner, secret in opened]
        replaced += target.keys.take_data_keys(keys)
        live += sum(secret is not None for _, secret in keys)
        destroyed += sum(secret is None for _, secret in keys)
        report("keys", live + destroyed, None)
    notes = target.keys.scrub() if replaced else []

    report("users", 0, None)
    users = _copy_users(source, target)
    report("users", users, users)

    report("snapshots", 0, len(long))
    snapshots = _copy_snapshots(source, target, long)
    report("snapshots", len(long), len(long))

    report("views", 0, None)
    rebuilt = target.rebuild(progress=lambda done, total: report("views", done, total))
    for result in rebuilt:
        notes += [
            f"customer {d.number or d.customer_id} is damaged in the source too (set aside "
            f"in the {result.projection} view): {d.reason}"
            for d in result.damaged
        ]

    report("duplicates", 0, None)
    indexed = _index_duplicates(target, forgotten, report)

    anchor = Checkpoint(
        copied_hash.notification_id, copied_hash.head.hex(), copied_hash.events, source.clock()
    )
    report("verify", 0, anchor.notification_id)
    verified = verify(target, against=anchor, progress=lambda d, t: report("verify", d, t))
    now = target.recorder.max_notification_id() or 0
    if not verified.ok or now != anchor.notification_id:
        found = "; ".join(f"{f.kind}: {f.detail}" for f in verified.broken[:5])
        raise CopyMismatch(
            f"the copy at {target.url.shown} does not verify ({len(verified.broken)} "
            f"finding(s){': ' + found if found else ''}; its log ends at {now}, the "
            f"source's copied part at {anchor.notification_id}): run 'customer-ledger "
            "audit verify' on the source; if it passes there, run the copy again"
        )
    return CopyResult(
        to=target.url.shown,
        resumed_from=resumed_from,
        events=copied,
        keys=live,
        destroyed=destroyed,
        users=users,
        indexed=indexed,
        snapshots=snapshots,
        checkpoint=Checkpoint(anchor.notification_id, anchor.hash, anchor.events, target.clock()),
        seconds=perf_counter() - started,
        notes=tuple(notes),
    )


def _resume_point(
    source: CustomerLedger, target: CustomerLedger, end: int, report: Progress
) -> tuple[LogHash, set[UUID | str], set[UUID | str], int]:
    """Where the copy goes on: 0 for an empty target, else the target's last notification
    id, once the target's log is proved to be the source's up to there (the hash of
    both logs up to it). ``TargetNotEmpty`` otherwise, before anything is written."""
    source_hash, forgotten, long = LogHash(), set[UUID | str](), set[UUID | str]()
    have = target.recorder.max_notification_id() or 0
    if not have:
        return source_hash, forgotten, long, 0
    shown = target.url.shown
    if have > end:
        raise TargetNotEmpty(
            f"{shown} holds events up to notification {have}, past the end of this ledger's "
            f"log ({end}): it is another ledger; nothing was changed"
        )
    target_hash = LogHash()
    report("check", 0, have)
    for notification in notifications(target.recorder):
        target_hash.add(notification)
    for notification in notifications(source.recorder, stop=have):
        source_hash.add(notification)
        if notification.topic == FORGOTTEN_TOPIC:
            forgotten.add(notification.originator_id)
        if notification.originator_version % SNAPSHOT_INTERVAL == 0:
            long.add(notification.originator_id)
        if source_hash.events % PAGE_SIZE == 0:
            report("check", notification.id, have)
    report("check", have, have)
    if (target_hash.head, target_hash.events) != (source_hash.head, source_hash.events):
        raise TargetNotEmpty(
            f"{shown} already holds {target_hash.events} events that are not the start of "
            "this ledger's log: it is another ledger, or was written to since an earlier "
            "copy; copy to an empty store (nothing was changed)"
        )
    return source_hash, forgotten, long, have


def _copy_snapshots(source: CustomerLedger, target: CustomerLedger, long: set[UUID | str]) -> int:
    """The source's snapshots of the aggregates that reached a snapshot's version
    (``long``), as stored (sealed with the same data keys), those the target lacks.
    Derived data, but replays of a long history depend on them for speed: without them
    a 10,000-event customer replays in 500 ms, not 10. Returns how many were copied."""
    if source.snapshots is None or target.snapshots is None:
        return 0
    copied = 0
    for originator_id in sorted(long, key=str):
        stored = source.snapshots.recorder.select_events(originator_id)
        there = {
            s.originator_version for s in target.snapshots.recorder.select_events(originator_id)
        }
        missing = [s for s in stored if s.originator_version not in there]
        if missing:
            target.snapshots.recorder.insert_events(missing)
            copied += len(missing)
    return copied


def _index_duplicates(target: CustomerLedger, forgotten: set[UUID | str], report: Progress) -> int:
    """The target's duplicate index, from its rebuilt profile view: each profile holds the
    customer's state as it is now (names, licence and ID numbers, phones), which is what
    ``domain.duplicates.customer_keys`` reads; an aggregate per customer, replayed from
    a log without snapshots, took a third of a 100k-event copy. Returns how many
    customers have rows (as ``reindex_duplicates``)."""
    indexed, entries, done = 0, [], 0
    profiles = target.views.view("profile")
    query = ProfileQuery(limit=MAX_PAGE)
    while True:
        page = profiles.search(query)
        for document in page.items:
            p = target.open_profile(document, unmasked=True)
            contacts = {c.contact_id: c for c in p.contacts}
            state = SimpleNamespace(
                forgotten=p.customer_id in forgotten, merged_into=p.merged_into, name=p.name,
                type=p.type, licence_no=p.licence_no, contacts=contacts,
            )  # fmt: skip
            entries.append((p.customer_id, p.number, customer_keys(state)))
            indexed += bool(entries[-1][2])
        target.keys.index_many(entries)
        done += len(entries)
        entries = []
        report("duplicates", done, None)
        if page.next_cursor is None:
            return indexed
        query = evolve(query, after=page.next_cursor)


def _copy_users(source: CustomerLedger, target: CustomerLedger) -> int:
    """Every user of the source the target lacks; one the target has must be the same
    (role, password hash, disabled), else ``CopyConflict``. Returns how many were added."""
    added = 0
    store = target.users.store
    for user in source.users.store.list():
        here = store.find(user.name)
        if here is None:
            store.add(user)
            added += 1
        elif (here.role, here.password_hash, here.disabled) != (
            user.role,
            user.password_hash,
            user.disabled,
        ):
            raise CopyConflict(
                f"the target has a user named {user.name!r} that differs from the source's "
                "(role, password or disabled): change or remove one of them, then copy again"
            )
    return added
