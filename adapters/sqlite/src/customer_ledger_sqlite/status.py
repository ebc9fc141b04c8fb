"""The status view on SQLite: one row per customer for the board.

``idle_key`` is the UTC key of the last interaction, or of first contact when there
was none, so "idle since" is one indexed comparison.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from customer_ledger.storage import (
    Stage,
    StatusRecord,
    StatusRow,
    StatusView,
    utc_key,
)
from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.documents import dump, load
from customer_ledger_sqlite.schema import Index, family
from customer_ledger_sqlite.transactions import chunks, placeholders, write_transaction

COLUMNS = ("customer_id", "number", "stage", "owner", "idle_key", "document", "state")

STATUS_TABLES = family(
    "status",
    {
        "": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL PRIMARY KEY, "
            "number TEXT NOT NULL UNIQUE, "
            "stage TEXT NOT NULL, "
            "owner TEXT, "
            "idle_key TEXT NOT NULL, "
            "document BLOB NOT NULL, "
            "state BLOB NOT NULL)"
        ),
    },
    [
        Index("stage", "", "stage, number"),
        Index("owner", "", "owner, number"),
        Index("idle", "", "idle_key"),
    ],
)


class SQLiteStatusView(SQLiteView, StatusView):
    kind = "status"
    family = STATUS_TABLES

    def _prepare_statements(self) -> None:
        super()._prepare_statements()
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        self._upsert = (
            f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) "
            f"VALUES ({placeholders(len(COLUMNS))}) "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )

    def save(self, records: Sequence[StatusRecord], tracking: Tracking) -> None:
        latest = {r.row.customer_id: r for r in records}
        rows = [
            (
                str(r.row.customer_id),
                r.row.number,
                r.row.stage.value,
                r.row.owner,
                utc_key(r.row.last_interaction_at or r.row.first_contact_at),
                dump(r.row),
                r.state,
            )
            for r in latest.values()
        ]
        with write_transaction(self.datastore) as c:
            self._insert_tracking(c, tracking)
            c.executemany(self._upsert, rows)

    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        found: dict[UUID, bytes] = {}
        wanted = [str(i) for i in customer_ids]
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(wanted):
                c.execute(
                    f"SELECT customer_id, state FROM {self.table} "
                    f"WHERE customer_id IN ({placeholders(len(chunk))})",
                    chunk,
                )
                found.update((UUID(row[0]), bytes(row[1])) for row in c.fetchall())
        return found

    def rows(self, stage: Stage | None = None, owner: str | None = None) -> list[StatusRow]:
        where, params = [], []
        if stage is not None:
            where.append("stage = ?")
            params.append(str(stage))  # a StrEnum or its value, as memory compares
        if owner is not None:
            where.append("owner = ?")
            params.append(owner)
        return self._select(" AND ".join(where), params)

    def count_by_stage(self) -> dict[Stage, int]:
        counts = dict.fromkeys(Stage, 0)
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT stage, count(*) FROM {self.table} GROUP BY stage")
            for stage, count in c.fetchall():
                counts[Stage(stage)] = count
        return counts

    def idle(self, before: datetime) -> list[StatusRow]:
        return self._select("stage <> ? AND idle_key < ?", [Stage.CHURNED.value, utc_key(before)])

    def _select(self, where: str, params: Sequence[Any]) -> list[StatusRow]:
        sql = f"SELECT document FROM {self.table} "
        sql += f"WHERE {where} " if where else ""
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql + "ORDER BY number", params)
            return [load(row[0], StatusRow) for row in c.fetchall()]
