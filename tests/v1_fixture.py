"""The frozen fixture: the bytes release 0.1 stored for every event type, as a store
gives them back (``tests/fixtures/v1_events.jsonl``; never edit it, see test_serialization)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

V1_FIXTURE = Path(__file__).parent / "fixtures" / "v1_events.jsonl"


def v1_stored_events() -> list[StoredEvent]:
    with V1_FIXTURE.open(encoding="utf-8") as lines:
        return [
            StoredEvent(
                originator_id=UUID(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"].encode("utf-8"),
            )
            for row in map(json.loads, lines)
        ]
