"""Replay: a customer at a version, as recorded at a time T, and as of a business date D.

Recorded times are eventsourcing's event timestamps, which it stamps with its own
clock (``eventsourcing.domain.datetime_now_with_tzinfo``), not the ledger's. These
tests pin both to one ``RecordingClock``: the ledger's clock decides "now" for the
rules (late entries, future dates) and the patched function stamps the same instant.
Expectations are worked out by hand from the example customers of domain-notes.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import eventsourcing.domain
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DOCS, FIXTURES
from strategies import FIXED_NOW, at, fresh, histories

from customer_ledger import (
    Contact,
    CustomerLedger,
    DomainError,
    InvalidValue,
    NotYetKnown,
    Stage,
    UnknownCustomer,
)
from customer_ledger.application.privacy import masked
from customer_ledger.cli import demo
from customer_ledger.domain.access import Actor
from customer_ledger.errors import PermissionDenied
from customer_ledger.formats.jsonl import import_objects
from customer_ledger.projections.profile import profile_of

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")

CST = ZoneInfo("Asia/Shanghai")


class RecordingClock:
    """The ledger's clock and eventsourcing's recorded-time clock, as one settable instant."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> datetime:
        return self.now.astimezone(UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> RecordingClock:
    clock = RecordingClock(datetime(2023, 10, 25, 9, 0, tzinfo=CST))
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", clock.stamp)
    return clock


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return fresh_store_url(request.param, request, tmp_path)


@pytest.fixture
def ledger(url: str, clock: RecordingClock) -> Iterator[CustomerLedger]:
    """An empty ledger on each backend, in Asia/Shanghai, on the recording clock."""
    ledger = CustomerLedger.open(url, clock=clock, timezone="Asia/Shanghai")
    yield ledger
    ledger.close()


def demo_lines(number: str) -> list[dict[str, Any]]:
    return [line for line in demo.COMMANDS if line["customer"] == number]


def record(ledger: CustomerLedger, lines: list[dict[str, Any]]) -> None:
    report = import_objects(ledger, lines)
    assert report.ok, report.failures


def recorded(ledger: CustomerLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


# -- recorded at T versus as of D ---------------------------------------------------------


@pytest.fixture
def a001_in_two_sittings(ledger: CustomerLedger, clock: RecordingClock) -> CustomerLedger:
    """A001 (register row): first contact and annual contract recorded on 2023-08-15; the
    phone call of 2023-10-20, the contact, needs and satisfaction recorded on 2023-10-22."""
    lines = demo_lines("A001")
    clock.now = datetime(2023, 8, 15, 18, 0, tzinfo=CST)
    record(ledger, lines[:2])
    clock.now = datetime(2023, 10, 22, 10, 0, tzinfo=CST)
    record(ledger, lines[2:])
    return ledger


def test_a_call_logged_late_counts_on_the_day_it_happened(
    a001_in_two_sittings: CustomerLedger,
) -> None:
    ledger = a001_in_two_sittings
    # when A001 is replayed as of the business date of the call
    then = ledger.replay("A001", as_of="2023-10-20")
    # then the call, the contact, the needs and the score of that day are there
    assert (then.version, then.stage, then.interaction_count) == (6, Stage.CUSTOMER, 1)
    assert then.last_interaction_at == datetime(2023, 10, 20, tzinfo=CST)
    assert [c.contact_id for c in then.contacts] == ["A001-1"]
    assert (then.needs.core_needs, then.last_satisfaction) == ("prefers efficient service", 4)
    # and the day before, only the first contact and the contract had happened
    before = ledger.replay("A001", as_of=date(2023, 10, 19))
    assert (before.version, before.stage, before.interaction_count) == (2, Stage.CUSTOMER, 0)
    assert [c.number for c in before.contracts] == ["A001-2023-08-15"]
    assert before.contacts == () and before.last_satisfaction is None


def test_what_the_ledger_knew_before_the_late_entry_lacks_the_call(
    a001_in_two_sittings: CustomerLedger,
) -> None:
    ledger = a001_in_two_sittings
    # when A001 is replayed as recorded at the end of 2023-10-21
    known = ledger.replay("A001", recorded_at="2023-10-21")
    # then the call of 2023-10-20 is not there: it was recorded on 2023-10-22
    assert (known.version, known.interaction_count, known.contacts) == (2, 0, ())
    # and an event recorded exactly at T counts; one second earlier it does not
    assert ledger.replay("A001", recorded_at="2023-10-22T10:00:00+08:00").version == 6
    assert ledger.replay("A001", recorded_at="2023-10-22T09:59:59+08:00").version == 2
    # a naive date-time is read in the ledger's time zone
    assert ledger.replay("A001", recorded_at="2023-10-22T10:00:00").version == 6
    assert ledger.replay("A001", recorded_at=datetime(2023, 10, 22, 2, tzinfo=UTC)).version == 6


def test_nothing_recorded_or_happened_yet_is_not_yet_known(
    a001_in_two_sittings: CustomerLedger,
) -> None:
    ledger = a001_in_two_sittings
    before = recorded(ledger)
    with pytest.raises(NotYetKnown) as recorded_error:
        ledger.replay("A001", recorded_at="2023-08-14")
    with pytest.raises(NotYetKnown) as as_of_error:
        ledger.replay("A001", as_of="2023-08-14")
    assert recorded_error.value.rule == as_of_error.value.rule == "not_yet_known"
    assert isinstance(as_of_error.value, UnknownCustomer)  # the customer was unknown then
    assert recorded(ledger) == before


# -- as of D: the lifecycle on the way -----------------------------------------------------


def test_b002_as_of_each_day_of_its_register_row(ledger: CustomerLedger) -> None:
    # given B002 as the register states it: first contact and complaint on 2023-10-10,
    # resolved 2023-10-16 (satisfaction 2), on-site visit 2023-10-18, marked 风险预警 on
    # 2023-10-19 (recorded with set_stage_on_import); no sale is recorded, so it is a lead
    record(ledger, demo_lines("B002"))
    # then before its first contact it was not known
    with pytest.raises(NotYetKnown):
        ledger.replay("B002", as_of="2023-10-09")
    # on 2023-10-12 a lead with one open complaint (a lead with a complaint stays a lead)
    d12 = ledger.replay("B002", as_of="2023-10-12")
    assert (d12.version, d12.stage, d12.open_complaints) == (2, Stage.LEAD, 1)
    # on 2023-10-17 the complaint was resolved, with satisfaction 2
    d17 = ledger.replay("B002", as_of="2023-10-17")
    assert (d17.version, d17.stage, d17.open_complaints, d17.last_satisfaction) == (
        3,
        Stage.LEAD,
        0,
        2,
    )
    assert d17.complaints[0].resolved_at == datetime(2023, 10, 16, tzinfo=CST)
    # on 2023-10-18 the visit had happened; on 2023-10-19 it was at risk by the register
    assert ledger.replay("B002", as_of="2023-10-18").interaction_count == 1
    d19 = ledger.replay("B002", as_of="2023-10-19")
    assert (d19.version, d19.stage, d19.risk_flagged) == (7, Stage.AT_RISK, True)
    # and by version: the second event was the complaint
    assert ledger.replay("B002", version=2).open_complaints == 1
    assert ledger.replay("B002", version=7) == ledger.replay("B002", as_of="2023-10-19")


def test_a_customer_is_at_risk_between_a_complaint_and_its_resolution(
    ledger: CustomerLedger, clock: RecordingClock
) -> None:
    # given A001 under its annual contract (recorded 2023-10-22), and a complaint filed on
    # 2023-10-10 and resolved on 2023-10-16, both recorded later, on 2023-10-25
    clock.now = datetime(2023, 10, 22, 12, 0, tzinfo=CST)
    record(ledger, demo_lines("A001"))
    clock.now = datetime(2023, 10, 25, 9, 0, tzinfo=CST)
    ledger.file_complaint(
        "A001", complaint="A001-TS-1", subject="invoice wrong", occurred_at="2023-10-10"
    )
    ledger.resolve_complaint(
        "A001", complaint="A001-TS-1", resolution="re-issued", occurred_at="2023-10-16"
    )
    # then as of 2023-10-09 a customer with no complaint
    d09 = ledger.replay("A001", as_of="2023-10-09")
    assert (d09.stage, d09.complaints) == (Stage.CUSTOMER, ())
    # as of 2023-10-12 at risk, with one open complaint
    d12 = ledger.replay("A001", as_of="2023-10-12")
    assert (d12.stage, d12.open_complaints, d12.version) == (Stage.AT_RISK, 1, 3)
    # as of 2023-10-16 (resolved that day) and 2023-10-17 a customer again
    assert ledger.replay("A001", as_of="2023-10-16").stage is Stage.CUSTOMER
    d17 = ledger.replay("A001", as_of="2023-10-17")
    assert (d17.stage, d17.open_complaints, len(d17.complaints)) == (Stage.CUSTOMER, 0, 1)
    # but what the ledger knew on 2023-10-24 has no complaint at all
    known = ledger.replay("A001", recorded_at="2023-10-24")
    assert (known.stage, known.complaints, known.version) == (Stage.CUSTOMER, (), 6)
    # and as of today the replay is the current profile
    assert ledger.replay("A001", as_of="2023-10-25") == ledger.profile("A001")


# -- masking and permissions ---------------------------------------------------------------


def test_a_replay_is_masked_and_an_unmasked_one_is_recorded(ledger: CustomerLedger) -> None:
    # given W001 (ABC公司), whose contact 张三 has phone 12345678
    record(ledger, demo_lines("W001"))
    # when anyone replays it, the phone is masked
    assert ledger.replay("W001", as_of="2023-01-01").contacts[0].phone == "****5678"
    # when a manager replays it unmasked, giving a reason
    manager = Actor("*经理", "manager")
    seen = ledger.replay("W001", as_of="2023-01-01", actor=manager, unmasked=True, why="audit")
    # then the phone is shown, and the read is in the audit log
    assert seen.contacts[0].phone == "12345678"
    reads = [e for e in ledger.audit_log("W001") if e.kind == "read"]
    assert [(r.actor, r.role, r.why, r.summary) for r in reads] == [
        ("*经理", "manager", "audit", "read replay as of 2023-01-01 unmasked")
    ]
    # and an auditor, whose role may not read personal data, is refused: no read, but the
    # refused attempt is in the audit log
    with pytest.raises(PermissionDenied):
        ledger.replay("W001", version=4, actor=Actor("审计员", "auditor"), unmasked=True, why="x")
    assert len([e for e in ledger.audit_log("W001") if e.kind == "read"]) == 1
    denied = [e for e in ledger.audit_log("W001") if e.kind == "denied"]
    assert [(d.actor, d.role, d.summary, d.why) for d in denied] == [
        ("审计员", "auditor", "refused: read replay at version 4 unmasked", "x")
    ]


@pytest.fixture
def memory_ledger(clock: RecordingClock) -> Iterator[CustomerLedger]:
    """For rules that do not depend on the store."""
    ledger = CustomerLedger.open("memory://", clock=clock, timezone="Asia/Shanghai")
    yield ledger
    ledger.close()


@pytest.mark.parametrize(
    ("actor", "why", "error"),
    [
        (Actor("审计员", "auditor"), "yearly audit", PermissionDenied),  # may not read personal
        (Actor("访客", "guest"), "curious", PermissionDenied),  # an unknown role may do nothing
        (Actor("*经理", "manager"), None, InvalidValue),  # a reason is required
        (Actor("*经理", "manager"), "  ", InvalidValue),
    ],
)
def test_an_unmasked_replay_needs_a_reading_role_and_a_reason(
    memory_ledger: CustomerLedger, actor: Actor, why: str | None, error: type[DomainError]
) -> None:
    ledger = memory_ledger
    record(ledger, demo_lines("W001"))
    before = len(ledger.history("W001"))
    with pytest.raises(error):
        ledger.replay("W001", version=4, actor=actor, unmasked=True, why=why)
    assert len(ledger.history("W001")) == before  # refused, and no read recorded
    assert [e for e in ledger.audit_log("W001") if e.kind == "read"] == []
    # a refusal by the policy is itself recorded; a missing reason is a plain bad value
    denied = [e.actor for e in ledger.audit_log("W001") if e.kind == "denied"]
    assert denied == ([actor.id] if error is PermissionDenied else [])


# -- bad requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "point",
    [
        {},
        {"version": 2, "as_of": "2023-10-12"},
        {"recorded_at": "2023-10-12", "as_of": "2023-10-12"},
        {"version": 0},
        {"version": True},
        {"version": "3"},
        {"version": 8},  # B002 has 7 events
        {"as_of": "yesterday"},
        {"recorded_at": "2023-13-01"},
        {"as_of": 20231012},
    ],
)
def test_a_replay_point_must_be_exactly_one_valid_point(
    memory_ledger: CustomerLedger, point: dict[str, Any]
) -> None:
    ledger = memory_ledger
    record(ledger, demo_lines("B002"))
    with pytest.raises(InvalidValue) as info:
        ledger.replay("B002", **point)
    assert info.value.rule == "invalid_value"


def test_an_unknown_customer_cannot_be_replayed(ledger: CustomerLedger) -> None:
    with pytest.raises(UnknownCustomer) as info:
        ledger.replay("Z999", version=1)
    assert info.value.rule == "unknown_customer"


def test_as_recorded_takes_the_newest_event_recorded_by_then_with_all_before_it(
    clock: RecordingClock,
) -> None:
    # given a writer whose clock ran behind: version 3 is stamped before version 2
    ledger = CustomerLedger.open("memory://", clock=clock, timezone="Asia/Shanghai")
    record(ledger, demo_lines("B002")[:1])  # 09:00
    clock.now = datetime(2023, 10, 25, 10, 0, tzinfo=CST)
    record(ledger, demo_lines("B002")[1:2])  # version 2 at 10:00
    clock.now = datetime(2023, 10, 25, 9, 30, tzinfo=CST)
    record(ledger, demo_lines("B002")[2:3])  # version 3 at 09:30
    # when it is replayed as recorded at 09:45
    known = ledger.replay("B002", recorded_at="2023-10-25T09:45:00+08:00")
    # then version 3 was recorded by then, and version 2 was known when it was recorded
    assert (known.version, len(known.complaints), known.open_complaints) == (3, 1, 0)


# -- as of D: how events out of business order are applied ----------------------------------


def test_a_removal_dated_before_the_contact_was_added_applies_after_the_addition() -> None:
    ledger = fresh()
    ledger.first_contact("C003", name="*女士", type="individual", occurred_at=at(1))
    ledger.add_contact("C003", contact=demo_contact(), occurred_at=at(5))
    ledger.remove_contact("C003", contact_id="C003-1", occurred_at=at(2))  # dated earlier
    assert ledger.replay("C003", as_of=at(4)).contacts == ()  # neither had happened
    assert ledger.replay("C003", as_of=at(5)).contacts == ()  # added, then removed
    assert ledger.replay("C003", as_of=at(6)) == ledger.profile("C003")


def test_a_renewal_dated_before_the_signing_counts_from_the_signing() -> None:
    ledger = fresh()
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at=at(1))
    ledger.sign_contract("A001", contract="HT-1", signed_on=at(5).date(), occurred_at=at(5))
    ledger.renew_contract("A001", contract="HT-1", expires_on=date(2026, 1, 1), occurred_at=at(3))
    assert ledger.replay("A001", as_of=at(4)).contracts == ()
    renewed = ledger.replay("A001", as_of=at(5)).contracts
    assert [(c.number, c.renewals, c.expires_on) for c in renewed] == [
        ("HT-1", 1, date(2026, 1, 1))
    ]


