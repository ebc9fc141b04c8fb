"""Fixtures for the SQLite adapter's tests: database files on tmpfs, views, samples.

Each commit fsyncs the WAL; the tests are about behaviour, not durability, so their
files live on ``/dev/shm`` where one exists (the suite is several times faster there).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from customer_ledger_sqlite import SQLiteViewSet
from eventsourcing.sqlite import SQLiteDatastore

TMPFS = Path("/dev/shm")


@pytest.fixture(scope="session")
def db_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the tests' database files go: tmpfs when there is one."""
    if not (TMPFS.is_dir() and os.access(TMPFS, os.W_OK)):
        yield tmp_path_factory.mktemp("databases")
        return
    root = Path(tempfile.mkdtemp(prefix="ledger-sqlite-", dir=TMPFS))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def db_dir(db_root: Path) -> Path:
    """A fresh directory for one test's database files."""
    return Path(tempfile.mkdtemp(dir=db_root))


@pytest.fixture
def db_path(db_dir: Path) -> str:
    return str(db_dir / "ledger.db")


@pytest.fixture
def datastore(db_path: str) -> Iterator[SQLiteDatastore]:
    store = SQLiteDatastore(db_path, lock_timeout=5)
    yield store
    store.close()


@pytest.fixture
def views(datastore: SQLiteDatastore) -> Iterator[SQLiteViewSet]:
    view_set = SQLiteViewSet(datastore)
    yield view_set
    view_set.close()
