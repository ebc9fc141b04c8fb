"""Serialization: every stored event round-trips exactly through ``CattrsMapper``.

"Exactly" is stricter than ``==``: ``Decimal("1.0") == Decimal("1.00")`` and a datetime
equals the same instant at another offset, but the ledger must give back the very
digits and offset it was given. ``assert_exact`` compares types, Decimal digits and
exponents, and datetimes' ISO text (wall clock, microseconds and offset).
"""

from __future__ import annotations

import typing
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid1, uuid4, uuid5

import attrs
import pytest
from cattrs.gen import make_dict_structure_fn
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic
from hypothesis import given, settings
from hypothesis import strategies as st
from paths import DOCS
from strategies import (
    COMMAND_NAMES,
    HISTORY_START,
    ZONES,
    Command,
    Model,
    amounts,
    contacts,
    draw_command,
    fresh,
    histories,
    needs,
    offsets,
    replay,
    sha256s,
    words,
)
from v1_fixture import v1_stored_events

from customer_ledger import (
    Attachment,
    Channel,
    Complaint,
    ComplaintStatus,
    Contact,
    Contract,
    ContractStatus,
    Customer,
    CustomerLedger,
    CustomerType,
    Grade,
    Meta,
    Money,
    Needs,
    Reminder,
    Stage,
)
from customer_ledger.domain.access import Actor
from customer_ledger.domain.registry import AccessLog, CommandReceipt, CustomerNumber
from customer_ledger.serialization import (
    converter,
    decode,
    encode,
    structure_state,
    unstructure_state,
)
from customer_ledger.storage.mapper import CattrsMapper

CUSTOMER_EVENTS = frozenset(
    cls
    for name, cls in vars(Customer).items()
    if isinstance(cls, type)
    and issubclass(cls, Customer.Event)
    and name not in ("Event", "Created")
)


def assert_exact(actual: Any, expected: Any, where: str = "value") -> None:
    """Equal, and of the same type, digits, exponent, offset, all the way down."""
    assert type(actual) is type(expected), f"{where}: {type(actual)} is not {type(expected)}"
    if isinstance(expected, Decimal):
        assert actual.as_tuple() == expected.as_tuple(), f"{where}: {actual!r} != {expected!r}"
    elif isinstance(expected, datetime):
        assert actual.isoformat() == expected.isoformat(), f"{where}: {actual} != {expected}"
        assert actual.utcoffset() == expected.utcoffset(), where
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{where}: keys {set(actual) ^ set(expected)}"
        for key in expected:
            assert_exact(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_exact(a, e, f"{where}[{i}]")
    elif attrs.has(type(expected)):
        for field in attrs.fields(type(expected)):
            name = field.name
            assert_exact(getattr(actual, name), getattr(expected, name), f"{where}.{name}")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def assert_round_trips(mapper: CattrsMapper, event: Any, stored_state: bytes | None = None) -> None:
    """event → stored → event gives the same vars(), and re-encoding the same bytes."""
    stored = mapper.to_stored_event(event)
    if stored_state is not None:
        assert stored.state == stored_state, "the store holds other bytes than the mapper makes"
    assert stored.topic == type(event).TOPIC
    decoded = mapper.to_domain_event(stored)
    assert type(decoded) is type(event)
    assert_exact(vars(decoded), vars(event), type(event).__name__)
    assert mapper.to_stored_event(decoded).state == stored.state, "encoding is not canonical"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (Decimal("1.0"), Decimal("1.00")),
        (datetime(2024, 1, 1, 8, tzinfo=ZONES[1]), datetime(2024, 1, 1, tzinfo=ZONES[0])),
        (CustomerType.COMPANY, "company"),
        (True, 1),
        ({"a": Decimal("10")}, {"a": Decimal("1E+1")}),
    ],
)
def test_exactly_equal_tells_apart_what_equality_does_not(a: Any, b: Any) -> None:
    assert a == b
    with pytest.raises(AssertionError):
        assert_exact(a, b)


class Recorded:
    """The domain events a ledger records, with the notifications stored for them."""

    def __init__(self, ledger: CustomerLedger) -> None:
        self.recordings: list[Any] = []
        notify = ledger._notify

        def capture(recordings: list[Any]) -> None:
            self.recordings.extend(recordings)
            notify(recordings)

        ledger._notify = capture  # type: ignore[method-assign]


