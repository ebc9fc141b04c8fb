"""CustomerLedger: the commands, queries and replays a user of the library calls.

Every command is one transaction: the customer's new events, plus (when given) a
receipt for its ``command_id`` and (on first contact) the claim on its number. So a
re-sent command records nothing and returns what it returned the first time, even
after a restart, and two writers can never both claim a number.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time
from time import monotonic, perf_counter, sleep
from typing import Any, ClassVar, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from attrs import evolve
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import BaseAggregate, DomainEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    PersistenceError,
    Recording,
)
from eventsourcing.utils import Environment, EnvType

from customer_ledger.analytics import (
    Analytics,
    AnalyticsSettings,
    DueReminder,
    PeriodIndicators,
    analyse,
)
from customer_ledger.analytics import indicators as indicators_of
from customer_ledger.analytics import reminders_due as reminders_of
from customer_ledger.analytics.dates import business_date
from customer_ledger.application.arguments import (
    SYSTEM,
    checked_meta,
    copy_of,
    moment,
    no_huge_numbers,
)
from customer_ledger.application.arguments import fingerprint as command_fingerprint
from customer_ledger.application.batch import IMPORT_LINE, Batch, Receipt
from customer_ledger.application.commands import CommandResult, Commands
from customer_ledger.application.duplicates import DuplicateGroup, groups
from customer_ledger.application.integrity import continuous, folding
from customer_ledger.application.privacy import ForgetResult, masked, masked_facts, shred
from customer_ledger.application.replay import SNAPSHOT_INTERVAL, replay_customer, replay_point
from customer_ledger.application.schema import with_dates
from customer_ledger.application.users import Users
from customer_ledger.domain.access import Actor, Policy
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.duplicates import customer_keys, identity_keys
from customer_ledger.domain.merging import contribution
from customer_ledger.domain.personal import ENCRYPTED
from customer_ledger.domain.registry import AccessLog, CommandReceipt, CustomerNumber
from customer_ledger.domain.values import (
    Meta,
    Stage,
    calendar_day,
    customer_number,
    customer_number_forms,
    shown,
    text,
)
from customer_ledger.errors import (
    ActorRequired,
    AlreadyForgotten,
    CommandIdReused,
    ConcurrencyConflict,
    CorruptEvent,
    DuplicateCustomerNumber,
    InvalidQuery,
    InvalidValue,
    KeyStoreUnknown,
    LedgerError,
    MasterKeyMissing,
    PermissionDenied,
    ReadOnlyLedger,
    ReplicaBehind,
    StoreError,
    StoreNotFound,
    UnknownCustomer,
    ViewsBehind,
)
from customer_ledger.notifications import notifications
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.privacy.keys import KEY_STORE_URL_ENV, MASTER_KEY_ENV, KeyStore
from customer_ledger.projections.analytics_facts import CustomerFacts
from customer_ledger.projections.analytics_fold import facts_from_document
from customer_ledger.projections.audit_log import AuditEntry, entries
from customer_ledger.projections.collector import collect_young, paused_collector
from customer_ledger.projections.engine import (
    Progress,
    RebuildResult,
    catch_up,
    damaged,
    projections_for,
    rebuild,
    stale_views,
    upgrade,
)
from customer_ledger.projections.fold import Damage, project
from customer_ledger.projections.profile import Profile, profile_from_document, profile_of
from customer_ledger.projections.projectors import BatchProjection
from customer_ledger.projections.search import blind_keys, query_groups
from customer_ledger.projections.status import Board, board
from customer_ledger.projections.views import (
    KINDS,
    Kind,
    Page,
    ProfileQuery,
    StatusRow,
    TimelineEntry,
    TimelineQuery,
    ViewSet,
)
from customer_ledger.storage.failures import (
    opening_failure,
    retry_opening,
    typed_store_failures,
)
from customer_ledger.storage.keys import key_store_location, open_key_store
from customer_ledger.storage.mapper import CattrsMapper
from customer_ledger.storage.port import Adapter
from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL, default_url

DEFAULT_TIMEZONE = "Asia/Shanghai"
# Commands after which a customer's duplicate keys (name, licence or ID number, phones)
# may differ: its rows of the duplicate index are rewritten then.
INDEXED_COMMANDS = frozenset(
    {"first_contact", "update_profile", "add_contact", "update_contact", "remove_contact"}
)
VIEWS_WAIT_SECONDS = 10.0  # a reader's wait for a follower to apply its own last write
LEDGER_WIDE = "*"  # the access log of attempts on no one customer (an export of all)
logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def poll_until(done: Callable[[], bool], seconds: float) -> bool:
    """Whether ``done()`` came true within ``seconds``, asked at once and then after
    pauses that double from 5 ms to 100 ms (a follower or a replica is usually a few
    milliseconds behind; one that is not is asked ten times a second)."""
    deadline, pause = monotonic() + seconds, 0.005
    while not done():
        if monotonic() >= deadline:
            return False
        sleep(pause)
        pause = min(pause * 2, 0.1)
    return True


class CustomerLedger(Application[UUID], Commands):
    """An event-sourced customer file; open one with ``CustomerLedger.open(url)``."""

    name = "CustomerLedger"
    env: ClassVar[dict[str, str]] = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    # Snapshots make replays of long histories fast (interval measured: see replay.py).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Customer: SNAPSHOT_INTERVAL}
    command_cache_size: ClassVar[int] = 1000  # customers; 0: commands load from the store

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock = _utc_now,
        timezone: str | None = None,
        policy: Policy | None = None,
        default_actor: Actor | None = SYSTEM,
    ) -> None:
        self._recorder: ApplicationRecorder | None = None  # made with the mapper
        super().__init__(env)
        self.policy = policy or Policy()
        # Who acts in a call that names no one (docs/privacy.md says why ``system``);
        # None: such calls are refused with ``actor_required``.
        self.default_actor = default_actor
        self.clock = clock
        self.timezone = ZoneInfo(
            timezone or os.environ.get("CUSTOMER_LEDGER_TIMEZONE") or DEFAULT_TIMEZONE
        )
        self._ids: dict[str, UUID] = {}
        self._command_loads = self._command_repository()
        self.url = StoreURL.parse("memory://")
        self.adapter: Adapter | None = None  # the store's, once opened: it reads its errors
        self._views: ViewSet | None = None
        self._views_current = False  # checked for views of an older format
        self._live: list[BatchProjection] | None = None
        # Reads catch the views up first, so commands need not: a command writes only
        # its events. True: each command also catches the views up (for readers of the
        # view tables that do not go through a ledger and have no ``follow``).
        self.eager_views = False
        self.read_only = False  # see ``open``
        # False: another process (``follow``) keeps the views; reads wait for them to
        # reach this ledger's own last write (``last_position``) instead of catching up.
        self.catch_up = True
        self.views_wait_seconds = VIEWS_WAIT_SECONDS
        self.last_position = 0  # of the last event this ledger recorded, in the log
        # A streaming replica the reads go to (``open(replica=...)``), and the primary's
        # log position (LSN) after this ledger's last write there, which they wait for.
        self.replica: CustomerLedger | None = None
        self._written_at: int | None = None
        # Why the keys cannot be used (a read-only ledger opened without the master key)
        self.without_keys: str | None = None

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        clock: Clock = _utc_now,
        timezone: str | None = None,
        policy: Policy | None = None,
        eager_views: bool = False,
        default_actor: Actor | None = SYSTEM,
        read_only: bool = False,
        catch_up: bool = True,
        replica: str | None = None,
        master_key: str | None = None,
    ) -> CustomerLedger:
        """Opens the store at ``url`` (default ``$CUSTOMER_LEDGER_STORE`` or SQLite).

        For writing (the default) its key table is opened at once, so a store that could
        not seal personal data (a PostgreSQL ledger without ``CUSTOMER_LEDGER_MASTER_KEY``)
        is refused here, before anything is written. ``read_only``: the store must exist
        (``StoreNotFound``; reading never makes an empty one) and nothing is recorded
        (``ReadOnlyLedger``); without the master key, personal fields read
        ``[encrypted]`` and the views are read as they stand (catching them up needs
        the keys). ``catch_up=False``: reads never write the views (``follow`` keeps
        them, in this store or in ``?views=`` another one); they wait until the views
        have this ledger's own writes (``ViewsBehind`` past ``views_wait_seconds``).
        ``replica``: the URL of a streaming replica of ``url``'s database (its views too,
        by ``?views=`` if they are apart): commands go to ``url``, reads of the views
        and of the log (history, replay, audit log) to the replica, each first waiting
        until the replica holds this ledger's own last write (read-your-writes); the
        views are then kept by ``follow`` on the primary (``catch_up`` is off).
        ``master_key`` (base64, as ``CUSTOMER_LEDGER_MASTER_KEY`` holds it)
        is this store's master key, in place of the variable or the key file (a copy's
        target may have another one than its source)."""
        store = StoreURL.parse(url or default_url())
        adapter = adapter_for(store)
        if read_only and not adapter.exists(store):
            raise StoreNotFound(
                f"there is no ledger at {store.shown}: check the store URL (opening it "
                "for writing, e.g. with a command, makes a new one)"
            )
        env = {**adapter.application_env(store), KEY_STORE_URL_ENV: store.raw}
        if read_only:  # it exists: no DDL (a streaming replica refuses even IF NOT EXISTS)
            env["CREATE_TABLE"] = "n"
        if master_key is not None:
            env[MASTER_KEY_ENV] = master_key
        try:
            ledger = retry_opening(
                lambda: cls(
                    env, clock=clock, timezone=timezone, policy=policy, default_actor=default_actor
                ),
                adapter=adapter,
            )
        except LedgerError:
            raise
        except Exception as error:  # the driver's: typed, or raised as it is (a bug)
            raise opening_failure(error, adapter, store.shown) or error from error
        ledger.url, ledger.adapter = store, adapter
        ledger.eager_views = eager_views
        ledger.read_only = read_only
        ledger.catch_up = catch_up
        try:
            ledger._open_keys()
        except LedgerError:
            ledger.close()
            raise
        except Exception as error:
            ledger.close()
            raise opening_failure(error, adapter, store.shown) or error from error
        except BaseException:
            ledger.close()
            raise
        if replica is not None:
            try:
                ledger.replica = cls.open(
                    replica, clock=clock, timezone=timezone, policy=policy,
                    default_actor=default_actor, read_only=True, catch_up=False,
                )  # fmt: skip
            except BaseException:
                ledger.close()
                raise
            ledger.catch_up = False  # a replica's views cannot be written: follow keeps them
            ledger.eager_views = False
        return ledger

    def _open_keys(self) -> None:
        try:
            keys = self.keys
            if not self.read_only:
                keys.check()  # a wrong master key is refused before anything is written
        except MasterKeyMissing as error:
            if not self.read_only:
                raise
            self.without_keys = str(error)
            self.personal.without_keys = True
            logger.warning(
                "reading without the master key: personal fields read %s and the views "
                "are read as they stand (%s)",
                ENCRYPTED,
                error,
            )

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """eventsourcing's environment, but what ``env`` gives (the settings the store URL
        pins) wins over the process environment under every name eventsourcing reads it
        by: ``CUSTOMERLEDGER_SQLITE_DBNAME`` must not move the events of
        ``sqlite:///a.db`` into another file while its views and keys stay in a.db."""
        environment = super().construct_env(name, env)
        for key, value in (env or {}).items():
            for alias in environment.create_keys(key):
                environment[alias] = value
        return environment

    def construct_mapper(self) -> Mapper[UUID]:
        """Built with the recorder, which its hash chain reads an event's predecessor from
        when sealing it: so the recorder is made here, first (``construct_recorder``)."""
        # the customers' personal fields, sealed with their keys in events, snapshots
        # and the views alike
        self.personal = PersonalFields(lambda: self.keys)
        return CattrsMapper(
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
            personal=self.personal,
            recorder=self.construct_recorder(),
        )

    def construct_recorder(self) -> ApplicationRecorder:
        if self._recorder is None:
            self._recorder = super().construct_recorder()
        return self._recorder

    _keys_lock: ClassVar[threading.Lock] = threading.Lock()

    @property
    def keys(self) -> KeyStore:
        """The customers' data keys, in the store (``customer_ledger.privacy.keys``; opened on
        first use, as recording or reading personal data needs them)."""
        with self._keys_lock:
            if self.__dict__.get("_keys") is None:
                url = key_store_location(
                    self.env.get(KEY_STORE_URL_ENV), self.env.get("PERSISTENCE_MODULE"), self.url
                )
                self.__dict__["_keys"] = open_key_store(
                    url, self.env.get(MASTER_KEY_ENV), create=not self.read_only
                )
            keys: KeyStore = self.__dict__["_keys"]
            return keys

    # ``save`` and ``_take_snapshots`` below are eventsourcing's own, copied for speed and
    # changed where their docstrings say. These are SHA-256 digests of the installed
    # eventsourcing's versions they were copied from (and of the ``collect_events`` that
    # ``save`` inlines): tests/application/test_eventsourcing_copies.py fails when an
    # upgrade changes one, so that our copies are read against the new ones, not left to
    # drift. (eventsourcing 9.5.6)
    COPIED_FROM_EVENTSOURCING: ClassVar[dict[str, str]] = {
        "Application.save": "4e9747d14b8fd046df1b9b8ce688be89030978de0c04a632e6a7ec783dc7c5cc",
        "Application._take_snapshots": (
            "ae98c5b97ed9a8e3c50f324a01081e277572d192fac93ef738fdb3c053421562"
        ),
        "ProcessingEvent.collect_events": (
            "7e3a7e6b1abd2bef334f1ebe7015d887cf935916f87f3c7fbd75127907ab3488"
        ),
    }

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """``Application.save``, without its runtime ``Protocol`` checks for the ledger's
        own aggregates and events (about 30 µs each: a third of a batched import line's
        save); anything else is collected by eventsourcing as before. A read-only
        ledger refuses (``ReadOnlyLedger``)."""
        self.refuse_if_read_only("record anything")
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        events, aggregates = processing_event.events, processing_event.aggregates
        for obj in objs:
            if isinstance(obj, DomainEvent):
                events.append(obj)
            elif isinstance(obj, BaseAggregate):
                events.extend(obj.collect_events())
                aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        if recordings:  # (ids rise with commit order: eventsourcing locks the table)
            self.last_position = max(self.last_position, recordings[-1].notification.id)
            if self.replica is not None and self.adapter is not None:
                self._written_at = self.adapter.log_position(self.recorder)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # as eventsourcing does
        return recordings

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots only speed up replays, and the events are recorded by now: a snapshot
        that cannot be stored is logged, not raised (the command did not fail).

        As eventsourcing's, except that an aggregate just saved at the snapshot's version
        (every single command's; an import batch's when its last line for the customer
        is the snapshot's) is snapshotted as it is in memory, instead of being read back
        from the store: the same state, without decoding up to ``interval`` events.
        """
        if not (self.snapshots and self.snapshotting_intervals):
            return
        try:
            for event in processing_event.events:
                aggregate = processing_event.aggregates.get(event.originator_id)
                interval = self.snapshotting_intervals.get(type(aggregate))
                if interval is None or event.originator_version % interval:
                    continue
                snapshot_class = getattr(type(aggregate), "Snapshot", None)
                if (
                    snapshot_class is not None
                    and aggregate.version == event.originator_version
                    and not aggregate.pending_events
                ):
                    self.snapshots.put([snapshot_class.take(aggregate)])
                else:
                    self.take_snapshot(
                        event.originator_id,
                        version=event.originator_version,
                        projector_func=self.snapshotting_projectors.get(
                            type(aggregate), project_aggregate
                        ),
                    )
        except PersistenceError as error:
            logger.warning("could not store a snapshot (%s); replays read more events", error)

    @property
    def users(self) -> Users:
        """The front ends' users (``application.users``), in the store's user table
        (opened on first use)."""
        with self._keys_lock:
            if self.__dict__.get("_users") is None:
                store = (self.adapter or adapter_for(self.url)).user_store(self.url)
                self.__dict__["_users"] = Users(
                    store, self.policy, self.check_or_record, record=self.record_administration
                )
            users: Users = self.__dict__["_users"]
            return users

    def close(self) -> None:
        if self.replica is not None:
            self.replica.close()
            self.replica = None
        keys = self.__dict__.pop("_keys", None)
        if keys is not None:
            keys.close()
        users = self.__dict__.pop("_users", None)
        if users is not None:
            users.store.close()
        if self._views is not None:
            self._views.close()
            self._views = None
            self._views_current = False
        super().close()

    # -- time ---------------------------------------------------------------------------

    def business_time(self, value: datetime | date | str | None) -> datetime:
        """A date means the start of that day in the ledger's time zone."""
        if value is None:
            return self.clock()
        if isinstance(value, str):  # the parser every date field of a command uses
            value = moment(value, "occurred_at", self.timezone)
        if isinstance(value, datetime):  # calendar_day: out-of-range moments are refused
            aware = value if value.tzinfo else value.replace(tzinfo=self.timezone)
            return calendar_day(aware, "date")
        if isinstance(value, date):
            return datetime.combine(calendar_day(value, "date"), time(0), tzinfo=self.timezone)
        raise InvalidValue(f"occurred_at must be a date or datetime, got {shown(value)}")

    # -- look-ups -----------------------------------------------------------------------

    @typed_store_failures
    def customer_id(self, number: str) -> UUID:
        """The customer's id for its number; raises ``UnknownCustomer``."""
        if isinstance(number, str) and number in self._ids:  # (unhashable: refused below)
            return self._ids[number]
        claim = self._claim(number)
        if claim is None:
            raise UnknownCustomer(f"no customer numbered {number!r}") from None
        self._ids[number] = claim.customer_id
        return claim.customer_id

    def _claim(self, number: str) -> CustomerNumber | None:
        """The claim on ``number``: under its normalised form, or (a store older than
        the normalisation) under the form it was typed in then."""
        for form in customer_number_forms(number):
            try:
                claim: CustomerNumber = self.repository.get(CustomerNumber.id_for(form))
            except AggregateNotFoundError:
                continue
            return claim
        return None

    @typed_store_failures
    def customer(self, number: str, version: int | None = None) -> Customer:
        """The customer as it stood at ``version`` (default: now)."""
        customer_id = self.customer_id(number)
        if version is not None and (
            isinstance(version, bool) or not isinstance(version, int) or not 1 <= version < 2**63
        ):
            raise InvalidValue(f"version must be 1 or more, got {shown(version)}")
        # no full collection of the collector in the middle of a replay: its tail latency
        with folding(customer_number(number), customer_id), paused_collector():
            customer: Customer = self.repository.get(
                customer_id, version=version, projector_func=project
            )
            collect_young()
        assert isinstance(customer, Customer)
        if version is not None and customer.version < version:
            raise InvalidValue(f"{number} has {customer.version} versions, not {version}")
        return customer

    # -- read models --------------------------------------------------------------------

    @property
    def views(self) -> ViewSet:
        """The store's four views, opened on first use; views an older release wrote
        are rebuilt then (``upgrade_views``). With a replica, the replica's."""
        if self.replica is not None:
            return self.replica.views
        if not self._views_current:
            self.upgrade_views()
        return self._opened_views()

    def _opened_views(self) -> ViewSet:
        if self._views is None:
            where = self.url.views_url  # beside the events, or ``?views=`` another store
            self._views = adapter_for(where).views(where)
        return self._views

    def upgrade_views(self, progress: Progress | None = None) -> list[RebuildResult]:
        """Rebuilds the views written in an older format than this release's, then
        scrubs the store (VACUUM): release 0.1's views held personal data in clear, and
        the dropped tables' pages would keep it. Runs by itself when the views are first
        opened; [] when every view is current."""
        results = self._upgrade(self._opened_views(), progress)
        self._views_current = True
        return results

    def _upgrade(self, views: ViewSet, progress: Progress | None = None) -> list[RebuildResult]:
        if not self.catch_up and stale_views(views):  # e.g. on a replica: read-only
            raise StoreError(
                "an earlier release wrote these views, and this ledger does not write views "
                "(catch_up=False, or a replica's): rebuild them where they are written, "
                "with `customer-ledger rebuild` on the primary"
            )
        if self.without_keys:
            if stale_views(views):
                raise MasterKeyMissing(
                    "an earlier release wrote this store's views, and rebuilding them "
                    f"needs the master key: {self.without_keys}"
                )
            return []
        self._live = None
        started = perf_counter()
        results = upgrade(self, views, progress=progress)
        if results:
            if not self.read_only:  # an older release kept no duplicate index
                self.reindex_duplicates(actor=SYSTEM)  # the ledger itself, upgrading
            notes = self.keys.scrub(full=True)
            logger.warning(
                "rebuilt the %s views in %.1f s: an earlier release wrote them (with "
                "personal data in clear, now scrubbed from the store)%s",
                ", ".join(r.projection for r in results),
                perf_counter() - started,
                "".join(f"; {note}" for note in notes),
            )
        self._live = None
        return results

    def _projections(self) -> list[BatchProjection]:
        if self._live is None:
            self._live = projections_for(self.views, self.personal)
        return self._live

    @typed_store_failures
    def refresh(self) -> int:
        """Brings the views up to date with the log (read-your-writes); returns events applied.

        A customer whose events cannot all be read is set aside (``damaged()``): its views
        keep its last good state, and every other customer is caught up. Without the
        keys (read-only, no master key) the views are read as they stand: 0."""
        if self.without_keys:
            return 0
        if not self.catch_up:
            self.wait_for_views(self.last_position)
            return 0
        return catch_up(self, self._projections())

    def wait_for_views(self, position: int, timeout: float | None = None) -> None:
        """Returns once every live view has applied the log up to ``position`` (a
        notification id: ``last_position`` after this ledger's write, or another
        writer's), polling its tracking; ``ViewsBehind`` after ``timeout`` seconds."""
        if position <= 0:
            return
        behind = [self.views.view(kind) for kind in KINDS]

        def caught_up() -> bool:
            behind[:] = [v for v in behind if (v.max_tracking_id(self.name) or 0) < position]
            return not behind

        seconds = self.views_wait_seconds if timeout is None else timeout
        if not poll_until(caught_up, seconds):
            raise ViewsBehind(
                f"the views had not reached position {position} (this ledger's last "
                f"write) after {seconds:g} s: is `customer-ledger follow` running for "
                "this store?"
            )

    def damaged(self) -> list[Damage]:
        """The customers the views set aside since this ledger was opened (or rebuilt),
        because one of their events is missing, undecodable or does not match its seal;
        ``audit verify`` tells more."""
        return damaged(self._projections())

    @typed_store_failures
    def rebuild(
        self,
        kinds: Sequence[Kind] = KINDS,
        *,
        progress: Progress | None = None,
        fresh: bool = False,
    ) -> list[RebuildResult]:
        """Replays the whole log into fresh view tables and swaps them in atomically."""
        if self.without_keys:
            raise MasterKeyMissing(
                f"rebuilding the views needs the master key: {self.without_keys}"
            )
        self._live = None
        try:
            results = rebuild(self, self._opened_views(), kinds, progress=progress, fresh=fresh)
        finally:
            self._live = None
        self.upgrade_views()  # the kinds not asked for, if an older release wrote them
        return results

    @typed_store_failures
    def profile(
        self,
        number: str,
        *,
        actor: Actor | str | None = None,
        unmasked: bool = False,
        why: str | None = None,
        damaged: bool = False,
    ) -> Profile:
        """The customer's current profile, phones masked; ``unmasked`` needs a role that
        may read personal data and a ``why``, and the read itself is recorded. A customer
        whose events cannot all be read raises ``CorruptEvent``; ``damaged=True`` gives
        its last good profile instead (its ``damaged`` says what is wrong)."""
        reader = self.acting(actor)
        if unmasked:  # refused before anything is read
            self.may_read(reader, "profile", customer_number(number), why)
        self.refresh()
        document = self.views.view("profile").get(self.customer_id(number))
        if document is None:
            raise UnknownCustomer(f"no customer numbered {number!r}")
        profile = self.open_profile(document, unmasked=unmasked)
        looked_up_as = profile.number
        while profile.merged_into is not None:  # its record lives on in the survivor's
            survivor = self.views.view("profile").get(self.customer_id(profile.merged_into))
            if survivor is None:  # (a merge is recorded on both at once: not for long)
                break
            profile = self.open_profile(survivor, unmasked=unmasked)
            profile = evolve(profile, looked_up_as=looked_up_as)
        if profile.damaged and not damaged:
            raise CorruptEvent(
                profile.damaged, originator_id=profile.customer_id, number=profile.number
            )
        if not unmasked:
            return masked(profile, show_names=self.policy.shows_names(reader))
        self._record_read(profile, reader, text(why, "why (the reason for reading)"), "profile")
        return profile

    # -- who acts, and what they may do ---------------------------------------------------

    def acting(self, actor: Actor | str | None) -> Actor:
        """Who acts: ``actor``; a name alone acts in the policy's default role (never
        ``system``); no actor at all, the ledger's ``default_actor``."""
        if actor is None:
            if self.default_actor is None:
                raise ActorRequired("name who acts: this ledger has no default actor")
            return self.default_actor
        return self.policy.actor(actor)

    def may_read(
        self, reader: Actor, what: str, number: str | None = None, why: str | None = None
    ) -> None:
        """Checks that ``reader`` may read personal data unmasked (``what``: of customer
        ``number``, or of many); a refused read is recorded, then raised. A read-only
        ledger cannot record the read, so it refuses every one (``ReadOnlyLedger``)."""
        self.refuse_if_read_only("record a read of personal data, as unmasked reads must be")
        try:
            self.policy.check_personal_read(reader)
        except PermissionDenied:
            self.record_denial(number, reader, f"read {what} unmasked", why)
            raise

    def check_or_record(self, actor: Actor, what: str) -> None:
        """The policy's check that ``actor`` may ``what`` (a permission that is not a
        command on one customer, e.g. ``manage_users``); a refusal is recorded in the
        ledger's own access log, then raised."""
        try:
            self.policy.check(actor, what)
        except PermissionDenied:
            self.record_denial(None, actor, what)
            raise

    def refuse_if_read_only(self, what: str) -> None:
        if self.read_only:
            raise ReadOnlyLedger(
                f"this ledger was opened read-only: it cannot {what}; open it for writing"
            )

    def record_denial(
        self, number: str | None, actor: Actor, what: str, reason: str | None = None
    ) -> None:
        """Records in the customer's access log (for a number no customer holds, that
        number's; for no number, the ledger's own) that the policy refused ``actor``
        ``what``. A denial that cannot be recorded (the store is failing) is logged:
        the refusal itself stands."""
        customer_id: UUID | None = None
        if number is None:
            number = LEDGER_WIDE
        else:
            with contextlib.suppress(UnknownCustomer, InvalidValue):
                customer_id = self.customer_id(number)
        reason = (reason.strip()[:500] or None) if isinstance(reason, str) else None
        try:
            self._log_access(
                customer_id, number,
                lambda log: log.record_denial(
                    actor=actor.id, role=actor.role, what=what, reason=reason
                ),
            )  # fmt: skip
        except (LedgerError, PersistenceError) as error:
            logger.warning("could not record that %s was refused %s: %s", actor.id, what, error)

    def record_administration(self, actor: Actor, what: str) -> None:
        """Records in the ledger's own access log a change ``actor`` made to its users.
        The change is made first (a user table that refused it must not be audited as
        done); if the log cannot take it (the store is failing), that is logged loudly,
        and the change stands, as a denial that cannot be recorded does."""
        try:
            self._log_access(
                None, LEDGER_WIDE,
                lambda log: log.record_administration(actor=actor.id, role=actor.role, what=what),
            )  # fmt: skip
        except (LedgerError, PersistenceError) as error:
            logger.error("could not record that %s %s: %s", actor.id, what, error)

    def _record_read(self, profile: Profile, actor: Actor, why: str, what: str) -> None:
        self._log_access(
            profile.customer_id, profile.number,
            lambda log: log.record_read(actor=actor.id, role=actor.role, why=why, what=what),
        )  # fmt: skip

    def _log_access(
        self, customer_id: UUID | None, number: str, record: Callable[[AccessLog], None]
    ) -> None:
        if customer_id is None:
            log_id = AccessLog.id_for_number(number)
        else:
            log_id = AccessLog.id_for(customer_id)
        for _ in range(5):  # concurrent readers of one customer race on its access log
            try:
                log: AccessLog = self.repository.get(log_id)
            except AggregateNotFoundError:
                log = AccessLog(customer_id=customer_id, number=number)
            record(log)
            try:
                self.save(log)
                return
            except IntegrityError:
                continue
        raise ConcurrencyConflict(f"could not record access to {number} in its log; retry")

    @typed_store_failures
    def search(
        self,
        query: ProfileQuery | None = None,
        *,
        actor: Actor | str | None = None,
        **criteria: Any,
    ) -> Page[Profile]:
        """Profiles matching ``query`` (or ``ProfileQuery(**criteria)``), masked for the
        reader (``actor``)."""
        if query is None:
            query = ProfileQuery.of(criteria)
        elif not isinstance(query, ProfileQuery) or criteria:
            raise InvalidQuery("search takes a ProfileQuery or keyword criteria, not both")
        names = self.policy.shows_names(self.acting(actor))
        secret = self.personal.search_secret() if query.text and not query.blind else None
        if secret is not None and query.text is not None:  # (the check is for mypy)
            groups = query_groups(query.text)
            query = evolve(query, blind=tuple(blind_keys(secret, g) for g in groups))
        self.refresh()
        page = self.views.view("profile").search(query)
        profiles = (self.open_profile(document) for document in page.items)
        return Page(tuple(masked(p, show_names=names) for p in profiles), page.next_cursor)

    def open_profile(self, document: bytes, *, unmasked: bool = False) -> Profile:
        """A profile view's document, its personal fields opened with the customers'
        keys. Where the keys cannot be used (no master key, or another one) they read
        ``[encrypted]``, unless the read is ``unmasked``: then the key problem is raised."""
        return profile_from_document(document, self.personal, without_keys=not unmasked)

    @typed_store_failures
    def analytics_facts(
        self, owner: str | None = None, actor: Actor | str | None = None
    ) -> list[CustomerFacts]:
        """Every customer's analytics facts (or ``owner``'s), opened and masked for the
        reader (``actor``)."""
        names = self.policy.shows_names(self.acting(actor))
        self.refresh()
        documents = self.views.view("analytics").facts(owner)
        opened = (facts_from_document(d, self.personal, without_keys=True) for d in documents)
        # a record merged into another counts there (its survivor's facts hold it)
        return [masked_facts(f, show_names=names) for f in opened if f.merged_into is None]

    @typed_store_failures
    def replay(
        self,
        number: str,
        *,
        version: int | None = None,
        recorded_at: datetime | date | str | None = None,
        as_of: datetime | date | str | None = None,
        actor: Actor | str | None = None,
        unmasked: bool = False,
        why: str | None = None,
        snapshots: bool = True,
    ) -> Profile:
        """The profile at ``version`` N, as recorded at ``recorded_at`` T, or as of the
        business date ``as_of`` D: exactly one (see ``customer_ledger.application.replay``). Masked
        like ``profile()``; ``unmasked`` needs a reading role and a ``why``, and is recorded.
        ``snapshots=False`` reads only sealed events (no snapshot), as ``audit replay`` does."""
        point = replay_point(self.timezone, version=version, recorded_at=recorded_at, as_of=as_of)
        customer_id = self.customer_id(number)
        reader = self.acting(actor)
        if unmasked:  # refused before any work
            self.may_read(reader, f"replay {point.describe()}", number, why)
            why = text(why, "why (the reason for reading)")
        customer = replay_customer(
            self._log_reader(), customer_id, point, number=customer_number(number),
            snapshots=snapshots,
        )  # fmt: skip
        profile = profile_of(customer)
        if not unmasked:
            return masked(profile, show_names=self.policy.shows_names(reader))
        self._record_read(profile, reader, str(why), f"replay {point.describe()}")
        return profile

    @typed_store_failures  # (the reads before the first entry; the rest as it goes)
    def audit_log(
        self, number: str | None = None, *, actor: str | None = None
    ) -> Iterator[AuditEntry]:
        """Every change, unmasked read and refused attempt, oldest first, for one customer
        (refusals on its number before it was recorded included) or all."""
        log = self._log_reader()
        if number is not None:
            number = customer_number(number)
            logs = [AccessLog.id_for_number(number)]
            try:
                customer_id = self.customer_id(number)
                logs += [customer_id, AccessLog.id_for(customer_id)]
            except UnknownCustomer:
                if not list(log.events.get(logs[0], limit=1)):
                    raise
            events: list[Any] = sorted(
                (e for log_id in logs for e in log.events.get(log_id)),
                key=lambda e: cast(Any, e).timestamp,
            )
            found = entries(iter(events), dict.fromkeys(logs, number))
        else:
            found = entries(log._all_events(), {})
        return (e for e in found if actor is None or e.actor == actor)

    def _log_reader(self) -> CustomerLedger:
        """Where the log is read: this ledger, or its replica once the replica has
        replayed this ledger's last write (compared by LSN; ``ReplicaBehind`` if it has
        not within ``views_wait_seconds``)."""
        replica = self.replica
        if replica is None:
            return self
        if self._written_at is None and self.last_position <= 0:
            return replica  # nothing written here: any replica state is read as it is
        adapter = replica.adapter

        def caught_up() -> bool:
            replayed = None if adapter is None else adapter.log_position(replica.recorder)
            if replayed is not None and self._written_at is not None:
                return replayed >= self._written_at
            # a backend without LSNs: the log's own positions
            return (replica.recorder.max_notification_id() or 0) >= self.last_position

        if not poll_until(caught_up, self.views_wait_seconds):
            raise ReplicaBehind(
                f"the replica {replica.url.shown} had not replayed this ledger's last "
                f"write after {self.views_wait_seconds:g} s"
            )
        return replica

    def _all_events(self) -> Iterator[Any]:
        """The whole log in recorded order, a page at a time (constant memory)."""
        to_domain_event = self.mapper.to_domain_event
        return (to_domain_event(n) for n in notifications(self.recorder))

    @typed_store_failures
    def timeline(
        self,
        number: str | None = None,
        *,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        limit: int = 200,
        after: str | None = None,
    ) -> Page[TimelineEntry]:
        """Entries by business time, for one customer or all; dates are local days."""
        self.refresh()
        query = TimelineQuery(
            customer_id=None if number is None else self.customer_id(number),
            start=None if start is None else self.business_time(start),
            end=None if end is None else self.business_time(end),
            limit=limit,
            after=after,
        )
        return self.views.view("timeline").entries(query)

    @typed_store_failures
    def status(self, stage: Stage | str | None = None, owner: str | None = None) -> list[StatusRow]:
        try:
            wanted = None if stage is None else Stage(stage)
        except ValueError:
            raise InvalidValue(f"stage {shown(stage)} is not a stage") from None
        if owner is not None:
            owner = text(owner, "owner", max_len=200)  # no NUL or lone surrogate for SQL
        self.refresh()
        rows = self.views.view("status").rows(wanted, owner)
        return [r for r in rows if r.merged_into is None]  # merged: the survivor's row

    @typed_store_failures
    def board(self, as_of: datetime | date | str | None = None, idle_days: int = 30) -> Board:
        """Counts per stage, open complaints, at-risk and idle customers, reminders due."""
        if isinstance(idle_days, bool) or not isinstance(idle_days, int) or idle_days < 0:
            raise InvalidValue(f"idle_days must be a whole number of days, got {shown(idle_days)}")
        idle_days = min(idle_days, 365_000)  # further back than any record goes
        self.refresh()
        return board(self.views.view("status"), self.business_time(as_of), idle_days)

    # -- analytics (rules in customer_ledger.analytics; docs/analytics.md) ----------------

    @typed_store_failures
    def analytics(
        self,
        as_of: date | str,
        settings: AnalyticsSettings | None = None,
        *,
        actor: Actor | str | None = None,
    ) -> Analytics:
        """Every customer's ABC grade (computed and by hand), churn risk with its reasons
        and maintenance segment, as of the business date ``as_of``."""
        facts = self.analytics_facts(actor=actor)
        return analyse(facts, business_date(self, as_of), settings)

    @typed_store_failures
    def indicators(
        self,
        period: str = "month",
        *,
        start: date | str,
        end: date | str,
        settings: AnalyticsSettings | None = None,
    ) -> tuple[PeriodIndicators, ...]:
        """Monthly or quarterly indicators for each period overlapping ``start``..``end``."""
        first, last = business_date(self, start, "start"), business_date(self, end, "end")
        facts = self.analytics_facts()  # (counts and amounts only: no one's name is in them)
        return indicators_of(facts, period, first, last, settings)

    @typed_store_failures
    def reminders_due(
        self,
        as_of: date | str,
        within_days: int = 30,
        owner: str | None = None,
        settings: AnalyticsSettings | None = None,
        *,
        actor: Actor | str | None = None,
    ) -> list[DueReminder]:
        """Contract expiries, birthdays, anniversaries, follow-ups and reminders due
        within ``within_days`` of ``as_of`` (overdue ones included), by due date."""
        facts = self.analytics_facts(owner, actor)
        return reminders_of(facts, business_date(self, as_of), within_days, settings=settings)

    @typed_store_failures
    def history(self, number: str) -> list[Customer.Event]:
        """Every event of the customer, oldest first; ``CorruptEvent`` when one is missing
        (or cannot be read)."""
        customer_id = self.customer_id(number)
        log = self._log_reader()
        events: list[Customer.Event] = list(log.events.get(customer_id))  # type: ignore[arg-type]
        return list(continuous(events, customer_number(number), customer_id))

    def numbers(self) -> Iterator[str]:
        """Every customer number, in the order the customers were first recorded."""
        claims = notifications(self.recorder, topics=[CustomerNumber.Claimed.TOPIC])  # type: ignore[attr-defined]
        for claim in claims:
            yield self.mapper.to_domain_event(claim).number  # type: ignore[attr-defined]

    # -- the command pipeline --------------------------------------------------------------

    def _run(self, name: str, number: str, meta: dict[str, Any], /, **args: Any) -> CommandResult:
        """One command in its own transaction."""
        return self.execute(name, number, meta, args)

    def batch(self) -> Batch:
        """A unit of work: commands run on it are saved together by its ``save()``."""
        return Batch(self)

    @typed_store_failures  # a dropped connection or a held lock: StoreUnavailable / StoreBusy
    def execute(
        self,
        name: str,
        number: str,
        meta: dict[str, Any],
        args: dict[str, Any],
        batch: Batch | None = None,
    ) -> CommandResult:
        """Runs ``Customer.<name>(**args)`` as one command: checked, recorded, receipted;
        or, in a ``batch``, checked and kept there until the batch is saved."""
        self.refuse_if_read_only(f"record {name}")
        no_huge_numbers([number, meta, args])  # before any rule quotes one in a message
        given = checked_meta(meta, self.acting)
        actor: Actor = given["actor"]
        number = customer_number(number)
        try:
            self.policy.check(actor, name)
        except PermissionDenied:
            if batch is None:  # (a batch's refused command is run again alone: recorded then)
                self.record_denial(number, actor, name, given["reason"])
            raise
        command_id = given["command_id"]
        args = with_dates(name, args, self.timezone)  # "2024-02-02", as occurred_at takes it
        fingerprint = command_fingerprint(name, number, args, given["occurred_at"])
        if command_id is not None:
            done = self._receipt(command_id, fingerprint, batch)
            if done is not None:
                return done
        event_meta = Meta(
            actor=actor.id,
            role=actor.role,
            reason=given["reason"],
            command_id=command_id,
            correlation_id=given["correlation_id"],
            source_actor=given["source_actor"],
        )
        now = self.clock()
        when = self.business_time(given["occurred_at"] or now)
        claim: CustomerNumber | None = None
        if name == "first_contact":
            # a batch meets numbers claimed before it only when it saves
            in_store = batch is None and self._claim(number) is not None
            if in_store or (batch is not None and batch.claimed(number)):
                raise DuplicateCustomerNumber(f"customer number {number!r} is taken")
            keys = identity_keys(args.get("name"), args.get("type"), args.get("licence_no"))
            index = self._duplicate_index()
            found = [] if index is None else index.likely_duplicates(keys)
            pending = set() if batch is None else batch.pending_duplicates(keys)
            likely = tuple(sorted({n for n, _ in found} | pending))
            customer = Customer.first_contact(
                number=number, occurred_at=when, meta=event_meta, now=now,
                likely_duplicates=likely, **args,
            )  # fmt: skip
            claim = CustomerNumber(number=number, customer_id=customer.id)
        else:
            load = self._customer_for_command
            customer = load(number) if batch is None else batch.customer(number, load)
            if name != "forget":  # (the right to erasure outlives a merge)
                customer.refuse_if_merged()
            getattr(customer, name)(occurred_at=when, meta=event_meta, now=now, **args)
        recorded = len(customer.pending_events)
        receipt = None
        if command_id is not None:
            receipt = CommandReceipt.executed(
                command_id=command_id,
                fingerprint=fingerprint,
                customer_id=customer.id,
                number=number,
                version=customer.version,
                line=IMPORT_LINE.get(),
            )
        reindex = name in INDEXED_COMMANDS
        if batch is not None:
            batch.add(customer, claim, receipt, reindex)
            if claim is not None:  # its identity, for the batch's later first contacts
                batch.identify(number, keys)
            return CommandResult(customer.id, number, customer.version, events=recorded)
        try:
            self.save(customer, claim, receipt)
        except IntegrityError as error:
            if command_id is not None:
                done = self._receipt(command_id, fingerprint)
                if done is not None:
                    return done
            if claim is not None and CustomerNumber.id_for(number) in self.repository:
                raise DuplicateCustomerNumber(f"customer number {number!r} is taken") from error
            raise ConcurrencyConflict(
                f"customer {number} was changed by another writer; reload and retry"
            ) from error
        self._ids[number] = customer.id
        if reindex:
            self.index_duplicates([customer])
        self.after_command()
        return CommandResult(customer.id, number, customer.version, events=recorded)

    def index_duplicates(self, customers: Iterable[Customer]) -> None:
        """Writes the customers' rows of the duplicate index (keyed hashes of what makes
        them likely duplicates: ``domain.duplicates``), as they stand now."""
        index = self._duplicate_index()
        if index is None:
            return
        index.index_many((c.id, c.number, customer_keys(c)) for c in customers)

    def _duplicate_index(self) -> KeyStore | None:
        """The key store, which keeps the duplicate index; None for a ledger built from
        bare eventsourcing settings that says not where its keys are (it may record a
        company, which needs no key, but then finds no duplicates)."""
        try:
            return self.keys
        except KeyStoreUnknown as error:
            logger.warning("no duplicate index: %s", error)
            return None

    def duplicates(self) -> list[DuplicateGroup]:
        """Groups of customers that are likely one customer recorded more than once, with
        the reason (the same company name, licence or ID number, or an individual's
        phone); merged and forgotten customers are in none."""
        return groups(self.keys.index_rows())

    def reindex_duplicates(self, *, actor: Actor | str | None = None) -> int:
        """Rebuilds the duplicate index from every customer's history (a store recorded
        before the index existed); returns how many customers are indexed. Needs the
        policy's ``reindex_duplicates`` (admin, system); a refusal is recorded."""
        self.refuse_if_read_only("rebuild the duplicate index")
        self.check_or_record(self.acting(actor), "reindex_duplicates")
        indexed, page = 0, []
        for number in self.numbers():
            customer = self.customer(number)
            page.append((customer.id, customer.number, customer_keys(customer)))
            indexed += bool(page[-1][2])
            if len(page) == 500:  # a transaction a page
                self.keys.index_many(page)
                page = []
        self.keys.index_many(page)
        return indexed

    def _command_repository(self) -> Repository[UUID]:
        """Where commands load customers: eventsourcing's aggregate cache, each customer
        brought up to date by one read of its newer events (fast-forward) and handed out
        as a copy, so a refused or conflicting command leaves it untouched. The version
        check on save still refuses a stale write. Reads (``customer``, ``history``...)
        go to the store, so they verify what is stored."""
        if not self.command_cache_size:
            return self.repository
        return Repository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=self.command_cache_size,
        )

    def _customer_for_command(self, number: str) -> Customer:
        loads = self._command_loads
        customer_id = self.customer_id(number)
        with folding(number, customer_id):
            customer: Customer = loads.get(customer_id, deepcopy_from_cache=False)
        if loads.cache is not None:  # the cached customer itself: the command gets a copy
            customer = copy_of(customer)
        assert isinstance(customer, Customer)
        return customer

    def after_command(self) -> None:
        """With ``eager_views``, the views catch up right after each command (reads catch
        them up anyway; this is for readers of the view tables themselves).

        The command is already recorded here: a view that fails to catch up must not
        make it look failed, so the error is logged and the next read retries.
        """
        if self.eager_views:
            try:
                self.refresh()
            except Exception as error:
                logger.warning("views could not catch up (%s); the next read retries", error)
                logger.debug("view catch-up failure", exc_info=True)

    def _stored_receipt(self, command_id: str) -> CommandReceipt | None:
        """A receipt is one event: read with one query (the repository would look for a
        snapshot first), which makes re-running a done import line cheap."""
        created = list(self.events.get(CommandReceipt.id_for(command_id), limit=1))
        return None if not created else cast(CommandReceipt, cast(Any, created[0]).mutate(None))

    @typed_store_failures
    def stored_receipts(self, command_ids: Iterable[str]) -> dict[str, Receipt | None]:
        """The stored receipts of ``command_ids`` (None: it has none), read together
        (``Adapter.first_events``: one query a page where the backend can), as an import
        re-run looks up a thousand lines ahead. A receipt is its one event, which holds
        all a re-sent command is answered from. An id whose stored receipt cannot be read
        (damaged, or not a receipt) is left out of the answer: its command reads it alone,
        and only its line fails, as it would have without the look-up."""
        ids = {CommandReceipt.id_for(c): c for c in command_ids}
        if self.adapter is None:  # bare eventsourcing settings: one look-up each
            return self._stored_receipts_one_by_one(ids.values())
        found: dict[str, Receipt | None] = dict.fromkeys(ids.values())
        mapper = self.mapper
        for stored in self.adapter.first_events(self.recorder, list(ids)):
            key = stored.originator_id
            command_id = ids[key if isinstance(key, UUID) else UUID(key)]
            try:
                event = (  # (a receipt's chain has no head a command will seal after)
                    mapper.to_domain_event(stored, remember_head=False)
                    if isinstance(mapper, CattrsMapper)
                    else mapper.to_domain_event(stored)
                )
            except CorruptEvent:
                event = None
            if isinstance(event, CommandReceipt.Executed):
                found[command_id] = event
            else:
                del found[command_id]
        return found

    def _stored_receipts_one_by_one(self, command_ids: Iterable[str]) -> dict[str, Receipt | None]:
        found: dict[str, Receipt | None] = {}
        for command_id in command_ids:
            with contextlib.suppress(CorruptEvent):  # (left out: its command reads it alone)
                found[command_id] = self._stored_receipt(command_id)
        return found

    def _receipt(
        self, command_id: str, fingerprint: str, batch: Batch | None = None
    ) -> CommandResult | None:
        """A batch knows its own receipts and those it looked up ahead
        (``Batch.look_up_receipts``), and looks for other stored ones while its lines
        are found done (``Batch.looks_up_receipts``); one stored otherwise fails its save."""
        receipt: Receipt | None = None if batch is None else batch.receipt(command_id)
        if receipt is None and batch is not None and batch.looked_up(command_id):
            receipt = batch.stored_receipt(command_id)
            batch.looks_up_receipts = receipt is not None  # as if looked up just now
        elif receipt is None and (batch is None or batch.looks_up_receipts):
            receipt = self._stored_receipt(command_id)
            if batch is not None:
                batch.looks_up_receipts = receipt is not None
        if receipt is None:
            return None
        if receipt.fingerprint != fingerprint:
            raise CommandIdReused(f"command_id {command_id!r} was used for another command")
        return CommandResult(receipt.customer_id, receipt.number, receipt.version, replayed=True)

    # -- commands: each takes occurred_at, actor, reason, command_id, correlation_id ------

    # -- merging two records of one customer (domain.merging) -------------------------------

    @typed_store_failures
    def merge(
        self,
        number: str,
        *,
        into: str,
        reason: str,
        actor: Actor | str | None = None,
        occurred_at: datetime | date | str | None = None,
        command_id: str | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Merges customer ``number`` into customer ``into`` (the survivor), in one
        transaction and rewriting nothing: the survivor records ``CustomerAbsorbed`` with
        what ``number`` brings (contacts, contracts in force, open complaints, tags,
        revenue, dated interactions and purchases), ``number`` records
        ``MergedIntoCustomer`` and refuses every later command (``merged_into``) but
        ``forget``. Needs a role allowed to ``merge`` (manager, admin); a refusal is
        recorded. Returns the survivor's result."""
        self.refuse_if_read_only("merge customers")
        meta = {"actor": actor, "reason": reason, "occurred_at": occurred_at}
        meta |= {"command_id": command_id, "correlation_id": correlation_id}
        no_huge_numbers([number, into, meta])
        given = checked_meta(meta, self.acting)
        who: Actor = given["actor"]
        absorbed_no, survivor_no = customer_number(number), customer_number(into)
        try:
            self.policy.check(who, "merge")
        except PermissionDenied:
            self.record_denial(
                absorbed_no, who, "merge", reason if isinstance(reason, str) else None
            )
            raise
        why = text(reason, "reason", max_len=500)
        fingerprint = command_fingerprint("merge", absorbed_no, {"into": survivor_no}, occurred_at)
        if command_id is not None:
            done = self._receipt(command_id, fingerprint)
            if done is not None:
                return done
        event_meta = Meta(
            actor=who.id, role=who.role, reason=why, command_id=command_id,
            correlation_id=given["correlation_id"], source_actor=given["source_actor"],
        )  # fmt: skip
        now = self.clock()
        when = self.business_time(occurred_at or now)
        absorbed = self._customer_for_command(absorbed_no)
        survivor = self._customer_for_command(survivor_no)
        absorbed.refuse_if_merged()
        brought = contribution(absorbed, self.events.get(absorbed.id), survivor)
        survivor.absorb(brought, occurred_at=when, meta=event_meta, now=now)
        absorbed.merge_into(survivor, occurred_at=when, meta=event_meta, now=now)
        receipt = None
        if command_id is not None:
            receipt = CommandReceipt(
                command_id=command_id, fingerprint=fingerprint, customer_id=survivor.id,
                number=survivor.number, version=survivor.version,
            )  # fmt: skip
        try:
            self.save(survivor, absorbed, receipt)
        except IntegrityError as error:
            if command_id is not None:
                done = self._receipt(command_id, fingerprint)
                if done is not None:
                    return done
            raise ConcurrencyConflict(
                f"{absorbed.number} or {survivor.number} was changed by another writer; retry"
            ) from error
        self.index_duplicates([absorbed, survivor])  # the absorbed one has no keys now
        self.after_command()
        return CommandResult(survivor.id, survivor.number, survivor.version, events=2)

    # -- personal data (docs/privacy.md) ---------------------------------------------------

    @typed_store_failures
    def forget(
        self,
        number: str,
        *,
        actor: Actor | str,
        reason: str,
        command_id: str | None = None,
        scrub: bool = True,
        vacuum_full: bool = False,
    ) -> ForgetResult:
        """Erases the customer's personal data for good, keeping its history.

        Records ``CustomerForgotten`` (the audited fact) first, then destroys the
        customer's key, lets the views rewrite its rows and scrubs the store (VACUUM;
        ``vacuum_full`` rewrites PostgreSQL's views too; ``scrub=False`` leaves it to
        a later ``ledger.keys.scrub()``, e.g. after a batch). Needs a role allowed to
        ``forget`` (admin); a second forget raises ``AlreadyForgotten``.
        """
        meta = {"actor": actor, "reason": text(reason, "reason", max_len=500)}
        try:
            result = self._run("forget", number, {**meta, "command_id": command_id})
        except AlreadyForgotten:
            customer_id = self.customer_id(number)
            if self.keys.holds_key(customer_id):  # an earlier forget stopped half-way
                shred(self, customer_id, scrub=scrub, full=vacuum_full)
            raise
        destroyed, notes = shred(self, result.customer_id, scrub=scrub, full=vacuum_full)
        return ForgetResult(
            result.customer_id, result.number, result.version, destroyed, tuple(notes),
            replayed=result.replayed,
        )  # fmt: skip

    def record_personal_read(
        self, number: str, *, actor: Actor | str | None, why: str | None, what: str
    ) -> None:
        """Checks that ``actor`` may read the customer's personal data unmasked, and
        records the read (for reads other than ``profile``, e.g. ``history --unmasked``)."""
        reader = self.acting(actor)
        self.may_read(reader, what, number, why)
        reason = text(why, "why (the reason for reading)")
        self._record_read(self.profile(number), reader, reason, what)
