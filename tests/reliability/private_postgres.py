"""A PostgreSQL server of the test's own, on a free port, that the test may stop and start.

Restarting the shared server would cut every other test's connections; a private one,
made with ``initdb`` in a temporary directory (well under a second), is restarted
without touching anyone. Run as root, the server runs as the ``postgres`` user (it
refuses root). Without the server binaries the test is skipped loudly, and fails
under ``CI=true``, as ``customer_ledger_postgres.testing`` does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from attrs import define
from customer_ledger_postgres.testing import in_ci

USER = "postgres"


@define
class PrivateServer:
    bindir: Path
    data: Path
    port: int
    log: Path
    as_user: list[str]

    @property
    def url(self) -> str:
        """A store URL with small pools and a quick connect timeout (fail fast when down)."""
        return self.url_of("postgres")

    def url_of(self, dbname: str, prefix: str = "ledger") -> str:
        return (
            f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"
            f"?prefix={prefix}&pool_size=1&max_overflow=4&connect_timeout=1"
        )

    @property
    def dsn(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        subprocess.run(
            [*self.as_user, *command, "-o", options, "-w", *args],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


def replica_of(primary: PrivateServer) -> Iterator[PrivateServer]:
    """Body of a fixture: a streaming replica of ``primary`` (``pg_basebackup -R``: a
    hot standby that replays the primary's WAL as it comes), started, removed after."""
    root = Path(tempfile.mkdtemp(prefix="ledger-private-replica-"))
    if primary.as_user:
        shutil.chown(root, USER)
    replica = PrivateServer(primary.bindir, root / "data", free_port(), root / "server.log",
                            primary.as_user)  # fmt: skip
    subprocess.run(
        [*primary.as_user, str(primary.bindir / "pg_basebackup"), "-D", str(replica.data),
         "-h", "127.0.0.1", "-p", str(primary.port), "-U", USER, "-R", "-X", "stream",
         "--checkpoint=fast", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    replica.start()
    try:
        yield replica
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            replica.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def server_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_server() -> Iterator[PrivateServer]:
    """Body of a fixture: a started server, removed afterwards whatever happened."""
    bindir = server_binaries()
    if bindir is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) NOT FOUND: restart test not run"
        if in_ci():
            pytest.fail(message + "; CI=true, so this is a failure, not a skip.", pytrace=False)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="ledger-private-pg-"))
    as_user = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(root, USER)
    server = PrivateServer(bindir, root / "data", free_port(), root / "server.log", as_user)
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(server.data), "-A", "trust", "-U", USER,
         "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            server.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