# -- every event of every history -------------------------------------------------------

FULL_LIFE = (
    "first_contact", "update_profile", "add_contact", "update_contact", "add_contact",
    "remove_contact", "assign_owner", "tag", "untag", "record_needs", "log_interaction",
    "record_purchase", "sign_contract", "renew_contract", "terminate_contract",
    "file_complaint", "resolve_complaint", "rate_satisfaction", "assign_grade",
    "set_stage_on_import", "clear_risk_flag", "churn", "reactivate", "link_attachment",
    "schedule_reminder", "complete_reminder",
)  # fmt: skip


@st.composite
def full_lives(draw: Any) -> list[Command]:
    """A customer's life that uses every command, with drawn values, times and zones."""
    model, history, when = Model(), [], HISTORY_START
    for i, kind in enumerate(FULL_LIFE):
        when += timedelta(minutes=draw(st.integers(0, 3000)))
        command = draw_command(
            draw, model, "A001", kind, when.astimezone(draw(offsets())), valid=True
        )
        if kind == "set_stage_on_import":
            command.kwargs["stage"] = "at_risk"  # so that the flag can be cleared next
        if draw(st.booleans()):
            command.kwargs["command_id"] = f"cmd-{i}"
        assert not model.expect(command), command
        model.apply(command)
        history.append(command)
    return history


def test_the_full_life_uses_every_command() -> None:
    assert set(FULL_LIFE) == set(COMMAND_NAMES)


@settings(max_examples=25)
@given(life=full_lives())
def test_every_event_type_round_trips_exactly(life: list[Command]) -> None:
    # given every command of a customer's life, with generated values
    ledger = fresh()
    recorded = Recorded(ledger)
    # when they are recorded, and a second record of the customer is merged into it
    replay(ledger, life)
    ledger.first_contact("Z001", name="*重复", type="individual", allow_duplicate=True)
    ledger.log_interaction("Z001", channel="phone", topic="hello")
    ledger.merge("Z001", into=life[0].number, reason="one customer", actor=Actor("m", "admin"))
    # then each event comes back from its stored bytes exactly, and every event class of
    # Customer (plus the number claim and the command receipts) was among them
    for recording in recorded.recordings:
        assert_round_trips(ledger.mapper, recording.domain_event, recording.notification.state)
    produced = {type(r.domain_event) for r in recorded.recordings}
    forgotten = {Customer.CustomerForgotten}  # not a record-keeping command: test_forget*.py
    assert {c for c in produced if issubclass(c, Customer.Event)} == CUSTOMER_EVENTS - forgotten
    assert CustomerNumber.Claimed in produced  # type: ignore[attr-defined]
    if any("command_id" in c.kwargs for c in life):
        assert CommandReceipt.Executed in produced  # type: ignore[attr-defined]


@settings(max_examples=25)
@given(history=histories(max_size=30))
def test_every_stored_event_of_a_random_history_round_trips(history: list[Command]) -> None:
    ledger = fresh()
    recorded = Recorded(ledger)
    replay(ledger, history)
    stored = ledger.recorder.select_notifications(start=1, limit=10_000)
    assert [r.notification.id for r in recorded.recordings] == [n.id for n in stored]
    for recording, notification in zip(recorded.recordings, stored, strict=True):
        assert_round_trips(ledger.mapper, recording.domain_event, notification.state)


def test_an_unmasked_read_is_recorded_in_events_that_round_trip(ledger) -> None:
    from customer_ledger.domain.access import Actor

    recorded = Recorded(ledger)
    ledger.first_contact("A001", name="*先生", type="individual")
    ledger.profile("A001", actor=Actor("*经理", "manager"), unmasked=True, why="renewal call")
    kinds = {type(r.domain_event) for r in recorded.recordings}
    assert {AccessLog.Opened, AccessLog.PersonalDataRead} <= kinds  # type: ignore[attr-defined]
    for recording in recorded.recordings:
        assert_round_trips(ledger.mapper, recording.domain_event, recording.notification.state)


# -- topics -------------------------------------------------------------------------------


