"""Property: every search, paged through to the end, is the Python-sorted filtered list."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from conftest import APP, make_profile, record
from customer_ledger_postgres import PostgresViewSet
from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from customer_ledger.domain.values import CustomerType, Grade, Stage
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import SORT_FIELDS, ProfileQuery, sort_key
from customer_ledger.storage.memory import matches
from customer_ledger.testing import PlainProfiles

pytestmark = pytest.mark.postgres

# Few distinct letters, so that substrings, ties and case collisions are common.
LETTERS = "aAbB_%\\İıiẞßΣσς张三科技 "
TRICKY = ["_", "%", "\\", "a_", "%b", "i", "İ", "ß", "σ", "张三", "A"]  # wildcards, lower()
texts = st.text(alphabet=LETTERS, min_size=1, max_size=6)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(-timedelta(hours=5))]),
)  # fmt: skip
maybe = lambda values: st.none() | st.sampled_from(values)  # noqa: E731


@st.composite
def profiles(draw: st.DrawFn) -> list[Profile]:
    numbers = draw(st.lists(st.text("AaB01", min_size=1, max_size=3), unique=True, max_size=20))
    return [
        make_profile(
            number,
            name=draw(texts),
            stage=draw(st.sampled_from(Stage)),
            type=draw(st.sampled_from(CustomerType)),
            region=draw(maybe(["北京市", "上海市"])),
            owner=draw(maybe(["王", "李"])),
            grade=draw(maybe(list(Grade))),
            tags=tuple(sorted(draw(st.sets(st.sampled_from(["key", "vip", "新"]), max_size=2)))),
            total_revenue=draw(st.sampled_from([Decimal(0), Decimal("0.01"), Decimal("99.5")])),
            last_interaction_at=draw(st.none() | times),
            first_contact_at=draw(times),
        )
        for number in numbers
    ]


FILTERS = {
    "stage": st.sampled_from(Stage),
    "type": st.sampled_from([t.value for t in CustomerType]),
    "region": st.sampled_from(["北京市", "上海市"]),
    "owner": st.sampled_from(["王", "李"]),
    "grade": st.sampled_from(["A", "B", "C"]),
    "tag": st.sampled_from(["key", "vip", "新"]),
}


@st.composite
def queries(draw: st.DrawFn) -> ProfileQuery:
    """At most one filter beside the text, so that most queries select something."""
    chosen = draw(st.sets(st.sampled_from(sorted(FILTERS)), max_size=1))
    return ProfileQuery(
        text=draw(st.none() | st.sampled_from(TRICKY) | st.text(alphabet=LETTERS, max_size=2)),
        sort=draw(st.sampled_from(SORT_FIELDS)),
        descending=draw(st.booleans()),
        limit=draw(st.integers(1, 4)),
        **{name: draw(FILTERS[name]) for name in chosen},
    )


@pytest.fixture
def view(views: PostgresViewSet):  # type: ignore[no-untyped-def]
    return PlainProfiles(views.view("profile"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stored=profiles(), query=queries())
def test_pages_concatenated_equal_the_sorted_filtered_list(
    view, stored: list[Profile], query: ProfileQuery
) -> None:  # type: ignore[no-untyped-def]
    with view.datastore.transaction(commit=True) as curs:
        curs.execute(sql.SQL("DELETE FROM {}").format(view.table))
        curs.execute(sql.SQL("DELETE FROM {}").format(_tracking(view)))
    view.save([record(p) for p in stored], Tracking(APP, 1))

    expected = sorted(
        (p for p in stored if matches(p, query)),
        key=lambda p: (sort_key(p, query.sort), p.number),
        reverse=query.descending,
    )
    got: list[Profile] = []
    after = None
    for _ in itertools.count():
        page = view.search(ProfileQuery(**{**_as_dict(query), "after": after}))
        assert len(page.items) <= query.limit
        got += page.items
        if page.next_cursor is None:
            break
        assert len(page.items) == query.limit
        after = page.next_cursor
    assert [p.number for p in got] == [p.number for p in expected]
    assert got == expected


def _tracking(view) -> sql.Composed:  # type: ignore[no-untyped-def]
    return sql.SQL("{}.{}").format(view.schema, sql.Identifier(view.names.tracking))


def _as_dict(query: ProfileQuery) -> dict[str, object]:
    from attrs import asdict

    return asdict(query, filter=lambda a, _: a.init)  # not the derived position
