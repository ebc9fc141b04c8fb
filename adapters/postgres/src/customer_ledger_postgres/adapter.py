"""Configures eventsourcing's PostgreSQL recorders and the views from a store URL.

``postgresql://user[:password]@host[:port]/dbname?prefix=p`` puts the ledger in schema
``p`` (created when missing), so several ledgers can share one database.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import psycopg
from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from customer_ledger.storage import (
    KEY_STORE_URL_ENV,
    Adapter,
    Failure,
    MasterKey,
    StoreURL,
)
from customer_ledger_postgres.keys import PostgresKeyStore
from customer_ledger_postgres.settings import PostgresSettings
from customer_ledger_postgres.users import PostgresUserStore
from customer_ledger_postgres.viewset import PostgresViewSet


class PostgresAdapter(Adapter):
    scheme = "postgresql"

    def application_env(self, url: StoreURL) -> dict[str, str]:
        """eventsourcing settings; creates the schema first, as eventsourcing needs it."""
        settings = PostgresSettings.from_url(url)
        settings.ensure_schema()
        # KEY_STORE_URL_ENV: where the data keys are, for any application built from this
        return {**settings.application_env(), KEY_STORE_URL_ENV: url.raw}

    def views(self, url: StoreURL) -> PostgresViewSet:
        return PostgresViewSet(PostgresSettings.from_url(url))

    def key_store(
        self, url: StoreURL, master_key: MasterKey | None, *, create: bool = True
    ) -> PostgresKeyStore:
        return PostgresKeyStore.open(url, master_key)

    def user_store(self, url: StoreURL) -> PostgresUserStore:
        return PostgresUserStore.open(url)

    def exists(self, url: StoreURL) -> bool:
        """Whether the ledger's schema holds its event or key table."""
        return PostgresSettings.from_url(url).holds_a_ledger()

    def log_position(self, recorder: object) -> int | None:
        """The LSN, as bytes from 0/0: the primary's current one; a replica's replayed one."""
        datastore = getattr(recorder, "datastore", None)
        if datastore is None:
            return None
        with datastore.get_connection() as conn:
            row = conn.execute(LOG_POSITION).fetchone()
        return None if row is None or row["position"] is None else int(row["position"])

    def first_events(
        self, recorder: ApplicationRecorder, originator_ids: Collection[UUID]
    ) -> list[StoredEvent]:
        """One query for all ``originator_ids``, on the table's primary key."""
        assert isinstance(recorder, PostgresApplicationRecorder)
        schema, table = recorder.datastore.schema, recorder.events_table_name
        statement = sql.SQL(
            "SELECT originator_id, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s) AND originator_version = 1"
        ).format(sql.Identifier(schema), sql.Identifier(table))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=1,
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def insert_notifications(
        self, recorder: ApplicationRecorder, notifications: Sequence[Notification]
    ) -> None:
        """Each event with its notification id given (the column is a bigserial), under
        the table lock eventsourcing's writers take; then the sequence is moved past the
        highest id, so the next command's events come after the copied ones."""
        assert isinstance(recorder, PostgresApplicationRecorder)
        schema, table = recorder.datastore.schema, recorder.events_table_name
        name = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        qualified = ".".join('"' + part.replace('"', '""') + '"' for part in (schema, table))
        rows = [
            (n.originator_id, n.originator_version, n.topic, n.state, n.id) for n in notifications
        ]
        with recorder.datastore.transaction(commit=True) as curs:
            for statement in recorder.lock_table_statements:
                curs.execute(statement)
            curs.executemany(
                sql.SQL(
                    "INSERT INTO {} (originator_id, originator_version, topic, state, "
                    "notification_id) VALUES (%s, %s, %s, %s, %s)"
                ).format(name),
                rows,
            )
            curs.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                    "(SELECT max(notification_id) FROM {}))"
                ).format(name),
                (qualified,),
            )
            curs.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(recorder.channel_name)))

    def classify(self, error: BaseException) -> Failure | None:
        return classify(error)


LOG_POSITION = (
    "SELECT pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END, '0/0')::bigint AS position"
)


# lock_not_available (lock_timeout), serialization_failure and deadlock_detected
BUSY_STATES = frozenset({"55P03", "40001", "40P01"})
# unique_violation (in the catalog), duplicate_table, duplicate_object: two processes
# running the same idempotent schema statements at the same instant
SCHEMA_RACE_STATES = frozenset({"23505", "42P07", "42710"})
# data_corrupted, index_corrupted
DAMAGED_STATES = frozenset({"XX001", "XX002"})


def classify(error: BaseException) -> Failure | None:
    """By SQLSTATE (psycopg's errors carry it as ``sqlstate``): a held lock is busy, a
    schema statement that lost to another process's is a race; a data error or corrupt
    data is damage; a failed connection
    (``OperationalError``, ``InterfaceError``) leaves the store unavailable."""
    state = getattr(error, "sqlstate", None)
    if state in BUSY_STATES:
        return "busy"
    if isinstance(state, str) and (state.startswith("22") or state in DAMAGED_STATES):
        return "damaged"  # data_exception (class 22): a value the database refuses
    if state in SCHEMA_RACE_STATES or (state == "XX000" and "concurrently" in str(error)):
        return "race"
    if isinstance(error, (psycopg.OperationalError, psycopg.InterfaceError)):
        return "unavailable"
    return None
