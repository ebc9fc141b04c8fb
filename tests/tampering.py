"""Tampering with a ledger's stored events behind its back, as an intruder with database
access would: raw SQL on SQLite and PostgreSQL, the POPO recorder's own structures in
memory. Used by the audit and corruption tests; never by the library.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from customer_ledger import CustomerLedger
from customer_ledger.audit.chain import HEADER_SIZE
from customer_ledger.domain.registry import CustomerNumber
from customer_ledger.storage.urls import StoreURL


class Tamper(Protocol):
    def rows(self, originator_id: UUID) -> list[StoredEvent]: ...
    def set_state(self, originator_id: UUID, version: int, state: bytes) -> None: ...
    def set_topic(self, originator_id: UUID, version: int, topic: str) -> None: ...
    def set_version(self, originator_id: UUID, version: int, new: int) -> None: ...
    def delete(self, originator_id: UUID, version: int) -> None: ...
    def insert(self, event: StoredEvent) -> None: ...
    def delete_newest(self, count: int) -> None: ...


class MemoryTamper:
    """Edits ``POPOApplicationRecorder._stored_events`` and rebuilds its index."""

    def __init__(self, ledger: CustomerLedger) -> None:
        self.recorder: Any = ledger.recorder

    def _events(self) -> list[StoredEvent]:
        return list(self.recorder._stored_events)

    def _store(self, events: list[StoredEvent]) -> None:
        index: dict[str, dict[int, int]] = defaultdict(dict)
        for position, event in enumerate(events):
            index[str(event.originator_id)][event.originator_version] = position
        self.recorder._stored_events[:] = events
        self.recorder._stored_events_index = index

    def _replace(self, originator_id: UUID, version: int, **changes: Any) -> None:
        events = self._events()
        for position, e in enumerate(events):
            if e.originator_id == originator_id and e.originator_version == version:
                fields = {
                    "originator_id": e.originator_id,
                    "originator_version": e.originator_version,
                    "topic": e.topic,
                    "state": e.state,
                    **changes,
                }
                events[position] = StoredEvent(**fields)
                self._store(events)
                return
        raise LookupError(f"no event {originator_id} v{version}")

    def rows(self, originator_id: UUID) -> list[StoredEvent]:
        found = [e for e in self._events() if e.originator_id == originator_id]
        return sorted(found, key=lambda e: e.originator_version)

    def set_state(self, originator_id: UUID, version: int, state: bytes) -> None:
        self._replace(originator_id, version, state=state)

    def set_topic(self, originator_id: UUID, version: int, topic: str) -> None:
        self._replace(originator_id, version, topic=topic)

    def set_version(self, originator_id: UUID, version: int, new: int) -> None:
        self._replace(originator_id, version, originator_version=new)

    def delete(self, originator_id: UUID, version: int) -> None:
        events = self._events()
        kept = [
            e
            for e in events
            if not (e.originator_id == originator_id and e.originator_version == version)
        ]
        assert len(kept) == len(events) - 1
        self._store(kept)

    def insert(self, event: StoredEvent) -> None:
        self._store([*self._events(), event])

    def delete_newest(self, count: int) -> None:
        self._store(self._events()[:-count])


class SQLTamper:
    """Raw SQL on the events table, through a connection of its own."""

    def __init__(
        self,
        connect: Callable[[], Any],
        table: str,
        placeholder: str,
        key: Callable[[UUID], Any],
        order_column: str,
    ) -> None:
        self.connect = connect
        self.table = table
        self.p = placeholder
        self.key = key
        self.order_column = order_column

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        conn = self.connect()
        try:
            yield conn.cursor()
            conn.commit()
        finally:
            conn.close()

    def _run(self, sql: str, *params: Any) -> None:
        with self._cursor() as c:
            c.execute(sql.format(t=self.table, p=self.p), params)

    def rows(self, originator_id: UUID) -> list[StoredEvent]:
        with self._cursor() as c:
            c.execute(
                f"SELECT originator_version, topic, state FROM {self.table} "
                f"WHERE originator_id = {self.p} ORDER BY originator_version",
                (self.key(originator_id),),
            )
            return [StoredEvent(originator_id, v, t, bytes(s)) for v, t, s in c.fetchall()]

    def set_state(self, originator_id: UUID, version: int, state: bytes) -> None:
        self._run(
            "UPDATE {t} SET state = {p} WHERE originator_id = {p} AND originator_version = {p}",
            state, self.key(originator_id), version,
        )  # fmt: skip

    def set_topic(self, originator_id: UUID, version: int, topic: str) -> None:
        self._run(
            "UPDATE {t} SET topic = {p} WHERE originator_id = {p} AND originator_version = {p}",
            topic, self.key(originator_id), version,
        )  # fmt: skip

    def set_version(self, originator_id: UUID, version: int, new: int) -> None:
        self._run(
            "UPDATE {t} SET originator_version = {p} "
            "WHERE originator_id = {p} AND originator_version = {p}",
            new, self.key(originator_id), version,
        )  # fmt: skip

    def delete(self, originator_id: UUID, version: int) -> None:
        self._run(
            "DELETE FROM {t} WHERE originator_id = {p} AND originator_version = {p}",
            self.key(originator_id), version,
        )  # fmt: skip

    def insert(self, event: StoredEvent) -> None:
        self._run(
            "INSERT INTO {t} (originator_id, originator_version, topic, state) "
            "VALUES ({p}, {p}, {p}, {p})",
            self.key(event.originator_id), event.originator_version, event.topic, event.state,
        )  # fmt: skip

    def delete_newest(self, count: int) -> None:
        o = self.order_column
        newest = f"SELECT {o} FROM {{t}} ORDER BY {o} DESC LIMIT {count:d}"
        self._run(f"DELETE FROM {{t}} WHERE {o} IN ({newest})")


def tamper_for(ledger: CustomerLedger) -> Tamper:
    url = ledger.url
    if url.scheme == "memory":
        return MemoryTamper(ledger)
    if url.scheme == "sqlite":
        from customer_ledger_sqlite.schema import prefixed
        from customer_ledger_sqlite.urls import database_path, prefix

        path = database_path(url)
        return SQLTamper(
            lambda: sqlite3.connect(path),
            prefixed(prefix(url), "stored_events"),
            "?",
            lambda u: u.hex,
            "rowid",
        )
    if url.scheme == "postgresql":
        import psycopg
        from customer_ledger_postgres.settings import PostgresSettings

        s = PostgresSettings.from_url(StoreURL.parse(url.raw))
        return SQLTamper(
            lambda: psycopg.connect(
                dbname=s.dbname, host=s.host, port=s.port, user=s.user, password=s.password
            ),
            f'"{s.schema}".customerledger_events',
            "%s",
            lambda u: u,
            "notification_id",
        )
    raise ValueError(url.scheme)


# -- editing a sealed event's body -------------------------------------------------------


def body(state: bytes) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(state[HEADER_SIZE:])
    return data


def with_body(state: bytes, data: dict[str, Any]) -> bytes:
    """The same seal over another body (as an editor who does not know the format would)."""
    return state[:HEADER_SIZE] + orjson.dumps(data, option=orjson.OPT_SORT_KEYS)


def flip(state: bytes, position: int, mask: int = 0x01) -> bytes:
    damaged = bytearray(state)
    damaged[position] ^= mask
    return bytes(damaged)


# -- a small history to tamper with -------------------------------------------------------

DAY = date(2023, 10, 1)


def record_history(ledger: CustomerLedger) -> None:
    """A001 has versions 1-6, B002 versions 1-2 (each command is one event)."""
    ledger.first_contact(
        "A001", name="*先生", type="individual", industry="互联网", occurred_at=DAY, actor="*助理"
    )
    ledger.log_interaction("A001", channel="phone", topic="new product?", occurred_at=DAY)
    ledger.record_purchase("A001", product="premium plan", amount="1000", occurred_at=DAY)
    ledger.tag("A001", tag="VIP", occurred_at=DAY)
    ledger.log_interaction("A001", channel="email", topic="renewal", occurred_at=DAY)
    ledger.record_purchase("A001", product="add-on", amount="200", occurred_at=DAY)
    ledger.first_contact("B002", name="*科技有限公司", type="company", occurred_at=DAY)
    ledger.file_complaint("B002", complaint="C1", subject="delivery delayed", occurred_at=DAY)


def claim_id(number: str) -> UUID:
    return CustomerNumber.id_for(number)
