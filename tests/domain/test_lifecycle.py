"""The customer lifecycle: the transition table itself, then the stages a customer moves
through as the ledger records what happens (given / when / then).

lead → prospect (interaction, needs) → customer (contract, purchase) ⇄ at_risk (while a
complaint is open, or flagged by hand on import) → churned (reason) → prospect (reactivate).
"""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import product, takewhile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import DOCS
from strategies import (
    EXAMPLES,
    FIXED_NOW,
    a_customer,
    a_lead,
    at,
    fresh,
    ready_for,
)

from customer_ledger import (
    AlreadyChurned,
    CustomerChurned,
    CustomerLedger,
    Needs,
    NotChurned,
    NothingChanged,
    Stage,
    lifecycle,
)
from customer_ledger.domain.lifecycle import FORBIDDEN, TRANSITIONS, Trigger

L, P, C, R, X = Stage.LEAD, Stage.PROSPECT, Stage.CUSTOMER, Stage.AT_RISK, Stage.CHURNED
DOMAIN_DOC = DOCS / "domain.md"

# -- the table ---------------------------------------------------------------------------

# Issue 2, restated: where each trigger takes each stage (before settling at_risk).
SPECIFIED = {
    (L, Trigger.ENGAGED): P, (P, Trigger.ENGAGED): P, (C, Trigger.ENGAGED): C,
    (R, Trigger.ENGAGED): R, (X, Trigger.ENGAGED): X,  # win-back interactions
    (L, Trigger.CONVERTED): C, (P, Trigger.CONVERTED): C, (C, Trigger.CONVERTED): C,
    (R, Trigger.CONVERTED): R,
    (L, Trigger.COMPLAINED): L, (P, Trigger.COMPLAINED): P, (C, Trigger.COMPLAINED): C,
    (R, Trigger.COMPLAINED): R, (X, Trigger.COMPLAINED): X,
    (L, Trigger.CHURNED): X, (P, Trigger.CHURNED): X, (C, Trigger.CHURNED): X,
    (R, Trigger.CHURNED): X,
    (X, Trigger.REACTIVATED): P,
}  # fmt: skip


def test_the_transition_table_is_the_specified_one() -> None:
    assert TRANSITIONS == SPECIFIED


def test_every_pair_is_either_allowed_or_forbidden_by_a_named_rule() -> None:
    pairs = set(product(Stage, Trigger))
    assert set(TRANSITIONS) | set(FORBIDDEN) == pairs
    assert not set(TRANSITIONS) & set(FORBIDDEN)
    assert FORBIDDEN[X, Trigger.CONVERTED] is CustomerChurned
    assert FORBIDDEN[X, Trigger.CHURNED] is AlreadyChurned
    assert {FORBIDDEN[s, Trigger.REACTIVATED] for s in (L, P, C, R)} == {NotChurned}


@pytest.mark.parametrize(("stage", "trigger"), sorted(FORBIDDEN))
def test_a_forbidden_pair_raises_its_rule(stage: Stage, trigger: Trigger) -> None:
    with pytest.raises(FORBIDDEN[stage, trigger]):
        lifecycle.check(stage, trigger)
    with pytest.raises(FORBIDDEN[stage, trigger]):
        lifecycle.next_stage(stage, trigger, open_complaints=0)


@given(
    pair=st.sampled_from(sorted(TRANSITIONS)),
    open_complaints=st.integers(0, 3),
    flagged=st.booleans(),
)
def test_a_customer_is_at_risk_exactly_while_a_complaint_is_open_or_flagged(
    pair: tuple[Stage, Trigger], open_complaints: int, flagged: bool
) -> None:
    stage = lifecycle.next_stage(*pair, open_complaints=open_complaints, flagged=flagged)
    target = TRANSITIONS[pair]
    if target in (C, R):
        assert stage is (R if open_complaints or flagged else C)
    else:
        assert stage is target  # leads, prospects and churned customers are never at risk


