"""Records a generated history straight into a ledger, without the command pipeline.

Benchmarks of rebuild, replay and commands need a store holding the history, not a
measurement of how it got there: this applies each import line to the ``Customer``
aggregate's own commands (so every rule is still checked) and saves the touched
customers, with their number claims, a thousand events per transaction. The log then
holds exactly what an import would, minus its command receipts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from benchmarks.history import ZONE
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CustomerNumber
from customer_ledger.domain.values import Contact, Meta, Money, Needs

NOW = datetime(2025, 1, 1, tzinfo=ZONE)  # "now" for the rules: after every event
BATCH = 1_000


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def apply(customers: dict[str, Customer], line: dict[str, Any]) -> Customer:
    """Runs one import line on the in-memory aggregate (created on first contact)."""
    name, number = line["command"], line["customer"]
    when = datetime.fromisoformat(line["occurred_at"])
    at: dict[str, Any] = {"occurred_at": when, "now": NOW, "meta": Meta(actor=line["actor"])}
    get = line.get
    if name == "first_contact":
        fields = ("name", "type", "source", "industry", "region", "size", "owner")
        customer = Customer.first_contact(number=number, **{f: get(f) for f in fields}, **at)
        customers[number] = customer
        return customer
    c = customers[number]
    match name:
        case "log_interaction":
            c.log_interaction(
                channel=line["channel"], topic=line["topic"], feedback=get("feedback"),
                follow_up=get("follow_up"), follow_up_on=_day(get("follow_up_on")), **at,
            )  # fmt: skip
        case "record_purchase":
            c.record_purchase(
                product=line["product"], quantity=Decimal(line["quantity"]),
                amount=Money(line["amount"], line["currency"]), **at,
            )  # fmt: skip
        case "file_complaint":
            c.file_complaint(complaint_id=line["complaint"], subject=line["subject"], **at)
        case "resolve_complaint":
            c.resolve_complaint(
                complaint_id=line["complaint"], resolution=line["resolution"],
                satisfaction=line["satisfaction"], **at,
            )  # fmt: skip
        case "sign_contract":
            c.sign_contract(
                contract_number=line["contract"], signed_on=_day(line["signed_on"]),
                expires_on=_day(line["expires_on"]), amount=Money(line["amount"]), **at,
            )  # fmt: skip
        case "renew_contract":
            c.renew_contract(
                contract_number=line["contract"], expires_on=_day(line["expires_on"]), **at
            )
        case "terminate_contract":
            c.terminate_contract(contract_number=line["contract"], **at)
        case "rate_satisfaction":
            c.rate_satisfaction(score=line["score"], **at)
        case "tag":
            c.tag(line["tag"], **at)
        case "untag":
            c.untag(line["tag"], **at)
        case "update_profile":
            c.update_profile(region=line["region"], **at)
        case "add_contact":
            contact = Contact(
                contact_id=line["contact_id"], name=line["name"], title=line["title"],
                phone=line["phone"], email=line["email"], primary=line["primary"],
            )  # fmt: skip
            c.add_contact(contact, **at)
        case "record_needs":
            needs = Needs(
                core_needs=line["core_needs"], communication_channel=line["communication_channel"],
                upsell_intention=line["upsell_intention"],
            )  # fmt: skip
            c.record_needs(needs, **at)
        case "assign_grade":
            c.assign_grade(grade=line["grade"], **at)
        case "schedule_reminder":
            c.schedule_reminder(
                reminder_id=line["reminder"], subject=line["subject"],
                due_on=_day(line["due_on"]), **at,
            )  # fmt: skip
        case "complete_reminder":
            c.complete_reminder(reminder_id=line["reminder"], **at)
        case "assign_owner":
            c.assign_owner(line["owner"], **at)
        case "churn":
            c.churn(reason=line["reason"], **at)
        case "reactivate":
            c.reactivate(**at)
        case _:
            raise ValueError(f"the seeder does not know {name!r}")
    return c


def record(ledger: CustomerLedger, history: Iterable[dict[str, Any]], batch: int = BATCH) -> int:
    """Saves the history into ``ledger``; returns the number of customer events."""
    customers: dict[str, Customer] = {}
    touched: dict[str, Any] = {}
    pending = events = 0
    for line in history:
        customer = apply(customers, line)
        if line["command"] == "first_contact":
            claim = CustomerNumber(number=customer.number, customer_id=customer.id)
            touched["#" + customer.number] = claim
        touched[customer.number] = customer
        pending += 1
        if pending >= batch:
            ledger.save(*touched.values())
            events += pending
            touched, pending = {}, 0
    if touched:
        ledger.save(*touched.values())
        events += pending
    return events
