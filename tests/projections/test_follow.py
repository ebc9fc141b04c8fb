"""`customer-ledger follow` keeps the views current beside ordinary embedded writers.

On PostgreSQL it follows with eventsourcing's ProjectionRunner (LISTEN/NOTIFY); the
writers catch their own views up too, so the runner often finds an event already
applied, which must not stop it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)

from customer_ledger import CustomerLedger
from customer_ledger.testing import clock, stored_profile


def test_follow_survives_eager_writers_and_stops_cleanly(postgres_url_factory):  # noqa: F811
    url = postgres_url_factory()
    writer = CustomerLedger.open(url, clock=clock)  # eager: applies its own events too
    writer.first_contact("P000", name="before follow", type="company")
    follower = subprocess.Popen(
        [sys.executable, "-m", "customer_ledger", "follow"],
        env={**os.environ, "CUSTOMER_LEDGER_STORE": url},
        stderr=subprocess.PIPE,
        text=True,
    )
    err_lines: list[str] = []
    try:
        assert follower.stderr is not None
        for line in follower.stderr:  # wait until it follows (under load this takes a while)
            err_lines.append(line)
            if "following with" in line:
                break
        for i in range(1, 31):
            writer.first_contact(f"P{i:03d}", name=f"company {i}", type="company")
            writer.log_interaction(f"P{i:03d}", channel="phone", topic="hello")
        assert follower.poll() is None, "follow died while the writer worked"
        writer.eager_views = False  # from here on only the follower applies events
        writer.first_contact("P999", name="after", type="company")
        target = writer.recorder.max_notification_id()
        status = writer.views.view("status")
        deadline = time.monotonic() + 60
        while (status.max_tracking_id(writer.name) or 0) < target:
            assert time.monotonic() < deadline, "follow did not apply the last event"
            time.sleep(0.05)
        assert stored_profile(writer, "P999") is not None
    finally:
        follower.send_signal(signal.SIGTERM)
        _, rest = follower.communicate(timeout=60)
        writer.close()
    err = "".join(err_lines) + (rest or "")
    assert follower.returncode == 0, err
    assert "ProjectionRunner" in err and "stopped cleanly" in err
    # every event the runners applied is counted (it said 0 when all went through them)
    applied = int(re.search(r"stopped cleanly \((\d+) event applications\)", err).group(1))
    assert applied >= 61, err  # 61 customer events recorded while it followed
