"""A customer's whole state (snapshot, view state) is sealed as one blob, and the
per-value form earlier releases wrote still opens.

For any customer state: sealing it together and opening it gives it back exactly; the
per-value form of the same state opens to the same; once the key is destroyed both open
to the same ``[erased]`` placeholders, and without usable keys to ``[encrypted]``. The
ledger replays a customer from a snapshot of either form to the state a fold of its
events gives.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent
from histories import aggregate_state, folded
from hypothesis import given
from hypothesis import strategies as st
from strategies import contacts, optional, words

from customer_ledger import Contact, Customer, CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ENCRYPTED, ERASED, UNREADABLE
from customer_ledger.domain.values import Meta
from customer_ledger.errors import PersonalDataUnreadable
from customer_ledger.privacy.fields import STATE, TOKEN, Fields, PersonalFields, plan_of, walk
from customer_ledger.privacy.keys import MasterKey, MemoryKeyStore
from customer_ledger.projections.fold import customer_from_state, state_bytes
from customer_ledger.serialization import decode, encode, unstructure_state

WHEN = datetime(2024, 1, 2, tzinfo=UTC)
META = Meta(actor="tester")


@st.composite
def customer_states(draw: st.DrawFn) -> tuple[UUID, dict[str, Any]]:
    """An individual's or a company's unstructured state: profile, contacts, maybe
    forgotten (its personal values then read ``[erased]`` before any sealing)."""
    customer = Customer.first_contact(
        number="S001",
        name=draw(words()),
        type=draw(st.sampled_from(["individual", "company"])),
        licence_no=draw(optional(words(max_size=18))),
        registered_address=draw(optional(words(max_size=40))),
        occurred_at=WHEN,
        now=WHEN,
        meta=META,
    )
    ids = draw(st.lists(words(max_size=8), unique=True, max_size=5))
    for contact_id in ids:
        customer.add_contact(draw(contacts(contact_id)), occurred_at=WHEN, now=WHEN, meta=META)
    if draw(st.booleans()):
        customer.forget(occurred_at=WHEN, now=WHEN, meta=META)
    return customer.id, unstructure_state(Customer, vars(customer))


def sealers() -> tuple[PersonalFields, MemoryKeyStore]:
    keys = MemoryKeyStore(MasterKey.generate())
    return PersonalFields(lambda: keys), keys


def stored(data: dict[str, Any]) -> dict[str, Any]:
    """As the store gives it back: canonical JSON, decoded."""
    return decode(encode(data))  # type: ignore[no-any-return]


def per_value(fields: PersonalFields, owner: UUID, data: dict[str, Any]) -> dict[str, Any]:
    """The form the previous release wrote: each personal value its own token."""
    plan = plan_of(Customer)
    assert plan is not None
    return fields.seal_node(owner, plan, data)  # type: ignore[no-any-return]


def read_as(fill: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with each personal value as a reader without its key gets it."""
    plan = plan_of(Customer)
    assert plan is not None
    return walk(plan, data, (), lambda v, _, __: v if v in UNREADABLE else fill)  # type: ignore[no-any-return]


@given(state=customer_states())
def test_a_state_sealed_together_opens_to_itself(state):
    owner, data = state
    fields, _ = sealers()
    sealed = stored(fields.seal_state(owner, Customer, data))
    assert TOKEN.encode() not in encode(sealed)
    assert fields.open_value(owner, sealed) == stored(data)


@given(state=customer_states())
def test_the_per_value_form_opens_to_the_same_state(state):
    owner, data = state
    fields, _ = sealers()
    old = stored(per_value(fields, owner, data))
    new = stored(fields.seal_state(owner, Customer, data))
    assert STATE.encode() not in encode(old)
    assert fields.open_value(owner, old) == fields.open_value(owner, new) == stored(data)


@given(state=customer_states())
def test_once_the_key_is_destroyed_both_forms_open_to_erased(state):
    owner, data = state
    fields, keys = sealers()
    old = stored(per_value(fields, owner, data))
    new = stored(fields.seal_state(owner, Customer, data))
    keys.destroy(owner)
    expected = stored(read_as(ERASED, data))
    assert fields.open_value(owner, old) == fields.open_value(owner, new) == expected


@given(state=customer_states())
def test_without_usable_keys_both_forms_open_to_encrypted(state):
    owner, data = state
    fields, _ = sealers()
    old = stored(per_value(fields, owner, data))
    new = stored(fields.seal_state(owner, Customer, data))
    elsewhere, _ = sealers()  # another store's keys: this customer has none there
    if old == stored(data):
        return  # nothing personal to seal: nothing asks for a key
    expected = stored(read_as(ENCRYPTED, data))
    assert elsewhere.open_value(owner, old, without_keys=True) == expected
    assert elsewhere.open_value(owner, new, without_keys=True) == expected