def test_stored_topics_are_stable_names_not_module_paths() -> None:
    aggregates = (Customer, CustomerNumber, CommandReceipt, AccessLog)
    classes = [*aggregates, *CUSTOMER_EVENTS]
    classes += [CustomerNumber.Claimed, CommandReceipt.Executed]  # type: ignore[attr-defined]
    classes += [AccessLog.Opened, AccessLog.PersonalDataRead]  # type: ignore[attr-defined]
    topics = [get_topic(cls) for cls in classes]
    assert len(set(topics)) == len(topics)
    for cls, topic in zip(classes, topics, strict=True):
        assert topic == cls.TOPIC
        assert topic.startswith("customer_ledger.") and ":" not in topic
        assert resolve_topic(topic) is cls


# -- values ---------------------------------------------------------------------------------


def round_trip(value: Any, hint: Any) -> Any:
    """Through the converter and the JSON codec, as a stored field goes."""
    data = converter.unstructure(value, hint)
    text = encode(data)
    assert encode(decode(text)) == text, "canonical: decoding and encoding again is identity"
    return converter.structure(decode(text), hint)


aware_datetimes = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offsets(),
)


@given(when=aware_datetimes)
def test_datetimes_keep_their_wall_clock_microseconds_and_offset(when: datetime) -> None:
    back = round_trip(when, datetime)
    assert back.isoformat() == when.isoformat()
    assert back.utcoffset() == when.utcoffset()
    assert back.replace(tzinfo=None) == when.replace(tzinfo=None)


@given(when=st.datetimes(timezones=st.sampled_from(ZONES)))
def test_a_named_zone_comes_back_as_its_offset(when: datetime) -> None:
    # the zone's name is not stored: the wall clock and the offset at that instant are
    # (compared field by field: an aware datetime whose offset depends on ``fold``, as in
    # Shanghai's 1940s summer time, never equals another zone's datetime under PEP 495)
    back = round_trip(when, datetime)
    assert back.isoformat() == when.isoformat()
    assert back.utcoffset() == when.utcoffset()
    assert back.replace(tzinfo=None) == when.replace(tzinfo=None)


@given(day=st.dates())
def test_dates_round_trip(day: date) -> None:
    assert_exact(round_trip(day, date), day)


@given(
    number=st.decimals(allow_nan=False, allow_infinity=False)
    | st.builds(
        lambda sign, digits, exp: Decimal((sign, tuple(digits), exp)),
        st.integers(0, 1),
        st.lists(st.integers(0, 9), min_size=1, max_size=60),
        st.integers(-80, 80),
    )
)
def test_decimals_keep_every_digit_and_their_exponent(number: Decimal) -> None:
    assert_exact(round_trip(number, Decimal), number)
    assert_exact(round_trip(number, Decimal | None), number)


@given(value=st.one_of(st.uuids(), st.builds(uuid1), st.builds(uuid5, st.uuids(), st.text())))
def test_uuids_round_trip(value: UUID) -> None:
    assert_exact(round_trip(value, UUID), value)


ENUMS: tuple[type[Enum], ...] = (
    CustomerType, Stage, Channel, Grade, ContractStatus, ComplaintStatus,
)  # fmt: skip


@pytest.mark.parametrize("member", [m for e in ENUMS for m in e], ids=str)
def test_enums_are_stored_as_their_values(member: Enum) -> None:
    assert converter.unstructure(member, type(member)) == member.value
    assert_exact(round_trip(member, type(member)), member)
    assert round_trip(None, type(member) | None) is None


@given(enum=st.sampled_from(ENUMS), value=st.text(max_size=12) | st.integers() | st.none())
def test_a_value_no_member_has_is_refused_as_the_enum_refuses_it(enum, value) -> None:
    if value in {m.value for m in enum}:
        assert converter.structure(value, enum) is enum(value)
        return
    with pytest.raises(ValueError) as expected:
        enum(value)
    with pytest.raises(ValueError) as refused:
        converter.structure(value, enum)
    assert str(refused.value) == str(expected.value)


