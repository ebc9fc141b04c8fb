"""The event store side: URLs, table prefixes, and the factory eventsourcing builds from."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from customer_ledger_sqlite import (
    PrefixedSQLiteFactory,
    SQLiteAdapter,
    SQLiteProfileView,
    SQLiteStatusView,
    SQLiteViewSet,
)
from customer_ledger_sqlite.factory import TOPIC
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.errors import StoreError
from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL


def tables(path: Path | str) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def env(path: Path | str, prefix: str = "") -> dict[str, str]:
    return {"PERSISTENCE_MODULE": TOPIC, "SQLITE_DBNAME": str(path), "SQLITE_TABLE_PREFIX": prefix}


# -- URLs -------------------------------------------------------------------------------


def test_the_adapter_is_found_by_its_entry_point():
    assert isinstance(adapter_for(StoreURL.parse("sqlite:///x.db")), SQLiteAdapter)


@pytest.mark.parametrize(
    ("url", "settings"),
    [
        ("sqlite:///rel/ledger.db", {"SQLITE_DBNAME": "rel/ledger.db", "SQLITE_TABLE_PREFIX": ""}),
        ("sqlite:////abs/l.db?prefix=Sales", {"SQLITE_DBNAME": "/abs/l.db",
                                              "SQLITE_TABLE_PREFIX": "sales"}),
        ("sqlite:///l.db?lock_timeout=30", {"SQLITE_LOCK_TIMEOUT": "30"}),
        ("sqlite:///l.db", {"SQLITE_LOCK_TIMEOUT": "5", "PERSISTENCE_MODULE": TOPIC}),
    ],
)  # fmt: skip
def test_application_env_from_the_url(url, settings):
    got = SQLiteAdapter().application_env(StoreURL.parse(url))
    assert {key: got[key] for key in settings} == settings


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://host/x.db", "must look like"),
        ("sqlite:///", "must look like"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///x.db?lock_timeout=soon", "lock_timeout"),
        ("sqlite:///x.db?lock_timeout=0", "lock_timeout"),
        ("sqlite:///x.db?prefix=1st", "prefix"),
        ("sqlite:///x.db?prefix=_x", "prefix"),
        ("sqlite:///x.db?prefix=sqlite_x", "reserved"),
        ("sqlite:///x.db?prefix=a-b", "prefix"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(StoreError, match=message):
        SQLiteAdapter().application_env(StoreURL.parse(url))


# -- prefixes ---------------------------------------------------------------------------


def test_two_prefixed_ledgers_in_one_file_stay_separate(db_dir):
    sales = CustomerLedger.open(f"sqlite:///{db_dir}/shared.db?prefix=sales")
    support = CustomerLedger.open(f"sqlite:///{db_dir}/shared.db?prefix=support")
    try:
        sales.first_contact("A001", name="张三", type="individual")  # same number in both
        support.first_contact("A001", name="李四", type="company")
        support.first_contact("B002", name="王五", type="company")
        assert sales.profile("A001").name == "张三"
        assert support.profile("A001").name == "李四"
        assert list(sales.numbers()) == ["A001"]
        assert list(support.numbers()) == ["A001", "B002"]
        assert [p.number for p in sales.search().items] == ["A001"]
        assert sales.recorder.max_notification_id() < support.recorder.max_notification_id()
    finally:
        sales.close()
        support.close()
    names = tables(db_dir / "shared.db")
    for prefix in ("sales", "support"):
        assert {
            f"{prefix}_stored_events", f"{prefix}_profile_live", f"{prefix}_profile_live_tags",
            f"{prefix}_profile_live_tracking", f"{prefix}_timeline_live_tracking",
            f"{prefix}_status_live_tracking",
        } <= names  # fmt: skip
    assert "stored_events" not in names and "tracking" not in names


def test_no_prefix_keeps_eventsourcings_table_names_beside_prefixed_ledgers(db_dir):
    plain = CustomerLedger.open(f"sqlite:///{db_dir}/l.db")
    north = CustomerLedger.open(f"sqlite:///{db_dir}/l.db?prefix=north")
    try:
        plain.first_contact("A001", name="plain", type="company")
        north.first_contact("A001", name="north", type="company")
        assert plain.profile("A001").name == "plain"
        assert north.profile("A001").name == "north"
    finally:
        plain.close()
        north.close()
    names = tables(db_dir / "l.db")
    assert {"stored_events", "profile_live", "north_stored_events", "north_profile_live"} <= names


def test_an_existing_unprefixed_eventsourcing_file_opens_as_before(db_dir):
    """A file written by eventsourcing's own SQLite module reads through the adapter."""
    path = db_dir / "old.db"
    old = CustomerLedger({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})
    old.eager_views = False
    old.first_contact("A001", name="from before", type="company")
    old.close()
    ledger = CustomerLedger.open(f"sqlite:///{path}")
    try:
        assert ledger.profile("A001").name == "from before"
    finally:
        ledger.close()


def test_the_factory_prefixes_events_and_snapshots(db_dir):
    factory = InfrastructureFactory.construct(env(db_dir / "f.db", "sales"))
    try:
        assert isinstance(factory, PrefixedSQLiteFactory)
        assert factory.application_recorder().events_table_name == "sales_stored_events"
        assert factory.aggregate_recorder("snapshots").events_table_name == (
            "sales_stored_snapshots"
        )
        assert factory.process_recorder().events_table_name == "sales_stored_events"
    finally:
        factory.close()
    assert {"sales_stored_events", "sales_stored_snapshots"} <= tables(db_dir / "f.db")


class AuditedRecorder(SQLiteApplicationRecorder):
    """An APPLICATION_RECORDER_TOPIC subclass: it gets the prefixed table too."""


def test_the_factory_honours_application_recorder_topic(db_dir):
    settings = env(db_dir / "f.db", "sales")
    settings["APPLICATION_RECORDER_TOPIC"] = f"{__name__}:AuditedRecorder"
    factory = InfrastructureFactory.construct(settings)
    try:
        recorder = factory.application_recorder()
        assert type(recorder) is AuditedRecorder
        assert recorder.events_table_name == "sales_stored_events"
    finally:
        factory.close()


# -- views built by eventsourcing (view_class(datastore=...)) ----------------------------


def test_the_factory_binds_an_unbound_view_class_to_its_prefix(db_dir):
    factory = InfrastructureFactory.construct(env(db_dir / "f.db", "sales"))
    try:
        view = factory.tracking_recorder(SQLiteProfileView)
        assert view.table == "sales_profile_live"
        bound = SQLiteProfileView.bound("other", "rebuild")
        assert factory.tracking_recorder(bound).table == "other_profile_rebuild"
    finally:
        factory.close()
    assert {"sales_profile_live", "sales_profile_live_tracking"} <= tables(db_dir / "f.db")


def test_eventsourcings_own_sqlite_factory_builds_bound_views(db_dir):
    factory = InfrastructureFactory.construct(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db_dir / "e.db")}
    )
    try:
        view_class = SQLiteViewSet(factory.datastore, "north").view_class("status")
        assert view_class is SQLiteStatusView.bound("north")
        view = factory.tracking_recorder(view_class)
        assert view.table == "north_status_live"
        assert view.count_by_stage()  # tables were created
    finally:
        factory.close()


def test_bound_classes_are_made_once():
    assert SQLiteProfileView.bound("a", "rebuild") is SQLiteProfileView.bound("a", "rebuild")
    assert SQLiteProfileView.bound("a") is not SQLiteProfileView.bound("b")
    assert SQLiteProfileView.bound().is_bound and not SQLiteProfileView.is_bound
