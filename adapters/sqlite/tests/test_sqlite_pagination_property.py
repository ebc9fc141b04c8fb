"""Property: for random profiles and queries, the pages concatenated are exactly the
filtered list sorted by ``(sort_key, number)`` in Python, page boundaries anywhere."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from customer_ledger_sqlite import SQLiteViewSet
from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlite_samples import T0, profile, record, tracking

from customer_ledger.domain.values import CustomerType, Grade, Stage
from customer_ledger.projections.views import SORT_FIELDS, ProfileQuery, sort_key
from customer_ledger.storage.memory import matches
from customer_ledger.testing import PlainProfiles

# Small alphabets so that searches hit, ties happen and wildcards meet literal text.
NAME = st.text(alphabet="aAbÄä张三_% ", min_size=1, max_size=6)
TEXT = st.text(alphabet="aAbÄä张三_%", max_size=2)
OPTIONAL = st.sampled_from([None, "x", "y"])
WHEN = st.none() | st.integers(0, 3).map(lambda d: T0 + timedelta(days=d))


@st.composite
def profiles(draw: Any) -> list[Any]:
    count = draw(st.integers(0, 14))
    numbers = draw(
        st.lists(
            st.text(alphabet="AaB01", min_size=1, max_size=3), min_size=count, max_size=count,
            unique=True,
        )
    )  # fmt: skip
    return [
        profile(
            number,
            draw(NAME),
            stage=draw(st.sampled_from(Stage)),
            type=draw(st.sampled_from(CustomerType)),
            industry=draw(OPTIONAL),
            region=draw(OPTIONAL),
            owner=draw(OPTIONAL),
            grade=draw(st.none() | st.sampled_from(Grade)),
            tags=tuple(sorted(draw(st.sets(st.sampled_from(["x", "y"]))))),
            total_revenue=Decimal(draw(st.integers(0, 3))) / 2,
            last_interaction_at=draw(WHEN),
            first_contact_at=T0 - timedelta(days=draw(st.integers(0, 3))),
        )
        for number in numbers
    ]


def rarely(*values: Any) -> st.SearchStrategy[Any]:
    """Mostly None: with seven filters, each set half the time, nearly nothing matches."""
    return st.sampled_from([None] * 4 + list(values))


queries = st.builds(
    ProfileQuery,
    text=st.sampled_from([None, None]) | TEXT,
    stage=rarely(*Stage),
    type=rarely("company", "individual"),
    industry=rarely("x", "y"),
    region=rarely("x", "y"),
    owner=rarely("x", "y"),
    grade=rarely("A", "B", "C"),
    tag=rarely("x", "y"),
    sort=st.sampled_from(SORT_FIELDS),
    descending=st.booleans(),
    limit=st.integers(1, 5),
)


@pytest.fixture(scope="module")
def views(db_root: Path) -> Iterator[SQLiteViewSet]:
    """One file for all examples; each example writes a fresh rebuild generation."""
    datastore = SQLiteDatastore(str(db_root / "pagination-property.db"))
    yield SQLiteViewSet(datastore)
    datastore.close()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=profiles(), query_list=st.lists(queries, min_size=1, max_size=4))
def test_all_pages_concatenated_equal_the_python_answer(views, rows, query_list):
    views.discard("profile")
    view = PlainProfiles(views.view("profile", "rebuild"))
    view.save([record(p) for p in rows], tracking(1))
    for query in query_list:
        expected = sorted(
            (p for p in rows if matches(p, query)),
            key=lambda p: (sort_key(p, query.sort), p.number),
            reverse=query.descending,
        )
        got, pages, after = [], 0, None
        for pages in itertools.count(1):  # noqa: B007 - counted for the assertion below
            page = view.search(evolve(query, after=after))
            assert len(page.items) <= query.limit
            got += page.items
            if page.next_cursor is None:
                break
            assert len(page.items) == query.limit  # only full pages promise more
            after = page.next_cursor
        assert [p.number for p in got] == [p.number for p in expected]
        assert got == expected
        assert pages == max(1, -(-len(expected) // query.limit))  # no trailing empty page
        event("no results" if not got else "one page" if pages == 1 else "several pages")
