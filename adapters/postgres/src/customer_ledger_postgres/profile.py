"""The profile view: one row per customer, a JSONB document plus query columns.

The document (``profile_document``) is the whole read model; the columns beside it
exist only to filter, sort and paginate, and hold exactly the keys ``sort_key`` gives
(text in ``COLLATE "C"``, i.e. code-point order, like Python's ``<``), so pages come
out in the same order as from the memory and SQLite views.

Text search matches a substring of the name or the number, case-insensitively, with
``fold_text`` (Python's ``str.lower()``): the folded copies are computed in Python when
a row is written and the needle when a query runs, then compared with ``LIKE ... ESCAPE``.
SQL's ``lower()`` is not used because under ``COLLATE "C"`` it only folds ASCII, and
under other collations it follows the C library, not Python.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import Cursor, sql
from psycopg.rows import DictRow

from customer_ledger.storage import (
    Page,
    ProfileQuery,
    ProfileRecord,
    ProfileView,
    cents,
    fold_text,
    search_fold,
    utc_key,
)
from customer_ledger_postgres.base import PostgresView
from customer_ledger_postgres.columns import like_pattern

# ProfileQuery.sort -> the column holding that sort_key
SORT_COLUMNS = {
    "number": "number",
    "name": "name",
    "stage": "stage",
    "total_revenue": "revenue_cents",
    "last_interaction_at": "last_interaction_key",
    "first_contact_at": "first_contact_key",
}
# ProfileQuery field -> column it must equal
FILTER_COLUMNS = ("stage", "type", "industry", "region", "owner", "grade")
COLUMNS = (
    "customer_id", "number", "number_lower", "name", "name_lower", "stage", "type",
    "industry", "region", "owner", "grade", "tags", "revenue_cents",
    "last_interaction_key", "first_contact_key", "version", "document", "state",
    "keys", "profile_text", "events_text",
)  # fmt: skip


class PostgresProfileView(PostgresView, ProfileView):
    kind = "profile"

    def prepare_statements(self) -> None:
        t = self.table
        names = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
        values = sql.SQL(", ").join(
            sql.SQL("%s::jsonb") if c == "document" else sql.SQL("%s") for c in COLUMNS
        )
        updates = sql.SQL(
            ", "
        ).join(
            sql.SQL("{0} = {t}.{0} || EXCLUDED.{0}").format(sql.Identifier(c), t=t)
            if c == "events_text"  # the events' text accumulates; the rest is replaced
            else sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
            for c in COLUMNS[1:]
        )
        self.upsert = sql.SQL(
            "INSERT INTO {t} ({names}) VALUES ({values}) "
            "ON CONFLICT (customer_id) DO UPDATE SET {updates}"
        ).format(t=t, names=names, values=values, updates=updates)
        self.select_states = sql.SQL(
            "SELECT customer_id, state FROM {} WHERE customer_id = ANY(%s)"
        ).format(t)
        self.select_by_id = sql.SQL(
            "SELECT document::text AS document FROM {} WHERE customer_id = %s"
        ).format(t)
        self.select_by_number = sql.SQL(
            "SELECT document::text AS document FROM {} WHERE number = %s LIMIT 1"
        ).format(t)

    def create_statements(self) -> list[sql.Composed]:
        t, index = self.table, self.names.index
        c = 'COLLATE "C"'
        statements = [
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {t} ("
                "customer_id uuid PRIMARY KEY, "
                f"number text {c} NOT NULL, "
                f"number_lower text {c} NOT NULL, "
                f"name text {c} NOT NULL, "
                f"name_lower text {c} NOT NULL, "
                f"stage text {c} NOT NULL, "
                f"type text {c} NOT NULL, "
                f"industry text {c}, "
                f"region text {c}, "
                f"owner text {c}, "
                f"grade text {c}, "
                f"tags text[] {c} NOT NULL, "
                "revenue_cents bigint NOT NULL, "
                f"last_interaction_key text {c} NOT NULL, "
                f"first_contact_key text {c} NOT NULL, "
                "version bigint NOT NULL, "
                "document jsonb NOT NULL, "
                "state bytea NOT NULL, "
                # the search's blind keys (HMACs of personal values: projections.search)
                f"keys text[] {c} NOT NULL, "
                # the search's clear text, folded: the profile's own, and every event's
                # summary, one per line
                f"profile_text text {c} NOT NULL, "
                f"events_text text {c} NOT NULL)"
            ).format(t=t)
        ]
        keyed = {
            "number": ["number"],
            **{
                f"by_{column}": [column, "number"]
                for column in SORT_COLUMNS.values()
                if column != "number"
            },
            # a filter's first page in number order: a range of one index (see SQLite's)
            **{
                f"by_{column}_number": [column, "number"]
                for column in FILTER_COLUMNS
                if column != "stage"
            },
        }
        for suffix, columns in keyed.items():
            statements.append(
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} ({cols})").format(
                    i=sql.Identifier(index(suffix)),
                    t=t,
                    cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                )
            )
        for column in ("tags", "keys"):
            statements.append(
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} USING gin ({c})").format(
                    i=sql.Identifier(index(column)), t=t, c=sql.Identifier(column)
                )
            )
        return statements

    def create_optional(self, curs: Cursor[DictRow]) -> None:
        """With pg_trgm installed (by an administrator), substring search uses an index."""
        row = curs.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        ).fetchone()
        if row is None:
            return
        ops = sql.SQL("{}.gin_trgm_ops").format(sql.Identifier(row["nspname"]))
        curs.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {i} ON {t} USING gin "
                "(name_lower {ops}, number_lower {ops}, profile_text {ops}, events_text {ops})"
            ).format(i=sql.Identifier(self.names.index("search")), t=self.table, ops=ops)
        )

    # -- writes -------------------------------------------------------------------------

    def save(self, records: Sequence[ProfileRecord], tracking: Tracking) -> None:
        rows = [_row(record) for record in records]
        with self.tracked(tracking) as curs:
            self.write_many(curs, self.upsert, rows)

    # -- reads --------------------------------------------------------------------------

    def states(self, customer_ids: Collection[UUID]) -> dict[UUID, bytes]:
        if not customer_ids:
            return {}
        with self.datastore.get_connection() as conn:
            rows = conn.execute(self.select_states, (list(customer_ids),)).fetchall()
        return {row["customer_id"]: bytes(row["state"]) for row in rows}

    def get(self, customer_id: UUID) -> bytes | None:
        return self._one(self.select_by_id, customer_id)

    def get_by_number(self, number: str) -> bytes | None:
        return self._one(self.select_by_number, number)

    def _one(self, statement: sql.Composed, key: Any) -> bytes | None:
        with self.datastore.get_connection() as conn:
            row = conn.execute(statement, (key,)).fetchone()
        return None if row is None else str(row["document"]).encode()

    def search(self, query: ProfileQuery) -> Page[bytes]:
        conditions: list[sql.Composable] = []
        params: list[Any] = []
        if query.text is not None:
            found = [sql.SQL("name_lower LIKE %s ESCAPE '\\' OR number_lower LIKE %s ESCAPE '\\'")]
            pattern = like_pattern(fold_text(query.text))
            params += [pattern, pattern]
            needle = search_fold(query.text)
            if needle:  # the clear search text (pg_trgm's index, where installed)
                found.append(
                    sql.SQL("profile_text LIKE %s ESCAPE '\\' OR events_text LIKE %s ESCAPE '\\'")
                )
                params += [like_pattern(needle)] * 2
            for group in query.blind:  # every key of one group: a personal value's HMACs
                if group:
                    found.append(sql.SQL("keys @> %s::text[]"))
                    params.append(sorted(group))
            conditions.append(sql.SQL("({})").format(sql.SQL(" OR ").join(found)))
        for name in FILTER_COLUMNS:
            value = getattr(query, name)
            if value is not None:
                conditions.append(sql.SQL("{} = %s").format(sql.Identifier(name)))
                params.append(_plain(value))
        if query.tag is not None:
            conditions.append(sql.SQL("tags @> ARRAY[%s]::text[]"))
            params.append(query.tag)
        column = sql.Identifier(SORT_COLUMNS[query.sort])
        if query.position is not None:
            conditions.append(
                sql.SQL("({}, number) {} (%s, %s)").format(
                    column, sql.SQL("<" if query.descending else ">")
                )
            )
            params += query.position
        direction = sql.SQL("DESC" if query.descending else "ASC")
        statement = sql.SQL(
            "SELECT document::text AS document, {column} AS key, number FROM {t} "
            "WHERE {where} ORDER BY {column} {direction}, number {direction} LIMIT %s"
        ).format(
            t=self.table,
            where=sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE"),
            column=column,
            direction=direction,
        )
        params.append(query.limit + 1)
        with self.datastore.get_connection() as conn:
            rows = conn.execute(statement, params).fetchall()
        page = rows[: query.limit]
        cursor = None
        if len(rows) > query.limit and page:
            cursor = query.cursor(page[-1]["key"], page[-1]["number"])
        return Page(tuple(str(row["document"]).encode() for row in page), cursor)


def _row(record: ProfileRecord) -> tuple[Any, ...]:
    p = record.profile
    return (
        p.customer_id,
        p.number,
        fold_text(p.number),
        p.name,
        fold_text(p.name),
        p.stage.value,
        p.type.value,
        p.industry,
        p.region,
        p.owner,
        None if p.grade is None else p.grade.value,
        list(p.tags),
        cents(p.total_revenue),
        utc_key(p.last_interaction_at),
        utc_key(p.first_contact_at),
        p.version,
        record.document.decode(),
        record.state,
        sorted(record.keys),
        search_fold(record.text),
        "".join("\n" + search_fold(text) for _, text in record.event_texts),
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
