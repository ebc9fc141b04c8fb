"""Wall-clock and CPU time of one measured block.

Rates are computed from wall-clock time (what a user waits for). CPU time is kept
beside it: on a shared machine it shows how much of a wall-clock number was this
process working and how much was waiting (for fsync, the server, or other processes).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def stopwatch() -> Iterator[dict[str, float]]:
    """Fills the yielded dict with ``seconds`` and ``cpu_seconds`` when the block ends."""
    times: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield times
    finally:
        times["seconds"] = time.perf_counter() - wall
        times["cpu_seconds"] = time.process_time() - cpu


def throughput(events: int, times: dict[str, float], **extra: Any) -> dict[str, Any]:
    return {
        "events": events,
        **times,
        "rate": events / times["seconds"],
        "cpu_rate": events / times["cpu_seconds"] if times["cpu_seconds"] else None,
        **extra,
    }


def milliseconds_at(samples: list[float], *percents: int) -> tuple[float, ...]:
    """The samples' (seconds) ``percents``-th percentiles, in milliseconds."""
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return tuple(cuts[p - 1] * 1000 for p in percents)