@given(state=customer_states())
def test_a_view_state_of_either_form_loads_as_the_customer(state):
    owner, data = state
    fields, _ = sealers()
    customer = customer_from_state(encode(data), fields, owner)  # (plain: to compare with)
    new = customer_from_state(state_bytes(customer, fields), fields, owner)
    old = customer_from_state(encode(per_value(fields, owner, data)), fields, owner)
    assert aggregate_state(new) == aggregate_state(old) == aggregate_state(customer)


def test_a_sealed_state_holds_its_values_once_and_binds_them_to_its_customer():
    fields, _ = sealers()
    owner = UUID(int=1)
    customer = Customer.first_contact(
        number="S001", name="欧阳秘密", type="individual", occurred_at=WHEN, now=WHEN, meta=META
    )
    customer.add_contact(
        Contact("c1", "联系人秘密", phone="13912347788"), occurred_at=WHEN, now=WHEN, meta=META
    )
    data = unstructure_state(Customer, vars(customer))
    sealed = encode(fields.seal_state(owner, Customer, data))
    for secret in ("欧阳秘密", "联系人秘密", "13912347788"):
        assert secret.encode() not in sealed
    assert sealed.count(b'"blob"') == 1
    # a map altered to put values elsewhere does not open
    moved = decode(sealed)
    at = moved[STATE]["at"]
    at["name"], at["contacts"]["c1"]["name"] = at["contacts"]["c1"]["name"], at["name"]
    with pytest.raises(PersonalDataUnreadable):
        fields.open_value(owner, moved)
    # nor does the blob under another customer's id
    other = UUID(int=2)
    fields._keys().key_for_writing(other)
    with pytest.raises(PersonalDataUnreadable):
        fields.open_value(other, decode(sealed))


# -- the ledger: snapshots of either form -----------------------------------------------------


def life(ledger: CustomerLedger) -> UUID:
    ledger.first_contact("Q001", name="欧阳秘密", type="individual", registered_address="北京")
    ledger.add_contact("Q001", contact=Contact("c1", "联系人", phone="13912347788"))
    ledger.log_interaction("Q001", channel="phone", topic="call")
    return ledger.customer_id("Q001")


def snapshot_rows(ledger: CustomerLedger, customer_id: UUID) -> list[StoredEvent]:
    return list(ledger.snapshots.recorder.select_events(customer_id))  # type: ignore[union-attr]


def per_value_snapshot(ledger: CustomerLedger, customer_id: UUID, version: int) -> None:
    """Stores the customer's snapshot at ``version`` as the previous release did: each
    personal value sealed on its own."""
    snapshot = Customer.Snapshot.take(folded(ledger, customer_id, version))  # type: ignore[attr-defined]
    mapper: Any = ledger.mapper
    plan = plan_of(Customer)
    assert plan is not None
    data = mapper.personal.seal_node(
        customer_id, Fields({"state": plan}), mapper._snapshot_data(snapshot)
    )
    topic = mapper.to_stored_event(snapshot).topic
    ledger.snapshots.recorder.insert_events(  # type: ignore[union-attr]
        [StoredEvent(customer_id, version, topic, encode(data))]
    )


def test_a_snapshot_is_sealed_together_and_replays_to_the_fold_of_its_events(ledger):
    customer_id = life(ledger)
    ledger.take_snapshot(customer_id, version=2)
    (row,) = snapshot_rows(ledger, customer_id)
    assert b'"$sealed"' in row.state and b'"$enc"' not in row.state
    assert aggregate_state(ledger.customer("Q001")) == aggregate_state(
        folded(ledger, customer_id, 3)
    )


def test_a_snapshot_the_previous_release_sealed_per_value_still_replays(ledger):
    customer_id = life(ledger)
    per_value_snapshot(ledger, customer_id, 2)
    (row,) = snapshot_rows(ledger, customer_id)
    assert b'"$enc"' in row.state and b'"$sealed"' not in row.state
    assert aggregate_state(ledger.customer("Q001")) == aggregate_state(
        folded(ledger, customer_id, 3)
    )


@pytest.mark.parametrize("form", ["together", "per value"])
def test_a_forgotten_customers_snapshot_of_either_form_reads_erased(ledger, form):
    customer_id = life(ledger)
    if form == "together":
        ledger.take_snapshot(customer_id, version=2)
    else:
        per_value_snapshot(ledger, customer_id, 2)
    ledger.forget("Q001", actor=Actor("dpo", "admin"), reason="asked")
    customer = ledger.customer("Q001", version=2)
    assert (customer.name, customer.registered_address) == (ERASED, ERASED)
    assert (customer.contacts["c1"].name, customer.contacts["c1"].phone) == (ERASED, ERASED)
    assert aggregate_state(customer) == aggregate_state(folded(ledger, customer_id, 2))


def test_the_blob_is_base64_of_one_versioned_ciphertext(ledger):
    customer_id = life(ledger)
    ledger.take_snapshot(customer_id, version=2)
    (row,) = snapshot_rows(ledger, customer_id)
    blob = base64.b64decode(orjson.loads(row.state)[STATE]["blob"])
    assert blob[:1] == b"\x01"  # the key's ciphertext format, as a per-value token's
