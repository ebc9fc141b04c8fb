"""Transient store failures: telling them apart, and retrying the commands they stopped.

Three failures say nothing about the command itself and pass when tried again:

* ``ConcurrencyConflict``: another writer changed the customer between this command's
  read and its write. The write was refused whole: nothing was recorded.
* ``StoreBusy``: another writer held the store's lock past the lock timeout. The write
  never started: nothing was recorded.
* ``StoreUnavailable``: the connection failed mid-command. The transaction rolled back,
  unless the failure hit its very commit, in which case the command may be recorded
  and the caller cannot know.

The first two are safe to retry. The third is safe only under a ``command_id``: the
ledger keeps a receipt per command id in the command's own transaction, so a command
that was in fact recorded is answered from its receipt (``replayed=True``) instead of
being recorded twice. ``retry_command`` therefore gives every attempt the SAME command
id, the caller's or one it makes up once. Retrying without a command id can duplicate a
command only when its first attempt's outcome was unknown. (On PostgreSQL that case can
also come back as a conflict: eventsourcing itself writes again, on a new connection,
when a connection fails mid-write, and if the failure hit the commit the second write
meets the first one's rows. With a command id, the receipt answers it.)

Backoff is exponential with full jitter, so writers that collided do not collide again
in step.
"""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from attrs import frozen
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)

from customer_ledger.domain.errors import (
    ConcurrencyConflict,
    LedgerError,
    StoreBusy,
    StoreError,
    StoreUnavailable,
)

T = TypeVar("T")
P = ParamSpec("P")
logger = logging.getLogger(__name__)

RECORDED_NOTHING: tuple[type[LedgerError], ...] = (ConcurrencyConflict, StoreBusy)
"""Failures that guarantee the command recorded nothing: retry freely."""
TRANSIENT: tuple[type[LedgerError], ...] = (*RECORDED_NOTHING, StoreUnavailable)
"""Also failures of unknown outcome: retry only under the same command_id."""

OnRetry = Callable[[LedgerError, int, float], None]  # (error, attempt that failed, delay)

# SQLite's "database is locked" / "database table is locked"; PostgreSQL's
# lock_not_available (lock_timeout), serialization_failure and deadlock_detected.
_SQLITE_BUSY_CODES = frozenset({5, 6})
_POSTGRES_BUSY_STATES = frozenset({"55P03", "40001", "40P01"})
# unique_violation (in the catalog), duplicate_table, duplicate_object
_POSTGRES_SCHEMA_RACES = frozenset({"23505", "42P07", "42710"})


@frozen
class Backoff:
    """How often and how patiently to retry: ``attempts`` in all (the first included),
    waiting up to ``first_delay * multiplier**n`` (capped at ``max_delay``) seconds,
    a random fraction of it (full jitter), between attempts. A busy store was already
    waited for (its lock timeout) on each attempt, so it gets ``busy_attempts`` only."""

    attempts: int = 10
    busy_attempts: int = 3
    first_delay: float = 0.01
    max_delay: float = 1.0
    multiplier: float = 2.0

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """The wait after the ``failures``-th failure in a row (1, 2, ...)."""
        exponent = min(max(failures - 1, 0), 64)  # no float overflow after long outages
        ceiling = min(self.max_delay, self.first_delay * self.multiplier**exponent)
        return (rng or _rng).uniform(0, ceiling)


DEFAULT_BACKOFF = Backoff()
_rng = random.Random()


def retrying(
    fn: Callable[[], T],
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
    retry_on: tuple[type[LedgerError], ...] = RECORDED_NOTHING,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
) -> T:
    """``fn()``, called again after each ``retry_on`` failure, at most ``backoff.attempts``
    times in all; the last failure is raised. Any other error is raised at once.

    The default ``retry_on`` holds only failures that recorded nothing; pass
    ``TRANSIENT`` only when every call of ``fn`` carries the same ``command_id``.
    """
    busy = 0
    for attempt in range(1, backoff.attempts + 1):
        try:
            return fn()
        except retry_on as error:
            busy += isinstance(error, StoreBusy)
            if attempt >= backoff.attempts or busy >= backoff.busy_attempts:
                raise
            delay = backoff.delay(attempt, rng)
            logger.debug("attempt %d failed (%s); retrying in %.3fs", attempt, error, delay)
            if on_retry is not None:
                on_retry(error, attempt, delay)
            (sleep or time.sleep)(delay)
    raise ValueError(f"backoff.attempts must be 1 or more, got {backoff.attempts}")