values = st.one_of(
    st.tuples(st.just(Money), st.builds(Money, amounts(), st.sampled_from(["CNY", "USD"]))),
    st.tuples(st.just(Meta), st.builds(Meta, words(), st.none() | words(), st.none() | words())),
    st.tuples(st.just(type(None) | Money), st.none()),
    st.tuples(st.just(Contact), contacts()),
    st.tuples(st.just(Needs), needs()),
    st.tuples(
        st.just(Contract),
        st.builds(
            Contract, words(), st.dates(), st.dates(), st.none() | st.dates(),
            st.none() | st.builds(Money, amounts()), st.sampled_from(ContractStatus),
            st.integers(0, 9), st.none() | st.dates(),
        ),
    ),
    st.tuples(
        st.just(Complaint),
        st.builds(
            Complaint, words(), words(), aware_datetimes, st.sampled_from(ComplaintStatus),
            st.none() | words(), st.none() | st.integers(1, 5), st.none() | aware_datetimes,
        ),
    ),
    st.tuples(
        st.just(Reminder),
        st.builds(Reminder, words(), words(), st.dates(), st.none() | aware_datetimes),
    ),
    st.tuples(st.just(Attachment), st.builds(Attachment, words(), words(), sha256s())),
)  # fmt: skip


@given(hint_and_value=values)
def test_attrs_values_and_none_round_trip_exactly(hint_and_value: tuple[Any, Any]) -> None:
    hint, value = hint_and_value
    assert_exact(round_trip(value, hint), value)


def outcome(structure: Any, data: Any, hint: Any) -> tuple[str, Any]:
    try:
        return "value", structure(data, hint)
    except Exception as error:
        return "error", type(error)


@given(hint_and_value=values, damage=st.sampled_from(["none", "drop", "extra", "nulled"]))
def test_the_direct_structuring_of_attrs_values_is_cattrs_own(hint_and_value, damage) -> None:
    # given a stored attrs value, whole or damaged (a key gone, one more, a typed one null)
    hint, value = hint_and_value
    if not attrs.has(hint):
        return
    data = decode(encode(converter.unstructure(value, hint)))
    typed = [  # fields JSON cannot hold as they are: dates, enums, Money...
        a.name
        for a in attrs.fields(hint)
        if isinstance(v := getattr(value, a.name), (date, Enum)) or attrs.has(type(v))
    ]
    if damage == "drop":
        del data[sorted(data)[0]]
    elif damage == "extra":
        data["extra"] = "x"
    elif damage == "nulled" and typed:
        data[typed[0]] = None
    # then the fast path gives what cattrs' generated function gives, or fails as it does
    fast = outcome(converter.structure, dict(data), hint)
    general = outcome(make_dict_structure_fn(hint, converter), dict(data), hint)
    assert fast[0] == general[0]
    if fast[0] == "value":
        assert_exact(fast[1], general[1])
    else:
        assert fast[1] is general[1]


# -- aggregate state (snapshots, stored view states) ------------------------------------------


@settings(max_examples=25)
@given(history=histories(max_size=30))
def test_customer_state_round_trips_exactly(history: list[Command]) -> None:
    # given the customers a random history leaves behind
    ledger = fresh()
    replay(ledger, history)
    for number in dict.fromkeys(c.number for c in history):
        customer = ledger.customer(number)
        state = {k: v for k, v in vars(customer).items() if k != "_pending_events"}
        # when its state is unstructured, encoded, decoded and structured again
        data = unstructure_state(Customer, state)
        assert set(data) == set(state), "state the converter does not know would be lost"
        text = encode(data)
        back = structure_state(Customer, decode(text))
        # then it is the same state, and the same bytes
        assert_exact(back, state, number)
        assert encode(unstructure_state(Customer, back)) == text
        # and a snapshot of it, through the mapper, rebuilds the same customer
        mapper = ledger.mapper
        snapshot = Snapshot.take(customer)
        stored = mapper.to_stored_event(snapshot)
        rebuilt = mapper.to_domain_event(stored).mutate(None)
        assert_exact(
            {k: v for k, v in vars(rebuilt).items() if k != "_pending_events"}, state, number
        )


def test_tags_are_stored_in_a_canonical_order() -> None:
    state = {"tags": {"重点", "VIP", "老客户", "a"}}
    assert unstructure_state(Customer, state)["tags"] == sorted(state["tags"])


# -- damaged bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [b"", b"{", b'{"occurred_at": "yesterday"}', b"[]"])
def test_undecodable_bytes_name_the_event(state: bytes) -> None:
    stored = StoredEvent(uuid4(), 7, "customer_ledger.Customer.Tagged", state)
    with pytest.raises(MapperDeserialisationError) as info:
        CattrsMapper().to_domain_event(stored)
    assert str(stored.originator_id) in str(info.value) and "7" in str(info.value)