def test_the_docs_table_is_the_code_table() -> None:
    # docs/domain.md renders the table: one row per stage, one column per trigger
    text = DOMAIN_DOC.read_text(encoding="utf-8")
    section = text.split("## Lifecycle", 1)[1].splitlines()
    first = next(i for i, line in enumerate(section) if line.startswith("|"))
    rows = list(takewhile(lambda line: line.startswith("|"), section[first:]))
    header = [cell.strip(" `") for cell in rows[0].strip("|").split("|")]
    assert header[1:] == [t.value for t in Trigger]
    documented = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        stage = Stage(cells[0].strip("`"))
        for trigger, cell in zip(Trigger, cells[1:], strict=True):
            target = re.match(r"`?(\w+)`?", cell)
            assert target, cell
            documented[stage, trigger] = target.group(1)
    for pair in product(Stage, Trigger):
        expected = TRANSITIONS[pair].value if pair in TRANSITIONS else FORBIDDEN[pair].__name__
        assert documented[pair] == expected, pair


# -- stages as the ledger records them ----------------------------------------------------


def stage(ledger: CustomerLedger, number: str = "A001") -> Stage:
    return ledger.customer(number).stage


def test_a_first_contact_is_a_lead(ledger) -> None:
    a_lead(ledger)
    assert stage(ledger) is L


@pytest.mark.parametrize("how", ["interaction", "needs"])
def test_a_lead_engaged_becomes_a_prospect(ledger, how: str) -> None:
    a_lead(ledger)
    if how == "interaction":
        ledger.log_interaction("A001", channel="email", topic="asked for case studies")
    else:
        ledger.record_needs("A001", needs=Needs(core_needs="needs an industry solution"))
    assert stage(ledger) is P


@pytest.mark.parametrize(("engaged", "how"), list(product([False, True], ["contract", "purchase"])))
def test_a_lead_or_prospect_converted_becomes_a_customer(ledger, engaged: bool, how: str) -> None:
    a_lead(ledger)
    if engaged:
        ledger.log_interaction("A001", channel="phone", topic="enquiry", occurred_at=at(1))
    if how == "contract":
        ledger.sign_contract("A001", contract="HT-1", signed_on=at(2).date())
    else:
        ledger.record_purchase("A001", product="product A", amount="1000", occurred_at=at(2))
    assert stage(ledger) is C
    assert ledger.customer("A001").cooperation_since == at(2).date()


@settings(max_examples=25)
@given(complaints=st.integers(1, 4), data=st.data())
def test_a_customer_is_at_risk_until_the_last_complaint_is_resolved(
    complaints: int, data: st.DataObject
) -> None:
    # given a customer with several open complaints
    ledger = a_customer(fresh())
    ids = [f"TS-{i}" for i in range(complaints)]
    for i in ids:
        ledger.file_complaint("A001", complaint=i, subject="delivery delayed", occurred_at=at(2))
        assert stage(ledger) is R
    # when they are resolved one by one, in any order
    for n, i in enumerate(data.draw(st.permutations(ids)), start=1):
        ledger.resolve_complaint("A001", complaint=i, resolution="re-shipped", occurred_at=at(3))
        # then it stays at risk until the last one
        assert stage(ledger) is (C if n == complaints else R)


def test_an_at_risk_customer_stays_at_risk_while_it_buys_and_talks(ledger) -> None:
    a_customer(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(2))
    ledger.record_purchase("A001", product="product B", amount="2000", occurred_at=at(3))
    ledger.log_interaction("A001", channel="visit", topic="apology visit", occurred_at=at(3))
    assert stage(ledger) is R


def test_a_lead_with_a_complaint_is_at_risk_once_it_converts(ledger) -> None:
    # given a lead who complained (a lead is never at risk: it is not a customer yet)
    a_lead(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="rude sales call", occurred_at=at(1))
    assert stage(ledger) is L
    # when it signs while the complaint is open
    ledger.sign_contract("A001", contract="HT-1", signed_on=at(2).date())
    # then it is a customer at risk
    assert stage(ledger) is R


