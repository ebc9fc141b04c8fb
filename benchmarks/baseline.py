"""The baseline: plain eventsourcing on the same backend, measured in the same run.

An ``Application`` subclass and a minimal ``Aggregate`` with one event type (besides
its creation), stored with eventsourcing's default JSON transcoder and its own
recorders (``eventsourcing.sqlite``, ``eventsourcing.postgres``, ``eventsourcing.popo``)
— no cattrs, no hash chain, no views. Its event carries about as much as a logged
interaction (a text, a business time, an amount), so both sides move similar bytes.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from benchmarks.history import START
from benchmarks.timing import stopwatch, throughput

PAGE = 1_000


class Item(Aggregate):
    """One thing that things happen to."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Recorded")
    def record(self, what: str, occurred_at: datetime, amount: Decimal) -> None:
        self.count += 1


class Baseline(Application[UUID]):
    name = "Baseline"


def open_baseline(env: dict[str, str]) -> Baseline:
    return Baseline(env)


def record_items(app: Baseline, sizes: list[int], batch: int = PAGE) -> list[UUID]:
    """Items with these event counts (creation included), ``batch`` events per save."""
    ids, pending, count = [], [], 0
    for size in sizes:
        item = Item(name=f"item {len(ids)}")
        for k in range(size - 1):
            _record(item, k)
        ids.append(item.id)
        pending.append(item)
        count += size
        if count >= batch:
            app.save(*pending)
            pending, count = [], 0
    if pending:
        app.save(*pending)
    return ids


def _record(item: Item, k: int) -> None:
    item.record(what=f"call {k}", occurred_at=START + timedelta(minutes=k), amount=Decimal("19.90"))


def write_rate(app: Baseline, events: int) -> dict[str, Any]:
    """Bulk recording: ``events`` events in 10-event items, a thousand per transaction."""
    sizes = [10] * (events // 10) + ([events % 10] if events % 10 else [])
    with stopwatch() as times:
        record_items(app, sizes)
    return throughput(events, times)


def read_and_decode(app: Any, stop: int, page: int = PAGE) -> dict[str, Any]:
    """Pages through the first ``stop`` notifications and decodes each with the mapper."""
    recorder, to_domain_event = app.recorder, app.mapper.to_domain_event
    start, count = 1, 0
    with stopwatch() as times:
        while start <= stop:
            notifications = recorder.select_notifications(start=start, limit=page, stop=stop)
            if not notifications:
                break
            for notification in notifications:
                to_domain_event(notification)
            count += len(notifications)
            start = notifications[-1].id + 1
    return throughput(count, times)


def commands(app: Baseline, ids: list[UUID], count: int) -> dict[str, Any]:
    """Load an item, record one event, save: ``count`` times, round robin over ``ids``."""
    now = datetime.now(START.tzinfo)
    with stopwatch() as times:
        for k in range(count):
            item = app.repository.get(ids[k % len(ids)])
            item.record(what=f"bench {k}", occurred_at=now, amount=Decimal("19.90"))
            app.save(item)
    return throughput(count, times)


def full_load(app: Baseline, item_id: UUID, repeat: int) -> dict[str, Any]:
    """Milliseconds to load the whole item, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        app.repository.get(item_id)
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": median(times), "max_ms": max(times), "samples": len(times)}
