"""Every method of the timeline and status views, answered as the memory views answer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from customer_ledger_postgres import PostgresViewSet
from eventsourcing.persistence import Tracking
from postgres_view_support import APP

from customer_ledger.domain.values import Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.views import (
    StatusRecord,
    StatusRow,
    TimelineEntry,
    TimelineQuery,
    encode_cursor,
)
from customer_ledger.storage.memory import MemoryStatusView, MemoryTimelineView

pytestmark = pytest.mark.postgres
CST = timezone(timedelta(hours=8))
A, B, C = (uuid.uuid5(uuid.NAMESPACE_URL, n) for n in "ABC")


def entry(customer: uuid.UUID, number: str, version: int, occurred: datetime) -> TimelineEntry:
    return TimelineEntry(
        customer_id=customer, number=number, version=version, kind="InteractionLogged",
        occurred_at=occurred, recorded_at=occurred + timedelta(days=2), actor="王经理",
        summary_en=f"call {version}", summary_zh=f"电话 {version}", late=version % 2 == 0,
    )  # fmt: skip


ENTRIES = [
    entry(A, "A001", 1, datetime(2024, 1, 1, 8, 0, tzinfo=CST)),  # = 2024-01-01 00:00 UTC
    entry(B, "B002", 1, datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),  # same instant
    entry(A, "A001", 2, datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
    entry(C, "C003", 1, datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    entry(B, "B002", 2, datetime(2024, 1, 2, tzinfo=CST)),
    entry(C, "C003", 2, datetime(2024, 3, 1, tzinfo=UTC)),
]


@pytest.fixture(scope="module")
def timeline(module_views: PostgresViewSet):  # type: ignore[no-untyped-def]
    view = module_views.view("timeline")
    view.save(ENTRIES[:4], Tracking(APP, 1))
    view.save(ENTRIES[2:], Tracking(APP, 2))  # overlap: already present entries are ignored
    return view


@pytest.fixture(scope="module")
def timeline_reference() -> MemoryTimelineView:
    memory = MemoryTimelineView()
    memory.save(ENTRIES, Tracking("CustomerLedger", 1))
    return memory


def test_numbers_and_latest_versions_known_from_earlier_entries(timeline) -> None:  # type: ignore[no-untyped-def]
    assert timeline.latest([A, C, uuid.uuid4()]) == {A: ("A001", 2), C: ("C003", 2)}
    assert timeline.latest(set()) == {}


def test_duplicates_are_ignored_not_overwritten(views: PostgresViewSet) -> None:
    timeline = views.view("timeline")
    timeline.save(ENTRIES, Tracking(APP, 1))
    changed = entry(A, "A001", 1, datetime(2030, 1, 1, tzinfo=UTC))
    timeline.save([changed], Tracking(APP, 2))
    page = timeline.entries(TimelineQuery(customer_id=A))
    assert ENTRIES[0] in page.items and changed not in page.items


def test_times_keep_their_offset(timeline) -> None:  # type: ignore[no-untyped-def]
    first = timeline.entries(TimelineQuery(customer_id=A, limit=1)).items[0]
    assert first.occurred_at.utcoffset() == timedelta(hours=8)
    assert first.occurred_at == ENTRIES[0].occurred_at


TIMELINE_QUERIES = [
    TimelineQuery(),
    TimelineQuery(limit=1),
    TimelineQuery(limit=2, customer_id=A),
    TimelineQuery(customer_id=C),
    TimelineQuery(start=datetime(2024, 1, 1, tzinfo=UTC), end=datetime(2024, 1, 2, tzinfo=CST)),
    TimelineQuery(start=datetime(2024, 1, 1, 8, tzinfo=CST), limit=1),
    TimelineQuery(end=datetime(2024, 1, 1, tzinfo=UTC)),
    TimelineQuery(customer_id=uuid.UUID(int=404)),  # nobody: fixed, so xdist workers agree
]


@pytest.mark.parametrize("query", TIMELINE_QUERIES, ids=repr)
def test_entries_page_like_the_memory_view(timeline, timeline_reference, query) -> None:  # type: ignore[no-untyped-def]
    from attrs import evolve

    mine, theirs = timeline.entries(query), timeline_reference.entries(query)
    while True:
        assert mine == theirs
        if mine.next_cursor is None:
            break
        query = evolve(query, after=mine.next_cursor)
        mine, theirs = timeline.entries(query), timeline_reference.entries(query)


@pytest.mark.parametrize(
    "cursor", [encode_cursor("2024", "A001"), encode_cursor("2024", "A001", "1"), "%%%"]
)
def test_a_foreign_timeline_cursor_is_rejected(timeline, cursor: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue):
        timeline.entries(TimelineQuery(after=cursor))


# -- status -------------------------------------------------------------------------------


def row(customer: uuid.UUID, number: str, stage: Stage, **fields: object) -> StatusRow:
    values: dict[str, object] = dict(
        customer_id=customer, number=number, name=f"客户{number}", owner=None, stage=stage,
        open_complaints=0, last_interaction_at=None, next_reminder_on=None,
        first_contact_at=datetime(2024, 1, 1, tzinfo=CST),
    )  # fmt: skip
    values.update(fields)
    return StatusRow(**values)  # type: ignore[arg-type]


ROWS = [
    row(C, "C003", Stage.CUSTOMER, owner="王", open_complaints=2,
        last_interaction_at=datetime(2024, 5, 1, 7, 59, 59, tzinfo=CST),
        next_reminder_on=date(2024, 6, 1)),
    row(A, "A001", Stage.LEAD, owner="王"),
    row(B, "B002", Stage.CHURNED),
    row(uuid.uuid4(), "a001", Stage.AT_RISK, owner="李",
        last_interaction_at=datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC)),
]  # fmt: skip


def saved_status(views: PostgresViewSet):  # type: ignore[no-untyped-def]
    view = views.view("status")
    view.save([StatusRecord(r, r.number.encode()) for r in ROWS], Tracking(APP, 1))
    return view


@pytest.fixture(scope="module")
def status(module_views: PostgresViewSet):  # type: ignore[no-untyped-def]
    return saved_status(module_views)


@pytest.fixture(scope="module")
def status_reference() -> MemoryStatusView:
    memory = MemoryStatusView()
    memory.save([StatusRecord(r, b"") for r in ROWS], Tracking("CustomerLedger", 1))
    return memory


@pytest.mark.parametrize(
    ("stage", "owner"),
    [(None, None), (Stage.LEAD, None), (None, "王"), (Stage.CUSTOMER, "王"), (None, "nobody")],
)
def test_rows_are_ordered_by_number(status, status_reference, stage, owner) -> None:  # type: ignore[no-untyped-def]
    assert status.rows(stage, owner) == status_reference.rows(stage, owner)
    assert [r.number for r in status.rows()] == ["A001", "B002", "C003", "a001"]


def test_count_by_stage_names_every_stage(status, module_views) -> None:  # type: ignore[no-untyped-def]
    assert status.count_by_stage() == {
        Stage.LEAD: 1, Stage.PROSPECT: 0, Stage.CUSTOMER: 1, Stage.AT_RISK: 1, Stage.CHURNED: 1,
    }  # fmt: skip
    assert module_views.view("status", "other").count_by_stage() == dict.fromkeys(Stage, 0)


@pytest.mark.parametrize(
    "before",
    [
        datetime(2024, 5, 1, tzinfo=UTC),  # C003's last interaction is 1 s earlier
        datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC),  # strictly before: excludes a001
        datetime(2024, 1, 1, tzinfo=CST),
        datetime(2030, 1, 1, tzinfo=CST),
    ],
)
def test_idle_uses_last_interaction_or_first_contact(status, status_reference, before) -> None:  # type: ignore[no-untyped-def]
    assert status.idle(before) == status_reference.idle(before)
    assert all(r.stage is not Stage.CHURNED for r in status.idle(before))


def test_status_states_and_upserts(views: PostgresViewSet) -> None:
    status = saved_status(views)
    assert status.states([A, B]) == {A: b"A001", B: b"B002"}
    moved = row(A, "A001", Stage.PROSPECT, last_interaction_at=datetime(2024, 6, 1, tzinfo=UTC))
    status.save([StatusRecord(moved, b"v2")], Tracking(APP, 99))
    assert status.rows(Stage.PROSPECT) == [moved]
    assert status.states([A]) == {A: b"v2"}