@pytest.mark.parametrize("before", [L, P, C, R])
def test_any_stage_may_churn(ledger, before: Stage) -> None:
    a_lead(ledger)
    if before is P:
        ledger.log_interaction("A001", channel="phone", topic="enquiry", occurred_at=at(1))
    if before in (C, R):
        ledger.sign_contract("A001", contract="HT-1", signed_on=at(1).date())
    if before is R:
        ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(2))
    assert stage(ledger) is before
    ledger.churn("A001", reason="switched to a competitor", occurred_at=at(3))
    customer = ledger.customer("A001")
    assert (customer.stage, customer.churn_reason) == (X, "switched to a competitor")
    assert ledger.history("A001")[-1].meta.reason == "switched to a competitor"


@pytest.mark.parametrize("command", ["sign_contract", "record_purchase", "renew_contract"])
def test_a_churned_customer_takes_no_contract_or_purchase(rejects, command: str) -> None:
    # given a churned customer (with an active contract HT-1)
    ledger = ready_for("reactivate")
    assert stage(ledger) is X
    # when it signs, buys or renews
    # then CustomerChurned, nothing recorded
    with rejects(ledger, CustomerChurned):
        getattr(ledger, command)("A001", **EXAMPLES[command], occurred_at=at(2))


def test_a_churned_customer_is_not_re_imported(rejects) -> None:
    ledger = ready_for("reactivate")
    with rejects(ledger, CustomerChurned):
        ledger.set_stage_on_import("A001", stage="customer", row="A001,活跃", occurred_at=at(2))


def test_a_customer_churns_once(rejects) -> None:
    ledger = ready_for("reactivate")
    with rejects(ledger, AlreadyChurned):
        ledger.churn("A001", reason="again", occurred_at=at(2))


@pytest.mark.parametrize("before", [L, P, C, R])
def test_only_a_churned_customer_is_reactivated(ledger, rejects, before: Stage) -> None:
    a_lead(ledger)
    if before is P:
        ledger.record_needs("A001", needs=Needs(upsell_intention=True), occurred_at=at(1))
    if before in (C, R):
        ledger.record_purchase("A001", product="product A", amount="1000", occurred_at=at(1))
    if before is R:
        ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(2))
    assert stage(ledger) is before
    with rejects(ledger, NotChurned):
        ledger.reactivate("A001", occurred_at=at(3))


def test_a_reactivated_customer_is_a_prospect_and_converts_again(ledger) -> None:
    # given a churned former customer
    a_customer(ledger)
    ledger.churn("A001", reason="budget cut", occurred_at=at(2))
    # when reactivated
    ledger.reactivate("A001", occurred_at=at(3))
    # then it is a prospect, with no churn reason, whatever it bought before
    customer = ledger.customer("A001")
    assert (customer.stage, customer.churn_reason) == (P, None)
    # and a renewal of its still-active contract makes it a customer again
    ledger.renew_contract("A001", contract="HT-1", expires_on=at(800).date(), occurred_at=at(4))
    assert stage(ledger) is C


def test_a_complaint_filed_while_churned_puts_the_returning_customer_at_risk(ledger) -> None:
    a_customer(ledger)
    ledger.churn("A001", reason="budget cut", occurred_at=at(2))
    ledger.file_complaint(
        "A001", complaint="TS-1", subject="final invoice wrong", occurred_at=at(3)
    )
    assert stage(ledger) is X
    ledger.reactivate("A001", occurred_at=at(4))
    assert stage(ledger) is P
    ledger.record_purchase("A001", product="product A", amount="1000", occurred_at=at(5))
    assert stage(ledger) is R


ALLOWED_WHILE_CHURNED = sorted(
    set(EXAMPLES)
    - {"sign_contract", "record_purchase", "renew_contract", "churn", "set_stage_on_import"}
    - {"clear_risk_flag"}  # churn already cleared it: see the test below
)


