"""Helpers of the API and page tests: users per role, Basic credentials, a ledger with
them, logging in to the pages.

(Apart from conftest.py: two test directories' conftest modules share one name, so
tests import from here, never ``from conftest``.)"""

from __future__ import annotations

import base64
import re
from typing import Any

from argon2 import PasswordHasher
from litestar.testing import TestClient
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


# -- the pages (the ``site`` fixture: conftest.py) ------------------------------------


def log_in(client: TestClient[Any], role: str) -> str:
    """Logs in as the user of ``role``; the CSRF token of its pages."""
    answer = client.post(
        "/login", data={"name": role, "password": f"{role} password", "next": "/customers"}
    )
    assert answer.status_code == 200 and answer.url.path == "/customers"
    return csrf_of(answer.text)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def first_contact(client: TestClient[Any], csrf: str, number: str = "K001") -> Any:
    """Registers the individual 王五 as ``number`` through the new-customer form."""
    return client.post(
        "/customers/new",
        data={
            "csrf_token": csrf, "command_id": f"t:{number}", "customer": number,
            "name": "王五", "type": "individual", "occurred_at": "2024-03-01",
        },
    )  # fmt: skip
