"""eventsourcing's own recorder contract tests, run on the prefixed recorders and the views.

The module (not its classes) is imported: its abstract TestCase classes would be
collected by pytest if they were names in this module.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from customer_ledger_sqlite import PrefixedSQLiteFactory, SQLiteViewSet
from customer_ledger_sqlite.factory import TOPIC
from eventsourcing.persistence import ApplicationRecorder, TrackingRecorder
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteDatastore,
    SQLiteProcessRecorder,
    SQLiteTrackingRecorder,
)
from eventsourcing.tests import persistence as contracts
from eventsourcing.utils import Environment

TMPFS = Path("/dev/shm")


class _TempFile:
    """unittest-style cases cannot take pytest fixtures: a database file per test."""

    def make_path(self) -> str:
        self._dir = tempfile.mkdtemp(dir=TMPFS if TMPFS.is_dir() else None)
        return str(Path(self._dir) / "contract.db")

    def remove_dir(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class TestPrefixedApplicationRecorder(_TempFile, contracts.ApplicationRecorderTestCase):
    # Thousands of events from many threads: throughput benchmarks, not contracts.
    test_concurrent_no_conflicts = None  # type: ignore[assignment]
    test_concurrent_throughput = None  # type: ignore[assignment]
    test_performance = None  # type: ignore[assignment]

    def setUp(self) -> None:
        env = {"PERSISTENCE_MODULE": TOPIC, "SQLITE_DBNAME": self.make_path()}
        self.factory = PrefixedSQLiteFactory(Environment(env=env | {"SQLITE_TABLE_PREFIX": "p"}))

    def tearDown(self) -> None:
        self.factory.close()
        self.remove_dir()

    def create_recorder(self) -> ApplicationRecorder:
        recorder = self.factory.application_recorder()
        assert recorder.events_table_name == "p_stored_events"  # type: ignore[attr-defined]
        return recorder


class TestPrefixedFactory(_TempFile, contracts.InfrastructureFactoryTestCase):
    def setUp(self) -> None:
        self.env = Environment("TestCase")
        self.env["PERSISTENCE_MODULE"] = TOPIC
        self.env["SQLITE_DBNAME"] = self.make_path()
        self.env["SQLITE_TABLE_PREFIX"] = "sales"
        super().setUp()

    def tearDown(self) -> None:
        super().tearDown()
        self.remove_dir()

    def expected_factory_class(self) -> type[PrefixedSQLiteFactory]:
        return PrefixedSQLiteFactory

    def expected_aggregate_recorder_class(self) -> type[SQLiteAggregateRecorder]:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type[SQLiteApplicationRecorder]:
        return SQLiteApplicationRecorder

    def expected_tracking_recorder_class(self) -> type[SQLiteTrackingRecorder]:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type[SQLiteTrackingRecorder]:
        return MyTrackingRecorder

    def expected_process_recorder_class(self) -> type[SQLiteProcessRecorder]:
        return SQLiteProcessRecorder


class MyTrackingRecorder(SQLiteTrackingRecorder):
    pass


class _ViewTracking(_TempFile):
    """A mixin (pytest collects every TestCase subclass, whatever its name)."""

    kind = ""
    generation = "live"

    def setUp(self) -> None:
        self.datastore = SQLiteDatastore(self.make_path())
        self.views = SQLiteViewSet(self.datastore, "north")

    def tearDown(self) -> None:
        self.datastore.close()
        self.remove_dir()

    def create_recorder(self) -> TrackingRecorder:
        return self.views.view(self.kind, self.generation)  # type: ignore[arg-type]


class TestProfileViewTracking(_ViewTracking, contracts.TrackingRecorderTestCase):
    kind = "profile"


class TestTimelineViewTracking(_ViewTracking, contracts.TrackingRecorderTestCase):
    kind = "timeline"


class TestStatusRebuildViewTracking(_ViewTracking, contracts.TrackingRecorderTestCase):
    kind = "status"
    generation = "rebuild"
