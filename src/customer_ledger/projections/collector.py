"""The cyclic garbage collector, paused while a rebuild or an import allocates.

A rebuild or an import allocates millions of small objects (events, values, rows) that
reference counting frees; the collector's automatic passes over them found nothing to
free and cost 10-19% of a rebuild (issue 17). Inside ``paused_collector()`` it does not
run on its own: what was alive before is frozen (never scanned again until the end),
and the loop calls ``collect_young()`` at each page, so cyclic garbage made while
paused is still freed, once per page instead of every 700 allocations. On leaving,
even on an error, the collector is as it was.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # paused_collector() blocks open: only the outermost pauses and restores
_was_enabled = True


@contextmanager
def paused_collector() -> Iterator[None]:
    """No automatic collections inside; the collector restored after, even on error."""
    global _depth, _was_enabled
    with _lock:
        _depth += 1
        outermost = _depth == 1
        if outermost:
            _was_enabled = gc.isenabled()
            gc.disable()
            gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if outermost:
                gc.unfreeze()
                if _was_enabled:
                    gc.enable()


def collect_young() -> None:
    """Frees the cyclic garbage of the objects made since the last call (generations 0
    and 1; survivors move to the oldest), if the collector is paused here."""
    if _depth and _was_enabled:
        gc.collect(1)
