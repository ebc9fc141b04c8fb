"""Random valid histories, for property tests of a store (and of the views on it).

``histories()`` is a hypothesis strategy of steps; ``apply_history`` runs them as
commands on a ledger (the rules refuse some; what is recorded is always a valid
history); ``comparable`` takes from a view snapshot (``snapshot_views``) what differs
between stores by nature, so two stores' views can be compared for equality.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.values import Contact
from customer_ledger.testing import NIL, NOW

OPERATIONS = (
    "first_contact", "log_interaction", "record_needs", "record_purchase", "sign_contract",
    "renew_contract", "terminate_contract", "file_complaint", "resolve_complaint",
    "rate_satisfaction", "churn", "reactivate", "tag", "untag", "assign_owner",
    "assign_grade", "add_contact", "schedule_reminder", "complete_reminder", "update_profile",
    "merge",
)  # fmt: skip


def histories(max_steps: int = 40) -> Any:
    """Hypothesis strategy: lists of (operation, customer, days later, small int) steps.

    ``apply_history`` turns them into commands; those the rules reject record nothing,
    so what is recorded is always a valid history, with business dates moving forward.
    """
    from hypothesis import strategies as st

    step = st.tuples(
        st.sampled_from(OPERATIONS),
        st.integers(0, 3),
        st.integers(0, 40),
        st.integers(0, 4),
    )
    return st.lists(step, min_size=1, max_size=max_steps)


def apply_history(ledger: CustomerLedger, steps: list[tuple[str, int, int, int]]) -> int:
    """Runs the steps as commands; returns how many were accepted."""
    from customer_ledger.errors import DomainError

    day = date(2023, 1, 1)
    accepted = 0
    known: set[int] = set()
    for operation, who, days, n in steps:
        day = day + timedelta(days=days)
        if who not in known and operation != "first_contact":
            _run_step(ledger, "first_contact", who, n, day)  # most steps need a customer
            accepted += 1
        known.add(who)
        try:
            _run_step(ledger, operation, who, n, day)
        except DomainError:
            continue
        accepted += 1
    return accepted


def _run_step(ledger: CustomerLedger, operation: str, who: int, n: int, day: date) -> None:
    from customer_ledger.domain.values import Needs

    number, ref = f"H{who:02d}", f"H{who:02d}-{n % 2}"
    when: dict[str, Any] = {"occurred_at": day, "actor": ["*助理", "*经理"][n % 2]}
    match operation:
        case "first_contact":
            ledger.first_contact(
                number, name=["张三", "ABC公司", "*先生", "Zoë 50%"][who],
                type=["individual", "company"][n % 2], region=["北京市", "上海市", None][n % 3],
                owner=["*经理", "*主管"][n % 2], **when,
            )  # fmt: skip
        case "log_interaction":
            channel = ["phone", "visit", "email", "wechat"][n % 4]
            ledger.log_interaction(number, channel=channel, topic=f"topic {n}", **when)
        case "record_needs":
            needs = Needs(core_needs=f"need {n}", upsell_intention=n % 2 == 0)
            ledger.record_needs(number, needs=needs, **when)
        case "record_purchase":
            amount = f"{100 * (n + 1)}.50"
            ledger.record_purchase(number, product=f"P{n}", amount=amount, quantity=n + 1, **when)
        case "sign_contract":
            ledger.sign_contract(
                number, contract=ref, signed_on=day, amount=str(1000 * (n + 1)),
                expires_on=day + timedelta(days=365), **when,
            )  # fmt: skip
        case "renew_contract":
            ledger.renew_contract(
                number, contract=ref, expires_on=day + timedelta(days=730), **when
            )
        case "terminate_contract":
            ledger.terminate_contract(number, contract=ref, **when)
        case "file_complaint":
            ledger.file_complaint(number, complaint=ref, subject=f"problem {n}", **when)
        case "resolve_complaint":
            score = n + 1 if n else None
            ledger.resolve_complaint(
                number, complaint=ref, resolution="fixed", satisfaction=score, **when
            )
        case "rate_satisfaction":
            ledger.rate_satisfaction(number, score=n + 1, **when)
        case "churn":
            ledger.churn(number, reason=f"reason {n}", occurred_at=day)
        case "reactivate":
            ledger.reactivate(number, **when)
        case "tag":
            ledger.tag(number, tag=f"t{n % 3}", **when)
        case "untag":
            ledger.untag(number, tag=f"t{n % 3}", **when)
        case "assign_owner":
            ledger.assign_owner(number, owner=f"owner {n}", **when)
        case "assign_grade":
            ledger.assign_grade(number, grade=[None, "A", "B", "C"][n % 4], vip=n == 4, **when)
        case "add_contact":
            contact = Contact(f"c{n}", f"联系人{n}", phone=f"1380000{n:04d}", primary=n == 0)
            ledger.add_contact(number, contact=contact, **when)
        case "schedule_reminder":
            due = day + timedelta(days=n)
            ledger.schedule_reminder(number, reminder=ref, subject="call back", due_on=due, **when)
        case "complete_reminder":
            ledger.complete_reminder(number, reminder=ref, **when)
        case "update_profile":
            ledger.update_profile(number, changes={"industry": f"industry {n}"}, **when)
        case "merge":  # into another of the four (unknown or merged ones refuse)
            from customer_ledger.domain.access import Actor

            into = f"H{(who + 1 + n % 3) % 4:02d}"
            ledger.merge(number, into=into, reason="one customer", occurred_at=day,
                         actor=Actor(when["actor"], "manager"))  # fmt: skip
        case _:
            raise ValueError(f"unknown operation {operation!r}")


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A view snapshot without what differs between stores by nature: random ids and
    the wall-clock recording times."""
    from attrs import evolve

    return {
        "profile": {
            n: evolve(p, customer_id=NIL, updated_at=NOW) for n, p in snapshot["profile"].items()
        },
        "timeline": [evolve(e, customer_id=NIL, recorded_at=NOW) for e in snapshot["timeline"]],
        "status": [evolve(r, customer_id=NIL) for r in snapshot["status"]],
        "stages": snapshot["stages"],
        "analytics": [evolve(f, customer_id=NIL) for f in snapshot["analytics"]],
    }
