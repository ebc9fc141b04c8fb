"""Every method of the profile view, answered as the memory view answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from conftest import APP, make_profile, record
from customer_ledger_postgres import PostgresViewSet
from eventsourcing.persistence import Tracking

from customer_ledger.domain.values import CustomerType, Grade, Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.views import ProfileQuery, encode_cursor
from customer_ledger.storage.memory import MemoryProfileView
from customer_ledger.testing import PlainProfiles

pytestmark = pytest.mark.postgres
CST = timezone(timedelta(hours=8))

PROFILES = [
    make_profile(
        "A001", name="*先生", stage=Stage.CUSTOMER, region="北京市", owner="*经理",
        tags=("key", "vip"), grade=Grade.A, total_revenue=Decimal("12000.50"),
        last_interaction_at=datetime(2024, 5, 1, 8, 0, tzinfo=CST),
    ),
    make_profile(
        "b002", name="*科技有限公司", stage=Stage.PROSPECT, region="北京市", owner="*主管",
        industry="smart manufacturing", tags=("key",), total_revenue=Decimal("56000"),
        last_interaction_at=datetime(2024, 5, 1, 0, 0, tzinfo=UTC),  # same instant as A001
    ),
    make_profile("C003", name="100%_纯净水", region="上海市", type=CustomerType.INDIVIDUAL),
    make_profile("C004", name="Acme 50% off", grade=Grade.B, owner="*经理"),
    make_profile("C005", name="İstanbul ẞtraße ΣΑΣ", stage=Stage.CHURNED),
    make_profile("C006", name="back\\slash", first_contact_at=datetime(2020, 1, 1, tzinfo=CST)),
]  # fmt: skip


def saved(views: PostgresViewSet):  # type: ignore[no-untyped-def]
    profile = PlainProfiles(views.view("profile"))
    profile.save([record(p, state=p.number.encode()) for p in PROFILES], Tracking(APP, 1))
    return profile


@pytest.fixture(scope="module")
def view(module_views: PostgresViewSet):  # type: ignore[no-untyped-def]
    """Shared by the read-only tests of this module."""
    return saved(module_views)


@pytest.fixture(scope="module")
def reference() -> PlainProfiles:
    memory = MemoryProfileView()
    memory.save([record(p) for p in PROFILES], Tracking("CustomerLedger", 1))
    return PlainProfiles(memory)


def test_profiles_come_back_exactly(view) -> None:  # type: ignore[no-untyped-def]
    for profile in PROFILES:
        assert view.get(profile.customer_id) == profile
        assert view.get_by_number(profile.number) == profile
    assert view.get(uuid.uuid4()) is None
    assert view.get_by_number("a001") is None  # numbers match exactly
    back = view.get_by_number("A001").last_interaction_at
    assert back.utcoffset() == timedelta(hours=8)


def test_states_of_known_customers_only(view) -> None:  # type: ignore[no-untyped-def]
    a, b = PROFILES[0].customer_id, PROFILES[1].customer_id
    assert view.states({a, b, uuid.uuid4()}) == {a: b"A001", b: b"b002"}
    assert view.states([]) == {}


def test_saving_again_replaces_the_row(views: PostgresViewSet) -> None:
    view = saved(views)
    changed = make_profile("A001", name="*先生", stage=Stage.AT_RISK, tags=())
    view.save([record(changed, b"v2")], Tracking("CustomerLedger", 100))
    assert view.get_by_number("A001") == changed
    assert view.states([changed.customer_id]) == {changed.customer_id: b"v2"}
    assert [p.number for p in view.search(ProfileQuery(tag="vip")).items] == []


QUERIES = [
    ProfileQuery(text="科技"),
    ProfileQuery(text="先生"),
    ProfileQuery(text="B00"),  # case-insensitive on the number too
    ProfileQuery(text="0%"),  # literal %
    ProfileQuery(text="%_"),  # literal % then _
    ProfileQuery(text="_"),
    ProfileQuery(text="\\"),
    ProfileQuery(text="i̇stanbul"),  # Python lowers İ to i + combining dot
    ProfileQuery(text="ß"),  # ...and ẞ to ß
    ProfileQuery(text="σας"),  # str.lower, not casefold: Σ -> σ everywhere
    ProfileQuery(text=""),
    ProfileQuery(text="nothing"),
    ProfileQuery(stage=Stage.CUSTOMER),
    ProfileQuery(type="individual"),
    ProfileQuery(industry="smart manufacturing"),
    ProfileQuery(region="北京市", owner="*主管"),
    ProfileQuery(grade="A"),
    ProfileQuery(tag="key"),
    ProfileQuery(tag="ke"),
    ProfileQuery(text="c", region="上海市"),
    *[
        ProfileQuery(sort=sort, descending=descending, limit=2)
        for sort in ("number", "name", "stage", "total_revenue", "last_interaction_at",
                     "first_contact_at")
        for descending in (False, True)
    ],
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_every_query_pages_like_the_memory_view(view, reference, query: ProfileQuery) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = view.search(query), reference.search(query)
    pages = 0
    while True:
        assert mine == theirs  # items and cursors alike
        pages += 1
        if mine.next_cursor is None:
            break
        follow = ProfileQuery(**{**_fields(query), "after": mine.next_cursor})
        mine, theirs = view.search(follow), reference.search(follow)
    assert pages >= 1


def _fields(query: ProfileQuery) -> dict[str, object]:
    from attrs import asdict

    return asdict(query, filter=lambda a, _: a.init)  # not the derived position


def test_the_last_full_page_has_no_cursor(view) -> None:  # type: ignore[no-untyped-def]
    page = view.search(ProfileQuery(limit=len(PROFILES)))
    assert len(page.items) == len(PROFILES) and page.next_cursor is None
    page = view.search(ProfileQuery(limit=len(PROFILES) - 1))
    assert page.next_cursor is not None


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("total_revenue", encode_cursor("1200", "A001")),  # text where cents go
        ("name", encode_cursor(1200, "A001")),
        ("name", encode_cursor("x", "A001", 3)),
        ("name", encode_cursor("x", None)),
        ("number", "not base64 at all!"),
        ("number", encode_cursor(True, "A001")),
    ],
)
def test_a_cursor_from_elsewhere_is_rejected(view, sort: str, cursor: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue):
        view.search(ProfileQuery(sort=sort, after=cursor))
