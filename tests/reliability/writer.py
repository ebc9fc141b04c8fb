"""One of several concurrent writer processes (tests/test_reliability_concurrency.py).

    python writer.py URL INDEX COMMANDS CUSTOMERS SEED EAGER GO_FILE LOG_FILE

Waits for GO_FILE (so all writers start together), then sends COMMANDS random commands
to the shared customers S00.., each with its own command id and through
``retry_command``. Every accepted command goes to LOG_FILE as one JSON line; a summary
(accepted, retries by error, failures) is printed last on stdout.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from customer_ledger import CustomerLedger, LedgerError, retry_command
from customer_ledger.storage.failures import Backoff

# Patient enough that a command outlasts any streak of lost races among a few writers.
BACKOFF = Backoff(attempts=50, first_delay=0.005, max_delay=0.5)


def main(argv: list[str]) -> int:
    url, index, commands, customers, seed, eager, go, log = argv
    number_of_commands, number_of_customers = int(commands), int(customers)
    rng = random.Random(f"{seed}:{index}")
    ledger = CustomerLedger.open(url)
    ledger.eager_views = eager == "1"
    retries: Counter[str] = Counter()
    failures: list[str] = []
    while not Path(go).exists():
        time.sleep(0.005)
    with open(log, "w", encoding="utf-8") as out:
        for i in range(number_of_commands):
            command_id = f"w{index}-{i}"
            number = f"S{rng.randrange(number_of_customers):02d}"
            kind, args = _command(rng, command_id)
            try:
                result = retry_command(
                    getattr(ledger, kind), number, occurred_at="2024-01-02",
                    actor=f"writer {index}", command_id=command_id, backoff=BACKOFF,
                    on_retry=lambda error, *_: retries.update([error.rule]), **args,
                )  # fmt: skip
            except LedgerError as error:
                failures.append(f"{command_id}: {error.rule}: {error}")
                continue
            line: dict[str, Any] = {
                "command_id": command_id, "customer": number, "kind": kind,
                "version": result.version, "replayed": result.replayed, **args,
            }  # fmt: skip
            out.write(json.dumps(line) + "\n")
    ledger.close()
    summary = {"accepted": number_of_commands - len(failures), "retries": retries}
    print(json.dumps({**summary, "failures": failures}))
    return 0


def _command(rng: random.Random, command_id: str) -> tuple[str, dict[str, Any]]:
    """A command every customer accepts in any state the others leave it in."""
    match rng.randrange(3):
        case 0:
            return "tag", {"tag": command_id}
        case 1:
            return "log_interaction", {"channel": "phone", "topic": command_id}
        case _:
            return "record_purchase", {"product": command_id, "amount": str(rng.randint(1, 999))}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
