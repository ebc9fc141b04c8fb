"""Keeping the live views current from a separate process (``customer-ledger follow``).

The backlog is caught up in pages (fast); after that, where the store pushes
notifications (PostgreSQL LISTEN/NOTIFY), eventsourcing's ``ProjectionRunner`` applies
each new event as it is recorded; elsewhere (SQLite) the log is polled. Either way the
views' tracking makes every event count exactly once, even across restarts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from eventsourcing.projection import ProjectionRunner

from customer_ledger.projections.engine import catch_up, projections_for
from customer_ledger.projections.projectors import PROJECTIONS
from customer_ledger.projections.views import KINDS

POLL_SECONDS = 0.5
Report = Callable[[str], None]


def follow(
    ledger: Any,
    stop: threading.Event,
    *,
    poll_seconds: float = POLL_SECONDS,
    report: Report | None = None,
) -> int:
    """Runs until ``stop`` is set; returns how many (event, view) pairs were applied."""
    say = report or (lambda _: None)
    applied = catch_up(ledger, projections_for(ledger.views))
    say(f"caught up: {applied} event applications")
    view_classes = {kind: ledger.views.runner_view_class(kind) for kind in KINDS}
    if all(view_classes.values()):
        say("following with ProjectionRunner (LISTEN/NOTIFY)")
        _run_projection_runners(ledger, view_classes, stop)
        return applied
    say(f"following by polling every {poll_seconds}s")
    projections = projections_for(ledger.views)
    while not stop.wait(poll_seconds):
        applied += catch_up(ledger, projections)
    return applied


def _run_projection_runners(
    ledger: Any, view_classes: dict[str, Any], stop: threading.Event
) -> None:
    env = dict(ledger.env)
    runners = [
        ProjectionRunner(
            application_class=type(ledger),
            projection_class=PROJECTIONS[kind],  # type: ignore[index]
            view_class=view_class,
            env=env,
        )
        for kind, view_class in view_classes.items()
    ]
    try:
        while not stop.is_set():
            for runner in runners:
                runner.run_forever(timeout=0.1)  # re-raises an error of the runner's thread
    finally:
        for runner in runners:
            runner.stop()
