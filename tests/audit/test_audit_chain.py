"""The hash chain: an untouched history verifies clean, and each kind of tampering with
the stored rows (raw SQL on SQLite and PostgreSQL, the recorder's own structures in
memory) is found and named: which customer, which version, what kind.

A001 has versions 1-6 (v3 a purchase of 1000), B002 versions 1-2 (see ``tampering``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import IntegrityError, StoredEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import fixed_clock
from tampering import (
    DAY,
    Tamper,
    body,
    claim_id,
    flip,
    record_history,
    tamper_for,
    with_body,
)
from v1_fixture import v1_stored_events

from customer_ledger import Customer, CustomerLedger, Meta
from customer_ledger.audit.chain import HEADER_SIZE, link_hash, open_seal
from customer_ledger.audit.verify import Checkpoint, Finding, check_chain, checkpoint, verify
from customer_ledger.testing.random_histories import apply_history, histories

BACKENDS = ("memory", "sqlite", "postgresql")


def store_url_for(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    return fresh_store_url(backend, request, directory, pool="&pool_size=2&max_overflow=2")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url_for(request.param, request, tmp_path)


def opened(url: str) -> CustomerLedger:
    ledger = CustomerLedger.open(url, clock=fixed_clock)
    ledger.eager_views = False  # the views play no part in the chain
    return ledger


@pytest.fixture
def ledger(store_url: str) -> Iterator[CustomerLedger]:
    ledger = opened(store_url)
    yield ledger
    ledger.close()


@pytest.fixture
def history(ledger: CustomerLedger) -> CustomerLedger:
    record_history(ledger)
    return ledger


@pytest.fixture
def tamper(ledger: CustomerLedger) -> Tamper:
    return tamper_for(ledger)


def broken(ledger: CustomerLedger, **options: Any) -> list[tuple[str, str | None, int | None]]:
    """(kind, customer number, version) of every break ``verify`` finds."""
    return [(f.kind, f.number, f.version) for f in verify(ledger, **options).broken]


def all_stored(ledger: CustomerLedger) -> list[Any]:
    return list(ledger.recorder.select_notifications(start=1, limit=100_000))


# -- an untouched history ----------------------------------------------------------------


def test_an_untouched_history_verifies_clean(history: CustomerLedger) -> None:
    report = verify(history)
    assert report.ok
    assert report.findings == ()
    assert report.events == len(all_stored(history))
    assert report.chains == 4  # two customers and their two number claims


def test_every_stored_event_is_sealed_as_its_version_after_the_one_before(
    history: CustomerLedger, tamper: Tamper
) -> None:
    rows = tamper.rows(history.customer_id("A001"))
    seals = [open_seal(row.state) for row in rows]
    assert [s.version for s in seals if s] == [1, 2, 3, 4, 5, 6]
    assert seals[0] and seals[0].prev == bytes(32)
    for before, after in zip(rows, seals[1:], strict=False):
        assert after and after.prev == link_hash(before)


def test_one_customer_is_verified_with_its_number_claim(history: CustomerLedger) -> None:
    report = verify(history, "A001")
    assert report.ok
    assert (report.chains, report.events) == (2, 7)


def test_the_walk_checks_each_chain_once_however_little_it_remembers(
    history: CustomerLedger, tamper: Tamper
) -> None:
    tamper.delete(history.customer_id("B002"), 1)  # a chain whose first event is gone
    full, tight = verify(history), verify(history, remembered=1)
    assert (tight.events, tight.chains, tight.findings) == (full.events, full.chains, full.findings)
    assert full.events == len(all_stored(history))


# -- edits ---------------------------------------------------------------------------------


def test_an_edited_payload_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    # given the purchase of 1000 (A001 v3) is changed to 9000 in the database
    a001 = history.customer_id("A001")
    stored = tamper.rows(a001)[2]
    data = body(stored.state)
    assert data["amount"]["amount"] == "1000"
    data["amount"]["amount"] = "9000"
    tamper.set_state(a001, 3, with_body(stored.state, data))
    # then verify names the customer, the version and the kind
    [finding] = verify(history).broken
    assert finding == Finding(
        "payload_edited",
        finding.detail,
        customer_id=a001,
        number="A001",
        aggregate="Customer",
        originator_id=a001,
        version=3,
    )


def test_edited_metadata_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    a001 = history.customer_id("A001")
    # given who recorded v2 is changed, and v4 is relabelled as another kind of event
    stored = tamper.rows(a001)[1]
    data = body(stored.state)
    data["meta"]["actor"] = "*经理"
    tamper.set_state(a001, 2, with_body(stored.state, data))
    tamper.set_topic(a001, 4, "customer_ledger.Customer.Untagged")
    assert broken(history) == [("metadata_edited", "A001", 2), ("metadata_edited", "A001", 4)]


def test_an_edit_of_another_aggregate_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    # given B002's number claim is pointed at A001's customer record
    stored = tamper.rows(claim_id("B002"))[0]
    data = body(stored.state)
    data["customer_id"] = str(history.customer_id("A001"))
    tamper.set_state(claim_id("B002"), 1, with_body(stored.state, data))
    [finding] = verify(history).broken
    assert (finding.kind, finding.number, finding.aggregate, finding.version) == (
        "payload_edited",
        "B002",
        "CustomerNumber",
        1,
    )


# -- deletions -----------------------------------------------------------------------------


def test_a_deleted_event_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    tamper.delete(history.customer_id("A001"), 3)
    assert broken(history) == [("event_deleted", "A001", 3)]


def test_a_deletion_hidden_by_renumbering_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    a001 = history.customer_id("A001")
    tamper.delete(a001, 3)
    for version in (4, 5, 6):
        tamper.set_version(a001, version, version - 1)  # versions look gapless again
    assert broken(history) == [("event_deleted", "A001", 3)]


def test_a_deleted_first_event_is_found_and_named(history: CustomerLedger, tamper: Tamper) -> None:
    # given B002's first event, the one that names it, is deleted
    tamper.delete(history.customer_id("B002"), 1)
    # then the number still comes from its claim
    assert broken(history) == [("event_deleted", "B002", 1)]


# -- insertions ----------------------------------------------------------------------------


def test_an_inserted_copy_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    # given the purchase (v3) is copied, seal and all, to a new version 7
    a001 = history.customer_id("A001")
    purchase = tamper.rows(a001)[2]
    tamper.insert(StoredEvent(a001, 7, purchase.topic, purchase.state))
    assert broken(history) == [("event_inserted", "A001", 7)]


def test_an_inserted_unsealed_event_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    a001 = history.customer_id("A001")
    purchase = tamper.rows(a001)[2]
    tamper.insert(StoredEvent(a001, 7, purchase.topic, purchase.state[HEADER_SIZE:]))
    assert broken(history) == [("event_inserted", "A001", 7)]


def test_an_event_inserted_in_the_middle_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    # given versions 3-6 are moved up one and a forged purchase is put at version 3
    a001 = history.customer_id("A001")
    purchase = tamper.rows(a001)[2]
    for version in (6, 5, 4, 3):
        tamper.set_version(a001, version, version + 1)
    forged = body(purchase.state)
    forged["amount"]["amount"] = "50000"
    tamper.insert(StoredEvent(a001, 3, purchase.topic, with_body(purchase.state, forged)))
    assert broken(history) == [("payload_edited", "A001", 3), ("event_inserted", "A001", 3)]


def test_a_copy_inserted_in_the_middle_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    a001 = history.customer_id("A001")
    interaction = tamper.rows(a001)[1]
    for version in (6, 5, 4, 3):
        tamper.set_version(a001, version, version + 1)
    tamper.insert(StoredEvent(a001, 3, interaction.topic, interaction.state))
    assert broken(history) == [("event_inserted", "A001", 3)]


# -- reordering ----------------------------------------------------------------------------


def test_swapped_events_are_found(history: CustomerLedger, tamper: Tamper) -> None:
    a001 = history.customer_id("A001")
    tamper.set_version(a001, 2, 100)
    tamper.set_version(a001, 4, 2)
    tamper.set_version(a001, 100, 4)
    assert broken(history) == [("events_reordered", "A001", 2), ("events_reordered", "A001", 4)]


def test_an_event_moved_to_the_end_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    tamper.set_version(history.customer_id("A001"), 3, 30)
    assert broken(history) == [("events_reordered", "A001", 30)]


def test_a_renumbered_chain_is_found(history: CustomerLedger, tamper: Tamper) -> None:
    b002 = history.customer_id("B002")
    tamper.set_version(b002, 2, 12)
    tamper.set_version(b002, 1, 11)
    assert broken(history) == [("metadata_edited", "B002", 11), ("metadata_edited", "B002", 12)]


# -- damage --------------------------------------------------------------------------------


def test_damaged_events_are_reported_and_the_walk_carries_on(
    history: CustomerLedger, tamper: Tamper
) -> None:
    a001, b002 = history.customer_id("A001"), history.customer_id("B002")
    tamper.set_state(a001, 2, flip(tamper.rows(a001)[1].state, HEADER_SIZE, 0x40))  # '{' -> ';'
    tamper.set_state(b002, 1, flip(tamper.rows(b002)[0].state, 0))  # the seal's first byte
    tamper.set_state(a001, 5, tamper.rows(a001)[4].state[: HEADER_SIZE - 3])  # truncated
    report = verify(history)
    assert [(f.kind, f.number, f.version) for f in report.broken] == [
        ("corrupt", "A001", 2),
        ("corrupt", "A001", 5),
        ("corrupt", "B002", 1),
    ]
    assert report.events == len(all_stored(history))


# -- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_matches_the_log_it_was_taken_of(history: CustomerLedger) -> None:
    anchor = checkpoint(history)
    assert anchor.events == len(all_stored(history))
    history.tag("A001", tag="renewed", occurred_at=DAY)  # later events are not covered
    report = verify(history, against=anchor)
    assert report.ok and report.checkpoint and report.checkpoint.ok
    assert Checkpoint.parse(json.dumps(anchor.to_json())) == anchor


def test_deleting_the_newest_events_is_found_against_a_checkpoint(
    history: CustomerLedger, tamper: Tamper
) -> None:
    anchor = checkpoint(history)
    # given B002's newest event (its complaint) is deleted: no chain can tell
    tamper.delete(history.customer_id("B002"), 2)
    assert verify(history).ok
    # then the checkpoint can
    report = verify(history, against=anchor)
    assert not report.ok
    [finding] = report.broken
    assert (finding.kind, finding.notification_id) == ("event_deleted", anchor.notification_id)


def test_newest_events_deleted_and_replaced_are_found_against_a_checkpoint(
    history: CustomerLedger, tamper: Tamper
) -> None:
    # given the newest event is deleted and a new one recorded (SQLite reuses its row id)
    anchor = checkpoint(history)
    tamper.delete_newest(1)
    history.file_complaint("B002", complaint="C2", subject="another", occurred_at=DAY)
    assert verify(history).ok
    assert len(all_stored(history)) == anchor.events
    # then the log up to the checkpoint is not what it was
    report = verify(history, against=anchor)
    assert [f.kind for f in report.broken] in (["payload_edited"], ["event_deleted"])


def test_an_edit_anywhere_before_a_checkpoint_is_found(
    history: CustomerLedger, tamper: Tamper
) -> None:
    anchor = checkpoint(history)
    a001 = history.customer_id("A001")
    stored = tamper.rows(a001)[0]
    data = body(stored.state)
    data["industry"] = "制造业"
    tamper.set_state(a001, 1, with_body(stored.state, data))
    kinds = {(f.kind, f.version) for f in verify(history, against=anchor).broken}
    assert kinds == {("payload_edited", 1), ("payload_edited", None)}


# -- events recorded before chaining ---------------------------------------------------------


def test_events_from_before_chaining_are_unchained_not_tampered(ledger: CustomerLedger) -> None:
    # given a store holding the first release's (unsealed) events
    legacy = v1_stored_events()
    ledger.recorder.insert_events(legacy)
    report = verify(ledger)
    assert report.ok
    assert report.unchained_events == len(legacy)
    assert {f.kind for f in report.findings} == {"unchained"}
    # when a customer recorded then gets new events, they are sealed and verify clean
    before = len(ledger.history("A001"))
    ledger.tag("A001", tag="chained", occurred_at=DAY)
    assert ledger.history("A001")[-1].originator_version == before + 1
    assert verify(ledger).ok


def test_the_first_sealed_event_vouches_for_the_last_unsealed_one(
    ledger: CustomerLedger,
) -> None:
    ledger.recorder.insert_events(v1_stored_events())
    last = len(ledger.history("A001"))
    ledger.tag("A001", tag="chained", occurred_at=DAY)
    tamper = tamper_for(ledger)
    a001 = ledger.customer_id("A001")
    stored = tamper.rows(a001)[last - 1]
    edited = json.loads(stored.state)
    edited["expires_on"] = "2099-12-31"  # the renewal recorded before chaining
    tamper.set_state(a001, last, json.dumps(edited).encode())
    assert ("payload_edited", "A001", last) in broken(ledger)


# -- the seal cache under concurrent writers --------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_write_that_lost_a_race_leaves_no_stale_link(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given snapshots every 2 events, so reloading after a lost race decodes no event
    monkeypatch.setattr(CustomerLedger, "snapshotting_intervals", {Customer: 2})
    url = store_url_for(backend, request, tmp_path)
    first, second = opened(url), opened(url)
    try:
        first.first_contact("A001", name="*先生", type="individual", occurred_at=DAY)
        # when `first` loads A001, `second` records version 2, and `first` then tries its own
        stale = first.repository.get(first.customer_id("A001"))
        second.tag("A001", tag="second", occurred_at=DAY)
        meta = Meta(actor="*助理", role="system")
        stale.tag("first", occurred_at=fixed_clock(), meta=meta, now=fixed_clock())
        with pytest.raises(IntegrityError):
            first.save(stale)
        # then `first` still links its next event to the version 2 that was recorded
        first.tag("A001", tag="again", occurred_at=DAY)
        assert verify(first).ok
    finally:
        first.close()
        second.close()


# -- properties -----------------------------------------------------------------------------


def chain_breaks_after_flip(ledger: CustomerLedger, data: st.DataObject) -> None:
    """Flips one byte of one stored event; ``verify`` must name that event."""
    stored = data.draw(st.sampled_from(all_stored(ledger)), label="event")
    position = data.draw(st.integers(0, len(stored.state) - 1), label="byte")
    mask = data.draw(st.integers(1, 255), label="xor")
    tamper_for(ledger).set_state(
        stored.originator_id, stored.originator_version, flip(stored.state, position, mask)
    )
    hits = [
        f
        for f in verify(ledger).broken
        if f.originator_id == stored.originator_id and f.version == stored.originator_version
    ]
    assert hits, f"flipping byte {position} of {stored.topic} went unnoticed"


@settings(max_examples=60)
@given(steps=histories(max_steps=20), data=st.data())
def test_any_valid_history_verifies_clean_and_any_flipped_byte_is_found(
    steps: list[Any], data: st.DataObject
) -> None:
    ledger = opened("memory://")
    apply_history(ledger, steps)
    assert verify(ledger).ok
    chain_breaks_after_flip(ledger, data)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@settings(max_examples=3, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=histories(max_steps=10), data=st.data())
def test_on_a_database_too(
    backend: str, request: pytest.FixtureRequest, steps: list[Any], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        ledger = opened(store_url_for(backend, request, Path(directory)))
        try:
            apply_history(ledger, steps)
            assert verify(ledger).ok
            chain_breaks_after_flip(ledger, data)
        finally:
            ledger.close()


def test_check_chain_of_nothing_finds_nothing() -> None:
    assert check_chain([]) == ([], 0)
