"""The timeline view on SQLite: one row per event, keyed by (customer_id, version).

Entries are ordered by (occurred_at as UTC key, number, version), an index serves
that order for the whole ledger and another per customer, and pages continue with a
row-value comparison on the same triple.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from customer_ledger.storage import (
    Page,
    TimelineEntry,
    TimelineQuery,
    TimelineView,
    timeline_document,
    utc_key,
)
from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.documents import load
from customer_ledger_sqlite.schema import Index, family
from customer_ledger_sqlite.transactions import chunks, placeholders, write_transaction

TIMELINE_TABLES = family(
    "timeline",
    {
        "": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, "
            "number TEXT NOT NULL, "
            "occurred_key TEXT NOT NULL, "  # utc_key(occurred_at)
            "document BLOB NOT NULL, "
            "PRIMARY KEY (customer_id, version))"
        ),
    },
    [
        Index("order", "", "occurred_key, number, version"),
        Index("customer", "", "customer_id, occurred_key, number, version"),
    ],
)


class SQLiteTimelineView(SQLiteView, TimelineView):
    kind = "timeline"
    family = TIMELINE_TABLES

    def _prepare_statements(self) -> None:
        super()._prepare_statements()
        self._insert = (
            f"INSERT INTO {self.table} "
            "(customer_id, version, number, occurred_key, document) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (customer_id, version) DO NOTHING"
        )

    def save(self, entries: Sequence[TimelineEntry], tracking: Tracking) -> None:
        rows = [
            (str(e.customer_id), e.version, e.number, utc_key(e.occurred_at), timeline_document(e))
            for e in entries
        ]
        with write_transaction(self.datastore) as c:
            self._insert_tracking(c, tracking)
            c.executemany(self._insert, rows)

    def latest(self, customer_ids: Collection[UUID]) -> dict[UUID, tuple[str, int]]:
        found: dict[UUID, tuple[str, int]] = {}
        wanted = [str(i) for i in customer_ids]
        with self.datastore.transaction(commit=False) as c:
            for chunk in chunks(wanted):
                c.execute(
                    f"SELECT customer_id, min(number), max(version) FROM {self.table} "
                    f"WHERE customer_id IN ({placeholders(len(chunk))}) GROUP BY customer_id",
                    chunk,
                )
                found.update((UUID(row[0]), (row[1], row[2])) for row in c.fetchall())
        return found

    def entries(self, query: TimelineQuery) -> Page[TimelineEntry]:
        where: list[str] = []
        params: list[Any] = []
        if query.customer_id is not None:
            where.append("customer_id = ?")
            params.append(str(query.customer_id))
        if query.start is not None:
            where.append("occurred_key >= ?")
            params.append(utc_key(query.start))
        if query.end is not None:
            where.append("occurred_key < ?")
            params.append(utc_key(query.end))
        if query.position is not None:
            where.append("(occurred_key, number, version) > (?, ?, ?)")
            params += query.position
        sql = (
            f"SELECT document FROM {self.table} "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + "ORDER BY occurred_key, number, version LIMIT ?"
        )
        params.append(query.limit + 1)
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            documents = [row[0] for row in c.fetchall()]
        items = tuple(load(d, TimelineEntry) for d in documents[: query.limit])
        last = items[-1] if items else None
        more = len(documents) > query.limit
        cursor = (
            query.cursor(utc_key(last.occurred_at), last.number, last.version)
            if more and last
            else None
        )
        return Page(items, cursor)