# -- the v1 fixture ---------------------------------------------------------------------------
#
# FROZEN FIXTURE. tests/fixtures/v1_events.jsonl holds the bytes the first release (0.1)
# stored, one StoredEvent per line, written once by tests/fixtures/make_v1_events.py.
# Every future release must keep decoding it to the customers below. Never regenerate or
# edit the file to make these tests pass: when an event changes shape, give it a
# ``class_version`` and an ``upcast_v1_v2`` instead (see docs/domain.md).

V1_TOPICS = {
    *(f"customer_ledger.Customer.{name}" for name in (
        "FirstContacted", "ProfileUpdated", "ContactAdded", "ContactUpdated", "ContactRemoved",
        "OwnerAssigned", "Tagged", "Untagged", "NeedsRecorded", "InteractionLogged",
        "PurchaseRecorded", "ContractSigned", "ContractRenewed", "ContractTerminated",
        "ComplaintFiled", "ComplaintResolved", "SatisfactionRated", "GradeAssigned", "Churned",
        "Reactivated", "StageSetOnImport", "RiskFlagCleared", "AttachmentLinked",
        "ReminderScheduled", "ReminderCompleted",
    )),
    "customer_ledger.CustomerNumber.Claimed",
    "customer_ledger.CommandReceipt.Executed",
    "customer_ledger.AccessLog.Opened",
    "customer_ledger.AccessLog.PersonalDataRead",
}  # fmt: skip
CST = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def v1_ledger() -> CustomerLedger:
    """A memory ledger whose store holds exactly the v1 fixture's events."""
    ledger = CustomerLedger.open("memory://", clock=lambda: datetime(2023, 10, 25, 10, tzinfo=CST))
    ledger.recorder.insert_events(v1_stored_events())
    return ledger


def test_v1_every_line_decodes_with_the_current_mapper() -> None:
    stored = v1_stored_events()
    assert len(stored) == 47
    assert {s.topic for s in stored} == V1_TOPICS
    mapper = CattrsMapper()
    for s in stored:
        event = mapper.to_domain_event(s)
        assert (event.originator_id, event.originator_version) == (
            s.originator_id,
            s.originator_version,
        )
        assert event.timestamp.tzinfo is not None
        if isinstance(event, Customer.Event):
            assert isinstance(event.meta, Meta) and event.occurred_at.tzinfo is not None


def test_v1_an_individual_customer_under_contract(v1_ledger: CustomerLedger) -> None:
    a001 = v1_ledger.customer("A001")
    assert (a001.version, a001.stage, a001.type) == (20, Stage.CUSTOMER, CustomerType.INDIVIDUAL)
    assert (a001.name, a001.industry, a001.region, a001.size) == ("*先生", "互联网", "上海市", None)
    assert (a001.owner, a001.grade, a001.vip, a001.tags) == ("*顾问", Grade.A, True, {"VIP"})
    assert_exact(a001.revenue, {"CNY": Decimal("3000.50"), "USD": Decimal("199.99")})
    assert (a001.purchase_count, a001.interaction_count, a001.last_satisfaction) == (2, 1, 4)
    assert a001.first_contact_at.isoformat() == "2023-08-01T10:00:00+08:00"
    assert a001.last_purchase_at.isoformat() == "2023-09-15T09:00:00-05:00"
    assert a001.cooperation_since == date(2023, 8, 15)
    assert a001.needs.upsell_intention and a001.needs.communication_frequency == "monthly"
    assert a001.contacts["c1"] == Contact(
        "c1", "*先生", title="总监", phone="138****5678", email="mr.a@example.com",
        birthday=date(1985, 3, 2), primary=True,
    )  # fmt: skip
    assert_exact(
        a001.contracts["HT-2023-015"],
        Contract(
            "HT-2023-015", date(2023, 8, 15), date(2023, 8, 15), date(2025, 8, 14),
            Money(Decimal("13000")), ContractStatus.ACTIVE, renewals=1,
        ),
    )  # fmt: skip
    assert a001.reminders["R1"].done_at is None
    assert a001.reminders["R2"].done_at.isoformat() == "2023-10-24T11:00:00+08:00"
    assert a001.attachments["年度合同扫描件"].sha256.startswith("4f6524f2")
    late = [e.late for e in v1_ledger.history("A001") if type(e).__name__ == "InteractionLogged"]
    assert late == [True]


