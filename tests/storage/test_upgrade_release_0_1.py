"""Upgrading: a store written by release 0.1 opens with this release.

Given the stores release 0.1 wrote (``tests/fixtures/release_0_1``: SQLite and a
PostgreSQL dump, whose views hold a living customer's personal data in clear), when
this release opens one, then every event decodes and verifies, the views are rebuilt
once in today's format (personal data sealed), the store is scrubbed, so no personal
value of a living customer is left in clear in its files or a ``pg_dump`` (nor in hex),
and the forgotten customer stays forgotten.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from customer_ledger_postgres.testing import require_postgres
from release_fixture import copy_sqlite_store, release_manifest, restore_postgres_store

from customer_ledger import Contact, CustomerLedger
from customer_ledger.audit.verify import verify
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ERASED
from customer_ledger.errors import ForgottenCustomer
from customer_ledger.projections.views import KINDS, LEGACY_FORMAT, REBUILD, VIEW_FORMAT

MANIFEST = release_manifest()
LIVING = ("U001", "S001")
DPO = Actor("upgrade-test", "admin")  # their personal values must be sealed everywhere


@pytest.fixture(autouse=True)
def fixture_master_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MANIFEST["master_key_env"], MANIFEST["master_key"])
    monkeypatch.setenv("CUSTOMER_LEDGER_TIMEZONE", MANIFEST["timezone"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh copy of a store release 0.1 wrote."""
    if request.param == "sqlite":
        yield copy_sqlite_store(tmp_path)
        return
    require_postgres()
    with restore_postgres_store() as restored:
        yield restored.url


def personal_values(*numbers: str) -> list[str]:
    return [value for number in numbers for value in MANIFEST["personal"][number].values()]


def leaks(haystack: bytes, numbers: tuple[str, ...] = LIVING) -> list[str]:
    """The personal values found in ``haystack``: as UTF-8, as JSON \\u escapes, in hex
    (how pg_dump writes bytea) and in upper-case hex."""
    found = []
    for value in personal_values(*numbers):
        forms = {value.encode(), json.dumps(value).strip('"').encode()}
        forms |= {form.hex().encode() for form in list(forms)}
        forms |= {form.upper() for form in list(forms) if form.isalnum()}
        if any(form in haystack for form in forms):
            found.append(value)
    return found


