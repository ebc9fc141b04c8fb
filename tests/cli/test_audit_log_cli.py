"""``customer-ledger audit replay`` and ``audit log``, through the real entry point.

Stores are SQLite files holding the example customers (``demo``), since every
invocation opens the store afresh, as a user's shell would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import CL, Run, invoke

from customer_ledger import CustomerLedger
from customer_ledger.cli import output as cli_output
from customer_ledger.cli.main import main
from customer_ledger.domain.access import Actor
from customer_ledger.domain.customer import Customer


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store holding the demo customers; tables print 240 columns wide."""
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)
    monkeypatch.setenv("COLUMNS", "240")
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert main(["--store", url, "--actor", "operator", "demo", "--json"]) == 0
    return url


@pytest.fixture
def cl(capsys: pytest.CaptureFixture[str], store: str) -> CL:
    """``cl("audit", "log")`` runs ``customer-ledger --store STORE audit log``."""
    capsys.readouterr()  # the demo's output

    def run(*argv: str) -> Run:
        return invoke(capsys, ["--store", store, *argv])

    return run


# -- audit replay ------------------------------------------------------------------------


def test_replay_as_of_a_business_date_as_json(cl: CL) -> None:
    # when B002 is replayed as of 2023-10-12 (complaint filed 10-10, resolved 10-16)
    run = cl("audit", "replay", "B002", "--as-of", "2023-10-12", "--json")
    # then it is the profile of that day: a lead with one open complaint, two events
    assert run.code == 0, run.err
    data = run.json()
    assert (data["number"], data["mode"], data["at"]) == ("B002", "as_of", "2023-10-12")
    assert (data["stage"], data["open_complaints"], data["version"]) == ("lead", 1, 2)
    assert data["complaints"][0]["subject"] == "logistics delivery delayed"


def test_replay_at_a_version_as_a_panel(cl: CL) -> None:
    run = cl("audit", "replay", "B002", "--version", "7")
    assert run.code == 0, run.err
    assert "B002 at version 7" in run.out
    assert "at_risk (risk warning set by hand)" in run.out
    assert "010****8888" in run.out  # the register's own mask; phones are never shown whole


def test_replay_as_recorded(cl: CL) -> None:
    # the demo was recorded just now: far in the future everything is known...
    later = cl("audit", "replay", "B002", "--recorded-at", "2999-01-01T00:00:00+08:00", "--json")
    assert (later.code, later.json()["version"]) == (0, 7)
    # ...and on 2023-10-25, when the register was filled in, nothing had been recorded yet
    before = cl("audit", "replay", "B002", "--recorded-at", "2023-10-25")
    assert (before.code, before.out) == (1, "")
    assert before.err.startswith("error [not_yet_known]: ")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["B002"], 2, "one of the arguments --version --recorded-at --as-of is required"),
        (["B002", "--version", "2", "--as-of", "2023-10-12"], 2, "not allowed with argument"),
        (["B002", "--version", "two"], 2, "invalid int value"),
        (["B002", "--version", "8"], 1, "error [invalid_value]: version 8 is beyond"),
        (["B002", "--as-of", "yesterday"], 1, "error [invalid_value]: as_of 'yesterday'"),
        (["B002", "--as-of", "2023-10-09"], 1, "error [not_yet_known]: "),
        (["Z999", "--version", "1"], 1, "error [unknown_customer]: "),
    ],
)
def test_replay_refuses_a_bad_request(cl: CL, argv: list[str], code: int, message: str) -> None:
    run = cl("audit", "replay", *argv)
    assert (run.code, run.out) == (code, "")
    assert message in run.err


def test_replay_reads_only_sealed_events(cl: CL, store: str) -> None:
    # given a snapshot no writer took, slipped into the store: B002 at version 4, claiming
    # 40 interactions (snapshots carry no seal)
    with CustomerLedger.open(store) as ledger:
        customer = ledger.repository.get(ledger.customer_id("B002"), version=4)
        customer.interaction_count = 40
        assert ledger.snapshots is not None
        ledger.snapshots.put([Customer.Snapshot.take(customer)])
        assert ledger.replay("B002", version=5).interaction_count == 40  # the fast path is fooled
    # when an auditor replays version 5
    run = cl("audit", "replay", "B002", "--version", "5", "--json")
    # then the forgery plays no part
    assert run.code == 0, run.err
    assert run.json()["interaction_count"] == 1


# -- audit log ---------------------------------------------------------------------------


def test_the_log_lists_a_customers_changes_with_who_and_why(cl: CL) -> None:
    run = cl("audit", "log", "--customer", "B002", "--json")
    assert run.code == 0, run.err
    entries = run.json()
    assert [e["event"] for e in entries] == [
        "FirstContacted", "ComplaintFiled", "ComplaintResolved", "InteractionLogged",
        "ContactAdded", "NeedsRecorded", "StageSetOnImport",
    ]  # fmt: skip
    assert [e["version"] for e in entries] == [1, 2, 3, 4, 5, 6, 7]
    assert {
        (e["customer"], e["kind"], e["actor"], e["role"], e["source_actor"]) for e in entries
    } == {("B002", "change", "operator", "admin", "*专员")}
    assert entries[1]["summary"] == "Complaint B002-2023-10-10: logistics delivery delayed"
    assert entries[1]["why"] == "客户关系维护登记表 row B002, registered 2023-10-19"
    assert entries[1]["occurred_at"] == "2023-10-10T00:00:00+08:00"
    assert entries[0]["recorded_at"] <= entries[-1]["recorded_at"]


def test_the_log_lists_unmasked_reads_and_filters_by_actor(cl: CL, store: str) -> None:
    # given a manager who read W001's contacts unmasked, for a renewal call
    with CustomerLedger.open(store) as ledger:
        manager = Actor("*经理", "manager")
        ledger.profile("W001", actor=manager, unmasked=True, why="renewal call")
    # when the log is filtered by that actor
    run = cl("audit", "log", "--actor", "*经理", "--json")
    # then the read is listed, with who, whose data, and why
    assert run.code == 0, run.err
    (read,) = run.json()
    assert (read["kind"], read["event"], read["customer"]) == ("read", "PersonalDataRead", "W001")
    assert (read["actor"], read["role"], read["why"]) == ("*经理", "manager", "renewal call")
    assert (read["occurred_at"], read["summary"]) == (None, "read profile unmasked")
    # and W001's log shows its five changes, then the read, as a table
    table = cl("audit", "log", "--customer", "W001")
    assert table.code == 0, table.err
    for heading in ("recorded", "who", "customer", "what", "why"):
        assert heading in table.out
    assert table.out.index("FirstContacted") < table.out.index("PersonalDataRead")
    assert "renewal call" in table.out and "(manager)" in table.out


def test_the_log_of_the_whole_store_covers_every_customer(cl: CL) -> None:
    run = cl("audit", "log", "--json")
    assert run.code == 0, run.err
    entries = run.json()
    assert len(entries) == 6 + 7 + 5 + 5 + 5  # the demo's commands, one event each
    assert {e["customer"] for e in entries} == {"A001", "B002", "C003", "W001", "W002"}


def test_an_empty_log_is_an_empty_json_list(cl: CL) -> None:
    run = cl("audit", "log", "--actor", "nobody", "--json")
    assert (run.code, run.json()) == (0, [])


def test_the_log_of_an_unknown_customer_is_an_error(cl: CL) -> None:
    run = cl("audit", "log", "--customer", "Z999")
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("error [unknown_customer]: ")
