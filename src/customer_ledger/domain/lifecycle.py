"""The lifecycle of a customer, as one explicit transition table.

Stages move on *triggers* (what kind of thing happened). A (stage, trigger) pair that is
not in the table is forbidden, and ``FORBIDDEN`` says which rule that breaks. After every
transition one invariant settles the result: a ``customer`` with an open complaint (or
flagged at risk by hand, as an imported 风险预警 row is) is ``at_risk``, and an
``at_risk`` customer with neither is a ``customer`` again.

The one way around the table is ``set_stage_on_import``: a spreadsheet row may state a
stage its events do not imply, and the ledger records that as said, with the row as
reason, rather than inventing the contract or purchase that would imply it.
"""

from __future__ import annotations

from enum import StrEnum

from customer_ledger.domain.errors import (
    AlreadyChurned,
    CustomerChurned,
    LifecycleError,
    NotChurned,
)
from customer_ledger.domain.values import Stage


class Trigger(StrEnum):
    ENGAGED = "engaged"  # interaction logged, needs recorded
    CONVERTED = "converted"  # contract signed or renewed, purchase recorded
    COMPLAINED = "complained"  # complaint filed or resolved
    CHURNED = "churned"
    REACTIVATED = "reactivated"


L, P, C, R, X = Stage.LEAD, Stage.PROSPECT, Stage.CUSTOMER, Stage.AT_RISK, Stage.CHURNED

TRANSITIONS: dict[tuple[Stage, Trigger], Stage] = {
    (L, Trigger.ENGAGED): P,
    (L, Trigger.CONVERTED): C,
    (L, Trigger.COMPLAINED): L,
    (L, Trigger.CHURNED): X,
    (P, Trigger.ENGAGED): P,
    (P, Trigger.CONVERTED): C,
    (P, Trigger.COMPLAINED): P,
    (P, Trigger.CHURNED): X,
    (C, Trigger.ENGAGED): C,
    (C, Trigger.CONVERTED): C,
    (C, Trigger.COMPLAINED): C,
    (C, Trigger.CHURNED): X,
    (R, Trigger.ENGAGED): R,
    (R, Trigger.CONVERTED): R,
    (R, Trigger.COMPLAINED): R,
    (R, Trigger.CHURNED): X,
    (X, Trigger.ENGAGED): X,  # win-back calls are allowed
    (X, Trigger.COMPLAINED): X,
    (X, Trigger.REACTIVATED): P,
}

FORBIDDEN: dict[tuple[Stage, Trigger], type[LifecycleError]] = {
    (X, Trigger.CONVERTED): CustomerChurned,
    (X, Trigger.CHURNED): AlreadyChurned,
    **{(stage, Trigger.REACTIVATED): NotChurned for stage in (L, P, C, R)},
}


def check(stage: Stage, trigger: Trigger) -> None:
    """Raises the rule's error if ``trigger`` may not happen in ``stage``."""
    if (stage, trigger) not in TRANSITIONS:
        error = FORBIDDEN.get((stage, trigger), LifecycleError)
        raise error(f"a {stage.value} customer cannot be {trigger.value}")


def next_stage(
    stage: Stage, trigger: Trigger, open_complaints: int, flagged: bool = False
) -> Stage:
    check(stage, trigger)
    return settle(TRANSITIONS[stage, trigger], open_complaints, flagged)


def settle(stage: Stage, open_complaints: int, flagged: bool = False) -> Stage:
    at_risk = bool(open_complaints) or flagged
    if stage is Stage.CUSTOMER and at_risk:
        return Stage.AT_RISK
    if stage is Stage.AT_RISK and not at_risk:
        return Stage.CUSTOMER
    return stage


IMPORTABLE_STAGES = (Stage.LEAD, Stage.PROSPECT, Stage.CUSTOMER, Stage.AT_RISK)
