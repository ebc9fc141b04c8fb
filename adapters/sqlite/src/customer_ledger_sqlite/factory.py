"""eventsourcing's SQLite factory with a table prefix, so ledgers can share one file.

eventsourcing's SQLite recorders take their table name as an argument, but its
factory always passes the fixed ``stored_events`` / ``stored_snapshots``. This
factory passes ``<prefix>_stored_events`` and ``<prefix>_stored_snapshots`` instead
(plain names when the prefix is empty, so existing files keep working), for the
application recorder, the snapshot recorder and any ``APPLICATION_RECORDER_TOPIC``
subclass alike. Select it with ``PERSISTENCE_MODULE=customer_ledger_sqlite.factory:
PrefixedSQLiteFactory`` and ``SQLITE_TABLE_PREFIX``.
"""

from __future__ import annotations

from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, ProcessRecorder
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteFactory,
    SQLiteProcessRecorder,
    SQLiteTrackingRecorder,
)
from eventsourcing.utils import Environment, EnvType, resolve_topic

from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.schema import prefixed, table_prefix

TOPIC = "customer_ledger_sqlite.factory:PrefixedSQLiteFactory"


class PrefixedSQLiteFactory(SQLiteFactory):
    SQLITE_TABLE_PREFIX = "SQLITE_TABLE_PREFIX"

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        self.table_prefix = table_prefix(self.env.get(self.SQLITE_TABLE_PREFIX, "") or "")

    def table_name(self, name: str) -> str:
        return prefixed(self.table_prefix, name)

    def aggregate_recorder(self, purpose: str = "events") -> AggregateRecorder:
        recorder = self.aggregate_recorder_class(
            datastore=self.datastore, events_table_name=self.table_name("stored_" + purpose)
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def application_recorder(self) -> ApplicationRecorder:
        topic = self.env.get(self.APPLICATION_RECORDER_TOPIC)
        recorder_class: type[SQLiteApplicationRecorder] = (
            resolve_topic(topic) if topic else self.application_recorder_class
        )
        assert issubclass(recorder_class, SQLiteApplicationRecorder)
        recorder = recorder_class(
            datastore=self.datastore, events_table_name=self.table_name("stored_events")
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def process_recorder(self) -> ProcessRecorder:
        """Prefixed events; its tracking stays in eventsourcing's shared ``tracking``."""
        topic = self.env.get(self.PROCESS_RECORDER_TOPIC)
        recorder_class: type[SQLiteProcessRecorder] = (
            resolve_topic(topic) if topic else self.process_recorder_class
        )
        assert issubclass(recorder_class, SQLiteProcessRecorder)
        recorder = recorder_class(
            datastore=self.datastore, events_table_name=self.table_name("stored_events")
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def tracking_recorder(
        self, tracking_recorder_class: type[SQLiteTrackingRecorder] | None = None
    ) -> SQLiteTrackingRecorder:
        """A ledger view class not yet bound to a prefix gets this factory's prefix."""
        if (
            isinstance(tracking_recorder_class, type)
            and issubclass(tracking_recorder_class, SQLiteView)
            and not tracking_recorder_class.is_bound
        ):
            tracking_recorder_class = tracking_recorder_class.bound(self.table_prefix)
        return super().tracking_recorder(tracking_recorder_class)
