"""The event log in notification order, a page at a time: the one loop every reader of
the whole log goes through (the views' catch-up, the audit, the application's scans)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from eventsourcing.persistence import Notification

PAGE_SIZE = 1000


class Log(Protocol):
    """What pages are read from: an eventsourcing ``ApplicationRecorder``."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...


def pages(
    log: Log,
    *,
    start: int = 1,
    stop: int | None = None,
    topics: Sequence[str] = (),
    page_size: int = PAGE_SIZE,
) -> Iterator[Sequence[Notification]]:
    """Pages of notifications from ``start`` to ``stop`` (inclusive; default: the end),
    of the given ``topics`` only if any are given. Memory is bounded by one page."""
    while True:
        page = log.select_notifications(start=start, limit=page_size, stop=stop, topics=topics)
        if page:
            yield page
        if len(page) < page_size:
            return
        start = page[-1].id + 1


def notifications(log: Log, **options: Any) -> Iterator[Notification]:
    """The notifications of ``pages(log, **options)``, one by one."""
    for page in pages(log, **options):
        yield from page
