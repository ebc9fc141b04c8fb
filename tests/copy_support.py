"""What the copy tests share: a ledger holding a bit of everything, and everything a
reader can get out of one, to compare a copy with its source.

Imported by name (``from copy_support import ...``), never through ``conftest``.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from customer_ledger import Contact, CustomerLedger
from customer_ledger.audit.verify import checkpoint, verify
from customer_ledger.domain.access import Actor
from customer_ledger.testing import record_analytics_extras, record_sample, snapshot_views

ADMIN = Actor("root", "admin")
MANAGER = Actor("*经理", "manager")
FORGOTTEN = "W002"  # an individual, churned, then forgotten
FORGOTTEN_COMPANY = "L003"  # its public name stays, its duplicate-index rows go
HALF_FORGOTTEN = "C003"  # CustomerForgotten recorded, its key never destroyed


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def record_everything(ledger: CustomerLedger, *, half_forget: bool = True) -> None:
    """The sample customers and the analytics extras, a command receipt, an unmasked
    read (an access log), a merge, two users (one disabled), two customers forgotten and,
    with ``half_forget``, one whose forget stopped before its key was destroyed."""
    record_sample(ledger)
    record_analytics_extras(ledger)
    ledger.add_contact(
        "W001", contact=Contact("c2", "王五", phone="13912345678", email="w@x.cn"),
        command_id="cmd-contact-1",
    )  # fmt: skip
    ledger.first_contact(
        "D004", name="*科技有限公司", type="company", region="北京市", allow_duplicate=True
    )
    ledger.merge("D004", into="B002", reason="same company", actor=MANAGER)
    ledger.profile("W001", actor=MANAGER, unmasked=True, why="a call back")
    ledger.users.add("alice", role="admin", password_text="a long passphrase 1", by=ADMIN)
    ledger.users.add("bob", role="sales", password_text="a long passphrase 2", by=ADMIN)
    ledger.users.disable("bob", by=ADMIN)
    ledger.forget(FORGOTTEN, actor=ADMIN, reason="erasure request 17")
    ledger.forget(FORGOTTEN_COMPANY, actor=ADMIN, reason="erasure request 20")
    if half_forget:  # the event only, as a forget killed before it destroyed the key
        ledger._run("forget", HALF_FORGOTTEN, {"actor": ADMIN, "reason": "request 18"})


def log_rows(ledger: CustomerLedger) -> list[tuple[Any, ...]]:
    """The log as stored: notification id, originator, version, topic, bytes."""
    rows, start = [], 1
    while page := ledger.recorder.select_notifications(start=start, limit=1000):
        rows += [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in page]
        start = page[-1].id + 1
    return rows


def replays(ledger: CustomerLedger, number: str) -> list[Any]:
    """The customer at each version, as recorded at each event's time, and as of each
    event's business date."""
    events = ledger.history(number)
    found = [ledger.replay(number, version=e.originator_version) for e in events]
    found += [ledger.replay(number, recorded_at=e.timestamp) for e in events]
    found += [ledger.replay(number, as_of=e.occurred_at.date()) for e in events]  # type: ignore[attr-defined]
    return found


def everything(ledger: CustomerLedger) -> dict[str, Any]:
    """What a reader of ``ledger`` can see: the log as stored, every view row, every
    customer's history and replays, users, duplicates, the audit's verdict and the
    checkpoint (without its wall-clock time)."""
    numbers = list(ledger.numbers())
    anchor = checkpoint(ledger)
    report = verify(ledger)
    return {
        "log": log_rows(ledger),
        "views": snapshot_views(ledger),
        "numbers": numbers,
        "histories": {n: ledger.history(n) for n in numbers},
        "replays": {n: replays(ledger, n) for n in numbers},
        "board": ledger.board(as_of="2024-06-03"),
        "analytics": ledger.analytics(as_of="2024-06-03"),
        "users": [
            (u.name, u.role, u.password_hash, u.disabled) for u in ledger.users.list(by=ADMIN)
        ],
        "duplicates": ledger.duplicates(),
        "audit_log": list(ledger.audit_log()),
        "verify": (report.ok, report.events, report.chains, report.findings),
        "checkpoint": (anchor.notification_id, anchor.hash, anchor.events),
    }
