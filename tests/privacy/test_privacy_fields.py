"""Personal fields: marked in the type hints, encrypted per customer by the mapper.

What is personal is declared once (``Annotated[T, PERSONAL]``); these tests pin which
fields that is, check that the markers leave eventsourcing, cattrs and
``typing.get_type_hints`` working, and that the mapper stores ciphertext only, binds it
to its customer and field, reads legacy plaintext as it is, and fails loudly (never
silently erasing) when the keys are missing or the master key is wrong.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import stat
import typing
from datetime import date
from pathlib import Path

import orjson
import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import fixed_clock, words

from customer_ledger import Contact, Customer, CustomerLedger, LedgerError, StoreError
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ERASED, INDIVIDUALS_ONLY, PERSONAL, marker
from customer_ledger.domain.registry import AccessLog, CommandReceipt, CustomerNumber
from customer_ledger.errors import (
    CorruptEvent,
    DataKeyMissing,
    KeyStoreUnknown,
    MasterKeyInvalid,
    MasterKeyMismatch,
    MasterKeyMissing,
)
from customer_ledger.privacy.fields import Leaf, Values, plan_of
from customer_ledger.privacy.keys import MASTER_KEY_ENV
from customer_ledger.serialization import converter
from customer_ledger.storage.port import Adapter
from customer_ledger.storage.urls import StoreURL

CONTACT_FIELDS = {"name", "phone", "email", "address", "wechat", "qq", "birthday"}
SECRET = "秘"  # every generated personal text carries it; nothing else in a store does


# -- what is personal ------------------------------------------------------------------------


def test_every_contact_field_but_id_title_and_flag_is_personal():
    hints = typing.get_type_hints(Contact, include_extras=True)
    assert {n for n, h in hints.items() if marker(h) is PERSONAL} == CONTACT_FIELDS
    assert set(hints) - CONTACT_FIELDS == {"contact_id", "title", "primary"}


def test_an_individuals_name_licence_and_address_are_personal_a_companys_are_not():
    for cls in (Customer.FirstContacted, Customer):  # type: ignore[attr-defined]
        plan = plan_of(cls)
        assert plan is not None
        for name in ("name", "licence_no", "registered_address"):
            assert plan.fields[name] == Leaf(INDIVIDUALS_ONLY), (cls, name)
    assert plan_of(Customer).fields["contacts"] == Values(plan_of(Contact))  # type: ignore[union-attr]


def test_which_events_carry_personal_data():
    carrying = {
        name: set(plan.fields)
        for name, cls in vars(Customer).items()
        if isinstance(cls, type) and issubclass(cls, Customer.Event)
        and (plan := plan_of(cls)) is not None
    }  # fmt: skip
    assert carrying == {
        "FirstContacted": {"name", "licence_no", "registered_address"},
        "ProfileUpdated": {"changes", "previous"},
        "ContactAdded": {"contact"},
        "ContactUpdated": {"contact"},
        "StageSetOnImport": {"row"},
        "CustomerAbsorbed": {"contribution"},  # the merged record's contacts
    }
    for field in ("changes", "previous"):
        changes = plan_of(Customer.ProfileUpdated).fields[field]  # type: ignore[attr-defined,union-attr]
        assert isinstance(changes, Leaf)
        assert changes.marker.keys == {"name", "licence_no", "registered_address"}


def test_other_aggregates_carry_none():
    for cls in (CustomerNumber.Claimed, CommandReceipt.Executed, AccessLog.Opened,  # type: ignore[attr-defined]
                AccessLog.PersonalDataRead):  # type: ignore[attr-defined]  # fmt: skip
        assert plan_of(cls) is None


def test_the_markers_leave_type_hints_and_cattrs_as_they_were():
    # get_type_hints without extras sees the plain types, as cattrs and the mapper do
    assert typing.get_type_hints(Contact)["phone"] == str | None
    assert typing.get_type_hints(Customer.FirstContacted)["name"] is str  # type: ignore[attr-defined]
    for cls in vars(Customer).values():
        if isinstance(cls, type) and issubclass(cls, Customer.Event):
            typing.get_type_hints(cls)
            typing.get_type_hints(cls, include_extras=True)
    contact = Contact("c1", "张三", phone="13812345678", birthday=date(1990, 1, 2))
    assert converter.structure(converter.unstructure(contact), Contact) == contact


# -- ciphertext in the store ---------------------------------------------------------------


def body(ledger: CustomerLedger, stored: StoredEvent) -> bytes:
    """The JSON body of a stored event, without the hash chain's header."""
    return ledger.mapper.chain.open(stored)  # type: ignore[attr-defined, no-any-return]


def secret_words() -> st.SearchStrategy[str]:
    return words(max_size=12).map(lambda w: f"{SECRET}{w}")


