"""Two connection pools on one file (as two processes would be) racing for one view."""

from __future__ import annotations

import threading

from customer_ledger_sqlite import SQLiteViewSet
from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteDatastore
from sqlite_samples import APP, profile, record, tracking

from customer_ledger.testing import PlainProfiles

POSITIONS = 60


def test_racing_writers_save_each_position_exactly_once_without_lock_errors(db_path):
    pools = [SQLiteViewSet(SQLiteDatastore(db_path, lock_timeout=5), owns_datastore=True)
             for _ in range(2)]  # fmt: skip
    start = threading.Barrier(len(pools))
    saved: dict[int, list[int]] = {i: [] for i in range(len(pools))}
    errors: list[BaseException] = []

    def write(who: int) -> None:
        try:
            start.wait()
            view = pools[who].view("profile")  # both create the tables at once, too
            for position in range(1, POSITIONS + 1):
                rows = [record(profile("A001", f"{who}@{position}", version=position))]
                try:
                    view.save(rows, tracking(position))
                except IntegrityError:
                    continue  # the other writer got there first
                saved[who].append(position)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(who,)) for who in range(len(pools))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(saved[0] + saved[1]) == list(range(1, POSITIONS + 1))
        view = PlainProfiles(pools[0].view("profile"))
        assert view.max_tracking_id(APP) == POSITIONS
        last = view.get_by_number("A001")
        assert last.version == POSITIONS and last.name.endswith(f"@{POSITIONS}")
    finally:
        for views in pools:
            views.close()
