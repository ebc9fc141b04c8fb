"""Duplicates and merge over the API, on memory, SQLite and PostgreSQL.

Given two records of one company, when a manager lists the likely duplicates and merges
one into the other, then the API answers as ``ledger.duplicates()`` and ``ledger.merge``
do: the groups with their reason, the merge recorded once per command id, the absorbed
number refusing commands with ``merged_into``; a role that may not merge is 403 and
records nothing but its refusal; a bad body is a typed 4xx.
"""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from strategies import recorded
from web_support import basic

from customer_ledger import CustomerLedger

Client = TestClient[Any]
SALES, MANAGER = basic("sales"), basic("manager")
COMPANY = {"name": "恒通贸易有限公司", "type": "company", "occurred_at": "2024-05-01"}


def two_records(client: Client) -> None:
    for number, extra in (("B001", {}), ("B002", {"allow_duplicate": True})):
        body = {"customer": number, **COMPANY, **extra}
        response = client.post("/api/customers", json=body, headers=SALES)
        assert response.status_code == 201, response.text


def test_duplicates_are_listed_and_merged_once(client: Client, ledger: CustomerLedger) -> None:
    two_records(client)
    groups = client.get("/api/duplicates", headers=SALES).json()["groups"]
    assert groups == [group.to_json() for group in ledger.duplicates()]
    assert groups and groups[0]["numbers"] == ["B001", "B002"]
    body = {"into": "B001", "reason": "one company", "command_id": "crm-merge-1"}
    first = client.post("/api/customers/B002/merge", json=body, headers=MANAGER)
    assert first.status_code == 201, first.text
    after = recorded(ledger)
    again = client.post("/api/customers/B002/merge", json=body, headers=MANAGER)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert recorded(ledger) == after
    refused = client.post("/api/customers/B002/tag", json={"tag": "x"}, headers=SALES)
    assert (refused.status_code, refused.json()["error"]) == (422, "merged_into"), refused.text


def test_a_role_that_may_not_merge_is_refused_and_bad_bodies_are_typed(
    client: Client, ledger: CustomerLedger
) -> None:
    two_records(client)
    before = recorded(ledger)
    denied = client.post(
        "/api/customers/B002/merge", json={"into": "B001", "reason": "x"}, headers=SALES
    )
    assert (denied.status_code, denied.json()["error"]) == (403, "permission_denied")
    for body, rule in [
        ({"into": "B001"}, "missing_field"),
        ({"into": "B001", "reason": "x", "why": 1}, "unknown_field"),
        ({"into": 7, "reason": "x"}, "invalid_value"),
        ({"into": "Z999", "reason": "x"}, "unknown_customer"),
    ]:
        response = client.post("/api/customers/B002/merge", json=body, headers=MANAGER)
        assert response.json()["error"] == rule, response.text
        assert response.status_code in (404, 422)
    broken = client.post("/api/customers/B002/merge", content=b"{", headers=MANAGER)
    assert broken.status_code in (400, 422) and "Traceback" not in broken.text
    added = ledger.recorder.select_notifications(start=before + 1, limit=100)
    assert [n.topic for n in added if "AccessLog" not in n.topic] == []  # refusals only
