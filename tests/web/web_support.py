"""Helpers of the API tests: users per role, Basic credentials, a ledger with them.

(Apart from conftest.py: two test directories' conftest modules share one name, so
tests import from here, never ``from conftest``.)"""

from __future__ import annotations

import base64

from argon2 import PasswordHasher
from strategies import fixed_clock

from customer_ledger import CustomerLedger
from customer_ledger.domain.access import Actor

BACKENDS = ("memory", "sqlite", "postgresql")
ROLES = ("sales", "service", "manager", "auditor", "admin")
ROOT = Actor("root", "admin")
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # tests only


def basic(name: str, password: str | None = None) -> dict[str, str]:
    pair = f"{name}:{password if password is not None else name + ' password'}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def open_ledger(url: str) -> CustomerLedger:
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    ledger.users.hasher = CHEAP
    for role in ROLES:
        ledger.users.add(role, role=role, password_text=f"{role} password", by=ROOT)
    return ledger
