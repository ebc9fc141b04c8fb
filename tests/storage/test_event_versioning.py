"""Event versioning, done once for real: ``InteractionLogged`` v2 adds ``duration_minutes``.

Release 0.1 stored interactions without it (the frozen fixture
tests/fixtures/v1_events.jsonl); those bytes must still decode, reading the new field
as None (not known), and a new interaction stores ``class_version`` 2 with its duration.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st
from strategies import FIXED_NOW, at, fresh
from v1_fixture import v1_stored_events

from customer_ledger import CommandIdReused, CustomerLedger, InvalidValue
from customer_ledger.audit.chain import open_seal
from customer_ledger.domain.customer import MAX_INTERACTION_MINUTES, Customer
from customer_ledger.domain.registry import CommandReceipt
from customer_ledger.formats.jsonl import derived_command_id, import_lines, line_digest
from customer_ledger.projections.timeline import describe
from customer_ledger.serialization import encode
from customer_ledger.storage.mapper import CattrsMapper

CST = timezone(timedelta(hours=8))
InteractionLogged: Any = Customer.InteractionLogged


def v1_interactions() -> list[StoredEvent]:
    """The InteractionLogged events release 0.1 stored, as the store gave them back."""
    return [
        e for e in v1_stored_events() if e.topic == "customer_ledger.Customer.InteractionLogged"
    ]


def body(stored: StoredEvent) -> dict[str, Any]:
    """The JSON a stored event holds (after the chain's header, when it has one)."""
    sealed = open_seal(stored.state)
    data: dict[str, Any] = orjson.loads(stored.state if sealed is None else sealed.body)
    return data


def test_the_event_class_is_at_version_2() -> None:
    assert InteractionLogged.TOPIC == "customer_ledger.Customer.InteractionLogged"
    assert InteractionLogged.class_version == 2


def test_v1_interactions_decode_with_no_duration() -> None:
    # given the four interactions release 0.1 stored (no duration, no class_version)
    stored = v1_interactions()
    assert len(stored) == 4
    assert all("duration_minutes" not in body(s) and "class_version" not in body(s) for s in stored)
    # when the current mapper decodes them
    events = [CattrsMapper().to_domain_event(s) for s in stored]
    # then each is a v2 InteractionLogged whose duration is not known, the rest intact
    assert [type(e) for e in events] == [InteractionLogged] * 4
    assert [e.duration_minutes for e in events] == [None] * 4
    first = events[0]
    assert (first.channel.value, first.topic, first.participant, first.late) == (
        "phone",
        "asked when the new product launches",
        "*经理",
        True,
    )
    assert first.occurred_at == datetime(2023, 10, 20, 15, 30, tzinfo=CST)
    # and its summary reads as before
    assert describe(first) == (
        "Phone: asked when the new product launches (by *经理) [late entry]",
        "电话：asked when the new product launches（*经理）【补录】",
    )


def test_the_upcaster_adds_the_field_and_nothing_else() -> None:
    state = {"channel": "phone", "topic": "greeting", "late": False}
    InteractionLogged.upcast_v1_v2(state)
    assert state == {
        "channel": "phone",
        "topic": "greeting",
        "late": False,
        "duration_minutes": None,
    }


def test_a_new_interaction_is_stored_as_version_2_with_its_duration() -> None:
    # given a customer; when a 45-minute visit of two hours ago is logged
    ledger = fresh()
    ledger.first_contact("D001", name="*先生", type="individual", occurred_at=at(1))
    two_hours_ago = FIXED_NOW - timedelta(hours=2)
    ledger.log_interaction(
        "D001",
        channel="visit",
        topic="product demo",
        duration_minutes=45,
        occurred_at=two_hours_ago,
    )
    # then the stored bytes say class_version 2 and the duration
    customer_id = ledger.customer_id("D001")
    stored = ledger.recorder.select_events(customer_id)[-1]
    assert (body(stored)["class_version"], body(stored)["duration_minutes"]) == (2, 45)
    # and they decode back to the same event
    event = ledger.mapper.to_domain_event(stored)
    assert type(event) is InteractionLogged and event.duration_minutes == 45
    assert event == ledger.history("D001")[-1]
    # and the timeline says how long it took
    assert describe(event) == ("Visit: product demo, 45 min", "上门拜访：product demo，45 分钟")
    # while an interaction without a duration stores None (not known)
    ledger.log_interaction("D001", channel="phone", topic="follow-up", occurred_at=FIXED_NOW)
    assert ledger.history("D001")[-1].duration_minutes is None


@given(minutes=st.integers(1, MAX_INTERACTION_MINUTES))
def test_any_duration_from_a_minute_to_a_day_is_kept(minutes: int) -> None:
    ledger = fresh()
    ledger.first_contact("D001", name="*先生", type="individual", occurred_at=at(1))
    ledger.log_interaction(
        "D001", channel="phone", topic="call", duration_minutes=minutes, occurred_at=at(2)
    )
    assert ledger.history("D001")[-1].duration_minutes == minutes


@given(
    minutes=st.one_of(
        st.integers(min_value=1 - 2**63, max_value=0),  # (wider ints are refused earlier)
        st.integers(min_value=MAX_INTERACTION_MINUTES + 1, max_value=2**63 - 1),
        st.booleans(),
        st.floats(allow_nan=False),
        st.text(max_size=5),
        st.decimals(allow_nan=False, allow_infinity=False),
    )
)
def test_a_duration_outside_a_minute_to_a_day_is_refused(minutes: object, rejects: Any) -> None:
    ledger = fresh()
    ledger.first_contact("D001", name="*先生", type="individual", occurred_at=at(1))
    with rejects(ledger, InvalidValue) as info:
        ledger.log_interaction(
            "D001", channel="phone", topic="call", duration_minutes=minutes, occurred_at=at(2)
        )
    assert "duration_minutes" in str(info.value)


def test_the_import_takes_the_duration_from_the_commands_signature() -> None:
    # given a file whose interactions give a duration, a wrong-typed one and too long one
    ledger = CustomerLedger.open("memory://")
    first = {"command": "first_contact", "customer": "D001", "name": "*先生"}
    call = {"command": "log_interaction", "customer": "D001", "channel": "phone", "topic": "t"}
    lines = [
        {**first, "type": "individual", "occurred_at": "2023-10-18"},
        {**call, "duration_minutes": 30, "occurred_at": "2023-10-19"},
        {**call, "duration_minutes": "30", "occurred_at": "2023-10-20"},
        {**call, "duration_minutes": 1441, "occurred_at": "2023-10-21"},
        {**call, "occurred_at": "2023-10-22"},
    ]
    # when it is imported
    report = import_lines(ledger, [orjson.dumps(line) for line in lines])
    # then the good lines are recorded with their duration, the bad ones named by rule
    assert [(f.line, f.rule) for f in report.failures] == [(3, "wrong_type"), (4, "invalid_value")]
    calls = [e for e in ledger.history("D001") if type(e) is InteractionLogged]
    assert [e.duration_minutes for e in calls] == [30, None]


def test_a_command_without_a_duration_keeps_its_release_0_1_fingerprint() -> None:
    # given the fingerprint release 0.1 stored in the receipt of this very command
    fingerprint_0_1 = "4bb49d28ba633fc940c05d32e0f988e98dd5926fc4551e5a78ae2326891305c6"
    ledger = CustomerLedger.open("memory://", clock=lambda: datetime(2023, 10, 25, 10, tzinfo=CST))
    ledger.first_contact(
        "A001", name="*先生", type="individual", occurred_at=datetime(2023, 8, 1, 10, tzinfo=CST)
    )
    # when it is sent now
    ledger.log_interaction(
        "A001", channel="phone", topic="asked when the new product launches",
        participant="*经理", occurred_at=datetime(2023, 10, 20, 15, 30, tzinfo=CST),
        command_id="fp-1",
    )  # fmt: skip
    # then its receipt holds the same fingerprint: a re-send of a 0.1 command is recognised
    assert ledger.repository.get(CommandReceipt.id_for("fp-1")).fingerprint == fingerprint_0_1
    # and the same command_id with a duration is another command
    with pytest.raises(CommandIdReused):
        ledger.log_interaction(
            "A001", channel="phone", topic="asked when the new product launches",
            participant="*经理", occurred_at=datetime(2023, 10, 20, 15, 30, tzinfo=CST),
            command_id="fp-1", duration_minutes=10,
        )  # fmt: skip


# -- CommandReceipt.Executed v2: ``line``, the digest of the import line that ran it ------

Executed: Any = CommandReceipt.Executed


def test_release_0_1_receipts_decode_with_no_line() -> None:
    # given the receipts release 0.1 stored (no line, no class_version)
    stored = [e for e in v1_stored_events() if e.topic == Executed.TOPIC]
    assert stored and all("line" not in body(s) and "class_version" not in body(s) for s in stored)
    # when the current mapper decodes them
    events = [CattrsMapper().to_domain_event(s) for s in stored]
    # then each is a v2 receipt that keeps no line (a re-run runs such a line again,
    # and answers it from the receipt as before), the rest intact
    assert Executed.class_version == 2
    for event, old in zip(events, stored, strict=True):
        assert type(event) is Executed and event.line is None
        assert event.fingerprint == body(old)["fingerprint"]
        assert str(event.customer_id) == body(old)["customer_id"]


def test_an_imported_lines_receipt_keeps_its_digest_and_a_commands_keeps_none() -> None:
    ledger = CustomerLedger.open("memory://")
    line = {"command": "first_contact", "customer": "A001", "name": "x", "type": "company"}
    import_lines(ledger, [orjson.dumps(line)])
    ledger.tag("A001", tag="t", command_id="by-hand")
    imported = ledger.repository.get(CommandReceipt.id_for(derived_command_id(line)))
    assert imported.line == line_digest(encode(line), ledger.timezone)
    assert ledger.repository.get(CommandReceipt.id_for("by-hand")).line is None
    stored = ledger.recorder.select_events(CommandReceipt.id_for("by-hand"))
    assert body(stored[0])["class_version"] == 2
