"""Moving a ledger (``customer-ledger copy``, ``application.copying``): the copy is the
source, event by event as stored, on any backend, with another master key; a target
holding anything else is refused; a forgotten customer stays forgotten."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from copy_support import (
    ADMIN,
    FORGOTTEN,
    HALF_FORGOTTEN,
    everything,
    log_rows,
    new_master_key,
    record_everything,
)
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    postgres_database,
    postgres_url_factory,
)
from eventsourcing.persistence import IntegrityError, StoredEvent
from hypothesis import HealthCheck, given, settings

from customer_ledger import CustomerLedger
from customer_ledger.application.copying import copy_ledger
from customer_ledger.audit.verify import checkpoint
from customer_ledger.domain.access import Actor
from customer_ledger.domain.personal import ERASED
from customer_ledger.errors import (
    CopyConflict,
    CopyToItself,
    PermissionDenied,
    StoreError,
    TargetNotEmpty,
)
from customer_ledger.testing import clock, snapshot_views
from customer_ledger.testing.random_histories import apply_history, histories

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str]:
    """Makes a fresh store URL of a backend: memory, sqlite or postgres."""

    def make(backend: str) -> str:
        if backend == "memory":
            return "memory://"
        if backend == "sqlite":
            return f"sqlite:///{tmp_path}/{uuid.uuid4().hex[:8]}.db"
        factory: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
        return factory()

    return make


def opened(url: str, master_key: str) -> CustomerLedger:
    return CustomerLedger.open(url, clock=clock, master_key=master_key)


@pytest.fixture
def source_key() -> str:
    return new_master_key()


@pytest.fixture
def target_key() -> str:
    return new_master_key()


def gap_in_the_log(ledger: CustomerLedger) -> None:
    """Makes PostgreSQL skip a notification id, as a writer that lost a race does: the
    failed insert used a value of the id sequence."""
    event = ledger.recorder.select_notifications(start=1, limit=1)[0]
    with pytest.raises(IntegrityError):
        ledger.recorder.insert_events(
            [StoredEvent(event.originator_id, event.originator_version, event.topic, b"")]
        )
    ledger.tag("A001", tag="after the gap")


# -- copy each way ------------------------------------------------------------------------

WAYS = [
    pytest.param("sqlite", "postgres", marks=pytest.mark.postgres, id="sqlite-to-postgres"),
    pytest.param("postgres", "sqlite", marks=pytest.mark.postgres, id="postgres-to-sqlite"),
    pytest.param("memory", "sqlite", id="memory-to-sqlite"),
    pytest.param("sqlite", "memory", id="sqlite-to-memory"),
]


@pytest.mark.parametrize(("source_backend", "target_backend"), WAYS)
def test_a_copy_is_the_source_on_another_backend_with_another_master_key(
    source_backend: str,
    target_backend: str,
    store: Callable[[str], str],
    source_key: str,
    target_key: str,
) -> None:
    # given a ledger holding a bit of everything (on PostgreSQL, with a gap in its ids)
    # (a forget stopped half-way is completed on the target: its own test, below)
    source = opened(store(source_backend), source_key)
    record_everything(source, half_forget=False)
    if source_backend == "postgres":
        gap_in_the_log(source)
        ids = [row[0] for row in log_rows(source)]
        assert ids != list(range(1, len(ids) + 1)), "no gap was made"
    before = everything(source)
    target = opened(store(target_backend), target_key)
    try:
        # when it is copied to an empty store of another backend, with another master key
        result = copy_ledger(source, target, actor=ADMIN)

        # then the target holds the very same log, views, histories, replays, users,
        # duplicates, audit log and checkpoint, and every chain verifies on it
        after = everything(target)
        for part, value in before.items():
            assert after[part] == value, part
        assert before["verify"][0] is True
        assert result.checkpoint.notification_id == before["checkpoint"][0]
        assert (result.checkpoint.hash, result.checkpoint.events) == before["checkpoint"][1:]
        assert result.events == len(before["log"]) and result.resumed_from == 0
        assert result.users == 2 and result.destroyed == 2
        # and the duplicate index built from the views is the one the aggregates give
        index = sorted(target.keys.index_rows())
        assert index and target.reindex_duplicates() == result.indexed
        assert sorted(target.keys.index_rows()) == index
        # and the source is as it was
        assert everything(source) == before
        # and the keys are wrapped with the target's master key, not the source's
        assert target.keys.master.to_text() == target_key != source_key
        # and the target goes on: a new command's events come after the copied ones
        last = before["log"][-1][0]
        target.tag("A001", tag="after the move")
        assert [row[0] for row in log_rows(target)][-1] == last + 1
        assert "after the move" in target.profile("A001").tags
    finally:
        target.close()
        source.close()


@pytest.mark.parametrize(("source_backend", "target_backend"), WAYS[:2])
def test_the_command_line_copies_and_prints_the_sources_checkpoint(
    source_backend: str,
    target_backend: str,
    store: Callable[[str], str],
    source_key: str,
    target_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from customer_ledger.audit.verify import Checkpoint
    from customer_ledger.cli.main import main

    # given a ledger and the source's checkpoint
    source_url, target_url = store(source_backend), store(target_backend)
    with opened(source_url, source_key) as source:
        record_everything(source, half_forget=False)
        expected = checkpoint(source)
    monkeypatch.setenv("CUSTOMER_LEDGER_MASTER_KEY", source_key)
    monkeypatch.setenv("CUSTOMER_LEDGER_TARGET_MASTER_KEY", target_key)

    # when the command line copies it
    code = main(["--store", source_url, "copy", "--to", target_url])

    # then it prints the checkpoint the source has, and says what it did
    out, err = capsys.readouterr()
    assert code == 0, err
    printed = Checkpoint.parse(out.strip())
    assert (printed.notification_id, printed.hash, printed.events) == (
        expected.notification_id, expected.hash, expected.events,
    )  # fmt: skip
    assert "every chain verifies" in err
    # and a second run finds the copy complete and changes nothing
    with opened(target_url, target_key) as target:
        copied = everything(target)
    assert main(["--store", source_url, "copy", "--to", target_url, "--json"]) == 0
    out, _ = capsys.readouterr()
    assert '"events":0' in out.replace(" ", "")
    with opened(target_url, target_key) as target:
        assert everything(target) == copied


class Stop(Exception):
    """Stands for the process dying there."""


@pytest.mark.parametrize(
    ("phase", "after"),
    [("events", 1), ("events", 4), ("keys", 1), ("users", 1), ("snapshots", 1), ("views", 1),
     ("duplicates", 1), ("verify", 1)],
)  # fmt: skip
def test_a_copy_stopped_in_any_phase_goes_on_and_never_copies_twice(
    phase: str, after: int, store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    # given a ledger, and a copy of it that stopped in the middle of a phase
    source, target = opened(store("sqlite"), source_key), opened(store("sqlite"), target_key)
    try:
        record_everything(source, half_forget=False)
        expected = everything(source)
        calls = []

        def dies(at: str, done: int, total: int | None) -> None:
            calls.append(at)
            if calls.count(phase) > after:
                raise Stop(at)

        with pytest.raises(Stop):
            copy_ledger(source, target, progress=dies, page_size=10)
        there = log_rows(target)
        assert there == expected["log"][: len(there)]  # the start of the log, whole pages

        # when it is run again
        result = copy_ledger(source, target, page_size=10)

        # then it went on from where the target ended, and the target is the source
        assert result.resumed_from == (there[-1][0] if there else 0)
        assert result.events == len(expected["log"]) - len(there)
        assert everything(target) == expected
    finally:
        target.close()
        source.close()


# -- what a copy refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_target_holding_other_events_is_refused_and_left_unchanged(
    target_backend: str,
    store: Callable[[str], str],
    source_key: str,
    target_key: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from customer_ledger.cli.main import main

    # given a ledger, and another store already holding a customer of its own
    source_url, target_url = store("sqlite"), store(target_backend)
    with opened(source_url, source_key) as source:
        record_everything(source, half_forget=False)
    with opened(target_url, target_key) as other:
        other.first_contact("Z001", name="另一家公司", type="company")
        other.users.add("carol", role="admin", password_text="a long passphrase 3", by=ADMIN)
        before = everything(other)
        keys_before = list(other.keys.data_keys())

    # when it is copied there, by the library or the command line
    with (
        opened(source_url, source_key) as source,
        opened(target_url, target_key) as other,
        pytest.raises(TargetNotEmpty),
    ):
        copy_ledger(source, other)
    monkeypatch.setenv("CUSTOMER_LEDGER_MASTER_KEY", source_key)
    monkeypatch.setenv("CUSTOMER_LEDGER_TARGET_MASTER_KEY", target_key)
    code = main(["--store", source_url, "copy", "--to", target_url])

    # then it is refused with a clear message, no traceback, and the target is unchanged
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("error [target_not_empty]: ") and "Traceback" not in err
    with opened(target_url, target_key) as other:
        assert everything(other) == before
        assert list(other.keys.data_keys()) == keys_before


def test_a_target_that_went_on_after_a_copy_is_refused(
    store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    # given a finished copy on which a command was recorded since
    source, target = opened(store("sqlite"), source_key), opened(store("sqlite"), target_key)
    try:
        record_everything(source, half_forget=False)
        copy_ledger(source, target)
        target.tag("A001", tag="only in the copy")
        source.tag("A001", tag="only in the source")
        rows = log_rows(target)
        # when the copy is run again, then it is refused and changes nothing
        with pytest.raises(TargetNotEmpty):
            copy_ledger(source, target)
        assert log_rows(target) == rows
    finally:
        target.close()
        source.close()


def test_a_copy_onto_itself_and_by_a_role_that_may_not_copy_are_refused(
    store: Callable[[str], str], source_key: str
) -> None:
    url = store("sqlite")
    with opened(url, source_key) as source:
        source.first_contact("A001", name="某公司", type="company")
        with pytest.raises(CopyToItself):
            copy_ledger(source, url)
        with pytest.raises(CopyToItself):
            copy_ledger(source, source)
        with pytest.raises(PermissionDenied):
            copy_ledger(source, store("sqlite"), actor=Actor("li.lei", "manager"))


def test_a_bad_or_wrong_target_master_key_is_refused_and_changes_nothing(
    store: Callable[[str], str], source_key: str, target_key: str, tmp_path: Path
) -> None:
    from customer_ledger.errors import MasterKeyInvalid, MasterKeyMismatch

    source_url, target_url = store("sqlite"), store("sqlite")
    with opened(source_url, source_key) as source:
        record_everything(source, half_forget=False)
        # a key that is no key: refused before any target is made
        never = tmp_path / "never.db"
        with pytest.raises(MasterKeyInvalid, match="CUSTOMER_LEDGER_TARGET_MASTER_KEY"):
            copy_ledger(source, f"sqlite:///{never}", master_key="not base64!")
        assert not never.exists()
        # a key that is not the target's: refused, naming the target, nothing written
        copy_ledger(source, target_url, master_key=target_key)
        with opened(target_url, target_key) as target:
            before = log_rows(target)
        source.tag("A001", tag="later")
        with pytest.raises(MasterKeyMismatch, match="the target"):
            copy_ledger(source, target_url, master_key=new_master_key())
    with opened(target_url, target_key) as target:
        assert log_rows(target) == before


def test_a_key_table_of_another_ledger_is_a_conflict(
    store: Callable[[str], str], source_key: str
) -> None:
    # given a target whose key table holds another key for one of the source's customers
    source, target = opened(store("sqlite"), source_key), opened(store("sqlite"), source_key)
    try:
        source.first_contact("A001", name="张三", type="individual")
        customer_id = source.customer_id("A001")
        target.keys.take_data_keys([(customer_id, os.urandom(32))])
        # when it is copied, then the copy stops at the conflict: no key is replaced
        with pytest.raises(CopyConflict):
            copy_ledger(source, target)
        assert next(k for page in target.keys.data_keys() for k in page)[0] == customer_id
    finally:
        target.close()
        source.close()


def test_memory_cannot_take_a_log_with_a_gap(
    store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    from eventsourcing.persistence import Notification

    from customer_ledger.storage.memory import MemoryAdapter

    target = opened("memory://", target_key)
    try:
        with pytest.raises(StoreError, match="without gaps"):
            MemoryAdapter().insert_notifications(
                target.recorder, [Notification(2, uuid.uuid4(), 1, "t", b"")]
            )
        assert log_rows(target) == []
    finally:
        target.close()


# -- forgetting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_forgotten_customer_stays_unreadable_on_the_target(
    target_backend: str, store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    # given a ledger with a forgotten customer and one whose forget stopped half-way
    source = opened(store("sqlite"), source_key)
    target = opened(store(target_backend), target_key)
    try:
        record_everything(source)
        half = source.customer_id(HALF_FORGOTTEN)
        assert source.keys.holds_key(half)

        # when it is copied
        copy_ledger(source, target)

        # then neither has a key on the target: each is a tombstone, read as erased
        for number in (FORGOTTEN, HALF_FORGOTTEN):
            customer_id = target.customer_id(number)
            assert not target.keys.holds_key(customer_id)
            assert target.keys.key_for_reading(customer_id) is None
            assert target.profile(number, actor=ADMIN, unmasked=True, why="check").name == ERASED
            assert all(
                c.phone in (None, ERASED) and c.name == ERASED
                for c in target.customer(number).contacts.values()
            )
        # and no new personal data can be recorded for them there
        from customer_ledger.errors import ForgottenCustomer

        with pytest.raises(ForgottenCustomer):
            target.keys.key_for_writing(target.customer_id(FORGOTTEN))
    finally:
        target.close()
        source.close()


def test_a_customer_forgotten_between_two_runs_is_forgotten_on_the_target(
    store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    # given a finished copy, then a customer forgotten in the source
    source, target = opened(store("sqlite"), source_key), opened(store("sqlite"), target_key)
    try:
        record_everything(source, half_forget=False)
        copy_ledger(source, target)
        assert target.keys.holds_key(target.customer_id("W001"))
        source.forget("W001", actor=ADMIN, reason="request 19")
        # when the copy runs again, then it goes on, and the key is destroyed there too
        result = copy_ledger(source, target)
        assert result.resumed_from > 0 and result.events == 1
        assert not target.keys.holds_key(target.customer_id("W001"))
        assert everything(target) == everything(source)
    finally:
        target.close()
        source.close()


# -- any history --------------------------------------------------------------------------


@settings(
    max_examples=int(os.environ.get("CUSTOMER_LEDGER_COPY_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=histories(max_steps=30))
def test_any_history_copies_to_equal_views_and_checkpoint(
    steps: list[tuple[str, int, int, int]], tmp_path: Path
) -> None:
    # given any valid history on one store
    source = opened("memory://", new_master_key())
    target = opened(f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db", new_master_key())
    try:
        apply_history(source, steps)
        # when it is copied, with a small page so that it takes several transactions
        result = copy_ledger(source, target, page_size=7)
        # then the log, the views and the checkpoint are the same
        assert log_rows(target) == log_rows(source)
        assert snapshot_views(target) == snapshot_views(source)
        anchor = checkpoint(source)
        assert (result.checkpoint.hash, result.checkpoint.events) == (anchor.hash, anchor.events)
    finally:
        target.close()
        source.close()


# -- the documentation --------------------------------------------------------------------


def test_the_moving_a_ledger_example_in_docs_storage_runs() -> None:
    import re

    from paths import DOCS

    section = (DOCS / "storage.md").read_text(encoding="utf-8").split("## Moving a ledger")[1]
    (example,) = re.findall(r"```python\n(.*?)```", section, re.S)
    exec(compile(example, "docs/storage.md", "exec"), {})


def test_docs_name_every_phase_and_error_rule_of_a_copy() -> None:
    from paths import DOCS

    from customer_ledger.application.copying import PHASES
    from customer_ledger.errors import CopyMismatch

    section = (DOCS / "storage.md").read_text(encoding="utf-8").split("## Moving a ledger")[1]
    for phase in PHASES:
        assert f"`{phase}`" in section, phase
    for error in (TargetNotEmpty, CopyToItself, CopyConflict, CopyMismatch):
        assert f"`{error.rule}`" in section, error.rule


# -- snapshots and keys -------------------------------------------------------------------


def test_snapshots_are_copied_as_stored_and_replays_use_them(
    store: Callable[[str], str], source_key: str, target_key: str
) -> None:
    # given a customer with 250 events: snapshots at versions 100 and 200
    source, target = opened(store("sqlite"), source_key), opened(store("sqlite"), target_key)
    try:
        source.first_contact("A001", name="张三", type="individual")
        batch = source.batch()
        for i in range(249):
            batch.tag("A001", tag=f"t{i}")
        batch.save()
        customer_id = source.customer_id("A001")
        stored = source.snapshots.recorder.select_events(customer_id)
        assert [s.originator_version for s in stored] == [100, 200]

        # when the ledger is copied, twice
        assert copy_ledger(source, target).snapshots == 2
        assert copy_ledger(source, target).snapshots == 0

        # then the target holds the same snapshot rows, and replays from them as the source
        assert target.snapshots.recorder.select_events(customer_id) == stored
        for version in (99, 100, 150, 250):
            assert target.replay("A001", version=version) == source.replay("A001", version=version)
    finally:
        target.close()
        source.close()


def test_a_source_without_its_master_key_is_refused_before_the_target_is_made(
    store: Callable[[str], str], source_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from customer_ledger.errors import MasterKeyMissing

    # given a SQLite ledger opened read-only without its master key
    url = store("sqlite")
    with opened(url, source_key) as ledger:
        ledger.first_contact("A001", name="张三", type="individual")
    monkeypatch.delenv("CUSTOMER_LEDGER_MASTER_KEY", raising=False)
    target = tmp_path / "never-made.db"
    with CustomerLedger.open(url, read_only=True) as source:
        assert source.without_keys
        # when it is copied, then it is refused and no target store is made
        with pytest.raises(MasterKeyMissing):
            copy_ledger(source, f"sqlite:///{target}")
    assert not target.exists()


def test_the_targets_views_are_rebuilt_in_its_views_store(
    store: Callable[[str], str], source_key: str, target_key: str, tmp_path: Path
) -> None:
    # given a target URL whose views live in another SQLite file
    target_url = f"sqlite:///{tmp_path}/events.db?views=sqlite:///{tmp_path}/views.db"
    with opened(store("sqlite"), source_key) as source:
        record_everything(source, half_forget=False)
        expected = snapshot_views(source)
        # when the ledger is copied there, then the views are rebuilt in that file
        copy_ledger(source, target_url, master_key=target_key)
    assert (tmp_path / "views.db").exists()
    with opened(target_url, target_key) as target:
        assert snapshot_views(target) == expected
