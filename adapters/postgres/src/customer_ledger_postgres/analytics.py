"""The analytics view: one row per customer, its dated facts as a JSONB document.

The document is the whole read model (``customer_ledger.projections.analytics_facts``); ``number``
and ``owner`` are columns only to order and filter, and the rules run over the facts
in Python, so every backend answers alike.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import sql

from customer_ledger.storage import (
    AnalyticsRecord,
    AnalyticsView,
    StoredFacts,
)
from customer_ledger_postgres.base import PostgresView

COLUMNS = ("customer_id", "number", "owner", "document", "state")


class PostgresAnalyticsView(PostgresView, AnalyticsView):
    kind = "analytics"

    def prepare_statements(self) -> None:
        t = self.table
        self.upsert = sql.SQL(
            "INSERT INTO {t} ({names}) VALUES ({values}) "
            "ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        ).format(
            t=t,
            names=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
            values=sql.SQL(", ").join(
                sql.SQL("%s::jsonb") if c == "document" else sql.SQL("%s") for c in COLUMNS
            ),
            updates=sql.SQL(", ").join(
                sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in COLUMNS[1:]
            ),
        )
        self.select_records = sql.SQL(
            "SELECT customer_id, document::text AS document, state FROM {} "
            "WHERE customer_id = ANY(%s)"
        ).format(t)
        self.select_all = sql.SQL(
            "SELECT document::text AS document FROM {} ORDER BY number"
        ).format(t)
        self.select_owner = sql.SQL(
            "SELECT document::text AS document FROM {} WHERE owner = %s ORDER BY number"
        ).format(t)

    def create_statements(self) -> list[sql.Composed]:
        t, index = self.table, self.names.index
        c = 'COLLATE "C"'
        return [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ("
                "customer_id uuid PRIMARY KEY, "
                f"number text {c} NOT NULL, "
                f"owner text {c}, "
                "document jsonb NOT NULL, "
                "state bytea NOT NULL)"
            ).format(t=t),
            sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (number)").format(
                i=sql.Identifier(index("number")), t=t
            ),
            sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (owner, number)").format(
                i=sql.Identifier(index("by_owner")), t=t
            ),
        ]

    def save(self, records: Sequence[AnalyticsRecord], tracking: Tracking) -> None:
        rows = [_row(r) for r in {r.facts.customer_id: r for r in records}.values()]
        with self.tracked(tracking) as curs:
            self.write_many(curs, self.upsert, rows)

    def records(self, customer_ids: Collection[UUID]) -> dict[UUID, StoredFacts]:
        if not customer_ids:
            return {}
        with self.datastore.get_connection() as conn:
            rows = conn.execute(self.select_records, (list(customer_ids),)).fetchall()
        return {
            row["customer_id"]: StoredFacts(str(row["document"]).encode(), bytes(row["state"]))
            for row in rows
        }

    def facts(self, owner: str | None = None) -> list[bytes]:
        with self.datastore.get_connection() as conn:
            if owner is None:
                rows = conn.execute(self.select_all).fetchall()
            else:
                rows = conn.execute(self.select_owner, (owner,)).fetchall()
        return [str(row["document"]).encode() for row in rows]


def _row(record: AnalyticsRecord) -> tuple[Any, ...]:
    f = record.facts
    return (f.customer_id, f.number, f.owner, record.document.decode(), record.state)