def test_v1_a_company_through_complaint_risk_churn_and_win_back(v1_ledger) -> None:
    b002 = v1_ledger.customer("B002")
    assert (b002.version, b002.stage, b002.type) == (14, Stage.PROSPECT, CustomerType.COMPANY)
    assert (b002.churn_reason, b002.risk_flagged, b002.last_satisfaction) == (None, False, 2)
    assert list(b002.contacts) == ["c1"] and b002.contacts["c1"].phone == "010****8888"
    assert b002.contracts["HT-B002"].status is ContractStatus.TERMINATED
    assert b002.contracts["HT-B002"].terminated_on == date(2023, 10, 23)
    complaint = b002.complaints["TS-1"]
    assert (complaint.status, complaint.satisfaction) == (ComplaintStatus.RESOLVED, 2)
    assert b002.open_complaints == 0 and b002.revenue == {}
    stages = [v1_ledger.customer("B002", version=v).stage for v in (5, 6, 9, 10, 12, 13)]
    assert stages == [Stage.CUSTOMER, Stage.AT_RISK, Stage.AT_RISK, Stage.CUSTOMER,
                      Stage.CHURNED, Stage.PROSPECT]  # fmt: skip
    events = v1_ledger.history("B002")
    assert events[8].row.endswith("风险预警,follow up satisfaction")
    assert (events[11].meta.actor, events[11].meta.role) == ("*主管", "manager")
    assert [e.late for e in events if type(e).__name__ == "InteractionLogged"] == [True, False]


def test_v1_a_potential_customer(v1_ledger) -> None:
    c003 = v1_ledger.customer("C003")
    assert (c003.version, c003.stage, c003.interaction_count) == (3, Stage.PROSPECT, 1)
    assert c003.first_contact_at.isoformat() == "2023-09-05T00:00:00+08:00"
    assert c003.reminders["R1"].due_on == date(2023, 11, 20)


def test_v1_numbers_receipts_and_reads_still_work(v1_ledger) -> None:
    assert list(v1_ledger.numbers()) == ["A001", "B002", "C003"]
    # a command re-sent with its v1 command_id is still recognised from its v1 receipt
    before = v1_ledger.recorder.max_notification_id()
    again = v1_ledger.first_contact(
        "A001", name="*先生", type="individual", source="referral", industry="互联网",
        region="北京市", size="middle manager", owner="*经理",
        occurred_at=datetime(2023, 8, 1, 10, tzinfo=CST), actor="*助理", command_id="v1-0001",
    )  # fmt: skip
    assert again.replayed and again.version == 1 and again.number == "A001"
    assert v1_ledger.recorder.max_notification_id() == before
    # the unmasked read of A001 is in its access log
    reads = [
        e for e in v1_ledger.events.get(AccessLog.id_for(v1_ledger.customer_id("A001")))
        if type(e).__name__ == "PersonalDataRead"
    ]  # fmt: skip
    assert [(r.actor, r.role, r.why) for r in reads] == [("*主管", "manager", "renewal call")]


def test_every_event_and_field_is_in_the_catalogue() -> None:
    docs = (DOCS / "domain.md").read_text(encoding="utf-8")
    catalogue = docs.split("## Event catalogue", 1)[1].split("\n## ", 1)[0]
    common = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    common |= {"occurred_at", "meta", "originator_id_type"}
    side = [CustomerNumber.Claimed, CommandReceipt.Executed]  # type: ignore[attr-defined]
    side += [AccessLog.Opened, AccessLog.PersonalDataRead]  # type: ignore[attr-defined]
    for cls in [*CUSTOMER_EVENTS, *side]:
        row = next((line for line in catalogue.splitlines() if f"`{cls.__name__}`" in line), None)
        if cls in side:
            row = next(line for line in catalogue.splitlines() if cls.TOPIC in line)
        assert row is not None, f"{cls.__name__} is not in docs/domain.md"
        for name in set(typing.get_type_hints(cls)) - common:
            assert f"`{name}`" in row, f"{cls.__name__}.{name} is not in docs/domain.md"