@st.composite
def personal_records(draw: st.DrawFn) -> tuple[str, Contact, str]:
    contact = Contact(
        contact_id=draw(words(max_size=8)),
        name=draw(secret_words()),
        title=draw(st.none() | words(max_size=8)),
        phone=draw(st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)),
        email=draw(
            st.none()
            | st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True).map(
                lambda w: f"{SECRET}{w}@example.org"
            )
        ),
        address=draw(st.none() | secret_words()),
        wechat=draw(st.none() | secret_words()),
        qq=draw(st.none() | secret_words()),
        birthday=draw(st.none() | st.dates(date(1930, 1, 1), date(1999, 12, 31))),
    )
    return draw(secret_words()), contact, draw(secret_words())


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(record=personal_records())
def test_stored_bytes_hold_no_personal_value_in_clear(record):
    name, contact, row = record
    with CustomerLedger.open("memory://", clock=fixed_clock) as ledger:
        # given an individual's personal data, by every path that records it
        ledger.first_contact("P1", name=name, type="individual", registered_address=row)
        ledger.add_contact("P1", contact=contact)
        ledger.update_profile("P1", changes={"name": name + "2", "licence_no": row})
        ledger.set_stage_on_import("P1", stage="at_risk", row=row)
        ledger.take_snapshot(ledger.customer_id("P1"))
        # then the stored bytes hold none of it
        stored = b"".join(n.state for n in ledger.recorder.select_notifications(1, 100))
        stored += b"".join(
            s.state for s in ledger.snapshots.recorder.select_events(ledger.customer_id("P1"))
        )
        assert SECRET.encode() not in stored
        for value in (contact.phone, contact.birthday and contact.birthday.isoformat()):
            assert value is None or value.encode() not in stored
        # and the ledger gives every value back exactly
        assert ledger.customer("P1").contacts[contact.contact_id] == contact
        assert ledger.history("P1")[0].name == name
        assert ledger.history("P1")[-1].row == row


def test_a_companys_name_is_stored_in_clear_an_individuals_is_not(ledger):
    ledger.first_contact("B1", name="某某科技有限公司", type="company", licence_no="91110X")
    ledger.first_contact("P1", name="欧阳某某", type="individual")
    stored = b"".join(n.state for n in ledger.recorder.select_notifications(1, 100))
    assert "某某科技有限公司".encode() in stored and b"91110X" in stored
    assert "欧阳某某".encode() not in stored


def test_the_same_value_encrypts_alike_for_one_customer_and_field_only(ledger):
    for number in ("P1", "P2"):
        ledger.first_contact(number, name="同名", type="individual", registered_address="同名")

    def sealed(number: str) -> dict:
        (event,) = ledger.recorder.select_events(ledger.customer_id(number), lte=1)
        return orjson.loads(body(ledger, event))

    p1, p2 = sealed("P1"), sealed("P2")
    assert ledger.mapper.to_stored_event(ledger.history("P1")[0]).state == (
        ledger.recorder.select_events(ledger.customer_id("P1"), lte=1)[0].state
    ), "re-encoding an event gives its stored bytes"
    assert p1["name"] != p2["name"], "another customer, another key"
    assert p1["name"] != p1["registered_address"], "another field, another ciphertext"


def test_keys_in_memory_are_bounded_and_an_evicted_key_is_read_again(ledger, monkeypatch):
    from customer_ledger.privacy import keys

    monkeypatch.setattr(keys, "CACHE_LIMIT", 2)
    names = {f"P{i}": f"欧阳{i}" for i in range(5)}
    for number, name in names.items():
        ledger.first_contact(number, name=name, type="individual")
    ledger.forget("P0", actor=Actor("dpo", "admin"), reason="asked")
    for number, name in names.items():  # every key evicted and unwrapped again, twice
        for _ in range(2):
            expected = "[erased]" if number == "P0" else name
            assert ledger.history(number)[0].name == expected
    assert len(ledger.keys._cache) <= 2


def test_a_ciphertext_moved_to_another_field_does_not_decrypt(ledger):
    ledger.first_contact("P1", name="欧阳", type="individual", registered_address="北京")
    (stored,) = ledger.recorder.select_events(ledger.customer_id("P1"), lte=1)
    data = orjson.loads(body(ledger, stored))
    data["name"], data["registered_address"] = data["registered_address"], data["name"]
    moved = StoredEvent(stored.originator_id, 1, stored.topic, orjson.dumps(data))  # unsealed
    with pytest.raises(CorruptEvent, match="integrity"):
        ledger.mapper.to_domain_event(moved)


def test_legacy_plaintext_reads_as_it_is_and_forgetting_says_it_stays(ledger):
    # given an event recorded before personal data was encrypted
    ledger.first_contact("P1", name="旧名", type="individual")
    customer_id = ledger.customer_id("P1")
    legacy = b'{"contact":{"contact_id":"c1","name":"\xe6\x97\xa7\xe4\xba\xba","primary":false},'
    legacy += b'"meta":{"actor":"x"},"occurred_at":"2024-01-02T00:00:00+00:00",'
    legacy += b'"timestamp":"2024-01-02T00:00:00+00:00"}'
    ledger.recorder.insert_events(
        [StoredEvent(customer_id, 2, "customer_ledger.Customer.ContactAdded", legacy)]
    )
    # then it decodes as it is
    assert ledger.history("P1")[1].contact.name == "旧人"
    # and forgetting erases what was encrypted and says what it cannot erase
    result = ledger.forget("P1", actor=Actor("dpo", "admin"), reason="asked")
    assert ledger.history("P1")[0].name == ERASED
    assert result.notes == (
        "1 event(s) of this customer were recorded before personal data was encrypted and "
        "still hold it in clear: events cannot be changed",
    )