def test_a_correction_counts_from_its_own_time_but_never_before_what_it_corrects() -> None:
    ledger = fresh()
    ledger.first_contact("B002", name="*科技", type="company", industry="制造", occurred_at=at(1))
    ledger.update_profile("B002", changes={"industry": "物流"}, occurred_at=at(5))
    ledger.update_profile("B002", changes={"industry": "智能制造"}, occurred_at=at(4))
    assert ledger.replay("B002", as_of=at(4)).industry == "制造"
    assert ledger.replay("B002", as_of=at(5)).industry == "智能制造"  # the correction wins


def test_a_churn_decided_after_a_purchase_counts_from_that_purchase() -> None:
    ledger = fresh()
    ledger.first_contact("W002", name="XYZ公司", type="company", occurred_at=at(1))
    ledger.record_purchase("W002", product="product B", amount="2000", occurred_at=at(10))
    ledger.churn("W002", reason="moved to a competitor", occurred_at=at(3))  # backdated
    assert ledger.replay("W002", as_of=at(5)).stage is Stage.LEAD
    tenth = ledger.replay("W002", as_of=at(10))
    assert (tenth.stage, tenth.purchase_count) == (Stage.CHURNED, 1)


def test_an_event_dated_before_the_first_contact_counts_from_the_first_contact() -> None:
    ledger = fresh()
    ledger.first_contact("W001", name="ABC公司", type="company", occurred_at=at(5))
    ledger.record_purchase("W001", product="product A", amount="1000", occurred_at=at(2))
    with pytest.raises(NotYetKnown):
        ledger.replay("W001", as_of=at(3))
    fifth = ledger.replay("W001", as_of=at(5))
    assert (fifth.stage, fifth.purchase_count, fifth.version) == (Stage.CUSTOMER, 1, 2)


