"""Forgetting leaves no plaintext anywhere, on memory, SQLite and PostgreSQL.

Given an individual whose personal data went through every path that records it (first
contact, profile update, contacts added and updated, an imported sheet row) and who has
non-personal history (a purchase, a contract, a complaint), when the customer is
forgotten, then no byte of the store holds the old values: the SQLite file with its
-wal and -shm files, every table of the PostgreSQL schema, every structure of the
memory store. The views read ``[erased]``, the facts stay, the hash chain verifies.
And before any forgetting, the events and snapshots hold ciphertext only.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import attrs
import psycopg
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from psycopg import sql
from strategies import fixed_clock

from customer_ledger import Contact, CustomerLedger, Stage
from customer_ledger.audit.verify import checkpoint, verify
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ERASED
from customer_ledger.errors import ForgottenCustomer
from customer_ledger.projections.views import KINDS

ADMIN = Actor("dpo", "admin")
BACKENDS = ("memory", "sqlite", "postgres")

# Each value is distinctive: found anywhere, it can only be a leak.
NAME, NEW_NAME = "欧阳秘密Qx7", "欧阳新名Qx8"
ADDRESS, LICENCE = "北京市海淀区秘密路77号Qx", "110101198503047777"
NEW_LICENCE = "110101198503048888"
CONTACT_NAME, PHONE, NEW_PHONE = "联系人秘密Qx9", "13912347788", "13698761122"
EMAIL, WECHAT, QQ = "ouyang.qx7@example.org", "wx_qx7_secret", "987654321077"
CONTACT_ADDRESS, BIRTHDAY = "上海市秘密弄3号Qx", date(1985, 3, 4)
ROW = f"Q001 | 个人 | {NAME} | {PHONE}, {EMAIL} | 风险预警"
SECRETS = (NAME, NEW_NAME, ADDRESS, LICENCE, CONTACT_NAME, PHONE, NEW_PHONE, EMAIL, WECHAT)
SECRETS += (QQ, CONTACT_ADDRESS, BIRTHDAY.isoformat(), NEW_LICENCE)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(request.param, request, tmp_path)


@pytest.fixture
def ledger(store: str) -> Iterator[CustomerLedger]:
    ledger = CustomerLedger.open(store, clock=fixed_clock)
    yield ledger
    ledger.close()


def record_a_life(ledger: CustomerLedger, number: str = "Q001") -> None:
    """Personal data through every path that records it, plus non-personal facts."""
    ledger.first_contact(
        number, name=NAME, type="individual", registered_address=ADDRESS, licence_no=LICENCE,
        industry="education", occurred_at="2024-03-01",
    )  # fmt: skip
    contact = Contact(
        "c1", CONTACT_NAME, title="家长", phone=PHONE, email=EMAIL, address=CONTACT_ADDRESS,
        wechat=WECHAT, qq=QQ, birthday=BIRTHDAY, primary=True,
    )  # fmt: skip
    ledger.add_contact(number, contact=contact, occurred_at="2024-03-02")
    ledger.update_contact(
        number, contact=Contact("c1", CONTACT_NAME, phone=NEW_PHONE, email=EMAIL, primary=True)
    )
    ledger.update_profile(number, changes={"name": NEW_NAME}, occurred_at="2024-03-03")
    ledger.update_profile(number, changes={"licence_no": NEW_LICENCE, "region": "海淀"})
    ledger.record_purchase(number, product="课程A", amount="1999.00", occurred_at="2024-03-04")
    ledger.sign_contract(number, contract="Q-2024-1", signed_on=date(2024, 3, 5), amount="5000")
    ledger.file_complaint(number, complaint="K1", subject="课程推迟", occurred_at="2024-03-06")
    ledger.set_stage_on_import(number, stage="at_risk", row=ROW, occurred_at="2024-03-07")
    for n in range(3):
        ledger.tag(number, tag=f"t{n}", occurred_at="2024-03-08")
    ledger.take_snapshot(ledger.customer_id(number))  # snapshots hold personal data too


# -- where a store keeps bytes ----------------------------------------------------------------


def leaks(haystack: bytes) -> list[str]:
    """The secrets found in ``haystack``: as UTF-8, and as JSON \\u escapes."""
    found = []
    for secret in SECRETS:
        escaped = json.dumps(secret).strip('"').encode()
        if secret.encode() in haystack or escaped in haystack:
            found.append(secret)
    return found


def sqlite_files(store: str) -> list[Path]:
    db = Path(store.removeprefix("sqlite:///"))
    return [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]


def postgres_rows(store: str) -> Iterator[tuple[str, bytes]]:
    """Every row of every table of the ledger's schema: each column's bytes (bytea as
    stored, text as UTF-8) and the row cast to text."""
    schema = store.split("prefix=")[1].split("&")[0]
    base = store.split("?")[0]
    with psycopg.connect(base, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
            ).fetchall()
        ]
        assert tables, "the schema holds no tables: the test would prove nothing"
        for table in tables:
            name = sql.Identifier(schema, table)
            conn.execute(sql.SQL("VACUUM FULL {}").format(name))
            query = sql.SQL("SELECT t, t::text FROM {} AS t").format(name)
            for row, text in conn.execute(query).fetchall():
                columns = b"".join(
                    bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row
                )
                yield table, columns + text.encode()


def memory_bytes(ledger: CustomerLedger) -> bytes:
    """Everything the memory store holds: stored events, snapshots, keys, view rows."""
    parts = [n.state for n in ledger.recorder.select_notifications(start=1, limit=10_000)]
    for customer_id in {n.originator_id for n in ledger.recorder.select_notifications(1, 10_000)}:
        parts += [s.state for s in ledger.snapshots.recorder.select_events(customer_id)]
    parts += [row or b"" for row in ledger.keys.rows().values()]
    for kind in KINDS:
        parts += raw(vars(ledger.views.view(kind)))
    return b"\n".join(parts)


def raw(value: Any) -> Iterator[bytes]:
    """The bytes and text inside a Python structure (view rows, their fold states)."""
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, str):
        yield value.encode()
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from raw(k)
            yield from raw(v)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from raw(item)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from raw(getattr(value, field.name))
    elif isinstance(value, date):
        yield value.isoformat().encode()


def everything(ledger: CustomerLedger, store: str) -> bytes:
    if store.startswith("sqlite"):
        return b"\n".join(p.read_bytes() for p in sqlite_files(store))
    if store.startswith("postgresql"):
        return b"\n".join(row for _, row in postgres_rows(store))
    return memory_bytes(ledger)


def stored_events_and_snapshots(ledger: CustomerLedger) -> bytes:
    notifications = ledger.recorder.select_notifications(start=1, limit=10_000)
    snapshots = [
        s.state
        for customer_id in {n.originator_id for n in notifications}
        for s in ledger.snapshots.recorder.select_events(customer_id)
    ]
    return b"\n".join([n.state for n in notifications] + snapshots)


# -- the specification ---------------------------------------------------------------------


def test_events_and_snapshots_hold_only_ciphertext_of_personal_data(ledger):
    # given a customer whose personal data went through every path
    record_a_life(ledger)
    # then the stored events and snapshots hold none of it in clear
    stored = stored_events_and_snapshots(ledger)
    assert ledger.snapshots.recorder.select_events(ledger.customer_id("Q001")), "no snapshot"
    assert leaks(stored) == []
    assert b'"$enc"' in stored
    # and the ledger reads it all back exactly
    assert ledger.customer("Q001").contacts["c1"].phone == NEW_PHONE
    assert ledger.history("Q001")[1].contact.birthday == BIRTHDAY


def test_a_living_customers_personal_data_is_nowhere_in_clear(ledger, store):
    # given a customer whose personal data went through every path, in every view, and
    # a rebuild's tables beside the live ones
    record_a_life(ledger)
    ledger.refresh()
    ledger.rebuild(["profile"])
    ledger.views.view("analytics", "rebuild")  # (a rebuild's tables exist, empty)
    # then no byte of the store holds any of it in clear, while business data is there
    haystack = everything(ledger, store)
    assert b"education" in haystack, "the search looks at the wrong bytes"
    assert leaks(haystack) == []
    # and the ledger reads it back, masked by default and whole for a reader who may
    assert ledger.profile("Q001").contacts[0].phone == NEW_PHONE[:3] + "****" + NEW_PHONE[-4:]
    full = ledger.profile("Q001", actor=ADMIN, unmasked=True, why="check")
    assert full.contacts[0].phone == NEW_PHONE


@pytest.mark.postgres
def test_a_pg_dump_of_a_living_customer_holds_none_of_its_personal_data(
    postgres_url_factory,  # noqa: F811 - the fixture
) -> None:
    store = postgres_url_factory()
    with CustomerLedger.open(store) as ledger:
        record_a_life(ledger)
        ledger.refresh()
    schema = store.split("prefix=")[1].split("&")[0]
    dump = subprocess.run(
        ["pg_dump", "--schema", schema, "--data-only", store.split("?")[0]],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert b"education" in dump and b"COPY" in dump
    assert leaks(dump) == []


def test_after_forget_no_plaintext_remains_anywhere_and_the_facts_stay(ledger, store):
    # given a customer with personal data and facts, and an auditor's checkpoint
    record_a_life(ledger)
    ledger.first_contact("K002", name="旁人不相干", type="individual")  # someone else
    ledger.refresh()  # the views hold it too
    anchor = checkpoint(ledger)
    assert b"education" in everything(ledger, store), "the search looks at the wrong bytes"
    # when the customer is forgotten
    result = ledger.forget("Q001", actor=ADMIN, reason="erasure request 2024-17")
    # then no byte of the store holds any of the old values (the ledger still open)
    assert result.key_destroyed and result.notes == ()
    assert leaks(everything(ledger, store)) == []
    # and the views read the personal fields as erased
    profile = ledger.profile("Q001", actor=ADMIN, unmasked=True, why="check the erasure")
    assert (profile.name, profile.registered_address, profile.licence_no) == (ERASED,) * 3
    (contact,) = profile.contacts
    assert (contact.name, contact.phone, contact.email, contact.birthday) == (
        ERASED, ERASED, ERASED, None,
    )  # fmt: skip
    assert [r.name for r in ledger.status() if r.number == "Q001"] == [ERASED]
    # and the non-personal history stays, as before
    assert profile.purchase_count == 1 and profile.revenue == {"CNY": 1999}
    assert [c.number for c in profile.contracts] == ["Q-2024-1"]
    assert [c.subject for c in profile.complaints] == ["课程推迟"]
    assert profile.stage is Stage.AT_RISK and profile.tags == ("t0", "t1", "t2")
    kinds = [e.kind for e in ledger.timeline("Q001").items]
    assert kinds[0] == "FirstContacted" and kinds[-1] == "CustomerForgotten"
    assert ledger.profile("K002").name == "旁人不相干"
    # and the history still verifies, against the checkpoint taken before
    report = verify(ledger, against=anchor)
    assert report.ok, report.to_json()


def test_after_forget_a_rebuild_gives_the_same_erased_views(ledger, store):
    record_a_life(ledger)
    ledger.forget("Q001", actor=ADMIN, reason="erasure request")
    before = ledger.profile("Q001")
    ledger.rebuild()
    assert ledger.profile("Q001") == before
    assert leaks(everything(ledger, store)) == []


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_a_reopened_store_reads_the_forgotten_customer_as_erased(store):
    with CustomerLedger.open(store, clock=fixed_clock) as first:
        record_a_life(first)
        first.forget("Q001", actor=ADMIN, reason="erasure request")
    with CustomerLedger.open(store, clock=fixed_clock) as again:
        events = again.history("Q001")
        assert events[0].name == ERASED and events[1].contact.phone == ERASED
        assert events[1].contact.birthday is None
        assert type(events[-1]).__name__ == "CustomerForgotten"
        assert events[-1].meta.reason == "erasure request"


def test_a_key_is_made_once_whoever_asks_first_and_a_tombstone_stays(store):
    # given two ledgers (two processes) on one store
    with CustomerLedger.open(store) as first, CustomerLedger.open(store) as second:
        if store.startswith("memory"):
            second = first  # one process: there is no other to race with
        customer = uuid4()
        # when both ask for the new customer's key to write with
        key = first.keys.key_for_writing(customer)
        again = second.keys.key_for_writing(customer)
        # then the second gets the key the first made, not one of its own
        sealed = key.seal(b"ctx", b"secret")
        assert again.open(b"ctx", sealed) == b"secret"
        # and once the key is destroyed, no one can make a new one for that customer
        first.keys.destroy(customer)
        second.keys.forget_cached(customer)
        fresh = uuid4()
        with pytest.raises(ForgottenCustomer):
            second.keys.key_for_writing(customer)
        assert second.keys.key_for_writing(fresh) is not None
