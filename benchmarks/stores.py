"""Fresh, throw-away stores for one benchmark run, on the backend under test.

Every measurement gets its own store (a SQLite file in the run's work directory, a
PostgreSQL schema named ``bench_<token>_<label>``), so no phase sees another's rows;
``cleanup`` removes them all. The baseline gets plain eventsourcing settings for the
same database: ``eventsourcing.sqlite`` on a file beside ours, ``eventsourcing.postgres``
in its own schema, ``eventsourcing.popo`` in memory.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path

from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL

BACKENDS = ("memory", "sqlite", "postgres")
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


class Stores:
    def __init__(self, backend: str, workdir: Path | None = None, postgres: str = DEFAULT_POSTGRES):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
        self.backend = backend
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="ledger-bench-")).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.postgres = postgres
        self.token = secrets.token_hex(3)
        self._schemas: list[str] = []

    def ledger_url(self, label: str) -> str:
        """A new, empty ledger store."""
        if self.backend == "memory":
            return "memory://"
        if self.backend == "sqlite":
            return f"sqlite:///{self._file(label)}"
        schema = self._schema(label)
        return f"{self.postgres}?prefix={schema}"

    def baseline_env(self, label: str) -> dict[str, str]:
        """eventsourcing settings for a new, empty baseline store."""
        if self.backend == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.backend == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self._file(label)),
                "SQLITE_LOCK_TIMEOUT": "5",
            }
        url = StoreURL.parse(f"{self.postgres}?prefix={self._schema(label)}")
        env = adapter_for(url).application_env(url)  # eventsourcing.postgres, schema made
        assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
        return env

    def _file(self, label: str) -> Path:
        path = self.workdir / f"{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return path

    def _schema(self, label: str) -> str:
        schema = f"bench_{self.token}_{label}"
        self._schemas.append(schema)
        return schema

    def cleanup(self) -> None:
        if self._schemas:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.postgres, autocommit=True) as conn:
                for schema in self._schemas:
                    conn.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                    )
            self._schemas.clear()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
