"""SQLiteProfileView, method by method: storage, tracking atomicity, search, pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from customer_ledger_sqlite import SQLiteProfileView, SQLiteViewSet
from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteCursor
from sqlite_samples import APP, T0, customer_id, profile, record, tracking

from customer_ledger.domain.values import CustomerType, Grade, Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.views import ProfileQuery, encode_cursor
from customer_ledger.testing import PlainProfiles


@pytest.fixture
def view(views: SQLiteViewSet) -> SQLiteProfileView:
    return PlainProfiles(views.view("profile"))


def numbers(view: SQLiteProfileView, **query: Any) -> list[str]:
    """Every matching number, following cursors page by page."""
    found, after = [], None
    while True:
        page = view.search(ProfileQuery(after=after, **query))
        found += [p.number for p in page.items]
        if page.next_cursor is None:
            return found
        after = page.next_cursor


# -- storage ---------------------------------------------------------------------------


def test_a_saved_profile_reads_back_equal_by_id_and_number(view):
    p = profile("A001", "张三")
    view.save([record(p)], tracking(1))
    assert view.get(p.customer_id) == p
    assert view.get_by_number("A001") == p
    assert view.get(customer_id("NOPE")) is None
    assert view.get_by_number("a001") is None  # numbers are exact
    assert view.states([p.customer_id, customer_id("NOPE")]) == {p.customer_id: record(p).state}
    assert view.max_tracking_id(APP) == 1


def test_save_upserts_and_replaces_tags(view):
    view.save([record(profile("A001", tags=("key", "vip")))], tracking(1))
    newer = profile("A001", "renamed", tags=("new",), version=9)
    view.save([record(newer)], tracking(2))
    assert view.get_by_number("A001") == newer
    assert view.states([newer.customer_id])[newer.customer_id] == record(newer).state
    assert numbers(view, tag="key") == []
    assert numbers(view, tag="new") == ["A001"]


def test_the_last_record_of_a_customer_in_one_save_wins(view):
    first, second = profile("A001", "first"), profile("A001", "second", tags=("x",))
    view.save([record(first), record(second)], tracking(1))
    assert view.get_by_number("A001") == second


def test_states_of_many_customers_are_read_in_chunks(view):
    profiles = [profile(f"N{i:04d}") for i in range(1200)]
    view.save([record(p) for p in profiles], tracking(1))
    states = view.states([p.customer_id for p in profiles])
    assert len(states) == 1200
    assert states[profiles[-1].customer_id] == record(profiles[-1]).state


# -- tracking --------------------------------------------------------------------------


@pytest.mark.parametrize("stale", [5, 4, 1])
def test_a_stale_tracking_id_raises_and_writes_nothing(view, stale):
    view.save([record(profile("A001", "old"))], tracking(5))
    with pytest.raises(IntegrityError):
        view.save([record(profile("A001", "new")), record(profile("B002"))], tracking(stale))
    assert view.get_by_number("A001").name == "old"
    assert view.get_by_number("B002") is None
    assert view.max_tracking_id(APP) == 5


def test_positions_are_kept_per_upstream_application(view):
    view.save([], tracking(7, "Other"))
    view.save([record(profile("A001"))], tracking(3))
    assert view.max_tracking_id("Other") == 7
    assert view.max_tracking_id(APP) == 3
    assert view.max_tracking_id("Nobody") is None


def test_a_failure_mid_save_writes_nothing_and_keeps_the_old_tracking(view, monkeypatch):
    view.save([record(profile("A001", "old", tags=("t",)))], tracking(1))
    real = SQLiteCursor.executemany
    calls = []

    def fail_on_tags(self: SQLiteCursor, statement: str, params: Any) -> None:
        calls.append(statement)
        if "_tags" in statement and statement.startswith("INSERT"):
            raise RuntimeError("disk on fire")
        real(self, statement, params)

    monkeypatch.setattr(SQLiteCursor, "executemany", fail_on_tags)
    with pytest.raises(RuntimeError, match="disk on fire"):
        view.save(
            [record(profile("A001", "new", tags=("u",))), record(profile("B002"))], tracking(2)
        )
    monkeypatch.undo()
    assert any(s.startswith("INSERT INTO profile_live ") for s in calls)  # rows were written
    assert view.max_tracking_id(APP) == 1
    assert view.get_by_number("A001").name == "old"
    assert view.get_by_number("B002") is None
    assert numbers(view, tag="t") == ["A001"]
    view.save([record(profile("B002"))], tracking(2))  # and the view still works
    assert view.max_tracking_id(APP) == 2


# -- search ----------------------------------------------------------------------------


@pytest.fixture
def sample(view: SQLiteProfileView) -> SQLiteProfileView:
    rows = [
        profile("A001", "张三", stage=Stage.CUSTOMER, region="北京市", owner="*经理",
                total_revenue=Decimal("1000.50"), last_interaction_at=T0 + timedelta(days=3)),
        profile("A002", "李四", stage=Stage.CHURNED, region="上海市", owner="*主管",
                total_revenue=Decimal("2000"), tags=("vip", "key"), grade=Grade.B),
        profile("B001", "100%_纯净水", type=CustomerType.COMPANY, industry="food",
                total_revenue=Decimal("0"), grade=None, tags=()),
        profile("B002", "100 纯净水", type=CustomerType.INDIVIDUAL, industry="food",
                total_revenue=Decimal("0.01"), first_contact_at=T0 - timedelta(days=400)),
        profile("C001", "ACME Trading", stage=Stage.LEAD, owner=None,
                last_interaction_at=T0 + timedelta(days=1)),
        profile("C002", "Zoë ÄBC 公司", stage=Stage.LEAD, owner=None),
        profile("c003", "王_五", stage=Stage.PROSPECT, region=None),
    ]  # fmt: skip
    view.save([record(p) for p in rows], tracking(1))
    return view


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("张", ["A001"]),
        ("纯净水", ["B001", "B002"]),
        ("%", ["B001"]),  # literal, not a wildcard
        ("0%_", ["B001"]),
        ("_", ["B001", "c003"]),  # literal, not "any one character"
        ("王_", ["c003"]),
        ("acme", ["C001"]),
        ("ACME", ["C001"]),
        ("äbc", ["C002"]),  # beyond ASCII: folded like the memory view (str.lower)
        ("ZOË", ["C002"]),
        ("c00", ["C001", "C002", "c003"]),  # number, case-insensitive
        ("C003", ["c003"]),
        ("", ["A001", "A002", "B001", "B002", "C001", "C002", "c003"]),
        ("nobody", []),
    ],
)
def test_search_text_is_a_case_insensitive_literal_substring_of_name_or_number(
    sample, text, expected
):
    assert numbers(sample, text=text) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"stage": Stage.LEAD}, ["C001", "C002"]),
        ({"stage": "churned"}, ["A002"]),
        ({"type": "company"}, ["A001", "A002", "B001", "C001", "C002", "c003"]),
        ({"type": "individual"}, ["B002"]),
        ({"industry": "food"}, ["B001", "B002"]),
        ({"region": "上海市"}, ["A002", "B001", "B002", "C001", "C002"]),
        ({"owner": "*主管"}, ["A002"]),
        ({"grade": "A"}, ["A001", "B002", "C001", "C002", "c003"]),
        ({"grade": "B"}, ["A002"]),
        ({"tag": "vip"}, ["A002"]),
        ({"tag": "key"}, ["A001", "A002", "B002", "C001", "C002", "c003"]),
        ({"text": "纯净", "type": "company", "industry": "food"}, ["B001"]),
        ({"region": "北京市", "stage": Stage.LEAD}, []),
    ],
)
def test_filters_are_exact_and_combine(sample, query, expected):
    assert numbers(sample, **query) == expected


@pytest.mark.parametrize(
    ("sort", "ascending"),
    [
        ("number", ["A001", "A002", "B001", "B002", "C001", "C002", "c003"]),
        ("name", ["B002", "B001", "C001", "C002", "A001", "A002", "c003"]),
        ("stage", ["B001", "B002", "A002", "A001", "C001", "C002", "c003"]),
        ("total_revenue", ["B001", "B002", "C001", "C002", "c003", "A001", "A002"]),
        ("last_interaction_at", ["A002", "B001", "B002", "C002", "c003", "C001", "A001"]),
        ("first_contact_at", ["B002", "A001", "A002", "B001", "C001", "C002", "c003"]),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 50])
def test_every_sort_pages_both_ways_with_number_as_tiebreaker(sample, sort, ascending, limit):
    assert numbers(sample, sort=sort, limit=limit) == ascending
    assert numbers(sample, sort=sort, limit=limit, descending=True) == ascending[::-1]


def test_next_cursor_only_when_a_further_row_exists(sample):
    first = sample.search(ProfileQuery(limit=4))
    assert first.next_cursor is not None
    last = sample.search(ProfileQuery(limit=3, after=first.next_cursor))
    assert [p.number for p in last.items] == ["C001", "C002", "c003"]
    assert last.next_cursor is None  # exactly filled: no empty page follows
    assert sample.search(ProfileQuery(limit=7)).next_cursor is None
    assert sample.search(ProfileQuery(text="nobody")).items == ()


def test_a_cursor_continues_strictly_after_its_key_even_if_that_row_is_gone(sample):
    ascending = ProfileQuery(sort="total_revenue").cursor(100050, "A001")  # cents, number
    page = sample.search(ProfileQuery(sort="total_revenue", after=ascending))
    assert [p.number for p in page.items] == ["A002"]
    descending = ProfileQuery(sort="total_revenue", descending=True).cursor(100050, "A001")
    page = sample.search(ProfileQuery(sort="total_revenue", descending=True, after=descending))
    assert [p.number for p in page.items] == ["c003", "C002", "C001", "B002", "B001"]


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("number", "not a cursor!"),
        ("number", encode_cursor("A001")),
        ("total_revenue", encode_cursor("A001", "A001")),
        ("name", encode_cursor(5, "A001")),
        ("name", encode_cursor("x", 5)),
        ("number", encode_cursor(True, "A001")),
        ("name", ProfileQuery(sort="number").cursor("x", "A001")),  # another sort's
        ("name", ProfileQuery(sort="name", descending=True).cursor("x", "A001")),
        ("total_revenue", ProfileQuery(sort="total_revenue").cursor(2**63, "A001")),
    ],
)
def test_a_foreign_cursor_is_an_invalid_value(sample, sort, cursor):
    with pytest.raises(InvalidValue):
        sample.search(ProfileQuery(sort=sort, after=cursor))


def test_each_query_key_has_an_index(view, datastore):
    with datastore.transaction(commit=False) as c:
        plans = {}
        for sort in ("name", "stage", "total_revenue", "last_interaction_at", "first_contact_at"):
            column = {"total_revenue": "revenue_cents", "name": "name", "stage": "stage"}.get(
                sort, sort.replace("_at", "_key")
            )
            c.execute(
                f"EXPLAIN QUERY PLAN SELECT document FROM profile_live "
                f"WHERE ({column}, number) > (?, ?) ORDER BY {column}, number LIMIT 5",
                ("", ""),
            )
            plans[sort] = " ".join(str(tuple(row)) for row in c.fetchall())
    for sort, plan in plans.items():
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, (sort, plan)


def test_profiles_survive_the_document_round_trip_exactly(view):
    name = '客户 "quoted" \\ 名'
    p = profile("A001", name, total_revenue=Decimal("0.10"))
    view.save([record(p)], tracking(1))
    back = view.get_by_number("A001")
    assert back == p and back.name == name
    assert back.first_contact_at.utcoffset() == p.first_contact_at.utcoffset()
    assert str(back.total_revenue) == "0.10"
