"""One subcommand per command (docs/commands.md, "Recording a change").

Given a customer ready for any command, when a person runs the command's subcommand
with the options named after the import format's fields, then the ledger records what
the same JSON Lines line records; ``--json`` prints the result; the same
``--command-id`` twice records once; a broken rule prints ``error [rule]: ...`` and
exits 1 with nothing recorded.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cli_support import invoke
from strategies import EXAMPLES, a_customer, at, import_line, with_contact

from customer_ledger import COMMANDS, CustomerLedger
from customer_ledger.cli.changes import subcommand_name
from customer_ledger.formats.jsonl import import_objects

ARGUMENTS: dict[str, dict[str, Any]] = {
    "first_contact": {"name": "某某科技有限公司", "type": "company", "industry": "制造业"},
    **EXAMPLES,
}


def as_line(command: str, number: str) -> dict[str, Any]:
    """The command as an import line, at a business time of its own."""
    return {**import_line(command, number, ARGUMENTS[command]), "occurred_at": at(2).isoformat()}


def as_argv(line: dict[str, Any]) -> list[str]:
    """The same line as the subcommand's arguments."""
    argv = [subcommand_name(line["command"]), line["customer"]]
    for key, value in line.items():
        if key in ("command", "customer"):
            continue
        option = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            argv.append(option if value else "--no-" + option[2:])
        else:
            argv += [option, str(value)]
    return argv


def ready_store(path: Path, command: str) -> str:
    """A SQLite store where A001 accepts ``ARGUMENTS[command]`` (as strategies.ready_for)."""
    url = f"sqlite:///{path}"
    with CustomerLedger.open(url) as ledger:
        with_contact(a_customer(ledger))
        ledger.tag("A001", tag="VIP", occurred_at=at(1))
        ledger.file_complaint(
            "A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1)
        )
        ledger.schedule_reminder(
            "A001", reminder="R1", subject="birthday", due_on=date(2024, 9, 1), occurred_at=at(1)
        )
        ledger.set_stage_on_import(
            "A001", stage="at_risk", row="A001,*先生,风险预警", occurred_at=at(1)
        )
        if command == "reactivate":
            ledger.churn("A001", reason="no answer", occurred_at=at(1))
    return url


def recorded(url: str, number: str) -> list[tuple[str, dict[str, Any]]]:
    """The customer's events as (type, what they say), leaving out ids and times."""
    with CustomerLedger.open(url) as ledger:
        return [
            (type(e).__name__, {k: v for k, v in vars(e).items()
                                if k not in ("originator_id", "timestamp", "meta")})
            for e in ledger.history(number)
        ]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_each_subcommand_records_what_its_import_line_records(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = "B001" if command == "first_contact" else "A001"
    line = as_line(command, number)
    by_hand = ready_store(tmp_path / "by-hand.db", command)
    by_file = ready_store(tmp_path / "by-file.db", command)
    capsys.readouterr()
    run = invoke(capsys, ["--store", by_hand, *as_argv(line), "--json"])
    assert run.code == 0, run.err
    result = run.json()
    assert result["command"] == command and result["replayed"] is False
    assert result["events"] >= 1
    with CustomerLedger.open(by_file) as ledger:
        report = import_objects(ledger, [line])
    assert report.recorded == 1, report.failures
    assert recorded(by_hand, number) == recorded(by_file, number)
    assert result["version"] == len(recorded(by_hand, number))


def test_the_same_command_id_twice_records_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ready_store(tmp_path / "ledger.db", "tag")
    argv = ["--store", store, "tag", "A001", "--tag", "回访", "--command-id", "crm-1"]
    first, again = invoke(capsys, argv), invoke(capsys, argv)
    assert first.code == again.code == 0
    assert "tag A001: recorded; the customer is at version" in first.out
    assert "already recorded (command id crm-1): nothing new" in again.out
    assert sum(1 for kind, _ in recorded(store, "A001") if kind == "Tagged") == 2  # VIP, 回访


def test_a_broken_rule_is_a_typed_error_and_records_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ready_store(tmp_path / "ledger.db", "rate_satisfaction")
    before = recorded(store, "A001")
    for argv, rule in [
        (["rate-satisfaction", "A001", "--score", "9"], "satisfaction_out_of_range"),
        (["resolve-complaint", "A001", "--complaint", "TS-9", "--resolution", "x"],
         "complaint_not_open"),
        (["record-purchase", "A001", "--product", "p", "--amount", "1_000"], "wrong_type"),
        (["tag", "Z999", "--tag", "x"], "unknown_customer"),
    ]:  # fmt: skip
        run = invoke(capsys, ["--store", store, *argv])
        assert (run.code, run.err.split("]")[0]) == (1, f"error [{rule}"), run.err
        assert "Traceback" not in run.err
    assert recorded(store, "A001") == before


def test_the_role_given_is_the_one_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ready_store(tmp_path / "ledger.db", "churn")
    run = invoke(
        capsys,
        ["--store", store, "--actor", "审计员", "--role", "auditor", "churn", "A001",
         "--reason", "x"],
    )  # fmt: skip
    assert run.code == 1 and run.err.startswith("error [permission_denied]")


def test_help_groups_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    run = invoke(capsys, ["--help"])
    assert run.code == 0
    for group in ("recording:", "reading", "audit", "analytics", "files:"):
        assert group in run.out
    for command in COMMANDS:
        assert subcommand_name(command) in run.out


def test_import_dash_reads_json_lines_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ready_store(tmp_path / "ledger.db", "tag")
    lines = [as_line("tag", "A001"), as_line("log_interaction", "A001")]
    data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode()), "utf-8"))
    run = invoke(capsys, ["--store", store, "import", "-"])
    assert run.code == 0, run.err
    assert "2 recorded" in run.out