@pytest.mark.parametrize("command", ALLOWED_WHILE_CHURNED)
def test_win_back_contacts_and_record_edits_are_allowed_while_churned(command: str) -> None:
    # given a churned customer
    ledger = ready_for("reactivate")
    version = ledger.customer("A001").version
    # when a win-back interaction, a complaint, or an edit of the record is recorded
    getattr(ledger, command)("A001", **EXAMPLES[command], occurred_at=at(2))
    # then it is recorded, and only reactivate ends the churn
    assert ledger.customer("A001").version == version + 1
    assert stage(ledger) is (P if command == "reactivate" else X)


def test_churn_clears_an_imported_risk_warning() -> None:
    # given a churned customer that had been flagged at risk by an imported row
    ledger = ready_for("reactivate")
    # then the old warning is gone: clearing it changes nothing, and once the open
    # complaint is resolved a win-back sale makes a plain customer again
    assert not ledger.customer("A001").risk_flagged
    with pytest.raises(NothingChanged):
        ledger.clear_risk_flag("A001", occurred_at=at(2))
    ledger.reactivate("A001", occurred_at=at(3))
    ledger.resolve_complaint("A001", complaint="TS-1", resolution="ok", occurred_at=at(3))
    ledger.record_purchase("A001", product="product A", amount="1000", occurred_at=at(4))
    assert stage(ledger) is C


# -- the risk flag an imported sheet may set ------------------------------------------------


def test_an_imported_risk_warning_holds_until_cleared(ledger) -> None:
    # given a customer whose sheet row says 风险预警 (risk warning)
    a_customer(ledger)
    ledger.set_stage_on_import("A001", stage="at_risk", row="B002,…,风险预警", occurred_at=at(2))
    assert stage(ledger) is R
    # when a complaint comes and goes
    ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(3))
    ledger.resolve_complaint("A001", complaint="TS-1", resolution="ok", occurred_at=at(4))
    # then it is still at risk, until the flag is cleared
    assert stage(ledger) is R
    ledger.clear_risk_flag("A001", occurred_at=at(5))
    assert stage(ledger) is C


def test_a_risk_warning_row_for_a_customer_at_risk_by_complaint_sets_the_flag(ledger) -> None:
    a_customer(ledger)
    ledger.file_complaint("A001", complaint="TS-1", subject="late", occurred_at=at(2))
    ledger.set_stage_on_import("A001", stage="at_risk", row="B002,…,风险预警", occurred_at=at(3))
    ledger.resolve_complaint("A001", complaint="TS-1", resolution="ok", occurred_at=at(4))
    assert stage(ledger) is R and ledger.customer("A001").risk_flagged


@pytest.mark.parametrize("row_stage", [L, P, C])
def test_an_imported_stage_is_recorded_as_the_row_states_it(ledger, row_stage: Stage) -> None:
    a_customer(ledger) if row_stage is not C else a_lead(ledger)
    ledger.set_stage_on_import("A001", stage=row_stage.value, row="row", occurred_at=at(2))
    assert stage(ledger) is row_stage
    assert ledger.history("A001")[-1].row == "row"


# -- late registration (补录) ---------------------------------------------------------------


@settings(max_examples=40)
@given(delay=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)))
def test_an_interaction_logged_more_than_a_day_late_is_marked_late(delay: timedelta) -> None:
    # given a prospect, and a visit that happened ``delay`` before the ledger's now
    ledger = a_lead(fresh())
    # when it is logged now
    ledger.log_interaction(
        "A001", channel="visit", topic="on-site visit", occurred_at=FIXED_NOW - delay
    )
    # then it is kept, marked late when logged more than 24 hours after it happened
    event = ledger.history("A001")[-1]
    assert event.late is (delay > timedelta(hours=24))
    assert event.occurred_at == FIXED_NOW - delay


def test_the_late_marker_starts_after_exactly_24_hours(ledger) -> None:
    a_lead(ledger)
    for delay in (timedelta(hours=24), timedelta(hours=24, microseconds=1)):
        ledger.log_interaction("A001", channel="phone", topic="call", occurred_at=FIXED_NOW - delay)
    assert [e.late for e in ledger.history("A001")[1:]] == [False, True]
