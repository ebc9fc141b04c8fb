"""Masking: phones as the source sheets show them (138****5678, 010****8888), e-mails as
z***@abc.com, in profiles, search results, exports and CLI output, unless the actor's
role may read personal data, gives a reason, and the read is recorded.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_ledger import Contact, CustomerLedger
from customer_ledger.application.privacy import masked
from customer_ledger.cli import main as cli_main
from customer_ledger.cli import output as cli_output
from customer_ledger.cli.main import main
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ERASED, UNREADABLE
from customer_ledger.errors import PermissionDenied
from customer_ledger.privacy.masking import (
    MASKS,
    mask_email,
    mask_phone,
    mask_text,
    masked_fields,
)

MOBILE, LANDLINE, EMAIL = "13812345678", "01087654321", "zhangsan@abc.com"


# -- the masking rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "shown"),
    [
        (MOBILE, "138****5678"),
        ("+8613812345678", "138****5678"),
        (LANDLINE, "010****4321"),  # Beijing: a 3-digit area code
        ("075512345678", "0755****5678"),  # Shenzhen: 4 digits
        ("138****5678", "138****5678"),  # masked at the source already
        ("12345678", "****5678"),  # the worksheet's 8-digit numbers: last 4
        (ERASED, ERASED),
    ],
)
def test_phones_show_the_first_three_or_area_code_and_the_last_four(phone, shown):
    assert mask_phone(phone) == shown


@given(digits=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_masked_mobile_keeps_only_its_first_three_and_last_four_digits(digits):
    shown = mask_phone(digits)
    assert shown == f"{digits[:3]}****{digits[-4:]}"
    assert not re.search(r"\d{5}", shown)


@pytest.mark.parametrize(
    ("email", "shown"),
    [(EMAIL, "z***@abc.com"), ("a@b.cn", "a***@b.cn"), (ERASED, ERASED), ("z***@abc.com",) * 2],
)
def test_emails_show_the_first_character_and_the_domain(email, shown):
    assert mask_email(email) == shown


@pytest.mark.parametrize("mask", sorted(MASKS.items()), ids=lambda item: item[0])
@pytest.mark.parametrize("marker", sorted(UNREADABLE))
def test_a_value_no_one_can_read_is_shown_as_it_is_by_every_mask(mask, marker):
    """[erased] (forgotten) and [encrypted] (read without the keys) are not data: a mask
    that cut them to '*******ted]' would hide why the value is missing."""
    assert mask[1](marker) == marker


def test_phones_and_emails_inside_an_imported_row_are_masked():
    row = f"A001 | 张三 | {MOBILE}, 010-87654321, {EMAIL} | 138****5678"
    assert mask_text(row) == "A001 | 张三 | 138****5678, 010****4321, z***@abc.com | 138****5678"


def profile_with_contacts(ledger: CustomerLedger):
    ledger.first_contact("A001", name="张三", type="individual")
    ledger.add_contact("A001", contact=Contact("c1", "张三", phone=MOBILE, email=EMAIL))
    ledger.add_contact("A001", contact=Contact("c2", "李四", phone=LANDLINE, address="北京"))
    ledger.add_contact("A001", contact=Contact("c3", "王五"))


def test_masked_profiles_mask_every_personal_field_of_every_contact(ledger):
    profile_with_contacts(ledger)
    ledger.update_contact(
        "A001",
        contact=Contact(
            "c3", "王五", wechat="wx_wangwu_88", qq="12345678", address="上海市静安区南京西路1号",
            birthday=date(1990, 5, 17),
        ),
    )  # fmt: skip
    full = ledger.profile("A001", actor=Actor("li", "sales"), unmasked=True, why="call back")
    shown = masked(full)
    assert [(c.phone, c.email) for c in shown.contacts] == [
        ("138****5678", "z***@abc.com"), ("010****4321", None), (None, None),
    ]  # fmt: skip
    assert [c.address for c in shown.contacts] == [None, "北***", "上海市静安区***"]
    assert [(c.wechat, c.qq, c.birthday) for c in shown.contacts][2] == ("w***8", "1***8", None)
    assert shown.name == full.name and masked(shown) == shown  # names shown: the default
    # a reader whose role shows no names sees them masked too, the customer's and contacts'
    hidden = masked(full, show_names=False)
    assert (hidden.name, [c.name for c in hidden.contacts]) == ("张*", ["张*", "李*", "王*"])


def test_an_auditor_sees_every_personal_field_masked_and_names_too(ledger):
    profile_with_contacts(ledger)
    seen = ledger.profile("A001", actor=Actor("zhao", "auditor"))
    assert seen.name == "张*" and [c.name for c in seen.contacts] == ["张*", "李*", "王*"]
    assert [c.phone for c in seen.contacts] == ["138****5678", "010****4321", None]
    assert ledger.audit_log("A001") and all(e.kind == "change" for e in ledger.audit_log("A001"))


def test_profiles_and_search_results_are_masked_by_default(ledger):
    profile_with_contacts(ledger)
    assert ledger.profile("A001").contacts[0].phone == "138****5678"
    (found,) = ledger.search(text="张").items
    assert [c.phone for c in found.contacts] == ["138****5678", "010****4321", None]


def test_an_unmasked_read_needs_the_role_and_is_recorded(ledger):
    profile_with_contacts(ledger)
    with pytest.raises(PermissionDenied):
        ledger.profile("A001", actor=Actor("zhao", "auditor"), unmasked=True, why="audit")
    ledger.profile("A001", actor=Actor("li", "sales"), unmasked=True, why="call back")
    reads = [e for e in ledger.audit_log("A001") if e.kind == "read"]
    assert [(r.actor, r.role, r.why) for r in reads] == [("li", "sales", "call back")]


def test_an_events_fields_are_masked_for_display(ledger):
    profile_with_contacts(ledger)
    ledger.set_stage_on_import("A001", stage="at_risk", row=f"A001 | 张三 | {MOBILE}")
    events = ledger.history("A001")
    contact = masked_fields(type(events[1]), {"contact": {"phone": MOBILE, "email": EMAIL}})
    assert contact == {"contact": {"phone": "138****5678", "email": "z***@abc.com"}}
    row = masked_fields(type(events[-1]), {"row": f"A001 | 张三 | {MOBILE}", "stage": "at_risk"})
    assert row == {"row": "A001 | 张三 | 138****5678", "stage": "at_risk"}


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """``run(*argv)`` → (exit code, stdout, stderr) on a SQLite store with A001 in it."""
    for name in (cli_output.ENV_STORE, cli_output.ENV_ACTOR, cli_output.ENV_ROLE):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url) as ledger:
        profile_with_contacts(ledger)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    invoke.url = url  # type: ignore[attr-defined]
    return invoke


def reads(url: str) -> list[tuple[str, str, str | None]]:
    with CustomerLedger.open(url) as ledger:
        return [(e.actor, e.role, e.why) for e in ledger.audit_log("A001") if e.kind == "read"]


@pytest.mark.parametrize("command", ["history", "profile"])
def test_cli_output_is_masked_by_default(run, command):
    for argv in ([command, "A001"], [command, "A001", "--json"]):
        code, out, _ = run(*argv)
        assert code == 0 and "138****5678" in out and "z***@abc.com" in out
        assert MOBILE not in out and EMAIL not in out


@pytest.mark.parametrize("command", ["history", "profile"])
def test_cli_unmasked_output_needs_a_role_a_reason_and_is_recorded(run, command):
    code, _, err = run("--role", "auditor", command, "A001", "--unmasked", "--why", "audit")
    assert code == 1 and "permission_denied" in err
    code, _, err = run("--role", "sales", command, "A001", "--unmasked")
    assert code == 2 and "--why" in err
    assert reads(run.url) == []
    code, out, _ = run("--actor", "li", "--role", "sales", command, "A001", "--unmasked",
                       "--why", "call back", "--json")  # fmt: skip
    assert code == 0 and MOBILE in out and EMAIL in out
    assert reads(run.url) == [("li", "sales", "call back")]


def test_cli_actor_and_role_come_from_the_environment_else_the_login_as_admin(run, monkeypatch):
    monkeypatch.setattr(cli_output, "_login", lambda: "os-user")
    assert run("history", "A001", "--unmasked", "--why", "check")[0] == 0
    monkeypatch.setenv(cli_output.ENV_ACTOR, "wang")
    monkeypatch.setenv(cli_output.ENV_ROLE, "service")
    assert run("profile", "A001", "--unmasked", "--why", "visit")[0] == 0
    monkeypatch.setenv(cli_output.ENV_ROLE, "auditor")
    assert run("profile", "A001", "--unmasked", "--why", "visit")[0] == 1
    assert reads(run.url) == [("os-user", "admin", "check"), ("wang", "service", "visit")]


def test_import_has_no_actor_of_its_own_only_the_global_one():
    # (release 0.1's import --actor overwrote the global one: events were credited to it)
    args = cli_main.build_parser().parse_args(
        ["--actor", "alice", "--role", "sales", "import", "f"]
    )
    assert cli_output.acting_actor(args) == Actor("alice", "sales")
    with pytest.raises(SystemExit):
        cli_main.build_parser().parse_args(["import", "f.jsonl", "--actor", "bob"])
    # audit log's --actor is a filter, apart from who acts
    args = cli_main.build_parser().parse_args(
        ["--actor", "alice", "audit", "log", "--actor", "bob"]
    )
    assert (args.acting_id, args.actor) == ("alice", "bob")


def test_cli_forget_needs_the_permission_and_refuses_twice(run):
    code, _, err = run("--role", "manager", "forget", "A001", "--reason", "asked", "--yes")
    assert code == 1 and "error [permission_denied]" in err
    code, out, _ = run("--actor", "dpo", "forget", "A001", "--reason", "request 7", "--json")
    assert code == 0
    assert json.loads(out)["number"] == "A001" and json.loads(out)["key_destroyed"] is True
    code, out, _ = run("profile", "A001")
    assert code == 0 and ERASED in out and "138****5678" not in out
    code, _, err = run("forget", "A001", "--reason", "again")
    assert code == 1 and "error [already_forgotten]" in err
    code, _, err = run("forget", "A001")
    assert code == 2 and "--reason" in err


def test_cli_forget_on_a_terminal_asks_for_the_number_again(run, monkeypatch):
    class Terminal:
        def isatty(self) -> bool:
            return True

        def readline(self) -> str:
            return "A002\n"  # not the number being forgotten

    monkeypatch.setattr("sys.stdin", Terminal())
    code, _, err = run("forget", "A001", "--reason", "asked")
    assert code == 1 and "not confirmed" in err
    with CustomerLedger.open(run.url) as ledger:
        assert not ledger.customer("A001").forgotten