def retried(
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
    retry_on: tuple[type[LedgerError], ...] = RECORDED_NOTHING,
    on_retry: OnRetry | None = None,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorator form of ``retrying``: the decorated call is retried as a whole."""

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            return retrying(
                lambda: fn(*args, **kwargs), backoff=backoff, retry_on=retry_on,
                on_retry=on_retry,
            )  # fmt: skip

        return wrapper

    return decorate


def retry_command(
    command: Callable[..., T],
    /,
    *args: Any,
    backoff: Backoff = DEFAULT_BACKOFF,
    on_retry: OnRetry | None = None,
    **kwargs: Any,
) -> T:
    """Runs a ledger command, e.g. ``retry_command(ledger.tag, "A001", tag="key")``,
    retrying every transient failure. All attempts carry the same ``command_id`` (the
    one given, else a new one), so the command is recorded at most once."""
    if kwargs.get("command_id") is None:
        kwargs["command_id"] = new_command_id()
    return retrying(
        lambda: command(*args, **kwargs), backoff=backoff, retry_on=TRANSIENT, on_retry=on_retry
    )


def new_command_id() -> str:
    return f"retry:{uuid.uuid4()}"


OPENING_BACKOFF = Backoff(attempts=8, first_delay=0.02, max_delay=0.5)


def retry_opening(open_store: Callable[[], T], *, backoff: Backoff = OPENING_BACKOFF) -> T:
    """``open_store()``, again if it lost a schema race. Opening a store runs idempotent
    schema statements (``CREATE ... IF NOT EXISTS``, ``CREATE OR REPLACE FUNCTION``), and
    PostgreSQL fails one of two processes running them at the same instant ("tuple
    concurrently updated", a duplicate key in its catalog); SQLite refuses a connection
    "database is locked" without waiting while another one turns a new file into a
    write-ahead log. Anything else is raised."""
    for attempt in range(1, backoff.attempts + 1):
        try:
            return open_store()
        except (PersistenceError, sqlite3.OperationalError) as error:
            race = (
                _is_busy(error)
                if isinstance(error, sqlite3.OperationalError)
                else (_is_schema_race(error))
            )
            if attempt >= backoff.attempts or not race:
                raise
            logger.debug("opening the store lost a schema race (%s); retrying", error)
            time.sleep(backoff.delay(attempt))
    raise ValueError(f"backoff.attempts must be 1 or more, got {backoff.attempts}")


# -- what a database error means for the command ----------------------------------------


def store_failure(error: PersistenceError) -> StoreError:
    """The typed ledger error for a database error eventsourcing passed up."""
    cause = error.__cause__ or error
    if _is_busy(cause):
        return StoreBusy(f"the store is busy (another writer holds its lock): {cause}")
    if isinstance(error, (OperationalError, InterfaceError)):
        return StoreUnavailable(f"the store failed mid-command: {str(cause).strip()}")
    return StoreError(f"the store refused the command: {str(cause).strip()}")


def typed_store_failures(fn: Callable[P, T]) -> Callable[P, T]:
    """Decorator for the command pipeline: database errors leave the call as
    ``StoreBusy`` / ``StoreUnavailable`` / ``StoreError``, never as driver exceptions."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except PersistenceError as error:
            raise store_failure(error) from error

    return wrapper


def is_store_failure(error: BaseException) -> bool:
    """Whether ``error`` is the store's connection failing, being busy, or another process
    having written a view first: worth reconnecting and re-reading positions for, unlike
    a bug or bad data."""
    if isinstance(error, (OperationalError, InterfaceError, IntegrityError)):
        return True
    if isinstance(error, PersistenceError) and _is_schema_race(error):
        return True  # e.g. processes opening the store at the same instant
    if isinstance(error, (StoreBusy, StoreUnavailable)):
        return True
    return any(  # raised by the driver directly, e.g. in a subscription's thread
        cls.__name__ in ("OperationalError", "InterfaceError")
        and cls.__module__.split(".")[0] in ("psycopg", "sqlite3")
        for cls in type(error).__mro__
    )


def _is_schema_race(error: PersistenceError) -> bool:
    cause = error.__cause__ or error
    state = getattr(cause, "sqlstate", None)
    return state in _POSTGRES_SCHEMA_RACES or (state == "XX000" and "concurrently" in str(cause))


def _is_busy(cause: BaseException) -> bool:
    if isinstance(cause, sqlite3.OperationalError):
        code = getattr(cause, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in _SQLITE_BUSY_CODES
        return "locked" in str(cause) or "busy" in str(cause)
    return getattr(cause, "sqlstate", None) in _POSTGRES_BUSY_STATES