def store_bytes(url: str) -> bytes:
    """Everything the store holds, as its files hold it (SQLite) or as pg_dump dumps it."""
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        return b"".join(path.read_bytes() for path in files if path.exists())
    schema = MANIFEST["postgres"]["prefix"]
    dump = subprocess.run(
        ["pg_dump", "--schema", schema, url.split("?")[0]],
        capture_output=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert b"COPY" in dump and b"customer_keys" in dump  # a dump that could show a leak
    return dump


def test_release_0_1_views_do_hold_personal_data_in_clear(old_store: str) -> None:
    """The premise: before this release opens them, the fixtures' views leak."""
    assert "13912345678" in leaks(store_bytes(old_store), ("U001",))


def test_opening_rebuilds_the_old_views_once_and_leaves_no_plaintext(
    old_store: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), CustomerLedger.open(old_store) as ledger:
        assert ledger.profile("U001").contacts[0].phone == "139****5678"  # first read upgrades
        assert {kind: ledger.views.format(kind) for kind in KINDS} == dict.fromkeys(
            KINDS, VIEW_FORMAT
        )
    assert [r.message for r in caplog.records if "earlier release" in r.message] != []

    assert leaks(store_bytes(old_store)) == []

    caplog.clear()
    with caplog.at_level(logging.WARNING), CustomerLedger.open(old_store) as again:
        assert again.upgrade_views() == []  # nothing left to upgrade
        again.refresh()
    assert [r.message for r in caplog.records if "earlier release" in r.message] == []


@pytest.mark.parametrize("default_actor", ["system", None])
def test_the_upgrade_indexes_the_customers_for_duplicates(
    old_store: str, default_actor: str | None
) -> None:
    # release 0.1 kept no duplicate index; the upgrade makes it from the history, as
    # the ledger itself, even in a program that names who acts on every call
    opened = {} if default_actor else {"default_actor": None}
    with CustomerLedger.open(old_store, **opened) as ledger:
        ledger.refresh()
        assert "U001" in {row[1] for row in ledger.keys.index_rows()}  # its phone


def test_after_the_upgrade_every_event_decodes_and_verifies(old_store: str) -> None:
    with CustomerLedger.open(old_store) as ledger:
        ledger.upgrade_views()
        report = verify(ledger)
        assert report.ok, report
        for number, version in MANIFEST["versions"].items():
            assert len(ledger.history(number)) == version
        assert ledger.customer("S001").version == MANIFEST["versions"]["S001"]  # via snapshot


def test_the_rebuilt_views_answer_as_release_0_1s_did(old_store: str) -> None:
    with CustomerLedger.open(old_store) as ledger:
        profile = ledger.profile("U001", unmasked=True, why="upgrade test", actor=DPO)
        expected = MANIFEST["personal"]["U001"]
        assert (profile.name, profile.licence_no) == (expected["name"], expected["licence_no"])
        contact = profile.contacts[0]
        assert (contact.phone, contact.email, contact.wechat, contact.qq) == (
            expected["contact.phone"],
            expected["contact.email"],
            expected["contact.wechat"],
            expected["contact.qq"],
        )
        numbers = {row.number for row in ledger.status()}
        assert numbers == set(MANIFEST["customers"])
        assert len(ledger.timeline(limit=1000).items) == sum(MANIFEST["versions"].values())


def test_the_forgotten_customer_stays_forgotten(old_store: str) -> None:
    with CustomerLedger.open(old_store) as ledger:
        profile = ledger.profile("F001")
        assert profile.name == ERASED
        assert {c.phone for c in profile.contacts} <= {ERASED, None}
        unmasked = ledger.profile("F001", unmasked=True, why="upgrade test", actor=DPO)
        assert unmasked.name == ERASED and unmasked.licence_no in (ERASED, None)
        with pytest.raises(ForgottenCustomer):  # nothing personal may be recorded again
            ledger.add_contact("F001", contact=Contact("F001-9", "新联系人", phone="13800000000"))
    assert leaks(store_bytes(old_store), ("F001",)) == []


def test_two_processes_opening_an_old_store_at_once_upgrade_it_once(old_store: str) -> None:
    """Both open and read; the second waits for the first's upgrade and finds it done."""
    results: dict[int, Any] = {}

    def open_and_read(n: int) -> None:
        try:
            with CustomerLedger.open(old_store) as ledger:
                results[n] = (ledger.upgrade_views(), ledger.profile("U001").number)
        except BaseException as error:  # reported below
            results[n] = error

    threads = [threading.Thread(target=open_and_read, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    upgrades = sorted(len(result[0]) for result in results.values())
    assert upgrades == [0, len(KINDS)], results
    assert {result[1] for result in results.values()} == {"U001"}


def test_a_rebuild_an_older_release_left_behind_is_discarded_not_resumed(
    old_store: str,
) -> None:
    """Given a half-done rebuild with no format row (as release 0.1 would leave), the
    upgrade starts that view afresh rather than swapping old-format rows in."""
    with CustomerLedger.open(old_store) as ledger:
        views = ledger._opened_views()
        views.view("profile", REBUILD)  # made today: it has today's format row ...
        drop_format_row(old_store, "profile_rebuild_tracking")  # ... now it has not
        assert views.format("profile", REBUILD) == LEGACY_FORMAT
        assert [r.projection for r in ledger.upgrade_views()] == list(KINDS)
        assert views.format("profile") == VIEW_FORMAT
        assert not views.has_rebuild("profile")


def drop_format_row(url: str, table: str) -> None:
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            db.execute(f"DELETE FROM {table} WHERE application_name = '#view-format'")
        return
    schema = MANIFEST["postgres"]["prefix"]
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            psycopg.sql.SQL("DELETE FROM {} WHERE application_name = '#view-format'").format(
                psycopg.sql.Identifier(schema, table)
            )
        )


def test_re_running_release_0_1s_import_skips_every_line_from_its_old_receipt(
    old_store: str,
) -> None:
    """Given the demo's lines release 0.1 imported (receipts of v1: no line digest),
    when this release imports them again, then each is answered from its old receipt
    (run through the pipeline, as such a receipt cannot vouch for the line alone):
    every line skipped, nothing recorded; a second re-run, the same."""
    from customer_ledger.cli import demo

    with CustomerLedger.open(old_store) as ledger:
        before = ledger.recorder.max_notification_id()
        for _ in range(2):
            report = demo.record(ledger, actor=DPO)
            assert (report.skipped, report.recorded, report.failures) == (len(demo.COMMANDS), 0, [])
        assert ledger.recorder.max_notification_id() == before
