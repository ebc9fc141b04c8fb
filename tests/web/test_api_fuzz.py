"""A bounded schemathesis run over /api/openapi.json: whatever the document allows a
client to send, the server answers without a 5xx, a refused request records nothing
(but the refusal itself, for the policy's), and the log still verifies afterwards.

Few examples per endpoint (``EXAMPLES``), so that the run stays well under a minute;
``HYPOTHESIS_PROFILE=ledger-thorough`` is not applied here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import basic, fresh_store_url, open_ledger
from hypothesis import HealthCheck, given, settings
from strategies import recorded

from customer_ledger import CustomerLedger
from customer_ledger.audit.verify import verify
from customer_ledger.web.app import create_app

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))
POLICY_REFUSALS = {"permission_denied", "csrf_rejected"}


def seed(ledger: CustomerLedger) -> None:
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at="2024-05-01")
    ledger.log_interaction("A001", channel="phone", topic="launch date", occurred_at="2024-05-02")


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgresql"])
def test_no_request_the_document_allows_gets_a_5xx(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = fresh_store_url(backend, request, tmp_path, pool="&pool_size=1&max_overflow=4")
    ledger = open_ledger(url)
    seed(ledger)
    app = create_app(ledger, secret=b"k" * 32)
    headers = basic("admin")
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40  # the reads, the files and one per command
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            before = recorded(ledger)
            response = case.call(headers=headers)
            status = response.status_code
            statuses.add(status)
            where = f"{case.method} {case.formatted_path}"
            if status >= 500:
                failures.append(f"{where}: {status} {response.text[:300]}")
                return
            if status >= 400:
                rule = response.json().get("error")
                if rule not in POLICY_REFUSALS and recorded(ledger) != before:
                    failures.append(f"{where}: refused ({rule}) yet recorded events")

        check()
    try:
        assert not failures, "\n".join(failures[:20])
        assert {200, 404, 422} <= statuses  # it got past authentication
        assert verify(ledger).ok
    finally:
        ledger.close()
