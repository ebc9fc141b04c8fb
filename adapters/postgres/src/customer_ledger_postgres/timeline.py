"""The timeline view: one row per customer event, ordered by business time.

Rows sort by (``utc_key(occurred_at)``, number, version), the same key the memory
view sorts by, held in the ``occurred_key`` column (``COLLATE "C"``). Times are also
kept as ``timestamptz`` (with the offset they were given in) for people querying SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import sql
from psycopg.rows import DictRow

from customer_ledger.storage import (
    Page,
    TimelineEntry,
    TimelineQuery,
    TimelineView,
    utc_key,
)
from customer_ledger_postgres.base import PostgresView
from customer_ledger_postgres.columns import offset_of, with_offset

COLUMNS = (
    "customer_id", "version", "number", "kind", "occurred_at", "occurred_offset",
    "occurred_key", "recorded_at", "recorded_offset", "actor", "summary_en", "summary_zh",
    "late",
)  # fmt: skip


class PostgresTimelineView(PostgresView, TimelineView):
    kind = "timeline"

    def prepare_statements(self) -> None:
        t = self.table
        self.insert = sql.SQL(
            "INSERT INTO {t} ({names}) VALUES ({values}) "
            "ON CONFLICT (customer_id, version) DO NOTHING"
        ).format(
            t=t,
            names=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            values=sql.SQL(", ").join(sql.SQL("%s") for _ in COLUMNS),
        )
        self.select_latest = sql.SQL(
            "SELECT customer_id, min(number) AS number, max(version) AS version FROM {} "
            "WHERE customer_id = ANY(%s) GROUP BY customer_id"
        ).format(t)

    def create_statements(self) -> list[sql.Composed]:
        t, index = self.table, self.names.index
        c = 'COLLATE "C"'
        return [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ("
                "customer_id uuid NOT NULL, "
                "version bigint NOT NULL, "
                f"number text {c} NOT NULL, "
                "kind text NOT NULL, "
                "occurred_at timestamptz NOT NULL, "
                "occurred_offset integer NOT NULL, "
                f"occurred_key text {c} NOT NULL, "
                "recorded_at timestamptz NOT NULL, "
                "recorded_offset integer NOT NULL, "
                "actor text NOT NULL, "
                "summary_en text NOT NULL, "
                "summary_zh text NOT NULL, "
                "late boolean NOT NULL, "
                "PRIMARY KEY (customer_id, version))"
            ).format(t=t),
            sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (occurred_key, number, version)").format(
                i=sql.Identifier(index("by_time")), t=t
            ),
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {i} ON {t} (customer_id, occurred_key, number, version)"
            ).format(i=sql.Identifier(index("by_customer")), t=t),
        ]

    def save(self, entries: Sequence[TimelineEntry], tracking: Tracking) -> None:
        rows = [_row(entry) for entry in entries]
        with self.tracked(tracking) as curs:
            self.write_many(curs, self.insert, rows)

    def latest(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[str, int]]:
        if not customer_ids:
            return {}
        with self.datastore.get_connection() as conn:
            rows = conn.execute(self.select_latest, (list(customer_ids),)).fetchall()
        return {row["customer_id"]: (row["number"], row["version"]) for row in rows}

    def entries(self, query: TimelineQuery) -> Page[TimelineEntry]:
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        if query.customer_id is not None:
            conditions.append(sql.SQL("customer_id = %s"))
            params.append(query.customer_id)
        if query.start is not None:
            conditions.append(sql.SQL("occurred_key >= %s"))
            params.append(utc_key(query.start))
        if query.end is not None:
            conditions.append(sql.SQL("occurred_key < %s"))
            params.append(utc_key(query.end))
        if query.position is not None:
            conditions.append(sql.SQL("(occurred_key, number, version) > (%s, %s, %s)"))
            params += query.position
        statement = sql.SQL(
            "SELECT * FROM {t} WHERE {where} ORDER BY occurred_key, number, version LIMIT %s"
        ).format(
            t=self.table,
            where=sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE"),
        )
        params.append(query.limit + 1)
        with self.datastore.get_connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        entries = [_entry(row) for row in rows[: query.limit]]
        cursor = None
        if len(rows) > query.limit:
            last = entries[-1]
            cursor = query.cursor(utc_key(last.occurred_at), last.number, last.version)
        return Page(tuple(entries), cursor)


def _row(e: TimelineEntry) -> tuple[Any, ...]:
    return (
        e.customer_id,
        e.version,
        e.number,
        e.kind,
        e.occurred_at,
        offset_of(e.occurred_at),
        utc_key(e.occurred_at),
        e.recorded_at,
        offset_of(e.recorded_at),
        e.actor,
        e.summary_en,
        e.summary_zh,
        e.late,
    )


def _entry(row: DictRow) -> TimelineEntry:
    return TimelineEntry(
        customer_id=row["customer_id"],
        number=row["number"],
        version=row["version"],
        kind=row["kind"],
        occurred_at=with_offset(row["occurred_at"], row["occurred_offset"]),
        recorded_at=with_offset(row["recorded_at"], row["recorded_offset"]),
        actor=row["actor"],
        summary_en=row["summary_en"],
        summary_zh=row["summary_zh"],
        late=row["late"],
    )
