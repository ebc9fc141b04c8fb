"""Rebuild tables, the atomic swap, discard, and resuming a rebuild after a restart."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest
from customer_ledger_sqlite import SQLiteViewSet
from customer_ledger_sqlite.profile import PROFILE_TABLES
from eventsourcing.sqlite import SQLiteDatastore
from sqlite_samples import APP, T0, entry, profile, record, status, tracking

from customer_ledger.errors import StoreError
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import KINDS, ProfileQuery, TimelineQuery
from customer_ledger.storage.urls import StoreURL
from customer_ledger.testing import PlainProfiles


def tables(db_path: str) -> set[str]:
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def indexes(db_path: str, table: str) -> list[str]:
    with sqlite3.connect(db_path) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
        return [name for (name,) in rows]


def fill(views: SQLiteViewSet, generation: str, label: str, count: int, position: int) -> None:
    profiles = [profile(f"N{i:03d}", f"{label} {i}", tags=(label,)) for i in range(count)]
    views.view("profile", generation).save([record(p) for p in profiles], tracking(position))


def names(views: SQLiteViewSet) -> list[str]:
    return [
        p.name for p in PlainProfiles(views.view("profile")).search(ProfileQuery(limit=1000)).items
    ]


def test_a_rebuild_gets_its_own_tables_and_leaves_live_alone(views, db_path):
    fill(views, "live", "old", 3, 10)
    assert not views.has_rebuild("profile")
    fill(views, "rebuild", "new", 2, 4)
    assert views.has_rebuild("profile")
    assert {"profile_rebuild", "profile_rebuild_tags", "profile_rebuild_tracking"} <= tables(
        db_path
    )
    assert names(views) == ["old 0", "old 1", "old 2"]
    assert PlainProfiles(views.view("profile")).max_tracking_id(APP) == 10
    assert views.view("profile", "rebuild").max_tracking_id(APP) == 4


def test_swap_makes_the_rebuild_live_with_its_tracking(views, db_path):
    fill(views, "live", "old", 3, 10)
    fill(views, "rebuild", "new", 2, 12)
    views.swap("profile")
    assert names(views) == ["new 0", "new 1"]
    assert PlainProfiles(views.view("profile")).max_tracking_id(APP) == 12
    assert not views.has_rebuild("profile")
    assert not any(name.startswith("profile_rebuild") for name in tables(db_path))
    tagged = PlainProfiles(views.view("profile")).search(ProfileQuery(tag="new")).items
    assert [p.number for p in tagged] == ["N000", "N001"]
    with pytest.raises(StoreError, match="no profile rebuild"):
        views.swap("profile")
    assert names(views) == ["new 0", "new 1"]


def test_the_rebuilt_view_object_becomes_the_live_view(views):
    rebuilt = views.view("profile", "rebuild")
    rebuilt.save([record(profile("A001", "new"))], tracking(5))
    views.swap("profile")
    assert views.view("profile") is rebuilt
    assert rebuilt.max_tracking_id(APP) == 5  # it reads the live tables now
    rebuilt.save([record(profile("B002"))], tracking(6))
    assert PlainProfiles(views.view("profile")).get_by_number("B002") is not None


def test_a_rebuild_after_a_swap_has_all_its_indexes_again(views, db_path):
    expected = sum(1 for index in PROFILE_TABLES.indexes if index.table_suffix == "")
    fill(views, "rebuild", "first", 1, 1)
    views.swap("profile")
    fill(views, "rebuild", "second", 1, 2)
    assert len(indexes(db_path, "profile_live")) == expected
    # a rebuild loads its tables first and indexes them when it is swapped in
    assert indexes(db_path, "profile_rebuild") == []
    assert indexes(db_path, "profile_rebuild_tags") == []
    views.swap("profile")
    assert len(indexes(db_path, "profile_live")) == expected
    assert len(indexes(db_path, "profile_live_tags")) == 1
    assert len(indexes(db_path, "profile_live_keys")) == 1


def test_a_rebuild_left_with_its_indexes_gets_no_second_copy(views, db_path):
    """A rebuild begun by the previous release created its indexes with its tables."""
    expected = sum(1 for index in PROFILE_TABLES.indexes if index.table_suffix == "")
    fill(views, "rebuild", "old release", 1, 1)
    with sqlite3.connect(db_path) as connection:
        for suffix in ("", "_tags", "_keys"):
            for statement in PROFILE_TABLES.index_statements("profile_rebuild", "", suffix):
                connection.execute(statement)
    views.swap("profile")
    assert len(indexes(db_path, "profile_live")) == expected
    assert len(indexes(db_path, "profile_live_tags")) == 1
    assert len(indexes(db_path, "profile_live_keys")) == 1


def test_discard_drops_only_the_rebuild(views, db_path):
    fill(views, "live", "old", 2, 3)
    fill(views, "rebuild", "new", 2, 1)
    views.discard("profile")
    views.discard("profile")  # nothing to discard is fine
    assert not views.has_rebuild("profile")
    assert not any(name.startswith("profile_rebuild") for name in tables(db_path))
    assert names(views) == ["old 0", "old 1"]
    assert views.view("profile", "rebuild").max_tracking_id(APP) is None  # fresh again


def test_every_kind_swaps_its_whole_table_family(views, db_path):
    views.view("timeline", "rebuild").save([entry("A001", 1, T0)], tracking(1))
    views.view("status", "rebuild").save([status("A001")], tracking(1))
    views.view("profile", "rebuild").save([record(profile("A001"))], tracking(1))
    views.view("analytics", "rebuild").save([], tracking(1))
    for kind in KINDS:
        views.swap(kind)
    assert tables(db_path) == {
        "profile_live", "profile_live_tags", "profile_live_tracking", "profile_live_keys",
        # the search text: an FTS5 table and its shadow tables, renamed with it
        "profile_live_text", "profile_live_text_data", "profile_live_text_idx",
        "profile_live_text_content", "profile_live_text_docsize", "profile_live_text_config",
        "timeline_live", "timeline_live_tracking", "status_live", "status_live_tracking",
        "analytics_live", "analytics_live_tracking",
    }  # fmt: skip
    assert len(views.view("timeline").entries(TimelineQuery()).items) == 1
    assert [r.number for r in views.view("status").rows()] == ["A001"]


def test_a_reader_that_began_before_the_swap_sees_all_old_then_all_new(views, db_path):
    fill(views, "live", "old", 5, 10)
    fill(views, "rebuild", "new", 3, 12)
    reader = sqlite3.connect(db_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        before = _read(reader)
        assert before == (["old 0", "old 1", "old 2", "old 3", "old 4"], 10)
        views.swap("profile")  # does not wait for the reader (WAL)
        assert _read(reader) == before  # its snapshot: complete old view and tracking
        reader.execute("COMMIT")
        assert _read(reader) == (["new 0", "new 1", "new 2"], 12)
    finally:
        reader.close()


def test_readers_on_other_connections_never_see_a_mix(views, db_path):
    """Another pool searches in a loop while this one rebuilds and swaps over and over."""
    other = SQLiteViewSet(SQLiteDatastore(db_path), owns_datastore=True)
    fill(views, "live", "gen0", 40, 1)
    PlainProfiles(other.view("profile"))  # the reader's statements are prepared on the old tables
    seen: set[tuple[str, ...]] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                seen.add(tuple(p.name.split()[0] for p in _search_all(other)))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for generation in range(1, 8):
            fill(views, "rebuild", f"gen{generation}", 40, generation + 1)
            views.swap("profile")
    finally:
        done.set()
        thread.join()
        other.close()
    assert not errors
    assert len(seen) >= 2  # it did read across swaps
    for result in seen:  # each read: one whole generation, all 40 rows
        assert len(result) == 40 and len(set(result)) == 1, result


def test_a_killed_rebuild_survives_a_reopen_with_its_tracking(db_dir):
    url = StoreURL.parse(f"sqlite:///{db_dir}/resume.db?prefix=north")
    first = SQLiteViewSet.open(url)
    fill(first, "live", "old", 2, 30)
    fill(first, "rebuild", "new", 3, 10)
    first.close()  # as if the process died here

    second = SQLiteViewSet.open(url)
    try:
        assert second.has_rebuild("profile")
        rebuild = second.view("profile", "rebuild")
        assert rebuild.max_tracking_id(APP) == 10
        rebuild.save([record(profile("N003", "new 3"))], tracking(11))  # carries on
        assert names(second) == ["old 0", "old 1"]
        second.swap("profile")
        assert names(second) == ["new 0", "new 1", "new 2", "new 3"]
        assert PlainProfiles(second.view("profile")).max_tracking_id(APP) == 11
    finally:
        second.close()


def test_unknown_kinds_and_generations_are_refused(views):
    with pytest.raises(StoreError, match="no 'ledger' view"):
        views.view("ledger")  # type: ignore[arg-type]
    for generation in ("", "Live", "re_build", "x;drop", "live tracking"):
        with pytest.raises(StoreError, match="generation"):
            views.view("profile", generation)


# -- helpers ------------------------------------------------------------------------------


def _read(connection: sqlite3.Connection) -> tuple[list[str], int]:
    rows = connection.execute("SELECT name FROM profile_live ORDER BY number").fetchall()
    (position,) = connection.execute(
        "SELECT notification_id FROM profile_live_tracking WHERE application_name = ?", (APP,)
    ).fetchone()
    return [name for (name,) in rows], position


def _search_all(views: SQLiteViewSet) -> Iterator[Profile]:
    return iter(PlainProfiles(views.view("profile")).search(ProfileQuery(limit=1000)).items)
