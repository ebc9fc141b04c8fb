"""Keeping the live views current from a separate process (``customer-ledger follow``).

The backlog is caught up in pages (fast); after that, where the store pushes
notifications (PostgreSQL LISTEN/NOTIFY), eventsourcing's ``ProjectionRunner`` applies
each new event as it is recorded; elsewhere (SQLite) the log is polled. Either way the
views' tracking makes every event count exactly once, even across restarts.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from attrs import define, field
from eventsourcing.projection import ProjectionRunner

from customer_ledger.errors import CorruptEvent
from customer_ledger.projections.engine import catch_up, projections_for
from customer_ledger.projections.fold import Damage
from customer_ledger.projections.projectors import PROJECTIONS
from customer_ledger.projections.views import KINDS, Kind
from customer_ledger.storage.failures import Backoff, is_store_failure
from customer_ledger.storage.registry import adapter_for

POLL_SECONDS = 0.5
RECONNECT = Backoff(first_delay=0.2, max_delay=5.0)  # its attempts do not apply: until stop
Report = Callable[[str], None]


@define
class _Progress:
    applied: int = 0  # (event, view) pairs
    failures: int = 0  # store failures in a row
    damaged: dict[UUID, Damage] = field(factory=dict)  # customers set aside, reported once

    def note(self, projections: Iterable[Any], say: Report) -> None:
        """Reports each customer a projection newly set aside."""
        for projection in projections:
            for customer_id, damage in projection.damaged.items():
                if customer_id not in self.damaged:
                    self.damaged[customer_id] = damage
                    who = damage.number or str(customer_id)
                    say(f"customer {who} set aside at version {damage.version}: {damage.reason}")


def follow(
    ledger: Any,
    stop: threading.Event,
    *,
    poll_seconds: float = POLL_SECONDS,
    report: Report | None = None,
    reconnect: Backoff = RECONNECT,
) -> int:
    """Runs until ``stop`` is set; returns how many (event, view) pairs were applied.

    A failing store (connection cut, server restarting, lock held too long) does not
    end it: the failure is reported and following starts over from the views' tracked
    positions after a growing pause, so no event is skipped or applied twice. A customer
    whose events cannot all be read is set aside and reported, and the others followed.
    """
    say = report or (lambda _: None)
    progress = _Progress()
    while not stop.is_set():
        try:
            _follow_once(ledger, stop, poll_seconds, say, progress)
        except CorruptEvent as error:  # met by eventsourcing's runner, which cannot skip it:
            say(f"an event cannot be read ({error}); catching up past it")
            continue  # the paged catch-up sets its customer aside, then the runners resume
        except Exception as error:
            if not is_store_failure(error):
                raise
            progress.failures += 1
            delay = reconnect.delay(progress.failures)
            say(f"store failure ({type(error).__name__}: {error}); reconnecting in {delay:.1f}s")
            stop.wait(delay)
    return progress.applied


def _follow_once(
    ledger: Any, stop: threading.Event, poll_seconds: float, say: Report, progress: _Progress
) -> None:
    projections = projections_for(ledger.views, ledger.personal)
    progress.applied += catch_up(ledger, projections)
    progress.failures = 0
    progress.note(projections, say)
    say(f"caught up: {progress.applied} event applications")
    view_classes = {kind: ledger.views.runner_view_class(kind) for kind in KINDS}
    pushed = ledger.url.views is None or ledger.url.scheme == "postgresql"  # the log too
    if pushed and all(view_classes.values()):
        say("following with ProjectionRunner (LISTEN/NOTIFY)")
        _run_projection_runners(ledger, view_classes, stop, progress, say)
        return
    say(f"following by polling every {poll_seconds}s")
    while not stop.wait(poll_seconds):
        progress.applied += catch_up(ledger, projections)
        progress.note(projections, say)


def _run_projection_runners(
    ledger: Any,
    view_classes: dict[Kind, Any],
    stop: threading.Event,
    progress: _Progress,
    say: Report,
) -> None:
    env = dict(ledger.env)
    projection_classes = {kind: PROJECTIONS[kind].bound(ledger.personal) for kind in view_classes}
    if ledger.url.views is not None:
        # each runner makes its view from the environment under its projection's name
        where = ledger.url.views_url
        views_env = adapter_for(where).application_env(where)
        for projection_class in projection_classes.values():
            name = projection_class.name.upper()
            env.update({f"{name}_{key}": value for key, value in views_env.items()})
    runners: list[ProjectionRunner[Any, Any]] = []
    try:
        for kind, view_class in view_classes.items():  # each may fail: the server is down
            runners.append(
                ProjectionRunner(
                    application_class=type(ledger),
                    projection_class=projection_classes[kind],
                    view_class=view_class,
                    env=env,
                )
            )
        counted = progress.applied
        while not stop.is_set():
            for runner in runners:
                runner.run_forever(timeout=0.1)  # re-raises an error of the runner's thread
            progress.applied = counted + sum(
                getattr(runner.projection, "applied", 0) for runner in runners
            )
            progress.note((runner.projection for runner in runners), say)
    finally:
        for runner in runners:
            _close(runner)


def _close(runner: ProjectionRunner[Any, Any]) -> None:
    """Stops the runner's threads and closes its application's connections, so a
    reconnecting follower does not leak a pool per failure."""
    runner.stop()
    with contextlib.suppress(Exception):  # its error, if any, has been raised already
        runner.__exit__(None, None, None)
