"""Search and timeline arguments: one answer on every backend (docs/reliability.md).

Given the demo customers on memory, SQLite and PostgreSQL, when a search or a timeline
read comes with a hostile argument (invalid Unicode, NUL, bytes, numbers where text
goes, a forged or foreign cursor, a cursor of another sort), then every backend gives
the same outcome: the same ``invalid_query`` refusal, or the same customers. Before the
query checked its own arguments, SQLite raised ``UnicodeEncodeError`` or
``OverflowError`` or answered an empty page, PostgreSQL ``psycopg.DataError``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from reliability.support import store_url

from customer_ledger import CustomerLedger, InvalidQuery, LedgerError
from customer_ledger.cli.demo import record as record_demo
from customer_ledger.domain.access import Actor
from customer_ledger.projections.views import ProfileQuery, TimelineQuery

ADMIN = Actor("admin-1", "admin")


def forged(*key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


BY_NAME = ProfileQuery(sort="name", limit=1)
SEARCHES: list[dict[str, Any]] = [
    {"text": "a\x00b"}, {"text": "\ud800"}, {"text": b"ACME"}, {"text": 7}, {"text": "x" * 201},
    {"owner": "\x00"}, {"region": ["上海市"]}, {"grade": 1.5}, {"tag": "\x1b[31m"},
    {"stage": "nowhere"}, {"stage": 3}, {"sort": "password"}, {"sort": None},
    {"descending": "yes"}, {"limit": 0}, {"limit": 10**30}, {"limit": True}, {"limit": "5"},
    {"after": "not a cursor!"}, {"after": "é"}, {"after": "A" * 2000}, {"after": 12},
    {"after": forged("profile", "number", False, 2**70, "A001")},
    {"after": forged("profile", "total_revenue", False, 2**63, "A001"), "sort": "total_revenue"},
    {"after": forged("profile", "name", False, None, "A001"), "sort": "name"},
    {"after": forged("profile", "name", False, "x", 5), "sort": "name"},
    {"after": forged("timeline", "2024", "A001", 1)},
    {"after": BY_NAME.cursor("x", "A001"), "sort": "number"},  # another sort's cursor
    {"after": BY_NAME.cursor("x", "A001"), "sort": "name", "descending": True},
    {"unknown_criterion": "x"},
    # and the documented acceptances, answered alike everywhere
    {"text": ""}, {"text": "  "}, {"text": "%"}, {"text": "科技"}, {"stage": "customer"},
    {"after": BY_NAME.cursor("ACME", "A001"), "sort": "name"},
]  # fmt: skip
TIMELINES: list[dict[str, Any]] = [
    {"limit": -1}, {"limit": 2**64}, {"after": forged("timeline", "2024", "A001", 0)},
    {"after": forged("timeline", "2024", "A001", 2**63)}, {"after": forged("timeline", 1, "A", 1)},
    {"after": forged("profile", "number", False, "A001", "A001")}, {"after": "%%%"},
    {"start": "2024-13-01"}, {"start": 5}, {"number": "\x00"},
    {"after": TimelineQuery.cursor("2023-02-01T00:00:00.000000", "W002", 1)},
]  # fmt: skip


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    backend = request.param
    url = "memory://" if backend == "memory" else store_url(backend, request, tmp_path)
    ledger = CustomerLedger.open(url)
    record_demo(ledger, ADMIN)
    yield ledger
    ledger.close()


def outcome(read: Any, **arguments: Any) -> Any:
    try:
        page = read(actor=ADMIN, **arguments) if read.__name__ == "search" else read(**arguments)
    except LedgerError as error:
        assert not isinstance(error, InvalidQuery) or error.rule == "invalid_query"
        return f"refused: {error.rule}"
    return [getattr(item, "number", None) for item in page.items], page.next_cursor is not None


@pytest.fixture(scope="module")
def memory_answers() -> dict[str, list[Any]]:
    ledger = CustomerLedger.open("memory://")
    record_demo(ledger, ADMIN)
    answers = {
        "search": [outcome(ledger.search, **a) for a in SEARCHES],
        "timeline": [outcome(ledger.timeline, **a) for a in TIMELINES],
    }
    ledger.close()
    return answers


def test_hostile_search_arguments_are_refused_alike_on_every_backend(
    demo: CustomerLedger, memory_answers: dict[str, list[Any]]
) -> None:
    answers = [outcome(demo.search, **arguments) for arguments in SEARCHES]
    assert answers == memory_answers["search"]
    refused = [a for a in answers if isinstance(a, str)]
    assert set(refused) == {"refused: invalid_query"}  # each one, and nothing rawer
    assert len(refused) == len(SEARCHES) - 6  # the last six are accepted


def test_hostile_timeline_arguments_are_refused_alike_on_every_backend(
    demo: CustomerLedger, memory_answers: dict[str, list[Any]]
) -> None:
    answers = [outcome(demo.timeline, **arguments) for arguments in TIMELINES]
    assert answers == memory_answers["timeline"]
    assert answers[-1] != "refused: invalid_query"  # a cursor it gave out is taken


@pytest.mark.parametrize(
    ("typed", "meant"),
    [({"grade": "a"}, {"grade": "A"}), ({"grade": "Ａ"}, {"grade": "A"}),
     ({"type": "企业"}, {"type": "company"}), ({"type": "COMPANY"}, {"type": "company"}),
     ({"type": "个人"}, {"type": "individual"}), ({"type": "ｃｏｍｐａｎｙ"}, {"type": "company"}),
     ({"stage": "CUSTOMER"}, {"stage": "customer"}),
     ({"stage": "ｃｕｓｔｏｍｅｒ"}, {"stage": "customer"})],
)  # fmt: skip
def test_code_filters_ignore_case_and_width(
    demo: CustomerLedger, typed: dict[str, str], meant: dict[str, str]
) -> None:
    assert ProfileQuery(**typed) == ProfileQuery(**meant)
    found = outcome(demo.search, **typed)
    assert found == outcome(demo.search, **meant) and found[0], found


def test_an_unknown_customer_type_is_refused_not_an_empty_page() -> None:
    with pytest.raises(InvalidQuery, match="company"):
        ProfileQuery(type="机器人")


def test_a_cursor_belongs_to_its_sort_and_direction() -> None:
    cursor = ProfileQuery(sort="name").cursor("ACME", "A001")
    assert ProfileQuery(sort="name", after=cursor).position == ("ACME", "A001")
    for other in (ProfileQuery(sort="number"), ProfileQuery(sort="name", descending=True)):
        with pytest.raises(InvalidQuery, match="belongs to a search sorted by name"):
            ProfileQuery(sort=other.sort, descending=other.descending, after=cursor)
