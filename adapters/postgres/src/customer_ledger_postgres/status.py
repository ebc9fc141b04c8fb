"""The status view: each customer's lifecycle stage and the facts the board needs.

``idle_key`` holds ``utc_key(last_interaction_at or first_contact_at)``, the key the
memory view compares ``idle(before)`` with, so both agree to the microsecond.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import sql
from psycopg.rows import DictRow

from customer_ledger.storage import (
    Stage,
    StatusRecord,
    StatusRow,
    StatusView,
    utc_key,
)
from customer_ledger_postgres.base import PostgresView
from customer_ledger_postgres.columns import maybe_with_offset, offset_of, with_offset

COLUMNS = (
    "customer_id", "number", "name", "owner", "stage", "open_complaints",
    "last_interaction_at", "last_interaction_offset", "next_reminder_on",
    "first_contact_at", "first_contact_offset", "merged_into", "idle_key", "state",
)  # fmt: skip
ROW_COLUMNS = sql.SQL(", ").join(
    map(sql.Identifier, [c for c in COLUMNS if c not in ("idle_key", "state")])
)


class PostgresStatusView(PostgresView, StatusView):
    kind = "status"

    def prepare_statements(self) -> None:
        t = self.table
        self.upsert = sql.SQL(
            "INSERT INTO {t} ({names}) VALUES ({values}) "
            "ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        ).format(
            t=t,
            names=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            values=sql.SQL(", ").join(sql.SQL("%s") for _ in COLUMNS),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS[1:]
            ),
        )
        self.select_states = sql.SQL(
            "SELECT customer_id, state FROM {} WHERE customer_id = ANY(%s)"
        ).format(t)
        self.select_counts = sql.SQL("SELECT stage, count(*) AS n FROM {} GROUP BY stage").format(t)
        self.select_idle = sql.SQL(
            "SELECT {cols} FROM {t} WHERE stage <> %s AND idle_key < %s ORDER BY number"
        ).format(cols=ROW_COLUMNS, t=t)

    def create_statements(self) -> list[sql.Composed]:
        t, index = self.table, self.names.index
        c = 'COLLATE "C"'
        statements = [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ("
                "customer_id uuid PRIMARY KEY, "
                f"number text {c} NOT NULL, "
                "name text NOT NULL, "
                f"owner text {c}, "
                f"stage text {c} NOT NULL, "
                "open_complaints integer NOT NULL, "
                "last_interaction_at timestamptz, "
                "last_interaction_offset integer, "
                "next_reminder_on date, "
                "first_contact_at timestamptz NOT NULL, "
                "first_contact_offset integer NOT NULL, "
                "merged_into text, "
                f"idle_key text {c} NOT NULL, "
                "state bytea NOT NULL)"
            ).format(t=t)
        ]
        for suffix, columns in {
            "number": "number",
            "by_stage": "stage, number",
            "by_owner": "owner, number",
            "by_idle": "idle_key",
        }.items():
            statements.append(
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} ({cols})").format(
                    i=sql.Identifier(index(suffix)), t=t, cols=sql.SQL(columns)
                )
            )
        return statements

    def save(self, records: Sequence[StatusRecord], tracking: Tracking) -> None:
        rows = [_row(record) for record in records]
        with self.tracked(tracking) as curs:
            self.write_many(curs, self.upsert, rows)

    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        if not customer_ids:
            return {}
        with self.datastore.get_connection() as conn:
            rows = conn.execute(self.select_states, (list(customer_ids),)).fetchall()
        return {row["customer_id"]: bytes(row["state"]) for row in rows}

    def rows(self, stage: Stage | None = None, owner: str | None = None) -> list[StatusRow]:
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        if stage is not None:
            conditions.append(sql.SQL("stage = %s"))
            params.append(str(stage))  # a Stage is a StrEnum: its value
        if owner is not None:
            conditions.append(sql.SQL("owner = %s"))
            params.append(owner)
        statement = sql.SQL("SELECT {cols} FROM {t} WHERE {where} ORDER BY number").format(
            cols=ROW_COLUMNS,
            t=self.table,
            where=sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE"),
        )
        with self.datastore.get_connection() as conn:
            return [_status_row(row) for row in conn.execute(statement, params).fetchall()]

    def count_by_stage(self) -> dict[Stage, int]:
        counts = dict.fromkeys(Stage, 0)
        with self.datastore.get_connection() as conn:
            for row in conn.execute(self.select_counts).fetchall():
                counts[Stage(row["stage"])] = row["n"]
        return counts

    def idle(self, before: datetime) -> list[StatusRow]:
        params = (Stage.CHURNED.value, utc_key(before))
        with self.datastore.get_connection() as conn:
            rows = conn.execute(self.select_idle, params).fetchall()
        return [_status_row(row) for row in rows]


def _row(record: StatusRecord) -> tuple[Any, ...]:
    r = record.row
    return (
        r.customer_id,
        r.number,
        r.name,
        r.owner,
        r.stage.value,
        r.open_complaints,
        r.last_interaction_at,
        offset_of(r.last_interaction_at),
        r.next_reminder_on,
        r.first_contact_at,
        offset_of(r.first_contact_at),
        r.merged_into,
        utc_key(r.last_interaction_at or r.first_contact_at),
        record.state,
    )


def _status_row(row: DictRow) -> StatusRow:
    return StatusRow(
        customer_id=row["customer_id"],
        number=row["number"],
        name=row["name"],
        owner=row["owner"],
        stage=Stage(row["stage"]),
        open_complaints=row["open_complaints"],
        last_interaction_at=maybe_with_offset(
            row["last_interaction_at"], row["last_interaction_offset"]
        ),
        next_reminder_on=row["next_reminder_on"],
        first_contact_at=with_offset(row["first_contact_at"], row["first_contact_offset"]),
        merged_into=row["merged_into"],
    )
