"""Readers on a PostgreSQL streaming replica, views in a third database, a follower.

Private servers made inside the run: a primary, and a hot standby of it made by
``pg_basebackup -R``. The events are in the primary's ``postgres`` database, the views in
its ``views`` database (both replicated); ``follow`` writes the views on the primary; a
ledger opened with ``replica=`` sends commands to the primary and reads the replica,
each read waiting for its own last write. Killing the follower and the replica once
each loses nothing and doubles nothing.
"""

from __future__ import annotations

import base64
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import psycopg
import pytest

from customer_ledger import CustomerLedger, StoreError, ViewsBehind
from customer_ledger.testing import snapshot_views
from reliability.private_postgres import PrivateServer, private_server, replica_of
from reliability.support import WAIT_SECONDS, cli, figures, start, views_as_stored

T = TypeVar("T")


def apart(events: str, views: str) -> str:
    return f"{events}&views={quote(views, safe='')}"


def eventually(read: Callable[[], T]) -> T:
    """``read()`` once the replica answers again (its pool reconnects after a restart)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            return read()
        except StoreError:
            assert time.monotonic() < deadline, "the replica never answered again"
            time.sleep(0.2)


@pytest.fixture
def primary() -> Iterator[PrivateServer]:
    os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    yield from private_server()


@pytest.fixture
def replica(primary: PrivateServer) -> Iterator[PrivateServer]:
    with psycopg.connect(primary.dsn, autocommit=True) as conn:
        conn.execute("CREATE DATABASE views")  # the third database (replicated with the rest)
    yield from replica_of(primary)


@pytest.mark.postgres
@pytest.mark.slow
def test_replica_reads_see_their_own_writes_through_a_killed_follower_and_replica(
    primary: PrivateServer, replica: PrivateServer
) -> None:
    writes = apart(primary.url, primary.url_of("views", "views"))
    reads = apart(replica.url, replica.url_of("views", "views"))
    follower = start(cli(writes, "follow"))
    assert follower.stderr is not None
    for line in follower.stderr:  # it has made the views (on the primary: replicated)
        if "following with" in line:
            break
    ledger = CustomerLedger.open(writes, replica=reads)
    ledger.views_wait_seconds = WAIT_SECONDS
    assert not ledger.catch_up and ledger.replica is not None
    # given commands on the primary, each read at once from the replica: read-your-writes
    for i in range(8):
        number = f"R{i:02d}"
        ledger.first_contact(number, name=f"company {i}", type="company")
        assert ledger.profile(number).name == f"company {i}"  # the replica's views
        ledger.log_interaction(number, channel="phone", topic=f"call {i}")
        assert len(ledger.history(number)) == 2  # the replica's log
        assert [e.kind for e in ledger.timeline(number).items][-1] == "InteractionLogged"
    # when the follower is killed -9 and writes go on
    follower.send_signal(signal.SIGKILL)
    follower.wait(timeout=WAIT_SECONDS)
    for i in range(8, 12):
        ledger.first_contact(f"R{i:02d}", name=f"company {i}", type="company")
    # then the log is read on the replica still, and the views say clearly they are behind
    assert len(ledger.history("R11")) == 1
    ledger.views_wait_seconds = 0.5
    with pytest.raises(ViewsBehind):
        ledger.profile("R11")
    # and a restarted follower takes up where the killed one stopped
    follower = start(cli(writes, "follow"))
    ledger.views_wait_seconds = WAIT_SECONDS
    assert ledger.profile("R11").name == "company 11"
    # when the replica is killed, commands still go to the primary; reads fail typed
    replica.pg_ctl("-m", "immediate", "stop")
    ledger.tag("R00", tag="while the replica was down")
    with pytest.raises(StoreError):
        ledger.profile("R00")
    # and once it is back, it has replayed what it missed
    replica.start()
    assert eventually(lambda: ledger.profile("R00").tags) == ("while the replica was down",)
    assert len(eventually(lambda: ledger.history("R00"))) == 3
    # then the replica's views hold exactly what a fresh catch-up of the log gives
    ledger.wait_for_views(ledger.recorder.max_notification_id() or 0)
    on_replica: dict[str, Any] = views_as_stored(ledger)
    follower.send_signal(signal.SIGTERM)
    _, err = follower.communicate(timeout=WAIT_SECONDS)
    assert follower.returncode == 0, err
    ledger.close()
    with CustomerLedger.open(primary.url) as reference:  # views beside the log, made anew
        expected = snapshot_views(reference)
    assert on_replica == expected
    assert len(on_replica["profile"]) == 12
    assert len(on_replica["timeline"]) == 8 * 2 + 4 + 1  # none lost, none doubled
    figures("replica reads", backend="postgresql", follower_kills=1, replica_kills=1,
            customers=12, lost=0, doubled=0)  # fmt: skip
