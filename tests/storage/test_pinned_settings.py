"""What a store URL says wins over every environment variable, and its options are
bounded: eventsourcing reads ``CUSTOMERLEDGER_<KEY>`` before ``<KEY>``, so without
pinning, a stray variable could move the events away from the views and keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

import pytest
from customer_ledger_postgres.settings import BOUNDS as PG_BOUNDS
from customer_ledger_postgres.settings import OPTIONS as PG_OPTIONS
from customer_ledger_postgres.settings import PostgresSettings
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from customer_ledger_sqlite.adapter import SQLiteAdapter
from hypothesis import given, settings
from hypothesis import strategies as st

from customer_ledger import CustomerLedger
from customer_ledger.audit.verify import verify
from customer_ledger.errors import StoreError
from customer_ledger.storage.urls import StoreURL


def record_one(url: str) -> None:
    with CustomerLedger.open(url) as ledger:
        ledger.first_contact("A001", name="王五", type="individual")  # personal: a key
        ledger.profile("A001")  # the views


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CUSTOMERLEDGER_SQLITE_DBNAME", "other.db"),
        ("SQLITE_DBNAME", "other.db"),
        ("CUSTOMERLEDGER_SQLITE_TABLE_PREFIX", "elsewhere"),
        ("CUSTOMERLEDGER_PERSISTENCE_MODULE", "eventsourcing.popo"),
        ("CUSTOMERLEDGER_SINGLE_ROW_TRACKING", "n"),
        ("CUSTOMERLEDGER_APPLICATION_RECORDER_TOPIC", "eventsourcing.popo:POPOApplicationRecorder"),
        ("CUSTOMERLEDGER_CREATE_TABLE", "n"),
    ],
)
def test_sqlite_settings_the_url_pins_win_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    # given an environment trying to change where and how the events are stored
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    # when a command is recorded in sqlite:///a.db
    record_one("sqlite:///a.db")
    # then its event is in a.db, with its views and keys, and verifies there
    assert not (tmp_path / "other.db").exists()
    assert {"stored_events", "customer_keys", "profile_live"} <= tables(tmp_path / "a.db")
    with CustomerLedger.open("sqlite:///a.db") as ledger:
        report = verify(ledger)
        assert report.ok and report.events > 0
        assert ledger.history("A001")[0].name == "王五"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CUSTOMERLEDGER_POSTGRES_SCHEMA", "public"),
        ("CUSTOMERLEDGER_POSTGRES_DBNAME", "postgres"),
        ("CUSTOMERLEDGER_SINGLE_ROW_TRACKING", "n"),
        ("CUSTOMERLEDGER_POSTGRES_ENABLE_DB_FUNCTIONS", "y"),
        ("CUSTOMERLEDGER_PERSISTENCE_MODULE", "eventsourcing.popo"),
    ],
)
def test_postgresql_settings_the_url_pins_win_over_the_environment(
    postgres_url_factory,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
) -> None:
    url = postgres_url_factory()
    monkeypatch.setenv(variable, value)
    record_one(url)
    with CustomerLedger.open(url) as ledger:
        pinned = dict(ledger.env)
        assert pinned.get(variable) != value, f"{variable} leaked into the settings"
        report = verify(ledger)
        assert report.ok and report.events > 0
        assert ledger.history("A001")[0].name == "王五"
    monkeypatch.delenv(variable)
    with CustomerLedger.open(url) as ledger:  # the same store, without the variable
        assert ledger.recorder.max_notification_id() == report.events


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h/db?pool_size=99999999999999999999",
        "postgresql://u@h/db?pool_size=0",
        "postgresql://u@h/db?pool_size=101",
        "postgresql://u@h/db?max_overflow=-1",
        "postgresql://u@h/db?lock_timeout=١٠",  # Arabic-Indic digits
        "postgresql://u@h/db?connect_timeout=5.5",
        "postgresql://u@h/db?pre_ping=perhaps",
        "postgresql://u@h/db?pool_sise=5",  # a typo
        "sqlite:///x.db?lock_timeout=99999999999",
        "sqlite:///x.db?lock_timeout=0",
        "sqlite:///x.db?lock_timout=5",  # a typo
    ],
)
def test_url_options_are_bounded_and_checked_before_anything_opens(
    url: str, tmp_path: Path
) -> None:
    with pytest.raises(StoreError):
        CustomerLedger.open(url)


# Any value of any option, as a URL carries it (percent-encoded): accepted only inside
# its bounds, else refused with a StoreError; never a hang, an overflow or a traceback.
OPTION_VALUES = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=25),
    st.sampled_from(["", " 5", "5 ", "+5", "0x10", "1e3", "٥", "５", "5\x00", "true", "yes"]),
)


@settings(max_examples=300)
@given(option=st.sampled_from(sorted(PG_OPTIONS)), value=OPTION_VALUES)
def test_any_postgresql_option_value_is_bounded_or_refused(option: str, value: str) -> None:
    url = StoreURL.parse(f"postgresql://u@h/db?{option}={quote(value, safe='')}")
    try:
        settings_ = PostgresSettings.from_url(url)
    except StoreError:
        return
    if option in PG_BOUNDS:
        least, most = PG_BOUNDS[option]
        assert least <= getattr(settings_, option) <= most


@settings(max_examples=300)
@given(option=st.sampled_from(["lock_timeout", "prefix", "pool_size"]), value=OPTION_VALUES)
def test_any_sqlite_option_value_is_bounded_or_refused(option: str, value: str) -> None:
    url = StoreURL.parse(f"sqlite:///x.db?{option}={quote(value, safe='')}")
    try:
        env = SQLiteAdapter().application_env(url)
    except StoreError:
        return
    assert option != "pool_size"  # not a SQLite option: refused above
    if option == "lock_timeout":
        assert 1 <= int(env["SQLITE_LOCK_TIMEOUT"]) <= 3600


def test_an_option_given_twice_is_refused_not_last_one_wins() -> None:
    with pytest.raises(StoreError, match="prefix given more than once"):
        CustomerLedger.open("memory://?prefix=a&prefix=b")
