"""One row's facts → the ledger commands they imply, as JSON Lines import lines.

The commands are planned in steps against the customer as the ledger holds it before
each step (``None`` for a customer the ledger does not know yet), so that a row only
adds what the ledger lacks: a re-imported row plans nothing new, a later version of a
sheet adds its new interaction and changes only what changed. Events with a date of
their own (interactions, purchases, contracts, complaints) are history and are always
planned (their command ids make them idempotent); a *state* the row describes
(profile fields, contact details, needs, grade, satisfaction, stage) is applied only
if the row is not older than what the ledger already knows, so re-importing an old
sheet never rolls a customer back.

Rules (docs/spreadsheets.md explains each):

- the sheet never makes up a fact: no amount, contract number or date it lacks. Ids
  the ledger needs are references derived from the customer number and the date
  (contract ``A001-2023-08-15``, complaint ``B002-2023-10-10``, contact ``A001-1``);
- a stage the row states but its facts do not imply is recorded with
  ``set_stage_on_import`` and the row as evidence; 流失 is a ``churn`` with the row as
  reason; a churned customer the row calls active or potential is reactivated;
- a satisfaction score goes with the row's latest complaint resolution, else it is a
  rating on the row's date, and only when it differs from the last recorded one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from attrs import define, field, frozen

from customer_ledger.domain import lifecycle
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.values import Contact, Needs, Stage
from customer_ledger.errors import CustomerTypeUnknown, InconsistentRow
from customer_ledger.formats.spreadsheets.facts import ContactFacts, RowFacts
from customer_ledger.formats.spreadsheets.notes import RESOLUTION_NOT_STATED, SUBJECT_NOT_STATED
from customer_ledger.formats.spreadsheets.vocabulary import StatedStage

Line = dict[str, Any]
MAX_REASON = 500  # the ledger's limit on an event's reason

STAGE_FOR: dict[StatedStage, Stage] = {
    StatedStage.POTENTIAL: Stage.PROSPECT,
    StatedStage.ACTIVE: Stage.CUSTOMER,
    StatedStage.AT_RISK: Stage.AT_RISK,
}


@frozen
class Context:
    """What the importer knows besides the row: is it older than the ledger's record?"""

    latest_known: date | None = None  # the latest business date the ledger held before

    def stale(self, facts: RowFacts) -> bool:
        return (
            self.latest_known is not None
            and facts.as_of is not None
            and facts.as_of < self.latest_known
        )


@define
class Plan:
    """The lines one step plans, and notes for the report (things deliberately not done)."""

    lines: list[Line] = field(factory=list)
    notes: list[str] = field(factory=list)

    def add(self, command: str, facts: RowFacts, when: date | None, reason: str | None = None,
            **fields: Any) -> None:  # fmt: skip
        line: Line = {"command": command, "customer": facts.number}
        line.update({k: v for k, v in fields.items() if v is not None})
        line["occurred_at"] = None if when is None else when.isoformat()
        line["reason"] = reason
        self.lines.append(line)


Step = Callable[[RowFacts, Customer | None, Context, Plan], None]


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _amount(value: Any) -> str | None:
    return None if value is None else str(value)


# -- steps ----------------------------------------------------------------------------------


