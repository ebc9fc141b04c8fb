"""What a database error means for a command, and waiting before trying again.

eventsourcing passes a driver's error up as the ``__cause__`` of one of its own
(``OperationalError``, ``IntegrityError``...). The adapter whose driver raised it says
what it means (``Adapter.classify``: busy, unavailable, a schema race); this module turns
that into the ledger's typed errors (``StoreBusy``, ``StoreUnavailable``, ``StoreError``),
so that no driver exception leaves a command. The core knows no error codes.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from attrs import frozen
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
)

from customer_ledger.errors import StoreBusy, StoreDamaged, StoreError, StoreUnavailable
from customer_ledger.storage.port import Adapter, Failure
from customer_ledger.storage.registry import classify as classify_installed

T = TypeVar("T")
P = ParamSpec("P")
logger = logging.getLogger(__name__)


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


OPENING_BACKOFF = Backoff(attempts=8, first_delay=0.02, max_delay=0.5)


Classify = Callable[[BaseException], Failure | None]


def classifier(adapter: Adapter | None) -> Classify:
    """``adapter.classify``, or (no adapter at hand) every installed adapter's."""
    return classify_installed if adapter is None else adapter.classify


def retry_opening(
    open_store: Callable[[], T],
    *,
    backoff: Backoff = OPENING_BACKOFF,
    adapter: Adapter | None = None,
) -> T:
    """``open_store()``, again if it lost a schema race. Opening a store runs idempotent
    schema statements (``CREATE ... IF NOT EXISTS``, ``CREATE OR REPLACE FUNCTION``), and
    PostgreSQL fails one of two processes running them at the same instant ("tuple
    concurrently updated", a duplicate key in its catalog); SQLite refuses a connection
    "database is locked" without waiting while another one turns a new file into a
    write-ahead log: a driver's own "busy" while opening is a race too. Anything else is
    raised."""
    classify = classifier(adapter)
    for attempt in range(1, backoff.attempts + 1):
        try:
            return open_store()
        except Exception as error:
            if isinstance(error, PersistenceError):
                race = classify(error.__cause__ or error) == "race"
            else:
                race = classify(error) in ("race", "busy")
            if attempt >= backoff.attempts or not race:
                raise
            logger.debug("opening the store lost a schema race (%s); retrying", error)
            time.sleep(backoff.delay(attempt))
    raise ValueError(f"backoff.attempts must be 1 or more, got {backoff.attempts}")


# -- what a database error means for the command ----------------------------------------


def store_failure(error: PersistenceError, adapter: Adapter | None = None) -> StoreError:
    """The typed ledger error for a database error eventsourcing passed up."""
    cause = error.__cause__ or error
    meaning = classifier(adapter)(cause)
    if meaning == "busy":
        return StoreBusy(f"the store is busy (another writer holds its lock): {cause}")
    if meaning == "damaged":
        return StoreDamaged(f"the store cannot read or take this: {str(cause).strip()}")
    if isinstance(error, (OperationalError, InterfaceError)):
        return StoreUnavailable(f"the store failed mid-command: {str(cause).strip()}")
    return StoreError(f"the store refused the command: {str(cause).strip()}")


def typed_store_failures(fn: Callable[P, T]) -> Callable[P, T]:
    """Decorator for the commands and reads of an object with an ``adapter``: database
    errors leave the call as ``StoreBusy`` / ``StoreUnavailable`` / ``StoreDamaged`` /
    ``StoreError``, never as driver exceptions."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except PersistenceError as error:
            raise store_failure(error, getattr(args[0], "adapter", None)) from error

    return wrapper


def opening_failure(error: Exception, adapter: Adapter, shown: str) -> StoreError | None:
    """The typed error for a failure to open the store at ``shown`` (its URL, password
    left out), or None when ``error`` is not the store's (a bug: raised as it is).
    Opening runs driver calls outside eventsourcing's error translation (SQLite's
    ``PRAGMA journal_mode`` on a file that is not a database), so both kinds arrive."""
    cause = error.__cause__ if isinstance(error, PersistenceError) else error
    meaning = adapter.classify(cause) if cause is not None else None
    why = str(cause or error).strip()
    if meaning == "damaged":
        return StoreDamaged(
            f"the store at {shown} cannot be opened: {why} (is it a ledger's store? "
            "restore it from a backup, or check the URL)"
        )
    if meaning is not None or isinstance(error, (PersistenceError, OSError)):
        return StoreUnavailable(f"the store at {shown} cannot be opened: {why}")
    return None


def is_store_failure(error: BaseException, adapter: Adapter | None = None) -> bool:
    """Whether ``error`` is the store's connection failing, being busy, or another process
    having written a view first: worth reconnecting and re-reading positions for, unlike
    a bug or bad data."""
    if isinstance(error, (OperationalError, InterfaceError, IntegrityError)):
        return True
    classify = classifier(adapter)
    if isinstance(error, PersistenceError):
        return classify(error.__cause__ or error) == "race"  # processes opening at once
    if isinstance(error, (StoreBusy, StoreUnavailable)):
        return True
    # raised by the driver directly, e.g. in a subscription's thread
    return classify(error) in ("busy", "unavailable")
