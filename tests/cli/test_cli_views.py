"""The CLI reads the views and maintains them: timeline, status, search, rebuild, follow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from customer_ledger import CustomerLedger
from customer_ledger.cli.main import main
from customer_ledger.projections.views import KINDS
from customer_ledger.testing import clock, record_sample, stored_profile


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url, clock=clock) as ledger:
        record_sample(ledger)
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_status_json_counts_every_stage(store, capsys):
    code, out = run(capsys, "--store", store, "status", "--as-of", "2024-06-01", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["stages"] == {"lead": 7, "prospect": 4, "customer": 4, "at_risk": 1, "churned": 1}
    assert data["at_risk"] == ["B002"] and data["open_complaints"] == 1
    assert len(data["customers"]) == data["total"] == 17  # 5 from the material + 12 leads


def test_status_filters_by_stage(store, capsys):
    _code, out = run(capsys, "--store", store, "status", "--stage", "churned", "--json")
    assert [c["number"] for c in json.loads(out)["customers"]] == ["W002"]


def test_timeline_of_one_customer_within_dates(store, capsys):
    argv = ("--store", store, "timeline", "B002", "--from", "2023-10-10", "--to", "2023-10-16")
    code, out = run(capsys, *argv, "--json")
    assert code == 0
    assert [e["event"] for e in json.loads(out)] == ["ComplaintFiled", "ComplaintResolved"]
    code, out = run(capsys, *argv, "--lang", "zh")
    assert "投诉 K-1" in out


def test_search_pages_with_a_cursor(store, capsys):
    _, out = run(capsys, "--store", store, "search", "--limit", "5", "--json")
    first = json.loads(out)
    assert len(first["customers"]) == 5 and first["next_cursor"]
    _, out = run(capsys, "--store", store, "search", "--limit", "5", "--after",
                    first["next_cursor"], "--json")  # fmt: skip
    second = json.loads(out)
    numbers = [c["number"] for c in first["customers"] + second["customers"]]
    assert numbers == sorted(numbers) and len(set(numbers)) == 10
    _code, out = run(capsys, "--store", store, "search", "科技", "--json")
    assert [c["number"] for c in json.loads(out)["customers"]] == ["B002"]


def test_search_masks_phones(store, capsys):
    _code, out = run(capsys, "--store", store, "search", "A001", "--json")
    assert json.loads(out)["customers"][0]["contacts"][0]["phone"] == "138****5678"


def test_rebuild_prints_one_json_line_per_projection(store, capsys):
    code, out = run(capsys, "--store", store, "rebuild", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [line["projection"] for line in lines] == list(KINDS)
    with CustomerLedger.open(store) as ledger:
        events = ledger.recorder.max_notification_id()
    assert all(line["events"] == events and line["seconds"] >= 0 for line in lines)
    code, out = run(capsys, "--store", store, "rebuild", "--projection", "timeline", "--json")
    assert [json.loads(line)["projection"] for line in out.splitlines()] == ["timeline"]


def test_unknown_stage_is_a_usage_error(store, capsys):
    assert main(["--store", store, "status", "--stage", "gone"]) == 2


def test_follow_keeps_views_current_and_stops_cleanly_on_sigterm(store):
    writer = CustomerLedger.open(store, clock=clock)
    writer.eager_views = False  # only the follower updates the views
    env = {**os.environ, "CUSTOMER_LEDGER_STORE": store}
    follower = subprocess.Popen(
        [sys.executable, "-m", "customer_ledger", "follow", "--poll", "0.05"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        writer.first_contact("F001", name="followed", type="company")
        target = writer.recorder.max_notification_id()
        profile_view = writer.views.view("profile")
        deadline = time.monotonic() + 30
        while (profile_view.max_tracking_id(writer.name) or 0) < target:
            assert time.monotonic() < deadline, "follow did not apply the new event"
            time.sleep(0.05)
        assert stored_profile(writer, "F001") is not None
    finally:
        follower.send_signal(signal.SIGTERM)
        _, err = follower.communicate(timeout=30)
        writer.close()
    assert follower.returncode == 0, err
    assert "stopped cleanly" in err
