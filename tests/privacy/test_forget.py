"""Forgetting a customer: who may, what it records, what stays, what is refused after.

Given/when/then on memory://; the storage-level proof (no plaintext left in any byte
of SQLite, PostgreSQL or memory) is in ``test_forget_storage.py``.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import contacts, fixed_clock, words

from customer_ledger import (
    Contact,
    Customer,
    CustomerLedger,
    InvalidValue,
    Stage,
    UnknownCustomer,
)
from customer_ledger.application.privacy import ForgetResult
from customer_ledger.domain.access import Actor, Policy
from customer_ledger.domain.personal import ERASED, erased, personal_fields
from customer_ledger.errors import AlreadyForgotten, ForgottenCustomer, PermissionDenied

ADMIN = Actor("dpo", "admin")
PHONE = "13912345678"


@pytest.fixture
def customer(ledger: CustomerLedger) -> CustomerLedger:
    """A001: an individual with a contact, a purchase, a contract and a complaint."""
    ledger.first_contact(
        "A001", name="张三", type="individual", registered_address="北京市朝阳区1号",
        industry="internet", occurred_at="2024-05-01",
    )  # fmt: skip
    contact = Contact("c1", "张三", title="经理", phone=PHONE, email="zs@abc.com", primary=True)
    ledger.add_contact("A001", contact=contact, occurred_at="2024-05-02")
    ledger.record_purchase("A001", product="产品A", amount="1000", occurred_at="2024-05-03")
    ledger.sign_contract("A001", contract="HT-1", signed_on=date(2024, 5, 4))
    ledger.file_complaint("A001", complaint="K1", subject="物流延迟", occurred_at="2024-05-05")
    return ledger


# -- who may forget ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sales", "service", "manager", "auditor", "nobody"])
def test_only_a_role_allowed_to_forget_may(customer, role):
    before = len(customer.history("A001"))
    with pytest.raises(PermissionDenied):
        customer.forget("A001", actor=Actor("x", role), reason="asked")
    assert len(customer.history("A001")) == before  # nothing recorded on the customer
    assert customer.keys.holds_key(customer.customer_id("A001"))
    # the refused attempt itself is in the audit log, with who tried and why
    denied = [e for e in customer.audit_log("A001") if e.kind == "denied"]
    assert [(e.actor, e.role, e.summary, e.why) for e in denied] == [
        ("x", role, "refused: forget", "asked")
    ]


def test_a_policy_may_grant_forget_to_a_role(customer):
    customer.policy = Policy.from_mapping({"dpo": {"commands": ["forget"]}})
    result = customer.forget("A001", actor=Actor("li", "dpo"), reason="asked")
    assert result.key_destroyed


def test_forgetting_needs_a_reason(customer, rejects):
    with rejects(customer, InvalidValue):
        customer.forget("A001", actor=ADMIN, reason="  ")


def test_forgetting_an_unknown_customer_is_refused(ledger, rejects):
    with rejects(ledger, UnknownCustomer):
        ledger.forget("Z999", actor=ADMIN, reason="asked")


# -- what it records and does -----------------------------------------------------------------


def test_forget_records_the_audited_fact_then_erases(customer):
    # when an admin forgets the customer
    result = customer.forget("A001", actor=ADMIN, reason="erasure request #7")
    # then the fact is recorded, with who, which role and why, and stays readable
    assert result == ForgetResult(customer.customer_id("A001"), "A001", 6, key_destroyed=True)
    last = customer.history("A001")[-1]
    assert isinstance(last, Customer.CustomerForgotten)  # type: ignore[attr-defined]
    assert (last.meta.actor, last.meta.role) == ("dpo", "admin")
    assert last.meta.reason == "erasure request #7" and last.kept == {}
    # and the key is destroyed
    assert not customer.keys.holds_key(result.customer_id)
    # and the customer's state has its personal fields erased, its facts intact
    state = customer.customer("A001")
    assert state.forgotten and state.name == ERASED and state.registered_address == ERASED
    assert state.contacts["c1"] == Contact("c1", ERASED, title="经理", phone=ERASED,
                                           email=ERASED, primary=True)  # fmt: skip
    assert state.purchase_count == 1 and set(state.contracts) == {"HT-1"}
    assert set(state.complaints) == {"K1"} and state.stage is Stage.AT_RISK
    # and the earlier events read the personal fields as erased
    first, added = customer.history("A001")[:2]
    assert (first.name, first.registered_address, first.industry) == (ERASED, ERASED, "internet")
    assert added.contact.phone == ERASED and added.contact.title == "经理"


def test_the_audit_log_and_timeline_show_the_forgetting(customer):
    customer.forget("A001", actor=ADMIN, reason="erasure request #7")
    (entry,) = [e for e in customer.audit_log("A001") if e.event == "CustomerForgotten"]
    assert (entry.actor, entry.role, entry.why) == ("dpo", "admin", "erasure request #7")
    assert customer.timeline("A001").items[-1].kind == "CustomerForgotten"


def test_forgetting_twice_is_refused(customer, rejects):
    customer.forget("A001", actor=ADMIN, reason="asked")
    with rejects(customer, AlreadyForgotten):
        customer.forget("A001", actor=ADMIN, reason="asked again")


def test_a_resent_forget_returns_the_first_result(customer):
    first = customer.forget("A001", actor=ADMIN, reason="asked", command_id="erase-7")
    again = customer.forget("A001", actor=ADMIN, reason="asked", command_id="erase-7")
    assert (again.customer_id, again.number, again.version) == (
        first.customer_id, first.number, first.version,
    )  # fmt: skip
    assert again.replayed and first.key_destroyed and not again.key_destroyed


def test_a_forget_interrupted_before_the_key_was_destroyed_completes_on_retry(customer):
    # given the CustomerForgotten event recorded, but the process stopped before shredding
    customer._run("forget", "A001", {"actor": ADMIN, "reason": "asked"})
    customer_id = customer.customer_id("A001")
    assert customer.keys.holds_key(customer_id)
    # when forget is run again
    with pytest.raises(AlreadyForgotten):
        customer.forget("A001", actor=ADMIN, reason="asked")
    # then the key is destroyed after all, and nothing more was recorded
    assert not customer.keys.holds_key(customer_id)
    assert [type(e).__name__ for e in customer.history("A001")].count("CustomerForgotten") == 1


def test_a_company_keeps_its_public_name_and_loses_its_contact_people(ledger):
    ledger.first_contact("B002", name="某科技有限公司", type="company", licence_no="9111X")
    ledger.update_profile("B002", changes={"name": "某智能科技有限公司"})
    ledger.add_contact("B002", contact=Contact("b1", "王经理", phone="01012345678"))
    ledger.forget("B002", actor=ADMIN, reason="contact person asked")
    profile = ledger.profile("B002")
    assert (profile.name, profile.licence_no) == ("某智能科技有限公司", "9111X")
    assert (profile.contacts[0].name, profile.contacts[0].phone) == (ERASED, ERASED)
    assert ledger.history("B002")[-1].kept == {
        "licence_no": "9111X", "name": "某智能科技有限公司", "registered_address": None,
    }  # fmt: skip


# -- after forgetting: facts may still be recorded, personal data may not ---------------------


@pytest.mark.parametrize(
    "command",
    [
        lambda L: L.add_contact("A001", contact=Contact("c2", "李四")),
        lambda L: L.update_contact("A001", contact=Contact("c1", "张三", phone=PHONE)),
        lambda L: L.update_profile("A001", changes={"name": "张三"}),
        lambda L: L.update_profile("A001", changes={"registered_address": "x", "region": "北京"}),
        lambda L: L.update_profile("A001", changes={"licence_no": "110"}),
        lambda L: L.set_stage_on_import("A001", stage="customer", row="A001 | 张三 | 139"),
    ],
    ids=["add_contact", "update_contact", "name", "address", "licence_no", "imported_row"],
)
def test_personal_data_for_a_forgotten_customer_is_refused(customer, rejects, command):
    customer.forget("A001", actor=ADMIN, reason="asked")
    with rejects(customer, ForgottenCustomer):
        command(customer)


def test_a_forgotten_customer_still_takes_facts(customer):
    customer.forget("A001", actor=ADMIN, reason="asked")
    customer.record_purchase("A001", product="产品B", amount="500")
    customer.log_interaction("A001", channel="phone", topic="回访")
    customer.update_profile("A001", changes={"region": "华北"})
    customer.resolve_complaint("A001", complaint="K1", resolution="已补发", satisfaction=4)
    customer.remove_contact("A001", contact_id="c1")
    profile = customer.profile("A001")
    assert (profile.purchase_count, profile.region, profile.open_complaints) == (2, "华北", 0)
    assert profile.name == ERASED and profile.contacts == ()


# -- the erasure rule itself ------------------------------------------------------------------


@settings(max_examples=50)
@given(contact=contacts())
def test_erasing_a_contact_blanks_exactly_its_personal_fields(contact):
    gone = erased(contact)
    for name in ("contact_id", "title", "primary"):
        assert getattr(gone, name) == getattr(contact, name)
    for name in personal_fields(Contact):
        before, after = getattr(contact, name), getattr(gone, name)
        expected = None if before is None or name == "birthday" else ERASED
        assert after == expected, name


@settings(max_examples=25, deadline=None)
@given(name=words(max_size=30), kind=st.sampled_from(["individual", "company"]))
def test_only_an_individuals_name_is_erased(name, kind):
    with CustomerLedger.open("memory://", clock=fixed_clock) as ledger:
        ledger.first_contact("N1", name=name, type=kind)
        ledger.forget("N1", actor=ADMIN, reason="asked")
        assert ledger.customer("N1").name == (ERASED if kind == "individual" else name)
