"""A command loads what it runs: start-up is part of every command's time (issue 17).

``customer-ledger rebuild`` on a SQLite store used to import the web stack (Litestar,
Jinja2) and the PostgreSQL driver before doing anything: half its start-up. Only
``serve`` needs the one, only a ``postgresql://`` store the other.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

PROBE = """
import sys, orjson
from customer_ledger.cli.main import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("litestar", "jinja2", "uvicorn", "psycopg") if m in sys.modules)
sys.stderr.write(orjson.dumps({"code": code, "heavy": heavy}).decode() + "\\n")
"""


def loaded_by(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    result: dict[str, object] = orjson.loads(done.stderr.strip().splitlines()[-1])
    return result


def test_a_sqlite_rebuild_imports_neither_the_web_stack_nor_the_postgres_driver(
    tmp_path: Path,
) -> None:
    store = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert loaded_by("--store", store, "demo") == {"code": 0, "heavy": []}
    assert loaded_by("--store", store, "rebuild", "--fresh") == {"code": 0, "heavy": []}
