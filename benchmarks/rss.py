"""Peak memory of a rebuild, measured in a process of its own.

The peak is a high-water mark for the whole process, so the rebuild runs in a fresh
interpreter that does nothing else: the number includes the interpreter and
the imported libraries, as a deploy's ``customer-ledger rebuild`` would.

    python -m benchmarks.rss ours URL
    python -m benchmarks.rss baseline ENV_JSON STOP
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent


def peak_mb() -> float:
    """This process's peak resident memory (MB).

    Linux keeps ``ru_maxrss`` across exec, so a child started by a big parent would
    report the parent's peak; ``VmHWM`` belongs to the child's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_ours(url: str) -> dict[str, Any]:
    """Runs ``rebuild(fresh=True)`` of every view in a child process."""
    return _child(["ours", url])


def measure_baseline(env: dict[str, str], stop: int) -> dict[str, Any]:
    """Runs the baseline's read-and-decode of ``stop`` events in a child process."""
    return _child(["baseline", orjson.dumps(env).decode(), str(stop)])


def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss", *args],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rss child failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def main(argv: list[str]) -> None:
    started_mb = peak_mb()
    started = time.perf_counter()
    if argv[0] == "ours":
        from customer_ledger.application.ledger import CustomerLedger

        with CustomerLedger.open(argv[1]) as ledger:
            events = ledger.recorder.max_notification_id() or 0
            ledger.rebuild(fresh=True)
    else:
        from benchmarks.baseline import open_baseline, read_and_decode

        app = open_baseline(orjson.loads(argv[1]))
        events = read_and_decode(app, int(argv[2]))["events"]
        app.close()
    seconds = time.perf_counter() - started
    result = {"events": events, "seconds": seconds, "peak_mb": peak_mb(), "start_mb": started_mb}
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
