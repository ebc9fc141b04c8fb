"""What a run measured with: which optional ledger features were on, and the machine.

Features are read from what the store actually holds, not from settings, so a number
in a report can always be traced to whether events were chained, encrypted, and so on.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.projections.views import KINDS

ROOT = Path(__file__).resolve().parent.parent


def ledger_features(ledger: CustomerLedger) -> dict[str, Any]:
    """Hash chain and encryption as found in stored bytes; snapshots, cache, views."""
    chained = encrypted = None
    start = 1
    while chained is None or encrypted is None:
        page = ledger.recorder.select_notifications(start=start, limit=500)
        for n in page:
            if n.topic.startswith("customer_ledger.Customer.") and chained is None:
                chained = n.state[:1] == b"\xff"  # chain.MAGIC_*: a sealed header
            if n.topic == "customer_ledger.Customer.ContactAdded" and encrypted is None:
                event = ledger.mapper.to_domain_event(n)
                phone = event.contact.phone.encode()  # type: ignore[attr-defined]
                encrypted = phone not in n.state
        if len(page) < 500:
            break
        start = page[-1].id + 1
    intervals = getattr(type(ledger), "snapshotting_intervals", None) or {}
    return {
        "hash_chain": bool(chained),
        "encryption": bool(encrypted),
        "snapshot_interval": next(iter(intervals.values()), None),
        # customers commands keep between commands (reads always go to the store)
        "command_cache": ledger.command_cache_size,
        "views": list(KINDS),
    }


def machine(backend: str, postgres_url: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "memory": _memory(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": version("eventsourcing"),
        "git": _git(),
    }
    if backend == "postgres" and postgres_url:
        import psycopg

        with psycopg.connect(postgres_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    return info


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
    except OSError:
        return "unknown"
    return head + ("+changes" if dirty else "")