def demo_contact() -> Contact:
    return Contact("C003-1", "*女士", title="freelancer", phone="139****3456", primary=True)


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(max_size=30, command_ids=False), shifts=st.data())
def test_as_of_after_everything_is_the_current_profile_and_counts_only_grow(
    history: list[Any], shifts: st.DataObject
) -> None:
    # given a valid history whose business times are moved back and forth (commands the
    # rules then refuse are left out), so recorded and business order disagree
    ledger = fresh()
    ledger.eager_views = False
    for command in history:
        kwargs = dict(command.kwargs)
        if command.name != "first_contact":
            days = shifts.draw(st.integers(-20, 20), label="days")
            kwargs["occurred_at"] = min(FIXED_NOW, kwargs["occurred_at"] + timedelta(days=days))
        with contextlib.suppress(DomainError):
            getattr(ledger, command.name)(command.number, **kwargs)
    for number in ledger.numbers():
        # then as of now the replay is the customer as it stands
        now = ledger.replay(number, as_of=FIXED_NOW)
        assert now == masked(profile_of(ledger.customer(number)))
        # and as of any earlier day, counts and history only grow with the day
        events = ledger.history(number)
        cutoffs = sorted({e.occurred_at for e in events if e.occurred_at >= events[0].occurred_at})
        earlier = [ledger.replay(number, as_of=t) for t in cutoffs]
        for a, b in zip(earlier, [*earlier[1:], now], strict=True):
            assert a.version <= b.version
            assert a.interaction_count <= b.interaction_count
            assert a.purchase_count <= b.purchase_count
            assert len(a.complaints) <= len(b.complaints)
    ledger.close()


