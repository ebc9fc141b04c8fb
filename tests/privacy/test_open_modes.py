"""Opening a ledger for writing or for reading (docs/privacy.md, "The master key").

Given a store, when a ledger opens it for writing, then the key table is opened at once:
without a usable master key the open is refused and nothing at all is written (a
PostgreSQL demo used to record the companies and then fail on the first individual).
When it opens read-only, then the store must exist, nothing can be recorded, and
without the master key personal fields read ``[encrypted]``, never plaintext.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from strategies import fixed_clock

from customer_ledger import (
    Contact,
    CustomerLedger,
    MasterKeyMismatch,
    MasterKeyMissing,
    ReadOnlyLedger,
    StoreNotFound,
)
from customer_ledger.cli.demo import record as record_demo
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ENCRYPTED
from customer_ledger.privacy.keys import MASTER_KEY_ENV

ADMIN = Actor("admin-1", "admin")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/ledger.db"
    else:
        yield request.getfixturevalue("postgres_url_factory")()


@pytest.fixture
def master_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv(MASTER_KEY_ENV, key)
    return key


def stored_rows(store: str) -> int:
    """Every row of every table the store holds (events, keys, views)."""
    if store.startswith("sqlite:///"):
        import sqlite3

        path = store.removeprefix("sqlite:///")
        if not os.path.exists(path):
            return 0
        with sqlite3.connect(path) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)
    schema = store.split("prefix=")[1].split("&")[0]
    with psycopg.connect(store.split("?")[0], autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        ]
        return sum(
            conn.execute(
                psycopg.sql.SQL("SELECT count(*) FROM {}").format(psycopg.sql.Identifier(schema, t))
            ).fetchone()[0]
            for t in tables
        )


def record_a_person(store: str) -> None:
    with CustomerLedger.open(store, clock=fixed_clock) as ledger:
        ledger.first_contact("P001", name="欧阳娜娜", type="individual")
        ledger.add_contact(
            "P001", contact=Contact("P001-1", "欧阳娜娜", phone="13912345678", wechat="wx_oyn")
        )
        ledger.refresh()


# -- for writing ------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_without_a_master_key_is_refused_before_the_demo_writes_anything(
    postgres_url_factory,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    store = postgres_url_factory()
    with pytest.raises(MasterKeyMissing, match=MASTER_KEY_ENV), CustomerLedger.open(store) as led:
        record_demo(led, ADMIN)
    assert stored_rows(store) == 0


def test_another_master_key_is_refused_when_the_ledger_opens(
    store: str, master_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_a_person(store)
    before = stored_rows(store)
    monkeypatch.setenv(MASTER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(MasterKeyMismatch):
        CustomerLedger.open(store)
    assert stored_rows(store) == before


# -- for reading ------------------------------------------------------------------------


def test_reading_a_store_that_is_not_there_says_so_and_makes_none(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(StoreNotFound, match=r"typo\.db"):
        CustomerLedger.open(f"sqlite:///{missing}", read_only=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_reading_a_postgres_schema_that_holds_no_ledger_says_so(
    postgres_url_factory,  # noqa: F811 - the fixture
) -> None:
    with pytest.raises(StoreNotFound, match="no ledger"):
        CustomerLedger.open(postgres_url_factory(), read_only=True)


def test_a_read_only_ledger_records_nothing(store: str, master_key: str) -> None:
    record_a_person(store)
    before = stored_rows(store)
    with CustomerLedger.open(store, read_only=True, clock=fixed_clock) as reader:
        assert reader.profile("P001").contacts[0].phone == "139****5678"
        attempts = [
            lambda: reader.log_interaction("P001", channel="phone", topic="call"),
            lambda: reader.first_contact("P002", name="某公司", type="company"),
            lambda: reader.forget("P001", actor=ADMIN, reason="asked"),
            lambda: reader.profile("P001", unmasked=True, why="check", actor=ADMIN),
        ]
        for attempt in attempts:
            with pytest.raises(ReadOnlyLedger):
                attempt()
        with pytest.raises(ReadOnlyLedger):
            reader.batch().log_interaction("P001", channel="phone", topic="in a batch")
    assert stored_rows(store) == before


def test_without_the_master_key_a_reader_sees_encrypted_never_plaintext(
    store: str, master_key: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record_a_person(store)
    monkeypatch.delenv(MASTER_KEY_ENV)
    with CustomerLedger.open(store, read_only=True, clock=fixed_clock) as reader:
        profile = reader.profile("P001")
        assert profile.name in (ENCRYPTED, "欧**")
        assert profile.contacts[0].phone in (ENCRYPTED, "139****5678")
        assert "13912345678" not in repr(profile) and "wx_oyn" not in repr(profile)
        events = reader.history("P001")
        assert ENCRYPTED in repr(events) and "13912345678" not in repr(events)
        assert reader.refresh() == 0  # the views are read as they stand
        with pytest.raises(MasterKeyMissing):
            reader.rebuild()
