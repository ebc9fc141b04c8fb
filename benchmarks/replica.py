"""``python -m benchmarks.replica [--commands 300]``: reads from a streaming replica.

Starts a private PostgreSQL primary (``initdb`` from the installed server binaries, in a
temporary directory) and a hot standby of it (``pg_basebackup -R``), runs
``customer-ledger follow`` against the primary, then times a command followed at once
by a read of what it wrote (read-your-writes), two ways in the same run:

* baseline: the ledger reads the primary (``catch_up=False``: the follower's views);
* replica: the same ledger opened with ``replica=``: the read goes to the standby and
  waits until it has the command's write (the views' tracking position there).

Prints p50/p95 of each and the ratio, and the standby's replay lag in WAL bytes,
sampled meanwhile. Both servers are stopped and removed at the end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from benchmarks.follower import start_follower
from benchmarks.timing import milliseconds_at
from customer_ledger import CustomerLedger

USER = "postgres"


class Server:
    def __init__(self, bindir: Path, root: Path, as_user: list[str]) -> None:
        self.bindir, self.data, self.log, self.as_user = (
            bindir,
            root / "data",
            root / "log",
            as_user,
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{db}?prefix=ledger&pool_size=2"

    def ctl(self, *args: str, extra: str = "") -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 {extra}"
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
             str(self.log), "-o", options, "-w", *args],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def workdir(as_user: list[str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="ledger-bench-replica-"))
    if as_user:
        shutil.chown(root, USER)
    return root


@contextlib.contextmanager
def servers(wal_writer_delay: str) -> Iterator[tuple[Server, Server]]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries (initdb) not found")
    bindir = Path(found[-1]).parent
    as_user = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    primary = Server(bindir, workdir(as_user), as_user)
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(primary.data), "-A", "trust",
                    "-U", USER, "-E", "UTF8"], check=True, capture_output=True)  # fmt: skip
    primary.ctl("start", extra=f"-c wal_writer_delay={wal_writer_delay}")
    standby = Server(bindir, workdir(as_user), as_user)
    try:
        subprocess.run(
            [*as_user, str(bindir / "pg_basebackup"), "-D", str(standby.data), "-h",
             "127.0.0.1", "-p", str(primary.port), "-U", USER, "-R", "-X", "stream",
             "--checkpoint=fast"],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        standby.ctl("start")
        yield primary, standby
    finally:
        for server in (standby, primary):
            with contextlib.suppress(Exception):
                server.ctl("-m", "immediate", "stop")
            shutil.rmtree(server.data.parent, ignore_errors=True)


def timed(ledger: CustomerLedger, n: int, label: str) -> list[float]:
    samples = []
    for i in range(n):
        number = f"{label}{i:05d}"
        began = time.perf_counter()
        ledger.first_contact(number, name=f"客户{number}", type="company")
        ledger.profile(number)  # waits for the follower (and the standby) to have it
        samples.append(time.perf_counter() - began)
    return samples


def lag_sampler(primary: str, standby: str, stop: threading.Event, out: list[int]) -> None:
    # autocommit on the standby too: an open transaction there holds a snapshot, and
    # replay waits for it (max_standby_streaming_delay), stalling every reader's wait
    with (
        psycopg.connect(primary, autocommit=True) as p,
        psycopg.connect(standby, autocommit=True) as s,
    ):
        while not stop.is_set():
            (written,) = p.execute("SELECT pg_current_wal_lsn()").fetchone() or (None,)
            (lag,) = s.execute(
                "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn())::bigint", (written,)
            ).fetchone() or (0,)
            out.append(max(0, int(lag or 0)))
            time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replica", description=__doc__)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument(
        "--wal-writer-delay", default="200ms",
        help="the primary's (PostgreSQL's default 200ms): the views' commits are "
        "asynchronous, and a standby receives WAL once it is flushed",
    )  # fmt: skip
    args = parser.parse_args(argv)
    os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    with servers(args.wal_writer_delay) as (primary, standby):
        url = primary.url()
        follower = start_follower(url)
        try:
            with CustomerLedger.open(url, catch_up=False) as on_primary:
                timed(on_primary, 20, "W")  # warm
                base = timed(on_primary, args.commands, "P")
            lags: list[int] = []
            stop = threading.Event()
            dsn = primary.url().split("?")[0]
            sampler = threading.Thread(
                target=lag_sampler, args=(dsn, standby.url().split("?")[0], stop, lags)
            )
            sampler.start()
            with CustomerLedger.open(url, replica=standby.url()) as via_replica:
                timed(via_replica, 20, "V")
                ours = timed(via_replica, args.commands, "R")
            stop.set()
            sampler.join()
        finally:
            follower.terminate()
            follower.wait(timeout=60)

    (b50, b95), (r50, r95) = milliseconds_at(base, 50, 95), milliseconds_at(ours, 50, 95)
    print(f"command + read of it, {args.commands} times, follow on the primary, "
          f"wal_writer_delay {args.wal_writer_delay}")  # fmt: skip
    print(f"  reading the primary:  p50 {b50:6.1f} ms  p95 {b95:6.1f} ms")
    print(f"  reading the replica:  p50 {r50:6.1f} ms  p95 {r95:6.1f} ms   "
          f"ratio p50 {r50 / b50:.2f}x")  # fmt: skip
    if lags:
        print(f"  standby replay lag: max {max(lags):,} bytes, mean {statistics.fmean(lags):,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