# -- history stored by release 0.1 ----------------------------------------------------------


def test_the_v1_fixture_customers_replay(clock: RecordingClock) -> None:
    # given a store holding exactly the events release 0.1 stored (the frozen fixture)
    ledger = CustomerLedger.open("memory://", clock=clock, timezone="Asia/Shanghai")
    fixture = FIXTURES / "v1_events.jsonl"
    with fixture.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    ledger.recorder.insert_events(
        [
            StoredEvent(UUID(r["originator_id"]), r["originator_version"], r["topic"],
                        r["state"].encode("utf-8"))
            for r in rows
        ]
    )  # fmt: skip
    # then B002 replays through complaint, risk, churn and win-back by version
    stages = [ledger.replay("B002", version=v).stage for v in (5, 6, 10, 12, 13)]
    assert stages == ["customer", "at_risk", "customer", "churned", "prospect"]
    # and C003's e-mail of 2023-10-22 counts from that day, its duration not known
    assert ledger.replay("C003", as_of="2023-10-21").interaction_count == 0
    assert ledger.replay("C003", as_of="2023-10-22").interaction_count == 1
    assert ledger.replay("C003", as_of="2023-10-22") == ledger.replay("C003", version=3)
    calls = [e for e in ledger.history("C003") if type(e).__name__ == "InteractionLogged"]
    assert [e.duration_minutes for e in calls] == [None]


# -- docs/audit.md stays true --------------------------------------------------------------


def test_the_docs_replay_example_runs() -> None:
    doc = (DOCS / "audit.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```python\n(# audit: replay\n.*?)```", doc, re.S)
    exec(compile(example, "docs/audit.md", "exec"), {})
