"""The conformance suite every storage adapter runs to prove itself.

Subclass ``LedgerConformance`` in your adapter's tests (name the subclass ``Test...`` so
pytest collects it) and give it a ``store_url`` fixture returning the URL of a fresh,
empty store for each test. Persistent stores also subclass ``PersistentConformance``,
which reopens the store to test what must survive a restart.

    class TestMyAdapter(LedgerConformance, PersistentConformance):
        @pytest.fixture
        def store_url(self, tmp_path):
            return f"mydb:///{tmp_path}/ledger"

The expected answers come from the reference semantics of ``customer_ledger.storage.memory``
applied to each aggregate's own state, so an adapter passes only if its views answer
exactly as the domain says, page by page.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from argon2 import PasswordHasher
from eventsourcing.persistence import IntegrityError, Tracking

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.domain.values import Contact, Stage
from customer_ledger.errors import UnknownUser, UserExists
from customer_ledger.projections.analytics_fold import facts_from_document
from customer_ledger.projections.engine import catch_up, projections_for
from customer_ledger.projections.profile import Profile, listing, profile_of
from customer_ledger.projections.status import status_of
from customer_ledger.projections.timeline import entry_for
from customer_ledger.projections.views import (
    KINDS,
    LIVE,
    REBUILD,
    VIEW_FORMAT,
    Page,
    ProfileQuery,
    ProfileRecord,
    TimelineQuery,
    sort_key,
    utc_key,
)
from customer_ledger.serialization import converter, decode, encode
from customer_ledger.storage.memory import matches, paginate
from customer_ledger.storage.users import User

NOW = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
NIL = UUID(int=0)
HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"  # a hash's shape, no password


def clock() -> datetime:
    return NOW


def record_sample(ledger: CustomerLedger) -> None:
    """The five customers of the source material, plus enough others to page through."""
    ledger.first_contact(
        "A001", name="*先生", type="individual", industry="internet", region="北京市",
        source="referral", owner="*经理", occurred_at="2023-08-01", actor="*助理",
    )  # fmt: skip
    ledger.add_contact(
        "A001", contact=Contact("c1", "*先生", phone="138****5678", primary=True),
        occurred_at="2023-08-01",
    )  # fmt: skip
    ledger.sign_contract(
        "A001", contract="HT-2023-001", signed_on=date(2023, 8, 15), amount="12000",
        expires_on=date(2024, 8, 14),
    )  # fmt: skip
    ledger.log_interaction(
        "A001", channel="phone", topic="asked when the new product launches",
        participant="*经理", occurred_at="2023-10-20",
    )  # fmt: skip
    ledger.rate_satisfaction("A001", score=4, occurred_at="2023-10-20")
    ledger.tag("A001", tag="key")
    ledger.first_contact(
        "B002", name="*科技有限公司", type="company", industry="smart manufacturing",
        size="100-500", region="北京市", owner="*主管", occurred_at="2023-05-01",
    )  # fmt: skip
    ledger.record_purchase(
        "B002", product="logistics service", amount="56000", occurred_at="2023-09-01"
    )
    ledger.file_complaint(
        "B002", complaint="K-1", subject="logistics delivery delayed", occurred_at="2023-10-10"
    )
    ledger.resolve_complaint(
        "B002", complaint="K-1", resolution="re-shipped", satisfaction=2, occurred_at="2023-10-16"
    )
    ledger.file_complaint(
        "B002", complaint="K-2", subject="invoice wrong", occurred_at="2023-10-18"
    )
    ledger.first_contact(
        "C003", name="*女士", type="individual", industry="education", owner="*顾问",
        occurred_at="2023-09-05",
    )  # fmt: skip
    ledger.log_interaction(
        "C003", channel="email", topic="asked for case studies", occurred_at="2023-10-22"
    )
    ledger.first_contact(
        "W001", name="张三", type="individual", industry="manufacturing", region="北京市",
        owner="*经理", occurred_at="2022-11-20",
    )  # fmt: skip
    ledger.record_purchase("W001", product="product A", amount="1000", occurred_at="2022-12-01")
    ledger.assign_grade("W001", grade="A", occurred_at="2023-01-02")
    ledger.first_contact(
        "W002", name="李四", type="individual", industry="retail", region="上海市",
        owner="*主管", occurred_at="2022-12-20",
    )  # fmt: skip
    ledger.record_purchase("W002", product="product B", amount="2000", occurred_at="2023-01-15")
    ledger.assign_grade("W002", grade="B", occurred_at="2023-02-02")
    ledger.churn("W002", reason="moved to a competitor", occurred_at="2024-01-10")
    for i in range(1, 13):  # a page's worth of leads, some with odd names
        name = ["100%_纯净水", "王_五", "Acme 50%"][i % 3] + f" {i}"
        ledger.first_contact(
            f"L{i:03d}", name=name, type="company", region=["上海市", "北京市"][i % 2],
            owner=["*经理", "*主管", None][i % 3], occurred_at=f"2024-0{1 + i % 5}-0{1 + i % 9}",
        )  # fmt: skip
        if i % 4 == 0:
            ledger.log_interaction(
                f"L{i:03d}", channel="wechat", topic="hello", occurred_at="2024-05-20"
            )
        if i % 5 == 0:
            ledger.record_purchase(
                f"L{i:03d}", product="trial", amount=str(i * 100), occurred_at="2024-05-21"
            )


def reference_profiles(ledger: CustomerLedger) -> list[Profile]:
    return [profile_of(ledger.customer(n)) for n in ledger.numbers()]


def reference_facts(ledger: CustomerLedger) -> list[Any]:
    """The analytics facts of each customer, folded from its own history, by number."""
    from customer_ledger.projections.analytics_fold import facts_of

    return sorted((facts_of(ledger.history(n)) for n in ledger.numbers()), key=_number)


def record_analytics_extras(ledger: CustomerLedger) -> None:
    """What the sample lacks for the analytics view: a renewal, a termination, a planned
    follow-up, a birthday, an upsell intention, reminders and a hand-set risk flag."""
    from customer_ledger.domain.values import Needs

    ledger.renew_contract(
        "A001", contract="HT-2023-001", expires_on=date(2025, 8, 14), occurred_at="2024-05-30"
    )
    ledger.add_contact(
        "C003", contact=Contact("c1", "*女士", birthday=date(1990, 6, 20)), occurred_at="2023-10-22"
    )
    ledger.log_interaction(
        "C003", channel="email", topic="case studies sent", follow_up="product demo",
        follow_up_on=date(2024, 6, 10), occurred_at="2024-05-28",
    )  # fmt: skip
    ledger.record_needs(
        "C003", needs=Needs(core_needs="industry solution", upsell_intention=True),
        occurred_at="2024-05-28",
    )  # fmt: skip
    ledger.sign_contract("W001", contract="W-1", signed_on=date(2023, 1, 2),
                         expires_on=date(2024, 1, 1))  # fmt: skip
    ledger.terminate_contract("W001", contract="W-1", occurred_at="2023-06-01")
    for ref, due in (("R-1", date(2024, 5, 30)), ("R-2", date(2024, 6, 5))):
        ledger.schedule_reminder(
            "B002", reminder=ref, subject="call back", due_on=due, occurred_at="2024-05-20"
        )
    ledger.complete_reminder("B002", reminder="R-2", occurred_at="2024-05-31")
    ledger.set_stage_on_import(
        "L001", stage="at_risk", row="L001,风险预警", occurred_at="2024-05-01"
    )


def all_pages(fetch: Any, query: Any) -> Iterator[Any]:
    """Every item of every page, following next_cursor."""
    from attrs import evolve

    page: Page[Any] = fetch(query)
    yield from page.items
    while page.next_cursor is not None:
        page = fetch(evolve(query, after=page.next_cursor))
        assert page.items, "a next_cursor must lead to a non-empty page"
        yield from page.items


QUERIES = [
    ProfileQuery(),
    ProfileQuery(limit=5),
    ProfileQuery(text="科技"),
    ProfileQuery(text="%"),
    ProfileQuery(text="_"),
    ProfileQuery(text="acme", limit=2),
    ProfileQuery(text="a00"),
    ProfileQuery(stage=Stage.CUSTOMER),
    ProfileQuery(stage=Stage.AT_RISK),
    ProfileQuery(type="company", region="上海市", limit=3),
    ProfileQuery(industry="retail"),
    ProfileQuery(owner="*经理", sort="name", limit=2),
    ProfileQuery(grade="A"),
    ProfileQuery(tag="key"),
    *[
        ProfileQuery(sort=field, descending=descending, limit=4)
        for field, descending in itertools.product(
            ["number", "name", "stage", "total_revenue", "last_interaction_at", "first_contact_at"],
            [False, True],
        )
    ],
]


class UserStoreConformance:
    """What every store's user table must do (``Adapter.user_store``); part of
    ``LedgerConformance``. Uses its ``ledger`` fixture."""

    def test_users_are_added_found_and_listed_by_code_point(self, ledger: CustomerLedger) -> None:
        store = ledger.users.store
        made = [User(name, "sales", HASH) for name in ("李四", "bob", "Alice", "a.b@c-d_1")]
        for user in made:
            store.add(user)
        assert [u.name for u in store.list()] == sorted(u.name for u in made)
        assert store.get("bob") == made[1]
        assert store.find("nobody") is None
        with pytest.raises(UnknownUser):
            store.get("nobody")

    def test_a_taken_name_is_refused_and_changes_nothing(self, ledger: CustomerLedger) -> None:
        store = ledger.users.store
        first = User("alice", "sales", HASH)
        store.add(first)
        with pytest.raises(UserExists):
            store.add(User("alice", "admin", HASH + "x"))
        assert store.list() == [first]

    def test_disable_and_a_new_password_hash_change_that_user_only(
        self, ledger: CustomerLedger
    ) -> None:
        store = ledger.users.store
        alice, bob = User("alice", "sales", HASH), User("bob", "auditor", HASH)
        store.add(alice)
        store.add(bob)
        store.disable("alice")
        store.set_password_hash("bob", HASH + "new")
        assert store.get("alice").disabled and store.get("alice").password_hash == HASH
        assert store.get("alice").changed_at >= alice.changed_at
        assert not store.get("bob").disabled and store.get("bob").password_hash == HASH + "new"
        for change in (store.disable, lambda n: store.set_password_hash(n, HASH)):
            with pytest.raises(UnknownUser):
                change("carol")
        assert [u.name for u in store.list()] == ["alice", "bob"]

    def test_passwords_are_checked_against_the_stored_hash(self, ledger: CustomerLedger) -> None:
        users = ledger.users
        users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        admin = Actor("root", "admin")
        users.add("alice", role="manager", password_text="correct horse", by=admin)
        assert "correct horse" not in users.get("alice").password_hash
        assert users.authenticate("alice", "correct horse") == users.get("alice")
        assert users.authenticate("alice", "wrong horse!") is None
        users.set_password("alice", "battery staple", by=admin)
        assert users.authenticate("alice", "correct horse") is None
        assert users.authenticate("alice", "battery staple") is not None
        users.disable("alice", by=admin)
        assert users.authenticate("alice", "battery staple") is None
        assert users.active("alice") is None


class LedgerConformance(UserStoreConformance):
    """What every store must do. Needs a ``store_url`` fixture: a fresh store per test."""

    @pytest.fixture
    def ledger(self, store_url: str) -> Iterator[CustomerLedger]:
        ledger = CustomerLedger.open(store_url, clock=clock)
        yield ledger
        ledger.close()

    @pytest.fixture
    def sample(self, ledger: CustomerLedger) -> CustomerLedger:
        record_sample(ledger)
        return ledger

    # -- the event store ------------------------------------------------------------------

    def test_commands_are_recorded_in_order_with_gapless_versions(
        self, sample: CustomerLedger
    ) -> None:
        history = sample.history("B002")
        assert [e.originator_version for e in history] == list(range(1, len(history) + 1))
        ids = [n.id for n in sample.recorder.select_notifications(start=1, limit=10_000)]
        assert ids == sorted(ids) and len(ids) == len(set(ids))

    def test_a_stale_writer_gets_a_conflict_and_records_nothing(
        self, ledger: CustomerLedger
    ) -> None:
        ledger.first_contact("A001", name="x", type="company", occurred_at="2024-01-01")
        stale = ledger.customer("A001")
        ledger.tag("A001", tag="first")
        before = ledger.recorder.max_notification_id()
        stale.tag("second", occurred_at=NOW, meta=stale_meta(), now=NOW)
        with pytest.raises(IntegrityError):
            ledger.save(stale)
        assert ledger.recorder.max_notification_id() == before

    def test_a_resent_command_records_nothing(self, ledger: CustomerLedger) -> None:
        first = ledger.first_contact("A001", name="x", type="company", command_id="cmd-1")
        before = ledger.recorder.max_notification_id()
        again = ledger.first_contact("A001", name="x", type="company", command_id="cmd-1")
        assert again == first and again.replayed
        assert ledger.recorder.max_notification_id() == before

    def test_first_events_are_each_asked_ids_version_one(self, ledger: CustomerLedger) -> None:
        """``Adapter.first_events``: given customers with several events each, when the
        first events of some of them and of ids never stored are asked for (1,500 ids,
        more than a backend's page: one stored id first, the other past the thousandth),
        then each stored id's version 1 comes back, as the recorder holds it, and
        nothing else."""
        for number in ("A001", "A002", "A003"):
            ledger.first_contact(number, name=number, type="company")
            ledger.tag(number, tag="vip")
        ids = [ledger.customer_id(n) for n in ("A001", "A003")]
        unknown = [uuid.uuid4() for _ in range(1_500)]
        asked = [ids[0], *unknown[:1_200], ids[1], *unknown[1_200:]]
        assert ledger.adapter is not None
        found = ledger.adapter.first_events(ledger.recorder, asked)
        expected = [ledger.recorder.select_events(i, lte=1)[0] for i in ids]

        def key(e: Any) -> tuple[Any, ...]:
            return str(e.originator_id), e.originator_version, e.topic, bytes(e.state)

        assert sorted(map(key, found)) == sorted(map(key, expected))
        assert ledger.adapter.first_events(ledger.recorder, []) == []

    # -- the views ------------------------------------------------------------------------

    def test_profiles_equal_the_aggregates_own_state(self, sample: CustomerLedger) -> None:
        sample.refresh()
        view = sample.views.view("profile")
        for expected in reference_profiles(sample):
            by_id, by_number = view.get(expected.customer_id), view.get_by_number(expected.number)
            assert by_id is not None and by_number is not None
            assert sample.open_profile(by_id) == expected
            assert sample.open_profile(by_number) == expected
        assert view.get_by_number("NOPE") is None

    @pytest.mark.parametrize("query", QUERIES, ids=repr)
    def test_search_pages_through_exactly_the_reference_answer(
        self, sample: CustomerLedger, query: ProfileQuery
    ) -> None:
        sample.refresh()
        expected = paginate_all(reference_profiles(sample), query)
        assert [p.number for p in all_pages(sample.search, query)] == [p.number for p in expected]

    def test_search_finds_chinese_names_and_literal_wildcards(self, sample: CustomerLedger) -> None:
        assert [p.number for p in sample.search(text="科技").items] == ["B002"]
        assert [p.number for p in sample.search(text="张").items] == ["W001"]
        percent = [p.number for p in all_pages(sample.search, ProfileQuery(text="0%"))]
        assert percent and all("0%" in sample.profile(n).name for n in percent)

    def test_timeline_has_one_entry_per_event_in_business_time_order(
        self, sample: CustomerLedger
    ) -> None:
        sample.refresh()
        entries = list(all_pages(sample.views.view("timeline").entries, TimelineQuery(limit=7)))
        assert len(entries) == sum(len(sample.history(n)) for n in sample.numbers())
        keys = [(utc_key(e.occurred_at), e.number, e.version) for e in entries]
        assert keys == sorted(keys)
        history = sample.history("B002")
        mine = sample.timeline("B002").items
        assert mine == tuple(sorted((entry_for(e, "B002") for e in history), key=_timeline_key))

    def test_timeline_date_range_is_start_inclusive_end_exclusive(
        self, sample: CustomerLedger
    ) -> None:
        page = sample.timeline(start="2023-10-10", end="2023-10-20")
        assert [(e.number, e.kind) for e in page.items] == [
            ("B002", "ComplaintFiled"),
            ("B002", "ComplaintResolved"),
            ("B002", "ComplaintFiled"),
        ]
        assert sample.timeline("A001", start="2023-10-20", end="2023-10-21").items[0].kind == (
            "InteractionLogged"
        )

    def test_status_rows_counts_and_board(self, sample: CustomerLedger) -> None:
        expected = sorted((status_of(sample.customer(n)) for n in sample.numbers()), key=_number)
        view = sample.views.view("status")
        assert sample.status() == expected
        assert sample.status(stage="at_risk") == [r for r in expected if r.stage is Stage.AT_RISK]
        assert sample.status(owner="*主管") == [r for r in expected if r.owner == "*主管"]
        counts = view.count_by_stage()
        assert set(counts) == set(Stage)
        assert counts == {s: sum(r.stage is s for r in expected) for s in Stage}
        board = sample.board(as_of="2024-06-01", idle_days=30)
        assert [r.number for r in board.at_risk] == ["B002"]
        assert board.open_complaints == 1
        cutoff = utc_key(datetime(2024, 5, 2, tzinfo=sample.timezone))
        assert [r.number for r in board.idle] == [
            r.number
            for r in expected
            if r.stage is not Stage.CHURNED
            and utc_key(r.last_interaction_at or r.first_contact_at) < cutoff
        ]

    def test_a_merged_record_is_kept_off_the_board(self, sample: CustomerLedger) -> None:
        from customer_ledger.domain.access import Actor

        sample.merge("C003", into="A001", reason="one person", actor=Actor("m", "manager"))
        sample.refresh()
        rows = {r.number: r for r in sample.views.view("status").rows()}
        assert rows["C003"].merged_into == "A001" and rows["A001"].merged_into is None
        assert "C003" not in [r.number for r in sample.status()]
        assert sample.board().total == len(rows) - 1
        assert sample.profile("C003").number == "A001"

    # -- the duplicate index (kept by the key store) ------------------------------------------

    def test_the_duplicate_index_replaces_finds_and_lists_rows(
        self, ledger: CustomerLedger
    ) -> None:
        keys, one, two = ledger.keys, uuid.uuid4(), uuid.uuid4()
        keys.index(one, "A001", [("phone", "13812345678"), ("ID number", "110101")])
        keys.index(two, "A002", [("phone", "13812345678")])
        assert keys.likely_duplicates([("phone", "13812345678")]) == [
            ("A001", "phone"),
            ("A002", "phone"),
        ]
        assert keys.likely_duplicates([("phone", "139")]) == []
        keys.index(one, "A001", [("ID number", "110101")])  # replaces its rows whole
        assert sorted((r[1], r[2]) for r in keys.index_rows()) == [
            ("A001", "ID number"),
            ("A002", "phone"),
        ]
        assert all(b"13812345678" not in r[3] and len(r[3]) == 32 for r in keys.index_rows())
        keys.destroy(one)  # forgetting a customer removes its rows
        assert [r[1] for r in keys.index_rows()] == ["A002"]

    def test_a_stale_tracking_position_writes_nothing(self, sample: CustomerLedger) -> None:
        sample.refresh()
        position = sample.recorder.max_notification_id()
        assert position is not None
        for kind in KINDS:
            view: Any = sample.views.view(kind)
            assert view.max_tracking_id(sample.name) == position
            with pytest.raises(IntegrityError):
                view.save([], Tracking(sample.name, position))
        profile = sample.views.view("profile")
        record = profile_record_for(sample, "A001", name="changed")
        with pytest.raises(IntegrityError):
            profile.save([record], Tracking(sample.name, position))
        found = profile.get_by_number("A001")
        assert found is not None and sample.open_profile(found).name == "*先生"

    def test_reads_see_each_command_and_the_views_wait_for_a_read(
        self, ledger: CustomerLedger
    ) -> None:
        ledger.first_contact("A001", name="x", type="company")
        assert ledger.views.view("profile").get_by_number("A001") is None  # events only, so far
        assert ledger.profile("A001").number == "A001"  # a read catches the views up first
        ledger.log_interaction("A001", channel="phone", topic="hi")
        assert ledger.status()[0].stage is Stage.PROSPECT

    def test_eager_views_catch_up_after_each_command(self, ledger: CustomerLedger) -> None:
        ledger.eager_views = True
        ledger.first_contact("A001", name="x", type="company")
        assert ledger.views.view("profile").get_by_number("A001") is not None
        ledger.log_interaction("A001", channel="phone", topic="hi")
        assert ledger.views.view("status").rows()[0].stage is Stage.PROSPECT

    # -- analytics ------------------------------------------------------------------------

    def test_analytics_facts_equal_the_reference(self, sample: CustomerLedger) -> None:
        record_analytics_extras(sample)
        sample.refresh()
        view = sample.views.view("analytics")
        expected = reference_facts(sample)

        def opened(documents: list[bytes]) -> list[Any]:
            return [facts_from_document(d, sample.personal) for d in documents]

        assert opened(view.facts()) == expected
        assert opened(view.facts(owner="*主管")) == [f for f in expected if f.owner == "*主管"]
        assert view.facts(owner="nobody") == []
        some = {f.customer_id: f for f in expected[:3]}
        records = view.records([*some, NIL])
        assert {i: opened([r.document])[0] for i, r in records.items()} == some

    def test_analytics_answers_equal_the_reference(self, sample: CustomerLedger) -> None:
        from customer_ledger.analytics import analyse, indicators, reminders_due

        record_analytics_extras(sample)
        expected = reference_facts(sample)
        for day in (date(2023, 10, 12), date(2023, 10, 31), date(2024, 6, 1), date(2024, 8, 1)):
            assert sample.analytics(day) == analyse(expected, day)
            assert sample.reminders_due(day, 60) == reminders_due(expected, day, 60)
            assert sample.reminders_due(day, 60, owner="*主管") == reminders_due(
                expected, day, 60, owner="*主管"
            )
            assert sample.indicators("quarter", start="2023-01-01", end=day) == indicators(
                expected, "quarter", date(2023, 1, 1), day
            )
        assert sample.analytics("2023-10-31").customer("B002").churn_risk

    # -- rebuild --------------------------------------------------------------------------

    def test_rebuild_gives_the_same_views_as_incremental_updates(
        self, sample: CustomerLedger
    ) -> None:
        before = snapshot_views(sample)
        results = sample.rebuild()
        assert [r.projection for r in results] == list(KINDS)
        assert all(r.events == sample.recorder.max_notification_id() for r in results)
        assert snapshot_views(sample) == before
        assert not any(sample.views.has_rebuild(kind) for kind in KINDS)

    def test_readers_see_the_old_view_until_the_swap(self, sample: CustomerLedger) -> None:
        sample.refresh()
        old = snapshot_views(sample)
        partial = projections_for(sample.views, sample.personal, KINDS, REBUILD)
        _catch_up_first_page(sample, partial, page_size=5)
        assert snapshot_views(sample) == old  # live views untouched mid-rebuild
        for kind in KINDS:
            assert sample.views.has_rebuild(kind)
        sample.rebuild()
        assert snapshot_views(sample) == old

    def test_a_killed_rebuild_resumes_from_its_position(self, sample: CustomerLedger) -> None:
        partial = projections_for(sample.views, sample.personal, ["profile"], REBUILD)
        _catch_up_first_page(sample, partial, page_size=10)
        assert sample.views.view("profile", REBUILD).max_tracking_id(sample.name) == 10
        sample.rebuild(["profile"])
        assert snapshot_views(sample)["profile"] == {
            p.number: p for p in reference_profiles(sample)
        }

    def test_fresh_rebuild_discards_a_half_done_one(self, sample: CustomerLedger) -> None:
        partial = projections_for(sample.views, sample.personal, ["timeline"], REBUILD)
        _catch_up_first_page(sample, partial, page_size=10)
        sample.rebuild(["timeline"], fresh=True)
        assert not sample.views.has_rebuild("timeline")
        assert snapshot_views(sample)["timeline"]

    def test_views_record_todays_format_and_keep_it_through_a_swap(
        self, sample: CustomerLedger
    ) -> None:
        for kind in KINDS:
            assert sample.views.format(kind) == VIEW_FORMAT
        projections_for(sample.views, sample.personal, KINDS, REBUILD)
        assert [sample.views.format(kind, REBUILD) for kind in KINDS] == [VIEW_FORMAT] * 4
        sample.rebuild()
        assert [sample.views.format(kind) for kind in KINDS] == [VIEW_FORMAT] * 4
        assert sample.upgrade_views() == []
        # the format row is no upstream position: tracking reads ignore it
        assert sample.views.view("profile").max_tracking_id(sample.name) == (
            sample.recorder.max_notification_id()
        )

    # -- moving a ledger (``customer-ledger copy``) ---------------------------------------

    def test_a_ledger_copied_in_and_out_is_the_same(self, ledger: CustomerLedger) -> None:
        """``Adapter.insert_notifications`` and the key store's copy primitives: the
        sample, recorded in memory with a customer forgotten, copied into this store and
        back out to memory, holds the same log (ids included), views and checkpoint,
        and the forgotten customer has no key in either copy."""
        from customer_ledger.application.copying import copy_ledger
        from customer_ledger.audit.verify import checkpoint

        source = CustomerLedger.open("memory://", clock=clock)
        back = CustomerLedger.open("memory://", clock=clock)
        try:
            record_sample(source)
            source.forget("W002", actor=Actor("dpo", "admin"), reason="conformance")
            copy_ledger(source, ledger)
            copy_ledger(ledger, back)
            expected = snapshot_views(source)
            for copy in (ledger, back):
                assert _log(copy) == _log(source)
                assert snapshot_views(copy) == expected
                assert checkpoint(copy).hash == checkpoint(source).hash
                assert not copy.keys.holds_key(copy.customer_id("W002"))
                assert copy.keys.holds_key(copy.customer_id("A001"))
        finally:
            back.close()
            source.close()


def _log(ledger: CustomerLedger) -> list[tuple[Any, ...]]:
    found = ledger.recorder.select_notifications(start=1, limit=100_000)
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in found]


class PersistentConformance:
    """What a store that outlives the process must also do (same ``store_url`` fixture)."""

    def test_history_views_and_receipts_survive_a_reopen(self, store_url: str) -> None:
        ledger = CustomerLedger.open(store_url, clock=clock)
        record_sample(ledger)
        ledger.first_contact("Z001", name="z", type="company", command_id="once")
        views = snapshot_views(ledger)
        ledger.close()
        reopened = CustomerLedger.open(store_url, clock=clock)
        try:
            assert snapshot_views(reopened) == views
            before = reopened.recorder.max_notification_id()
            assert reopened.first_contact(
                "Z001", name="z", type="company", command_id="once"
            ).replayed
            assert reopened.recorder.max_notification_id() == before
            reopened.log_interaction("Z001", channel="phone", topic="after the restart")
            assert reopened.profile("Z001").stage is Stage.PROSPECT
        finally:
            reopened.close()

    def test_a_rebuild_killed_in_one_process_resumes_in_the_next(self, store_url: str) -> None:
        ledger = CustomerLedger.open(store_url, clock=clock)
        record_sample(ledger)
        expected = snapshot_views(ledger)
        _catch_up_first_page(
            ledger, projections_for(ledger.views, ledger.personal, KINDS, REBUILD), page_size=10
        )
        ledger.close()
        reopened = CustomerLedger.open(store_url, clock=clock)
        try:
            assert all(reopened.views.has_rebuild(kind) for kind in KINDS)
            assert reopened.views.view("status", REBUILD).max_tracking_id(reopened.name) == 10
            reopened.rebuild()
            assert snapshot_views(reopened) == expected
        finally:
            reopened.close()

    def test_users_survive_a_reopen_and_are_shared(self, store_url: str) -> None:
        one = CustomerLedger.open(store_url, clock=clock)
        two = CustomerLedger.open(store_url, clock=clock)
        try:
            one.users.store.add(User("alice", "sales", HASH))
            two.users.store.disable("alice")
            assert one.users.store.get("alice").disabled
        finally:
            one.close()
            two.close()
        reopened = CustomerLedger.open(store_url, clock=clock)
        try:
            listed = reopened.users.list(by=Actor("root", "admin"))
            assert [(u.name, u.disabled) for u in listed] == [("alice", True)]
        finally:
            reopened.close()

    def test_two_ledgers_see_each_others_writes(self, store_url: str) -> None:
        one = CustomerLedger.open(store_url, clock=clock)
        two = CustomerLedger.open(store_url, clock=clock)
        try:
            one.first_contact("A001", name="x", type="company")
            two.log_interaction("A001", channel="phone", topic="hi")
            assert one.profile("A001").stage is Stage.PROSPECT  # reads catch up first
            assert two.profile("A001").interaction_count == 1
        finally:
            one.close()
            two.close()


# -- helpers ------------------------------------------------------------------------------


def paginate_all(profiles: list[Profile], query: ProfileQuery) -> list[Profile]:
    """The reference answer: search, filters and order by each profile's listing."""
    selected = [p for p in profiles if matches(listing(p), query)]
    return list(
        paginate(
            selected,
            key=lambda p: (sort_key(listing(p), query.sort), p.number),
            descending=query.descending,
            limit=len(selected) or 1,
            after=None,
            cursor=query.cursor,
        ).items
    )


def snapshot_views(ledger: CustomerLedger) -> dict[str, Any]:
    """Everything the live views hold, comparable across stores and rebuilds."""
    ledger.refresh()
    views = ledger.views
    documents = all_pages(views.view("profile").search, ProfileQuery(limit=1000))
    profiles = [ledger.open_profile(d) for d in documents]
    return {
        "profile": {p.number: p for p in profiles},
        "timeline": list(all_pages(views.view("timeline").entries, TimelineQuery(limit=1000))),
        "status": views.view("status").rows(),
        "stages": views.view("status").count_by_stage(),
        "analytics": ledger.analytics_facts(),
    }


# -- for an adapter's own tests: views store documents as given -------------------------


def plain_document(profile: Profile) -> bytes:
    """A profile as a document with nothing sealed: views store documents as they are
    given, so an adapter's own tests need no keys."""
    return encode(profile.to_json())


def plain_record(profile: Profile, state: bytes = b"state") -> ProfileRecord:
    """A record whose listing is ``profile`` itself and whose document is plain."""
    return ProfileRecord(profile, plain_document(profile), state)


class PlainProfiles:
    """A profile view whose reads give back the ``Profile`` of each plain document."""

    def __init__(self, view: Any) -> None:
        self.view = view

    def __getattr__(self, name: str) -> Any:
        return getattr(self.view, name)

    def get(self, customer_id: UUID) -> Profile | None:
        return _plain(self.view.get(customer_id))

    def get_by_number(self, number: str) -> Profile | None:
        return _plain(self.view.get_by_number(number))

    def search(self, query: ProfileQuery) -> Page[Profile]:
        page = self.view.search(query)
        found = [_plain(d) for d in page.items]
        return Page(tuple(p for p in found if p is not None), page.next_cursor)


def _plain(document: bytes | None) -> Profile | None:
    if document is None:
        return None
    profile: Profile = converter.structure(decode(document), Profile)
    return profile


def stored_profile(ledger: CustomerLedger, number: str) -> Profile | None:
    """The profile view's row for ``number`` as it is now (no catch-up first), opened."""
    document = ledger.views.view("profile").get_by_number(number)
    return None if document is None else ledger.open_profile(document)


def stored_facts(ledger: CustomerLedger, owner: str | None = None) -> list[Any]:
    """The analytics view's facts as they are now (no catch-up first), opened."""
    documents = ledger.views.view("analytics").facts(owner)
    return [facts_from_document(d, ledger.personal) for d in documents]


def profile_record_for(ledger: CustomerLedger, number: str, **changes: Any) -> Any:
    from attrs import evolve

    from customer_ledger.projections.fold import state_bytes
    from customer_ledger.projections.profile import profile_document
    from customer_ledger.projections.views import ProfileRecord

    customer = ledger.customer(number)
    profile = evolve(profile_of(customer), **changes)
    document = profile_document(profile, ledger.personal)
    return ProfileRecord(listing(profile), document, state_bytes(customer, ledger.personal))


def stale_meta() -> Any:
    from customer_ledger.domain.values import Meta

    return Meta(actor="stale")


def _catch_up_first_page(ledger: CustomerLedger, projections: list[Any], page_size: int) -> None:
    """Runs a rebuild for one page, then stops as if killed."""

    class Killed(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Killed

    with pytest.raises(Killed):
        catch_up(ledger, projections, page_size=page_size, progress=stop)


def _timeline_key(entry: Any) -> tuple[str, str, int]:
    return (utc_key(entry.occurred_at), entry.number, entry.version)


def _number(row: Any) -> str:
    number: str = row.number
    return number


__all__ = [
    "LIVE",
    "NOW",
    "LedgerConformance",
    "PersistentConformance",
    "PlainProfiles",
    "UserStoreConformance",
    "plain_document",
    "plain_record",
    "record_sample",
    "reference_profiles",
    "snapshot_views",
    "stored_facts",
    "stored_profile",
]


_RANDOM_HISTORIES = ("OPERATIONS", "apply_history", "comparable", "histories")


def __getattr__(name: str) -> Any:
    """The random histories' names, where release 0.1 had them (now in
    ``customer_ledger.testing.random_histories``)."""
    if name in _RANDOM_HISTORIES:
        from customer_ledger.testing import random_histories

        return getattr(random_histories, name)
    raise AttributeError(f"module 'customer_ledger.testing' has no attribute {name!r}")
