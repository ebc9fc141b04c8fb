"""``python -m benchmarks.api`` still runs end to end (tiny history; nothing is timed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent


def test_the_api_benchmark_runs_and_reports_every_measurement(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.api", "--backend", "memory", "--events", "300",
         "--requests", "5", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = orjson.loads(out.read_bytes())
    assert [r["what"] for r in result["results"]] == [
        "search (region, 20 a page)", "profile read", "command POST (tag)",
    ]  # fmt: skip
    for r in result["results"]:
        assert all(v > 0 for v in (*r["api_ms"], *r["library_ms"])), r
    assert "ratio p50" in done.stdout
