"""The audit log: every change, every unmasked read and every refused attempt, with who,
when and why."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from attrs import frozen

from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import AccessLog
from customer_ledger.projections.timeline import describe


@frozen
class AuditEntry:
    recorded_at: datetime
    occurred_at: datetime | None  # business time of a change; None for reads
    actor: str
    role: str | None
    number: str
    kind: str  # "change", "read", "denied" or "admin" (a user added, disabled, ...)
    event: str
    version: int
    summary: str
    why: str | None
    source_actor: str | None = None  # who the file it came from said recorded it
    summary_zh: str | None = None  # the summary in Chinese (pages; not in to_json)

    def to_json(self) -> dict[str, Any]:
        return {
            "recorded_at": self.recorded_at.isoformat(),
            "occurred_at": None if self.occurred_at is None else self.occurred_at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "customer": self.number,
            "kind": self.kind,
            "event": self.event,
            "version": self.version,
            "summary": self.summary,
            "why": self.why,
            "source_actor": self.source_actor,
        }


def change_entry(event: Any, number: str) -> AuditEntry:
    summary, summary_zh = describe(event)
    return AuditEntry(
        recorded_at=event.timestamp,
        occurred_at=event.occurred_at,
        actor=event.meta.actor,
        role=event.meta.role,
        number=number,
        kind="change",
        event=type(event).__name__,
        version=event.originator_version,
        summary=summary,
        why=event.meta.reason,
        source_actor=getattr(event.meta, "source_actor", None),
        summary_zh=summary_zh,
    )


def access_entry(
    event: Any, number: str, kind: str, summary: str, why: str | None, summary_zh: str | None
) -> AuditEntry:
    """An entry of an access log (a read, a refusal, a change of users): recorded, with
    no business time, by ``event.actor`` in ``event.role``."""
    return AuditEntry(
        recorded_at=event.timestamp,
        occurred_at=None,
        actor=event.actor,
        role=event.role,
        number=number,
        kind=kind,
        event=type(event).__name__,
        version=event.originator_version,
        summary=summary,
        why=why,
        summary_zh=summary_zh,
    )


def entries(events: Iterator[Any], numbers: dict[Any, str]) -> Iterator[AuditEntry]:
    """Audit entries for the changes and reads among ``events``; ``numbers`` maps
    customer and access-log ids to customer numbers and is filled as it goes."""
    for event in events:
        if isinstance(event, Customer.Event):
            if type(event).__name__ == "FirstContacted":
                numbers[event.originator_id] = cast(Any, event).number
            yield change_entry(event, numbers.get(event.originator_id, "?"))
        elif isinstance(event, AccessLog.PersonalDataRead):  # type: ignore[attr-defined]
            yield access_entry(
                event, numbers.get(event.originator_id, "?"), "read",
                f"read {event.what} unmasked", event.why, f"查看完整信息：{event.what}",
            )  # fmt: skip
        elif isinstance(event, AccessLog.AccessDenied):  # type: ignore[attr-defined]
            yield access_entry(
                event, numbers.get(event.originator_id, "?"), "denied",
                f"refused: {event.what}", event.reason, f"被拒绝：{event.what}",
            )  # fmt: skip
        elif isinstance(event, AccessLog.Administered):  # type: ignore[attr-defined]
            yield access_entry(
                event, numbers.get(event.originator_id, "?"), "admin", event.what, None, None
            )
        elif isinstance(event, AccessLog.Opened):  # type: ignore[attr-defined]
            numbers[event.originator_id] = event.number
