"""Rebuild generations: fresh tables, atomic swap, discard, resume after a restart."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from customer_ledger_postgres import PostgresViewSet
from eventsourcing.persistence import Tracking
from postgres_view_support import APP, make_profile, record

from customer_ledger.errors import StoreError
from customer_ledger.projections.views import LIVE, REBUILD, ProfileQuery
from customer_ledger.testing import PlainProfiles

pytestmark = pytest.mark.postgres
OLD = [make_profile(f"A{i:03d}", name="old") for i in range(30)]
NEW = [make_profile(f"B{i:03d}", name="new") for i in range(40)]


def fill(views: PostgresViewSet, generation: str, profiles: list, position: int = 1) -> None:  # type: ignore[type-arg]
    views.view("profile", generation).save([record(p) for p in profiles], Tracking(APP, position))


def names(view) -> set[str]:  # type: ignore[no-untyped-def]
    found = PlainProfiles(view) if not isinstance(view, PlainProfiles) else view
    return {p.name for p in found.search(ProfileQuery(limit=1000)).items}


def objects(views: PostgresViewSet) -> list[str]:
    with views.datastore.get_connection() as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND relkind IN ('r', 'i') ORDER BY relname",
            (views.schema,),
        ).fetchall()
    return [row["relname"] for row in rows]


def test_a_rebuild_lives_beside_the_live_view_until_swapped(views: PostgresViewSet) -> None:
    fill(views, LIVE, OLD)
    assert not views.has_rebuild("profile")
    fill(views, REBUILD, NEW, position=7)
    assert views.has_rebuild("profile")
    live, rebuilt = PlainProfiles(views.view("profile")), views.view("profile", REBUILD)
    assert names(live) == {"old"} and names(rebuilt) == {"new"}
    views.swap("profile")
    assert names(live) == {"new"} and live.max_tracking_id(APP) == 7
    assert names(rebuilt) == {"new"}  # the rebuild object now reads the live tables
    assert views.view("profile") is rebuilt
    assert not views.has_rebuild("profile")
    assert not [name for name in objects(views) if "rebuild" in name]


def test_the_next_rebuild_gets_all_its_indexes(views: PostgresViewSet) -> None:
    fill(views, REBUILD, NEW)
    views.swap("profile")
    live = [n for n in objects(views) if n.startswith("profile_live")]
    assert len(live) > 10
    fill(views, REBUILD, OLD)
    # loaded first (its tables, their primary keys), indexed when it is swapped in
    rebuild = [n for n in objects(views) if n.startswith("profile_rebuild")]
    assert rebuild == ["profile_rebuild", "profile_rebuild_pkey", "profile_rebuild_tracking",
                       "profile_rebuild_tracking_pkey"]  # fmt: skip
    views.swap("profile")
    assert [n for n in objects(views) if n.startswith("profile_live")] == live


def test_a_rebuild_left_with_its_indexes_is_swapped_in_with_them(views: PostgresViewSet) -> None:
    """A rebuild begun by the previous release created its indexes with its tables."""
    fill(views, REBUILD, NEW)
    views.swap("profile")
    live = [n for n in objects(views) if n.startswith("profile_live")]
    fill(views, REBUILD, OLD)
    with views.datastore.transaction(commit=True) as curs:
        views.view("profile", REBUILD).create_indexes(curs)
    views.swap("profile")
    assert [n for n in objects(views) if n.startswith("profile_live")] == live
    assert names(PlainProfiles(views.view("profile"))) == {"old"}


def test_discard_and_swapping_nothing(views: PostgresViewSet) -> None:
    fill(views, LIVE, OLD)
    with pytest.raises(StoreError, match="no profile rebuild"):
        views.swap("profile")
    fill(views, REBUILD, NEW)
    views.discard("profile")
    views.discard("profile")  # idempotent
    assert not views.has_rebuild("profile")
    assert names(PlainProfiles(views.view("profile"))) == {"old"}
    assert names(views.view("profile", REBUILD)) == set()  # fresh tables again
    with pytest.raises(StoreError, match="generation"):
        views.view("profile", "Re-Build")
    with pytest.raises(StoreError, match="no 'forecast' view"):
        views.view("forecast")  # type: ignore[arg-type]


def test_a_rebuild_resumes_after_a_restart(store_url: str) -> None:
    first = PostgresViewSet.from_url(store_url)
    fill(first, REBUILD, NEW[:20], position=20)
    first.close()  # killed here
    second = PostgresViewSet.from_url(store_url)
    try:
        assert second.has_rebuild("profile")
        rebuilt = second.view("profile", REBUILD)
        assert rebuilt.max_tracking_id(APP) == 20
        rebuilt.save([record(p) for p in NEW[20:]], Tracking(APP, 40))
        second.swap("profile")
        assert (
            len(PlainProfiles(second.view("profile")).search(ProfileQuery(limit=1000)).items) == 40
        )
    finally:
        second.close()


def test_readers_during_a_swap_see_old_or_new_never_a_mix(
    views: PostgresViewSet, store_url: str
) -> None:
    fill(views, LIVE, OLD)
    fill(views, REBUILD, NEW)
    readers = PostgresViewSet.from_url(store_url)  # another process's pool
    seen: list[frozenset[str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        view = PlainProfiles(readers.view("profile"))
        while not stop.is_set():
            try:
                page = view.search(ProfileQuery(limit=1000))
                seen.append(frozenset(p.name for p in page.items))
                assert len(page.items) in (len(OLD), len(NEW))
            except BaseException as error:
                errors.append(error)
                return

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    views.swap("profile")
    time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join()
    readers.close()
    assert not errors, errors
    assert set(seen) == {frozenset({"old"}), frozenset({"new"})}
    assert seen[-1] == frozenset({"new"})


def test_a_reader_queued_behind_the_swap_reads_the_new_tables(
    views: PostgresViewSet, postgres_database: str, store_url: str
) -> None:
    """Swap waits for a reader's open transaction; a reader arriving meanwhile waits
    for the swap, then finds the new table under the old name (not an error)."""
    fill(views, LIVE, OLD)
    fill(views, REBUILD, NEW)
    live = PlainProfiles(views.view("profile"))
    for _ in range(8):  # let psycopg prepare its statements on the pooled connections
        live.get_by_number("A001")
    late = PostgresViewSet.from_url(store_url)
    results: dict[str, object] = {}
    with psycopg.connect(postgres_database, autocommit=True) as holder:
        with holder.transaction():
            holder.execute(f'SELECT count(*) FROM "{views.schema}".profile_live').fetchone()
            swapper = threading.Thread(target=views.swap, args=("profile",))
            swapper.start()
            time.sleep(0.2)
            assert swapper.is_alive()  # blocked by the open reader
            reader = threading.Thread(
                target=lambda: results.update(
                    page=PlainProfiles(late.view("profile")).search(ProfileQuery())
                )
            )
            reader.start()
            time.sleep(0.2)
            assert reader.is_alive()  # queued behind the swap's lock request
        swapper.join(5)
        reader.join(5)
    late.close()
    assert {p.name for p in results["page"].items} == {"new"}  # type: ignore[attr-defined]
    assert live.get_by_number("A001") is None and live.get_by_number("B000") is not None


def test_a_live_writer_and_a_swap_do_not_deadlock(views: PostgresViewSet) -> None:
    fill(views, LIVE, OLD, position=1)
    fill(views, REBUILD, NEW, position=1)
    live = PlainProfiles(views.view("profile"))
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        n = 2
        while not done.is_set():
            try:
                live.save([record(make_profile("A000", name="old"))], Tracking(APP, n))
            except BaseException as error:
                errors.append(error)
                return
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.05)
    views.swap("profile")
    done.set()
    writer.join(5)
    assert not writer.is_alive() and not errors, errors
    assert "new" in names(live)
