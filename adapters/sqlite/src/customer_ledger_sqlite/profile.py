"""The profile view on SQLite: a JSON document per customer plus a column per query key.

Search is ``instr()`` on case-folded copies of name and number, folded in Python
exactly as the memory view does: a plain substring test, so ``%``, ``_`` and Chinese
text match literally without any LIKE escaping. Sorting and keyset pagination use
the ``sort_key`` columns with a row-value comparison ``(key, number) > (?, ?)``
(``<`` when descending), served by an index on ``(key, number)``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking

from customer_ledger.storage import (
    Page,
    ProfileQuery,
    ProfileRecord,
    ProfileView,
    cents,
    search_fold,
    utc_key,
)
from customer_ledger_sqlite.base import SQLiteView
from customer_ledger_sqlite.schema import Index, family
from customer_ledger_sqlite.transactions import chunks, placeholders, write_transaction

COLUMNS = (
    "customer_id", "number", "name", "name_fold", "number_fold", "stage", "type",
    "industry", "region", "owner", "grade", "revenue_cents", "last_interaction_key",
    "first_contact_key", "document", "state", "text_fold",
)  # fmt: skip
SORT_COLUMNS = {
    "number": "number",
    "name": "name",
    "stage": "stage",
    "total_revenue": "revenue_cents",
    "last_interaction_at": "last_interaction_key",
    "first_contact_at": "first_contact_key",
}
FILTER_COLUMNS = ("stage", "type", "industry", "region", "owner", "grade")

PROFILE_TABLES = family(
    "profile",
    {
        "": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL PRIMARY KEY, "
            "number TEXT NOT NULL UNIQUE, "
            "name TEXT NOT NULL, "
            "name_fold TEXT NOT NULL, "
            "number_fold TEXT NOT NULL, "
            "stage TEXT NOT NULL, "
            "type TEXT NOT NULL, "
            "industry TEXT, "
            "region TEXT, "
            "owner TEXT, "
            "grade TEXT, "
            "revenue_cents INTEGER NOT NULL, "
            "last_interaction_key TEXT NOT NULL, "  # utc_key: '' when none
            "first_contact_key TEXT NOT NULL, "
            "document BLOB NOT NULL, "
            "state BLOB NOT NULL, "
            "text_fold TEXT NOT NULL)"  # the profile's own clear search text, folded
        ),
        "_tags": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL, "
            "tag TEXT NOT NULL, "
            "PRIMARY KEY (customer_id, tag)) WITHOUT ROWID"
        ),
        # the search's blind keys (HMACs of personal values: projections.search)
        "_keys": (
            "CREATE TABLE {t} ("
            "customer_id TEXT NOT NULL, "
            "key TEXT NOT NULL, "
            "PRIMARY KEY (customer_id, key)) WITHOUT ROWID"
        ),
        # the search's clear text of the events: their summaries, added, never deleted (a
        # DELETE by an UNINDEXED column would scan the whole table: the profile's own
        # text is a column of the main table instead)
        "_text": (
            "CREATE VIRTUAL TABLE {t} USING fts5("
            "customer_id UNINDEXED, version UNINDEXED, text, tokenize = 'trigram')"
        ),
    },
    [
        Index("name", "", "name, number"),
        Index("stage", "", "stage, number"),
        Index("revenue", "", "revenue_cents, number"),
        Index("last_interaction", "", "last_interaction_key, number"),
        Index("first_contact", "", "first_contact_key, number"),
        # A filter with the default order (number) is a range of one index: a region of
        # 100,000 customers' first page reads 21 rows, not every one of its 12,500
        # (measured: 500 ms to 0.1 ms). A store made before keeps its one-column
        # indexes until its profile view is rebuilt.
        Index("owner_number", "", "owner, number"),
        Index("region_number", "", "region, number"),
        Index("industry_number", "", "industry, number"),
        Index("grade_number", "", "grade, number"),
        Index("tag", "_tags", "tag, customer_id"),
        Index("key", "_keys", "key, customer_id"),
    ],
)


class SQLiteProfileView(SQLiteView, ProfileView):
    kind = "profile"
    family = PROFILE_TABLES

    def _prepare_statements(self) -> None:
        super()._prepare_statements()
        t, tags = self.table, self.table + "_tags"
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[1:])
        self._upsert = (
            f"INSERT INTO {t} ({', '.join(COLUMNS)}) VALUES ({placeholders(len(COLUMNS))}) "
            f"ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        )
        self._delete_tags = f"DELETE FROM {tags} WHERE customer_id = ?"
        self._insert_tag = f"INSERT INTO {tags} (customer_id, tag) VALUES (?, ?)"
        self._tag_filter = f"customer_id IN (SELECT customer_id FROM {tags} WHERE tag = ?)"
        keys, text = self.table + "_keys", self.table + "_text"
        self._delete_keys = f"DELETE FROM {keys} WHERE customer_id = ?"
        self._insert_key = f"INSERT INTO {keys} (customer_id, key) VALUES (?, ?)"
        self._insert_text = f"INSERT INTO {text} (customer_id, version, text) VALUES (?, ?, ?)"
        self._keys_table, self._text_table = keys, text

    def save(self, records: Sequence[ProfileRecord], tracking: Tracking) -> None:
        latest = {r.profile.customer_id: r for r in records}  # a customer twice: last wins
        rows = [_row(r) for r in latest.values()]
        ids = [(str(i),) for i in latest]
        tags = [(str(i), tag) for i, r in latest.items() for tag in set(r.profile.tags)]
        with write_transaction(self.datastore) as c:
            self._insert_tracking(c, tracking)
            c.executemany(self._upsert, rows)
            c.executemany(self._delete_tags, ids)
            c.executemany(self._insert_tag, tags)
            c.executemany(self._delete_keys, ids)
            c.executemany(
                self._insert_key, [(str(i), k) for i, r in latest.items() for k in r.keys]
            )
            c.executemany(
                self._insert_text,
                [
                    (str(r.profile.customer_id), version, search_fold(text))
                    for r in records
                    for version, text in r.event_texts
                ],
            )

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

    def get(self, customer_id: UUID) -> bytes | None:
        return self._one("customer_id", str(customer_id))

    def get_by_number(self, number: str) -> bytes | None:
        return self._one("number", number)

    def _one(self, column: str, value: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT document FROM {self.table} WHERE {column} = ?", (value,))
            row = c.fetchone()
        return None if row is None else bytes(row[0])

    def search(self, query: ProfileQuery) -> Page[bytes]:
        where: list[str] = []
        params: list[Any] = []
        if query.text is not None:
            found = ["instr(name_fold, ?) > 0", "instr(number_fold, ?) > 0"]
            params += [fold(query.text)] * 2
            needle = search_fold(query.text)
            if needle:  # the clear search text: the profile's, and its events' (FTS5)
                found.append("instr(text_fold, ?) > 0")
                params.append(needle)
                match = "text GLOB ?" if len(needle) >= 3 else "instr(text, ?) > 0"
                found.append(
                    f"customer_id IN (SELECT customer_id FROM {self._text_table} WHERE {match})"
                )
                params.append(f"*{_glob_literal(needle)}*" if len(needle) >= 3 else needle)
            for group in query.blind:  # every key of one group: a personal value's HMACs
                if group:
                    found.append(
                        f"customer_id IN (SELECT customer_id FROM {self._keys_table} "
                        f"WHERE key IN ({placeholders(len(group))}) "
                        "GROUP BY customer_id HAVING count(*) = ?)"
                    )
                    params += [*sorted(group), len(group)]
            where.append("(" + " OR ".join(found) + ")")
        for column in FILTER_COLUMNS:
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(_plain(value))
        if query.tag is not None:
            where.append(self._tag_filter)
            params.append(query.tag)
        column = SORT_COLUMNS[query.sort]
        order = "DESC" if query.descending else "ASC"
        if query.position is not None:
            key, number = query.position
            op = "<" if query.descending else ">"
            if column == "number":
                where.append(f"number {op} ?")
                params.append(number)
            else:
                where.append(f"({column}, number) {op} (?, ?)")
                params += [key, number]
        order_by = f"number {order}" if column == "number" else f"{column} {order}, number {order}"
        sql = (
            f"SELECT document, {column}, number FROM {self.table} "
            + (f"WHERE {' AND '.join(where)} " if where else "")
            + f"ORDER BY {order_by} LIMIT ?"
        )
        params.append(query.limit + 1)  # one more tells whether a next page exists
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            rows = c.fetchall()
        page = rows[: query.limit]
        more = len(rows) > query.limit
        cursor = query.cursor(page[-1][1], page[-1][2]) if more and page else None
        return Page(tuple(bytes(row[0]) for row in page), cursor)


def _row(record: ProfileRecord) -> tuple[Any, ...]:
    p = record.profile
    return (
        str(p.customer_id),
        p.number,
        p.name,
        fold(p.name),
        fold(p.number),
        p.stage.value,
        p.type.value,
        p.industry,
        p.region,
        p.owner,
        None if p.grade is None else p.grade.value,
        cents(p.total_revenue),
        utc_key(p.last_interaction_at),
        utc_key(p.first_contact_at),
        record.document,
        record.state,
        search_fold(record.text),
    )


def _glob_literal(text: str) -> str:
    """``text`` matched literally by GLOB (its ``*``, ``?`` and ``[`` in brackets)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def fold(text: str) -> str:
    """Case folding for search, the same as the memory views (``str.lower``).

    Done in Python on both the stored columns and the search text: SQLite's
    ``lower()`` and ``LIKE`` only fold ASCII, so 'Ä' would not find 'ä' in SQL.
    """
    return text.lower()


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
