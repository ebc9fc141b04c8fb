"""The command line, through its real entry point: ``main([...])`` in-process and the
installed ``customer-ledger`` script in a subprocess. Stores are SQLite files, since
every invocation opens the store afresh (as a user's shell would)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import CL, Run, invoke
from paths import ROOT

from customer_ledger import CustomerLedger
from customer_ledger.cli import demo, recording
from customer_ledger.cli import output as cli_output

SCRIPT = Path(sys.executable).with_name("customer-ledger")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite store; the environment variable is cleared so it cannot leak in."""
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture
def cl(capsys: pytest.CaptureFixture[str], store: str) -> CL:
    """``cl("profile", "A001")`` runs ``customer-ledger --store STORE profile A001``."""

    def run(*argv: str, store_url: str | None = store) -> Run:
        return invoke(capsys, [*(["--store", store_url] if store_url else []), *argv])

    return run


@pytest.fixture
def demo_store(cl: CL) -> None:
    assert cl("demo", "--json").code == 0


def write_jsonl(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text(
        "".join(
            (x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines
        ),
        encoding="utf-8",
    )
    return path


# -- profile and history ----------------------------------------------------------------


def test_profile_json_has_the_promised_fields(cl: CL, demo_store: None) -> None:
    # given the demo customers; when W001's profile is asked for as JSON
    run = cl("profile", "W001", "--json")
    # then it is plain JSON with the fields, amounts as strings
    assert run.code == 0, run.err
    profile = run.json()
    assert {
        k: profile[k]
        for k in ("number", "name", "type", "stage", "total_revenue", "open_complaints")
    } == {
        "number": "W001",
        "name": "ABC公司",
        "type": "company",
        "stage": "customer",
        "total_revenue": "1000",
        "open_complaints": 0,
    }
    assert profile["grade"] == "A"
    assert profile["contacts"][0]["name"] == "张三"


def test_profile_prints_a_readable_panel(cl: CL, demo_store: None) -> None:
    run = cl("profile", "A001")
    assert run.code == 0
    for text in ("A001", "*先生", "customer", "138****5678", "4/5"):
        assert text in run.out


def test_customer_text_is_printed_as_is_never_as_markup(cl: CL, tmp_path: Path) -> None:
    name = "[VIP] [/b] :smile: 张三"
    path = write_jsonl(
        tmp_path / "in.jsonl",
        {"command": "first_contact", "customer": "M1", "name": name, "type": "individual"},
    )
    assert cl("import", str(path)).code == 0
    assert name in cl("profile", "M1").out
    assert name in cl("history", "M1").out


def test_history_json_lists_the_raw_events(cl: CL, demo_store: None) -> None:
    # when B002's history is asked for as JSON
    events = cl("history", "B002", "--json").json()
    # then every event is there in version order, with its times, actor and fields
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert [e["event"] for e in events][:3] == [
        "FirstContacted",
        "ComplaintFiled",
        "ComplaintResolved",
    ]
    resolved = events[2]
    assert resolved["occurred_at"].startswith("2023-10-16")
    assert resolved["recorded_at"] > "2024"  # recorded now, not on the business date
    assert (resolved["actor"], resolved["source_actor"]) == (getpass.getuser(), "*专员")
    assert resolved["command_id"] == "demo:B002:3"
    assert resolved["fields"] == {
        "complaint_id": "B002-2023-10-10",
        "resolution": "resolved (the register gives no details of the handling)",
        "satisfaction": 2,
    }


def test_history_prints_a_table(cl: CL, demo_store: None) -> None:
    run = cl("history", "C003")
    assert run.code == 0
    assert "FirstContacted" in run.out and "InteractionLogged" in run.out


# -- errors and exit codes --------------------------------------------------------------


def test_an_unknown_customer_is_a_domain_error_naming_its_rule(cl: CL) -> None:
    assert cl("demo", "--json").code == 0
    run = cl("profile", "Z999")
    assert run.code == 1
    assert run.out == ""
    assert run.err == "error [unknown_customer]: no customer numbered 'Z999'\n"


@pytest.mark.parametrize("command", [["profile", "A001"], ["status"], ["search", "x"],
                                     ["timeline"], ["history", "A001"], ["audit", "verify"],
                                     ["analytics"], ["export", "profiles"]])  # fmt: skip
def test_reading_a_store_that_is_not_there_says_so_and_makes_none(
    cl: CL, store: str, command: list[str]
) -> None:
    run = cl(*command)
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("error [store_not_found]: there is no ledger at sqlite:///")
    assert not Path(store.removeprefix("sqlite:///")).exists()


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["profile"],
        ["profile", "A001", "--colour"],
        ["import"],
        ["profile", "A001", "--store", "memory://"],  # the store option goes before the command
    ],
)
def test_usage_errors_exit_2(cl: CL, argv: list[str]) -> None:
    run = cl(*argv)
    assert run.code == 2
    assert "usage: customer-ledger" in run.err