# -- keys: never a silent erasure ----------------------------------------------------------------


def test_a_key_missing_from_the_table_is_an_error_not_an_erasure(ledger):
    ledger.first_contact("P1", name="欧阳", type="individual")
    ledger.keys._rows.pop(ledger.customer_id("P1"))  # the key table lost the row
    ledger.keys.forget_cached(ledger.customer_id("P1"))
    with pytest.raises(DataKeyMissing):
        ledger.history("P1")


def test_sqlite_makes_a_private_master_key_file_on_first_use(tmp_path, monkeypatch):
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    url = f"sqlite:///{tmp_path}/l.db"
    with CustomerLedger.open(url) as ledger:
        ledger.first_contact("P1", name="欧阳", type="individual")
    key_file = tmp_path / "l.db.master-key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    with CustomerLedger.open(url) as again:  # reopened: the same key opens the data
        assert again.history("P1")[0].name == "欧阳"


def test_sqlite_without_its_key_file_refuses_to_guess(tmp_path, monkeypatch, rejects):
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    url = f"sqlite:///{tmp_path}/l.db"
    with CustomerLedger.open(url) as ledger:
        ledger.first_contact("P1", name="欧阳", type="individual")
    (tmp_path / "l.db.master-key").unlink()
    with pytest.raises(MasterKeyMissing, match="restore"):
        CustomerLedger.open(url)
    assert not (tmp_path / "l.db.master-key").exists()


def test_another_master_key_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    url = f"sqlite:///{tmp_path}/l.db"
    with CustomerLedger.open(url) as ledger:
        ledger.first_contact("P1", name="欧阳", type="individual")
    monkeypatch.setenv(MASTER_KEY_ENV, base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(MasterKeyMismatch):  # refused when opened: nothing can be written
        CustomerLedger.open(url)
    with CustomerLedger.open(url, read_only=True) as reader, pytest.raises(MasterKeyMismatch):
        reader.history("P1")


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_master_key_is_a_typed_error(value, monkeypatch):
    monkeypatch.setenv(MASTER_KEY_ENV, value)
    with pytest.raises(MasterKeyInvalid):  # refused when opened: nothing can be written
        CustomerLedger.open("memory://")


def test_a_ledger_built_from_another_ledgers_env_reads_its_data(tmp_path):
    # as eventsourcing's ProjectionRunner builds its application
    with CustomerLedger.open(f"sqlite:///{tmp_path}/l.db") as ledger:
        ledger.first_contact("P1", name="欧阳", type="individual")
        twin = CustomerLedger(env=dict(ledger.env))
        try:
            assert twin.history("P1")[0].name == "欧阳"
        finally:
            twin.close()


def test_a_ledger_on_a_real_store_must_say_where_its_keys_are(tmp_path):
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{tmp_path}/x.db"}
    ledger = CustomerLedger(env=env)
    try:
        with pytest.raises(KeyStoreUnknown):
            ledger.first_contact("P1", name="欧阳", type="individual")
        assert (ledger.recorder.max_notification_id() or 0) == 0
    finally:
        ledger.close()


def test_an_adapter_without_a_key_table_cannot_store_personal_data():
    class Bare(Adapter):
        scheme = "bare"

        def application_env(self, url):  # pragma: no cover - not called
            return {}

        def views(self, url):  # pragma: no cover - not called
            raise NotImplementedError

    with pytest.raises(StoreError, match="keeps no data keys"):
        Bare().key_store(StoreURL.parse("bare://x"), None)


def test_key_errors_are_ledger_errors_with_rules():
    for error in (MasterKeyMissing, MasterKeyInvalid, MasterKeyMismatch, DataKeyMissing):
        assert issubclass(error, LedgerError) and error.rule.startswith(("master", "data"))


def test_the_sqlite_key_table_keeps_only_a_tombstone(tmp_path):
    with CustomerLedger.open(f"sqlite:///{tmp_path}/l.db", clock=fixed_clock) as ledger:
        ledger.first_contact("P1", name="欧阳", type="individual")
        customer_id = str(ledger.customer_id("P1"))
        ledger.forget("P1", actor=Actor("dpo", "admin"), reason="asked")
    with sqlite3.connect(Path(tmp_path) / "l.db") as db:
        row = db.execute(
            "SELECT wrapped, destroyed_at FROM customer_keys WHERE customer_id = ?",
            (customer_id,),
        ).fetchone()
    assert row[0] is None and row[1] is not None
