"""The benchmark suite still runs end to end (tiny history; nothing is timed here).

``python -m benchmarks`` is run by hand for the numbers in docs/performance.md; this
only keeps it from rotting as the ledger changes: every phase runs on memory and
SQLite, and the JSON it writes has every metric with a number on both sides.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
BOTH = {
    "commands_eager", "commands_lazy", "import", "rebuild", "rebuild_all", "decode", "replay",
    "rebuild_without_search", "search_indexes",
}  # fmt: skip
# memory has no process to measure (nor a store another process could rebuild)
EXPECTED = {"memory": BOTH, "sqlite": BOTH | {"rss_400", "rebuild_process"}}


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_every_phase_runs_and_reports_both_sides(backend: str, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--backend", backend, "--events", "400",
         "--commands", "10", "--json", str(out), "--workdir", str(tmp_path / "stores")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = orjson.loads(out.read_bytes())
    metrics = {m["key"]: m for m in result["metrics"]}
    assert set(metrics) == EXPECTED[backend]
    for metric in metrics.values():
        if metric["compared"]:
            assert metric["ours"] > 0, metric
            assert metric["baseline"] > 0, metric
        else:  # a share or a growth: any sign, but a number
            assert isinstance(metric["ours"], float), metric
    assert result["run"]["features"]["views"]
    assert "command throughput" in done.stdout  # the table was printed


def test_the_copy_benchmark_runs_and_copies_everything(tmp_path: Path) -> None:
    out = tmp_path / "copy.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.copy", "--to", "sqlite", "--events", "300",
         "--page-size", "50", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = orjson.loads(out.read_bytes())
    assert result["checkpoint_equal"] and result["log_events"] > result["customer_events"]
    phases = {"events", "keys", "users", "snapshots", "views", "duplicates", "verify"}
    assert set(result["phase_seconds"]) == phases
    assert result["baseline_insert_seconds"] > 0