def test_help_exits_0_and_lists_every_command(cl: CL) -> None:
    run = cl("--help")
    assert run.code == 0
    for command in ("demo", "import", "profile", "history"):
        assert command in run.out


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("oracle://scott@db/orcl", "error [store]: no storage adapter for oracle:// is installed"),
        ("customer-ledger.db", "error [store]: store URL 'customer-ledger.db' must look like"),
        ("sqlite://relative.db", "error [store]: SQLite URL 'sqlite://relative.db' must look like"),
    ],
)
def test_a_bad_store_url_is_a_clear_error(cl: CL, url: str, message: str) -> None:
    run = cl("profile", "A001", store_url=url)
    assert run.code == 1
    assert run.err.startswith(message)
    assert "Traceback" not in run.err


def test_an_unusable_store_is_a_clear_error(cl: CL, tmp_path: Path) -> None:
    run = cl("demo", store_url=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert (run.code, run.err) == (
        1,
        f"error [store_unavailable]: the store at sqlite:///{tmp_path}/no/such/dir/x.db "
        "cannot be opened: unable to open database file\n",
    )


def test_the_environment_names_the_store_and_the_option_overrides_it(
    cl: CL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the demo recorded into the store named by CUSTOMER_LEDGER_STORE
    monkeypatch.setenv(cli_output.ENV_STORE, f"sqlite:///{tmp_path}/env.db")
    assert cl("demo", "--json", store_url=None).code == 0
    # then commands without --store read it, and --store reads elsewhere
    assert cl("profile", "A001", "--json", store_url=None).json()["number"] == "A001"
    assert cl("profile", "A001").code == 1  # the fixture's empty store


def test_the_default_store_is_customer_ledger_db_in_the_working_directory(
    cl: CL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cl("demo", "--json", store_url=None).code == 0
    assert (tmp_path / "customer-ledger.db").is_file()


# -- import -----------------------------------------------------------------------------


def test_import_keeps_good_lines_and_reports_bad_ones_by_number(cl: CL, tmp_path: Path) -> None:
    # given a file with good lines and bad ones
    path = write_jsonl(
        tmp_path / "in.jsonl",
        {"command": "first_contact", "customer": "K001", "name": "王五", "type": "individual",
         "occurred_at": "2024-03-01"},
        "{not json",
        {"command": "resolve_complaint", "customer": "K001", "complaint": "K9", "resolution": "ok"},
        {"command": "log_interaction", "customer": "K001", "channel": "wechat", "topic": "greeting",
         "occurred_at": "2024-03-02"},
        {"command": "record_purchase", "customer": "K001", "product": "p", "amount": 99.9},
    )  # fmt: skip
    # when it is imported
    run = cl("import", str(path))
    # then it exits 1, names each bad line and its rule on stderr, and keeps the good lines
    assert run.code == 1
    errors = run.err.splitlines()
    assert errors[0].startswith("line 2: error [invalid_json]: not JSON")
    assert errors[1] == "line 3: error [complaint_not_open]: complaint 'K9' is not open"
    assert errors[2].startswith("line 5: error [wrong_type]: amount 99.9 is a JSON float")
    assert "5 lines, 2 recorded, 0 already imported, 3 failed" in run.out
    profile = cl("profile", "K001", "--json").json()
    assert (profile["stage"], profile["interaction_count"], profile["purchase_count"]) == (
        "prospect",
        1,
        0,
    )


def test_reimporting_a_file_adds_nothing(cl: CL, store: str, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        {"command": "first_contact", "customer": "K001", "name": "王五", "type": "company"},
        {"command": "tag", "customer": "K001", "tag": "trade show 2024"},
    )
    assert cl("import", str(path)).code == 0
    events = count_events(store)
    report = cl("import", str(path), "--json")
    assert report.code == 0
    assert report.json() == {"lines": 2, "recorded": 0, "skipped": 2, "failed": 0, "failures": []}
    assert count_events(store) == events


def test_import_json_report_lists_failures(cl: CL, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", {"command": "tag", "customer": "NOPE", "tag": "x"})
    run = cl("import", str(path), "--json")
    assert run.code == 1
    assert run.json()["failures"] == [
        {
            "line": 1,
            "rule": "unknown_customer",
            "reason": "no customer numbered 'NOPE'",
            "command": "tag",
            "customer": "NOPE",
        }
    ]


def test_import_of_a_missing_file_is_a_usage_error(cl: CL, tmp_path: Path) -> None:
    run = cl("import", str(tmp_path / "nowhere.jsonl"))
    assert run.code == 2
    assert "cannot read" in run.err


def test_an_import_is_recorded_as_who_runs_it_and_a_lines_actor_as_its_source(
    cl: CL, tmp_path: Path
) -> None:
    # given a file whose second line says who recorded it
    path = write_jsonl(
        tmp_path / "in.jsonl",
        {"command": "first_contact", "customer": "K001", "name": "王五", "type": "company"},
        {"command": "tag", "customer": "K001", "tag": "VIP", "actor": "*助理"},
    )
    # when "migration" imports it as a manager
    assert cl("--actor", "migration", "--role", "manager", "import", str(path)).code == 0
    # then migration recorded both lines, and the file's own claim is kept as the source
    events = cl("history", "K001", "--json").json()
    assert [(e["actor"], e["role"], e["source_actor"]) for e in events] == [
        ("migration", "manager", None),
        ("migration", "manager", "*助理"),
    ]


def test_an_import_is_checked_against_the_importers_role(cl: CL, tmp_path: Path) -> None:
    # given a customer, and a file that churns it
    first = {"command": "first_contact", "customer": "K001", "name": "王五", "type": "company"}
    assert cl("import", str(write_jsonl(tmp_path / "a.jsonl", first))).code == 0
    churn = {"command": "churn", "customer": "K001", "reason": "moved", "actor": "*经理"}
    path = write_jsonl(tmp_path / "churn.jsonl", churn)
    # when an auditor imports it, then the line is refused and nothing is recorded on K001
    run = cl("--actor", "审计员", "--role", "auditor", "import", str(path))
    assert run.code == 1 and "permission_denied" in run.err
    assert [e["event"] for e in cl("history", "K001", "--json").json()] == ["FirstContacted"]
    # and the refused attempt is in the audit log
    log = cl("audit", "log", "--customer", "K001", "--json").json()
    assert [(e["kind"], e["actor"], e["role"]) for e in log][-1] == ("denied", "审计员", "auditor")


# -- extending the command line ---------------------------------------------------------


def test_a_new_subcommand_plugs_in_through_its_group(
    cl: CL, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subcommand registered the way a group module registers one
    monkeypatch.setattr(recording.group, "commands", list(recording.group.commands))

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("word")

    @recording.group.command("echo", "say a word back", configure)
    def run_echo(ledger: CustomerLedger, args: argparse.Namespace) -> int:
        print(args.word, ledger.url.scheme if ledger.url else None)
        return 0

    # when it is called, then it runs with an open ledger and the parsed arguments
    run = cl("echo", "你好")
    assert (run.code, run.out) == (0, "你好 sqlite\n")


# -- the installed console script -------------------------------------------------------


def test_the_console_script_runs_demo_profile_and_errors(tmp_path: Path) -> None:
    # given the installed script and a store named only by the environment
    env = {**os.environ, cli_output.ENV_STORE: f"sqlite:///{tmp_path}/ledger.db"}

    def script(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *argv], env=env, capture_output=True, text=True, timeout=120
        )

    # when the demo runs twice, then a profile and a bad command are asked for
    first, second = script("demo"), script("demo", "--json")
    profile = script("profile", "B002", "--json")
    missing = script("history", "Z999")
    usage = script("profile")
    # then exit codes and outputs are those of the in-process runs
    assert first.returncode == 0, first.stderr
    assert "B002" in first.stdout and "*科技有限公司" in first.stdout
    report = json.loads(second.stdout)
    assert (report["recorded"], report["skipped"]) == (0, len(demo.COMMANDS))
    assert json.loads(profile.stdout)["last_satisfaction"] == 2
    assert (missing.returncode, missing.stderr) == (
        1,
        "error [unknown_customer]: no customer numbered 'Z999'\n",
    )
    assert usage.returncode == 2


def count_events(url: str) -> int:
    with CustomerLedger.open(url) as ledger:
        return ledger.recorder.max_notification_id() or 0


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"^```python\n(.*?)^```", readme, re.M | re.S)
    exec(example.replace("sqlite:///customer-ledger.db", "memory://"), {})
    assert capsys.readouterr().out.splitlines()[0] == "customer 1999.90"
