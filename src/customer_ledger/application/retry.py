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
import time
import uuid
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from customer_ledger.errors import (
    ConcurrencyConflict,
    LedgerError,
    StoreBusy,
    StoreUnavailable,
)
from customer_ledger.storage.failures import DEFAULT_BACKOFF, Backoff

T = TypeVar("T")
P = ParamSpec("P")
logger = logging.getLogger(__name__)

RECORDED_NOTHING: tuple[type[LedgerError], ...] = (ConcurrencyConflict, StoreBusy)
"""Failures that guarantee the command recorded nothing: retry freely."""
TRANSIENT: tuple[type[LedgerError], ...] = (*RECORDED_NOTHING, StoreUnavailable)
"""Also failures of unknown outcome: retry only under the same command_id."""

OnRetry = Callable[[LedgerError, int, float], None]  # (error, attempt that failed, delay)


def retrying(
    fn: Callable[[], T],
    *,
    backoff: Backoff = DEFAULT_BACKOFF,
    retry_on: tuple[type[LedgerError], ...] = RECORDED_NOTHING,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], None] | None = None,
    rng: Any = None,
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


__all__ = [
    "RECORDED_NOTHING",
    "TRANSIENT",
    "Backoff",
    "new_command_id",
    "retried",
    "retry_command",
    "retrying",
]
