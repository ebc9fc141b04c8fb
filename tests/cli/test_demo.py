"""``customer-ledger demo``: the five example customers of domain-notes.md, recorded
truthfully and idempotently, then shown."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from customer_ledger import CustomerLedger
from customer_ledger.cli import demo
from customer_ledger.cli.main import ENV_STORE, main
from customer_ledger.formats.jsonl import parse_command


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(ENV_STORE, raising=False)
    return f"sqlite:///{tmp_path}/demo.db"


def run_demo(store: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--store", store, "--actor", "operator", "demo", *extra])
    return code, capsys.readouterr().out


def count_events(url: str) -> int:
    with CustomerLedger.open(url) as ledger:
        return ledger.recorder.max_notification_id() or 0


@pytest.fixture
def shown(store: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The demo's JSON output, by customer number."""
    code, out = run_demo(store, capsys, "--json")
    assert code == 0
    return {c["profile"]["number"]: c for c in json.loads(out)["customers"]}


# -- idempotent -------------------------------------------------------------------------


def test_a_second_run_records_nothing(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    # given the demo run once
    first_code, first = run_demo(store, capsys)
    events = count_events(store)
    # when it runs again
    second_code, second = run_demo(store, capsys)
    # then no event is added, and it says so
    assert (first_code, second_code) == (0, 0)
    assert count_events(store) == events
    assert f"{len(demo.COMMANDS)} commands recorded, 0 already" in first
    assert f"0 commands recorded, {len(demo.COMMANDS)} already in the store" in second


def test_every_demo_command_has_its_own_fixed_command_id() -> None:
    ids = [c["command_id"] for c in demo.COMMANDS]
    assert len(set(ids)) == len(ids)
    assert all(
        i.startswith(f"demo:{c['customer']}:") for i, c in zip(ids, demo.COMMANDS, strict=True)
    )


def test_every_demo_command_is_a_valid_import_line() -> None:
    for line in demo.COMMANDS:
        parse_command(line)


# -- shown ------------------------------------------------------------------------------


def test_it_prints_each_profile_and_timeline(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = run_demo(store, capsys)
    for number, name in [
        ("A001", "*先生"),
        ("B002", "*科技有限公司"),
        ("C003", "*女士"),
        ("W001", "ABC公司"),
        ("W002", "XYZ公司"),
    ]:
        assert number in out and name in out
        assert f"{number} timeline" in out
    assert "Phone: asked" in out  # A001's call, summarised in its timeline


def test_the_json_timeline_is_in_business_time_order(shown: dict[str, Any]) -> None:
    for customer in shown.values():
        times = [e["occurred_at"] for e in customer["timeline"]]
        assert times == sorted(times)
        assert all(e["summary"] and e["actor"] for e in customer["timeline"])


# -- true to the source sheets ----------------------------------------------------------


def test_the_register_customers_are_as_the_register_says(shown: dict[str, Any]) -> None:
    a, b, c = (shown[n]["profile"] for n in ("A001", "B002", "C003"))
    # A001: individual, annual contract signed 2023-08-15, phone call 2023-10-20, satisfaction 4
    assert (a["type"], a["stage"], a["last_satisfaction"]) == ("individual", "customer", 4)
    assert a["contracts"][0]["signed_on"] == "2023-08-15"
    assert a["last_interaction_at"].startswith("2023-10-20")
    assert a["contacts"][0]["phone"] == "138****5678"
    # B002: complaint filed 2023-10-10, resolved 2023-10-16 with satisfaction 2
    (complaint,) = b["complaints"]
    assert complaint["filed_at"].startswith("2023-10-10")
    assert complaint["resolved_at"].startswith("2023-10-16")
    assert (complaint["satisfaction"], b["last_satisfaction"], b["open_complaints"]) == (2, 2, 0)
    assert b["contacts"][0]["phone"] == "010****8888"
    # C003: type individual, stage prospect (潜在客户 is a stage, not a type)
    assert (c["type"], c["stage"]) == ("individual", "prospect")
    assert c["first_contact_at"].startswith("2023-09-05")
    assert c["contacts"][0]["phone"] == "139****3456"


def test_b002_is_at_risk_as_the_register_states_not_by_an_invented_event(
    store: str, shown: dict[str, Any]
) -> None:
    # The register calls B002 风险预警 (satisfaction 2) though its one complaint was
    # resolved and no sale is recorded: the stage is recorded as stated, row attached.
    profile = shown["B002"]["profile"]
    assert (profile["stage"], profile["open_complaints"], profile["purchase_count"]) == (
        "at_risk",
        0,
        0,
    )
    assert profile["contracts"] == []
    assert profile["risk_flagged"] is True
    with CustomerLedger.open(store) as ledger:
        last = ledger.history("B002")[-1]
    assert type(last).__name__ == "StageSetOnImport"
    assert "risk warning (风险预警)" in last.row


def test_the_worksheet_grades_are_manual_and_kept_apart_from_revenue(
    shown: dict[str, Any],
) -> None:
    w1, w2 = shown["W001"]["profile"], shown["W002"]["profile"]
    assert (w1["grade"], w1["total_revenue"], w1["contacts"][0]["name"]) == ("A", "1000", "张三")
    assert (w2["grade"], w2["total_revenue"], w2["contacts"][0]["name"]) == ("B", "2000", "李四")
    assert [e["summary"] for e in shown["W001"]["timeline"] if e["event"] == "GradeAssigned"] == [
        "Grade A (manual)"
    ]


def test_every_event_has_its_business_date_and_its_registrar(
    store: str, shown: dict[str, Any]
) -> None:
    registrars = {"A001": "*助理", "B002": "*专员", "C003": "*助理", "W001": "demo", "W002": "demo"}
    with CustomerLedger.open(store) as ledger:
        for number, registrar in registrars.items():
            for event in ledger.history(number):
                assert event.occurred_at.year in (2022, 2023), event  # never "now"
                # who recorded it is who ran the demo; the sheets' registrar is its source
                assert (event.meta.actor, event.meta.role) == ("operator", "admin")
                assert event.meta.source_actor == registrar
                assert event.meta.reason


def test_interactions_recorded_now_are_marked_late(store: str, shown: dict[str, Any]) -> None:
    with CustomerLedger.open(store) as ledger:
        logged = [
            e
            for n in demo.NUMBERS
            for e in ledger.history(n)
            if type(e).__name__ == "InteractionLogged"
        ]
    assert len(logged) == 5
    assert all(e.late for e in logged)


def test_the_demo_records_each_kind_of_fact_it_was_given() -> None:
    kinds = Counter(c["command"] for c in demo.COMMANDS)
    assert kinds == {
        "first_contact": 5,
        "log_interaction": 5,
        "add_contact": 5,
        "record_needs": 3,
        "rate_satisfaction": 2,
        "set_stage_on_import": 1,
        "sign_contract": 1,
        "file_complaint": 1,
        "resolve_complaint": 1,
        "record_purchase": 2,
        "assign_grade": 2,
    }
