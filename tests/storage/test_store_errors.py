"""A store that cannot be opened or read is a typed store error, never a traceback.

Given a SQLite path holding something that is not a ledger's database (text, a
truncated or scribbled-over file), or a path no database can be opened at, when a
ledger opens it (for writing or for reading) or reads from it, then ``StoreDamaged`` or
``StoreUnavailable`` naming the store, the file exactly as it was, and on the command
line ``error [rule]: ...`` with exit 1. PostgreSQL's data errors (SQLSTATE class 22) and
corruption errors mean the same.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from customer_ledger_postgres.adapter import classify as classify_postgres
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from customer_ledger_sqlite.adapter import classify as classify_sqlite
from eventsourcing.persistence import DataError, PersistenceError

from customer_ledger import CustomerLedger, StoreDamaged, StoreError, StoreUnavailable
from customer_ledger.cli.demo import record as record_demo
from customer_ledger.cli.main import main
from customer_ledger.domain.access import Actor
from customer_ledger.storage.failures import store_failure

ADMIN = Actor("admin-1", "admin")


def a_demo_store(path: Path) -> str:
    url = f"sqlite:///{path}"
    with CustomerLedger.open(url) as ledger:
        record_demo(ledger, ADMIN)
    return url


def scribbled(path: Path) -> None:
    """Every page after the header overwritten: a file SQLite opens, then cannot read."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for at in range(page, len(data), 7):
        data[at] = 0xA5
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_a_database_is_store_damaged_and_left_as_it_was(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 20)
    before = path.read_bytes()
    with pytest.raises(StoreDamaged, match=r"sqlite:///.*notes.db cannot be opened: file is not"):
        CustomerLedger.open(f"sqlite:///{path}", read_only=read_only)
    assert path.read_bytes() == before


def test_a_corrupt_database_is_store_damaged_when_opened_or_read(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    url = a_demo_store(path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    scribbled(path)
    with (
        pytest.raises(StoreDamaged, match=r"malformed|not a database"),
        CustomerLedger.open(url) as ledger,
    ):
        ledger.profile("A001", actor=ADMIN)


def test_a_path_no_database_can_be_opened_at_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="cannot be opened"):
        CustomerLedger.open(f"sqlite:///{blocker}/ledger.db")  # a directory that is a file


def test_the_command_line_says_which_store_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 40)
    for argv in (["demo"], ["profile", "A001"], ["search", "x"], ["rebuild"]):
        assert main(["--store", f"sqlite:///{path}", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error [store_damaged]: the store at sqlite:///"), err
        assert "Traceback" not in err


def test_sqlite_errors_mean_what_they_say() -> None:
    import sqlite3

    assert classify_sqlite(sqlite3.DatabaseError("file is not a database")) == "damaged"
    assert classify_sqlite(sqlite3.OperationalError("database is locked")) == "busy"
    unopenable = sqlite3.OperationalError("unable to open database file")
    assert classify_sqlite(unopenable) == "unavailable"
    assert classify_sqlite(sqlite3.IntegrityError("UNIQUE constraint failed")) is None


@pytest.mark.postgres
def test_postgres_data_errors_are_store_damaged(postgres_database: str) -> None:  # noqa: F811
    with psycopg.connect(postgres_database) as conn:
        for statement in ("SELECT 1/0", "SELECT 'x'::int", "SELECT 'nope'::bytea::text::int"):
            with pytest.raises(psycopg.DataError) as raised:
                conn.execute(statement)
            conn.rollback()
            assert classify_postgres(raised.value) == "damaged"
            wrapped = DataError(str(raised.value))
            wrapped.__cause__ = raised.value
            typed = store_failure(wrapped)
            assert isinstance(typed, StoreDamaged) and typed.rule == "store_damaged"


def test_every_store_failure_is_a_store_error() -> None:
    for error in (PersistenceError("x"), DataError("y")):
        assert isinstance(store_failure(error), StoreError)