def identity(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """First contact for a new customer; profile changes for a known one."""
    if state is None:
        if facts.type is None:
            raise CustomerTypeUnknown(facts.type_error or "the customer's type is unknown")
        first = facts.key_dates.first_contact
        notes = [facts.type_note] if facts.type_note else []
        if first is None:
            first = min(facts.dates(), default=facts.as_of)
            notes.append(
                "no first-contact date given; dated with the row's earliest date"
                if first is not None
                else "no date given at all; dated with the import time"
            )
        plan.add(
            "first_contact", facts, first, "; ".join(notes) or None, name=facts.name,
            type=facts.type.value, industry=facts.industry, region=facts.region, size=facts.size,
        )  # fmt: skip
        return
    if ctx.stale(facts):
        return
    stated = {
        "name": facts.name,
        "type": None if facts.type_note or facts.type is None else facts.type.value,
        "industry": facts.industry,
        "region": facts.region,
        "size": facts.size,
    }
    changes = {k: v for k, v in stated.items() if v is not None and v != _profile(state, k)}
    if changes:
        plan.add("update_profile", facts, facts.as_of, None, **changes)


def _profile(state: Customer, name: str) -> Any:
    value = getattr(state, name)
    return value.value if name == "type" else value


def contact(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """The row's person: added once, later rows update what they state differently."""
    person = facts.contact
    if person is None or state is None:
        return
    phone = None if person.phone is None else person.phone.number
    reason = None
    if person.phone is not None and person.phone.lost_mask:
        reason = (
            f"phone {person.phone.lost_mask!r} read as {phone}: masked at the source, "
            "its **** lost; only the mask is known"
        )
    existing = next((c for c in state.contacts.values() if c.name == person.name), None)
    if existing is None:
        plan.add(
            "add_contact", facts, facts.as_of, reason, contact_id=_contact_id(facts, state),
            name=person.name, title=person.title, phone=phone, email=person.email,
            primary=not any(c.primary for c in state.contacts.values()),
        )  # fmt: skip
        return
    if ctx.stale(facts):
        return
    wanted = _merged(existing, person, phone)
    if wanted != existing:
        fields = {k: v for k, v in _contact_fields(wanted).items() if v is not None}
        plan.add("update_contact", facts, facts.as_of, reason, **fields)


def _masks(masked: str | None, full: str | None) -> bool:
    """Whether ``masked`` (with ``*`` for hidden characters) could be ``full`` masked."""
    if not masked or not full or "*" not in masked or "*" in full:
        return False
    pattern = "".join(".+" if part.startswith("*") else re.escape(part)
                      for part in re.split(r"(\*+)", masked) if part)  # fmt: skip
    return re.fullmatch(pattern, full) is not None


def _contact_id(facts: RowFacts, state: Customer) -> str:
    n = 1
    while f"{facts.number}-{n}" in state.contacts:
        n += 1
    return f"{facts.number}-{n}"


def _merged(existing: Contact, person: ContactFacts, phone: str | None) -> Contact:
    """What the row states replaces; what it leaves empty stays. A masked value never
    replaces the full one it masks (re-importing a masked export loses nothing)."""
    phone = existing.phone if _masks(phone, existing.phone) else phone
    email = existing.email if _masks(person.email, existing.email) else person.email
    return Contact(
        contact_id=existing.contact_id,
        name=existing.name,
        title=person.title or existing.title,
        phone=phone or existing.phone,
        email=email or existing.email,
        address=existing.address,
        wechat=existing.wechat,
        qq=existing.qq,
        birthday=existing.birthday,
        primary=existing.primary,
    )


def _contact_fields(contact: Contact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id, "name": contact.name, "title": contact.title,
        "phone": contact.phone, "email": contact.email, "address": contact.address,
        "wechat": contact.wechat, "qq": contact.qq, "birthday": _day(contact.birthday),
        "primary": contact.primary,
    }  # fmt: skip


def needs(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    if facts.needs is None or state is None or state.needs.core_needs == facts.needs:
        return
    if ctx.stale(facts) and state.needs != Needs():
        return
    kept = state.needs
    plan.add(
        "record_needs", facts, facts.as_of, None, core_needs=facts.needs,
        purchase_preferences=kept.purchase_preferences,
        communication_channel=kept.communication_channel,
        communication_frequency=kept.communication_frequency,
        upsell_intention=kept.upsell_intention or None,
    )  # fmt: skip


def reactivation(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """A churned customer the row calls active or potential was won back."""
    if (
        state is None
        or state.stage is not Stage.CHURNED
        or facts.stated in (None, StatedStage.LOST)
    ):
        return
    if ctx.stale(facts):
        plan.notes.append(
            f"{facts.stated_in} {facts.stated} not applied: the ledger has newer facts"
        )
        return
    plan.add("reactivate", facts, facts.as_of, f"{facts.stated_in} says {facts.stated.value}")


def key_dates(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """Contracts, complaints and purchases, each with its own date."""
    if state is None:
        return
    notes = facts.key_dates
    for contract in notes.contracts:
        number = contract.number or f"{facts.number}-{contract.signed_on}"
        if number in state.contracts:
            continue
        reason = f"关键节点记录: {contract.text}"
        if contract.number is None:
            reason += (
                f"; no contract number given: {number} is a reference, not the contract's number"
            )
        plan.add(
            "sign_contract", facts, contract.signed_on, reason, contract=number,
            signed_on=_day(contract.signed_on), expires_on=_day(contract.expires_on),
            amount=_amount(contract.amount),
            currency=None if contract.amount is None else contract.currency,
        )  # fmt: skip
    _complaints(facts, state, plan)
    for purchase in notes.purchases:
        plan.add(
            "record_purchase", facts, purchase.on, f"{purchase.text}", product=purchase.product,
            amount=_amount(purchase.amount), currency=purchase.currency,
        )  # fmt: skip


def _complaints(facts: RowFacts, state: Customer, plan: Plan) -> None:
    notes = facts.key_dates
    resolved = [c for c in notes.complaints if c.resolved_on is not None]
    rated = max(resolved, key=lambda c: c.resolved_on or c.filed_on, default=None)
    seen: dict[date, int] = {}
    for complaint in notes.complaints:
        seen[complaint.filed_on] = seen.get(complaint.filed_on, 0) + 1
        suffix = "" if seen[complaint.filed_on] == 1 else f"-{seen[complaint.filed_on]}"
        ident = f"{facts.number}-{complaint.filed_on}{suffix}"
        subject, why = complaint.subject, f"关键节点记录: {complaint.text}"
        if subject is None and facts.complaint_subject:
            subject, why = facts.complaint_subject, why + "; subject from 最近互动内容"
        if ident not in state.complaints:
            plan.add(
                "file_complaint", facts, complaint.filed_on, why, complaint=ident,
                subject=subject or SUBJECT_NOT_STATED,
            )  # fmt: skip
        known = state.complaints.get(ident)
        if complaint.resolved_on is not None and (known is None or known.resolved_at is None):
            plan.add(
                "resolve_complaint", facts, complaint.resolved_on, why, complaint=ident,
                resolution=complaint.resolution or RESOLUTION_NOT_STATED,
                satisfaction=facts.satisfaction if complaint is rated else None,
            )  # fmt: skip
    for loose in notes.resolutions:
        open_ = [c for c in state.complaints.values() if c.resolved_at is None]
        done = [c for c in state.complaints.values() if c.resolved_at is not None]
        if open_:
            target = max(open_, key=lambda c: c.filed_at)
            plan.add(
                "resolve_complaint", facts, loose.on, f"关键节点记录: {loose.text}",
                complaint=target.complaint_id,
                resolution=loose.resolution or RESOLUTION_NOT_STATED,
                satisfaction=facts.satisfaction if rated is None else None,
            )  # fmt: skip
        elif not done:
            raise InconsistentRow(
                f"{loose.text!r}: a resolution, but the customer has no complaint"
            )


def interactions(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    for x in facts.interactions:
        reason = None
        if facts.registered_on is not None:
            reason = f"registered {facts.registered_on}" + (
                f" by {facts.actor}" if facts.actor else ""
            )
            if (facts.registered_on - x.on).days > 1:
                reason += f"; registered late (补录): happened {x.on}"
        plan.add(
            "log_interaction", facts, x.on, reason, channel=x.channel.value, topic=x.topic,
            feedback=x.feedback, participant=x.participant, follow_up=x.follow_up,
        )  # fmt: skip


def satisfaction(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    score = facts.satisfaction
    if score is None or state is None or state.last_satisfaction == score:
        return
    if ctx.stale(facts) and state.last_satisfaction is not None:
        return
    plan.add("rate_satisfaction", facts, facts.as_of, None, score=score)


def grade(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """分级 is a grade set by hand; it never touches a grade computed from revenue."""
    if facts.grade is None or state is None or (state.grade and state.grade.value) == facts.grade:
        return
    if ctx.stale(facts) and state.grade is not None:
        return
    plan.add("assign_grade", facts, facts.as_of, "分级 (set by hand)", grade=facts.grade,
             vip=state.vip or None)  # fmt: skip


def stage(facts: RowFacts, state: Customer | None, ctx: Context, plan: Plan) -> None:
    """The stage the row states, where its facts did not already make it so."""
    stated = facts.stated
    if stated is None or state is None or stated.holds(state.stage):
        return
    if ctx.stale(facts):
        plan.notes.append(
            f"{facts.stated_in} {stated.value} not applied: the ledger has facts newer than "
            f"this row ({ctx.latest_known})"
        )
        return
    if stated is StatedStage.LOST:
        # the churn reason is not encrypted: the row without its personal cells
        plan.add("churn", facts, facts.as_of, _evidence(facts, MAX_REASON, public=True))
        return
    target = STAGE_FOR[stated]
    flagged = target is Stage.AT_RISK
    after = lifecycle.settle(Stage.CUSTOMER if flagged else target, state.open_complaints, flagged)
    if (after, flagged) == (state.stage, state.risk_flagged):
        plan.notes.append(
            f"{facts.stated_in} {stated.value} not recorded: the customer's open complaint "
            f"keeps it {state.stage.value}"
        )
        return
    plan.add("set_stage_on_import", facts, facts.as_of, f"{facts.stated_in} says {stated.value}",
             stage=target.value, row=_evidence(facts, 8000))  # fmt: skip


def _evidence(facts: RowFacts, limit: int, *, public: bool = False) -> str:
    text = f"{facts.source}: {facts.public_text if public else facts.text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


STEPS: tuple[Step, ...] = (
    identity, contact, needs, reactivation, key_dates, interactions, satisfaction, grade, stage,
)  # fmt: skip
