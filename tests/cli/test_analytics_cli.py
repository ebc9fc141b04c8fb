"""``customer-ledger analytics | indicators | reminders | report`` through the entry point.

The store is a SQLite file holding the domain notes' customers (plus the analytics
extras of the conformance suite); every command is asked about an explicit date.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from analytics_support import clock

from customer_ledger import CustomerLedger
from customer_ledger.cli import output as cli_output
from customer_ledger.cli.main import main
from customer_ledger.testing import record_analytics_extras, record_sample


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One store for the module: the commands here only read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cli')}/ledger.db"
    ledger = CustomerLedger.open(url, clock=clock)
    record_sample(ledger)
    record_analytics_extras(ledger)
    ledger.close()
    return url


@pytest.fixture(autouse=True)
def no_default_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)


def run(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--store", store, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def as_json(out: str) -> Any:
    return json.loads(out)


def test_analytics_json_shows_computed_and_hand_grades(capsys, store):
    code, out, err = run(capsys, store, "analytics", "--as-of", "2023-10-31", "--json")
    assert (code, err) == (0, "")
    data = as_json(out)
    assert data["as_of"] == "2023-10-31"
    assert data["settings"]["grade_a_share"] == "0.70"
    rows = {c["number"]: c for c in data["customers"]}
    zhang = rows["W001"]  # 张三: A by hand, C as computed
    assert (zhang["computed_grade"], zhang["manual_grade"], zhang["grade"]) == ("C", "A", "A")
    assert rows["W002"]["revenue"] == "2000"
    assert [r["rule"] for r in rows["B002"]["churn_reasons"]] == [
        "open_complaint",
        "low_satisfaction",
    ]
    assert (rows["B002"]["segment"], rows["B002"]["cadence"]) == ("risk_warning", "weekly")


def test_analytics_table_and_settings_options(capsys, store):
    code, out, _ = run(capsys, store, "analytics", "--as-of", "2023-10-31")
    assert code == 0
    assert "analytics as of 2023-10-31" in out and "5 customers" in out and "1 at churn risk" in out
    code, out, _ = run(
        capsys, store, "analytics", "--as-of", "2023-10-31", "--grade-a", "0.95",
        "--grade-b", "0.99", "--json",
    )  # fmt: skip
    grades = {c["number"]: c["computed_grade"] for c in as_json(out)["customers"]}
    # of ¥59,000: B002 (0 before it) and W002 (¥56,000 < 95%) are A, W001 (¥58,000 < 99%) B
    assert grades == {"A001": "C", "B002": "A", "C003": "C", "W001": "B", "W002": "A"}


def test_reminders_json_with_owner_and_horizon(capsys, store, monkeypatch):
    code, out, _ = run(capsys, store, "reminders", "--as-of", "2024-06-01", "--within", "20",
                       "--owner", "*主管", "--json")  # fmt: skip
    assert code == 0
    data = as_json(out)
    assert (data["as_of"], data["within_days"]) == ("2024-06-01", 20)
    assert [(r["kind"], r["number"], r["due_on"], r["days"]) for r in data["reminders"]] == [
        ("reminder", "B002", "2024-05-30", -2),
    ]
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal: no wrapped cells
    code, out, _ = run(capsys, store, "reminders", "--as-of", "2024-06-01")
    assert code == 0 and "2 days overdue" in out and "product demo" in out


def test_indicators_json(capsys, store):
    code, out, _ = run(capsys, store, "indicators", "--period", "quarter", "--start",
                       "2023-10-01", "--end", "2023-12-31", "--json")  # fmt: skip
    assert code == 0
    [q4] = as_json(out)
    assert (q4["period"], q4["customers"], q4["complaint_rate"]) == ("2023-Q4", 5, "0.2000")


def test_report_writes_one_page_and_says_what_it_holds(capsys, store, tmp_path):
    out_file = tmp_path / "report.html"
    code, out, err = run(capsys, store, "report", "--out", str(out_file), "--as-of", "2024-06-01")
    assert (code, err) == (0, "")  # no progress bar when stderr is not a terminal
    assert out.startswith(f"{out_file}: report as of 2024-06-01, 17 customers")
    assert out_file.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_report_draws_its_steps_on_a_terminal_only(capsys, store, tmp_path, monkeypatch):
    from rich.console import Console

    from customer_ledger.cli import analytics as cli_analytics

    argv = ["report", "--out", str(tmp_path / "r.html"), "--as-of", "2024-06-01"]
    assert run(capsys, store, *argv)[2] == ""  # not a terminal: no bar
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(
        cli_analytics, "console", lambda stderr=False: terminal if stderr else Console()
    )
    assert run(capsys, store, *argv)[0] == 0
    drawn = screen.getvalue()
    assert "report: catching up views" in drawn and "report: writing" in drawn


def test_export_analytics_as_csv_in_either_language(capsys, store, tmp_path):
    out_file = tmp_path / "analytics.csv"
    argv = ["export", "analytics", "--out", str(out_file), "--as-of", "2023-10-31"]
    code, _, _ = run(capsys, store, *argv, "--lang", "en")
    assert code == 0
    rows = list(csv.DictReader(out_file.read_text(encoding="utf-8-sig").splitlines()))
    w001 = next(r for r in rows if r["number"] == "W001")
    assert (w001["as of"], w001["trailing revenue"]) == ("2023-10-31", "1000")
    assert (w001["computed grade"], w001["grade (by hand)"], w001["grade"]) == ("C", "A", "A")
    b002 = next(r for r in rows if r["number"] == "B002")
    assert (b002["churn risk"], b002["segment"], b002["contact cadence"]) == (
        "yes", "risk_warning", "weekly",
    )  # fmt: skip
    assert b002["churn reasons"].startswith("open_complaint: complaint K-2")
    code, _, _ = run(capsys, store, *argv)
    assert code == 0
    rows = list(csv.DictReader(out_file.read_text(encoding="utf-8-sig").splitlines()))
    b002 = next(r for r in rows if r["客户编号"] == "B002")
    assert (b002["维护类型"], b002["联系频率"], b002["流失风险"]) == ("风险预警型", "每周", "是")
    assert "投诉未解决" in b002["风险原因"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["analytics", "--as-of", "2023-02-30"], 1, "error [invalid_value]"),
        (["analytics", "--grade-a", "0.95"], 1, "error [invalid_value]: grade_a_share"),
        (["reminders", "--within", "-3"], 1, "error [invalid_value]: within_days"),
        (["indicators", "--period", "week"], 2, "invalid choice"),
        (["indicators", "--start", "2024-05-01", "--end", "2024-01-01"], 1,
         "error [invalid_date_range]"),
        (["report", "--out", "/nonexistent-dir/report.html"], 1,
         "error [output_directory_missing]: cannot write /nonexistent-dir/report.html"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error_and_writes_nothing(capsys, store, argv, code, message):
    got, out, err = run(capsys, store, *argv)
    assert got == code
    assert message in err
    assert out == ""
