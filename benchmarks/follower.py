"""``customer-ledger follow`` beside a benchmark's writers, as an operator runs it."""

from __future__ import annotations

import subprocess
import sys
import threading


def start_follower(url: str) -> subprocess.Popen[str]:
    """``follow`` on ``url``, returned once it follows (caught up, listening or polling).
    Its stderr is read to the end meanwhile, so a follower with much to say never
    blocks on a full pipe while it is measured."""
    follower = subprocess.Popen(
        [sys.executable, "-m", "customer_ledger", "--store", url, "follow"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert follower.stderr is not None
    for line in follower.stderr:
        if "following with" in line or "following by" in line:
            break
    threading.Thread(target=follower.stderr.read, daemon=True).start()
    return follower
