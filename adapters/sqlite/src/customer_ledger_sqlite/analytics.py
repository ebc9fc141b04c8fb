"""The analytics view on SQLite: one row per customer holding its dated facts.

The facts are a JSON document (read back exactly by the one converter) beside the
fold state; ``number`` and ``owner`` are columns only to order and filter. The rules
run over the facts in Python, so every backend answers alike.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

from eventsourcing.persistence import Tracking

from customer_ledger.storage import (
    AnalyticsRecord,
    AnalyticsView,
    StoredFacts,
)
from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.schema import Index, family
from customer_ledger_sqlite.transactions import chunks, placeholders, write_transaction

COLUMNS = ("customer_id", "number", "owner", "document", "state")

ANALYTICS_TABLES = family(
    "analytics",
    {
        "": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL PRIMARY KEY, "
            "number TEXT NOT NULL UNIQUE, "
            "owner TEXT, "
            "document BLOB NOT NULL, "
            "state BLOB NOT NULL)"
        ),
    },
    [Index("owner", "", "owner, number")],
)


class SQLiteAnalyticsView(SQLiteView, AnalyticsView):
    kind = "analytics"
    family = ANALYTICS_TABLES

    def _prepare_statements(self) -> None:
        super()._prepare_statements()
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        self._upsert = (
            f"INSERT INTO {self.table} ({', '.join(COLUMNS)}) "
            f"VALUES ({placeholders(len(COLUMNS))}) "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )

    def save(self, records: Sequence[AnalyticsRecord], tracking: Tracking) -> None:
        latest = {r.facts.customer_id: r for r in records}
        rows = [
            (str(r.facts.customer_id), r.facts.number, r.facts.owner, r.document, r.state)
            for r in latest.values()
        ]
        with write_transaction(self.datastore) as c:
            self._insert_tracking(c, tracking)
            c.executemany(self._upsert, rows)

    def records(self, customer_ids: Collection[UUID]) -> dict[UUID, StoredFacts]:
        found: dict[UUID, StoredFacts] = {}
        wanted = [str(i) for i in customer_ids]
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(wanted):
                c.execute(
                    f"SELECT customer_id, document, state FROM {self.table} "
                    f"WHERE customer_id IN ({placeholders(len(chunk))})",
                    chunk,
                )
                found.update(
                    (UUID(row[0]), StoredFacts(bytes(row[1]), bytes(row[2])))
                    for row in c.fetchall()
                )
        return found

    def facts(self, owner: str | None = None) -> list[bytes]:
        where, params = ("WHERE owner = ? ", [owner]) if owner is not None else ("", [])
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT document FROM {self.table} {where}ORDER BY number", params)
            return [bytes(row[0]) for row in c.fetchall()]
