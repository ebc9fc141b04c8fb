"""The event store: eventsourcing's own recorder tests, schemas, pools, permissions."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from customer_ledger_postgres import (
    PostgresAdapter,
    PostgresProfileView,
    PostgresStatusView,
    PostgresTimelineView,
    PostgresViewSet,
)
from customer_ledger_postgres.base import PostgresView
from customer_ledger_postgres.testing import with_options
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, TrackingRecorder
from eventsourcing.tests import persistence as es_tests  # the module: see eventsourcing-notes
from eventsourcing.utils import Environment

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.errors import StoreError
from customer_ledger.storage.urls import StoreURL
from customer_ledger.testing import PlainProfiles

pytestmark = pytest.mark.postgres


def factory_for(url: str) -> InfrastructureFactory:  # type: ignore[type-arg]
    env = PostgresAdapter().application_env(StoreURL.parse(url))
    return InfrastructureFactory.construct(Environment("CustomerLedger", env))


class TestApplicationRecorder(es_tests.ApplicationRecorderTestCase[ApplicationRecorder]):
    """eventsourcing's recorder contract, on a schema made by ``application_env``."""

    # Minutes-long load tests (100k events): throughput lives in benchmarks/.
    test_concurrent_no_conflicts = None  # type: ignore[assignment]
    test_concurrent_throughput = None  # type: ignore[assignment]
    test_performance = None  # type: ignore[assignment]

    @pytest.fixture(autouse=True)
    def _urls(self, store_url: str) -> Iterator[None]:
        self.factory = factory_for(store_url)
        yield
        self.factory.close()

    def create_recorder(self) -> ApplicationRecorder:
        return self.factory.application_recorder()

    def test_insert_subscribe(self) -> None:
        """LISTEN/NOTIFY subscriptions, which ProjectionRunner relies on."""
        self.optional_test_insert_subscribe()


class _ViewTrackingContract(es_tests.TrackingRecorderTestCase):
    """eventsourcing's tracking contract, for each view (on its own tracking table)."""

    __test__ = False  # only the subclasses below, which name a view
    view_class: type[PostgresView]

    @pytest.fixture(autouse=True)
    def _views(self, views: PostgresViewSet) -> None:
        self.view_set = views

    def create_recorder(self) -> TrackingRecorder:
        return self.view_set.view(self.view_class.kind)  # type: ignore[no-any-return]


class TestProfileViewTracking(_ViewTrackingContract):
    __test__ = True
    view_class = PostgresProfileView


class TestTimelineViewTracking(_ViewTrackingContract):
    __test__ = True
    view_class = PostgresTimelineView


class TestStatusViewTracking(_ViewTrackingContract):
    __test__ = True
    view_class = PostgresStatusView


def test_two_prefixes_keep_separate_ledgers_in_one_database(
    postgres_url_factory: Callable[[], str],
) -> None:
    north, south = (
        CustomerLedger.open(with_options(postgres_url_factory(), "&pool_size=1")) for _ in range(2)
    )
    try:
        north.first_contact("A001", name="北方公司", type="company")
        south.first_contact("A001", name="南方公司", type="company")
        south.tag("A001", tag="vip")
        assert north.profile("A001").name == "北方公司"
        assert south.profile("A001").tags == ("vip",)
        assert len(north.history("A001")) == 1
        assert north.recorder.max_notification_id() == 2  # its own claim and event
        schemas = {north.env["POSTGRES_SCHEMA"], south.env["POSTGRES_SCHEMA"]}
        assert len(schemas) == 2 and "public" not in schemas
    finally:
        north.close()
        south.close()


def test_views_reuse_pooled_connections(views: PostgresViewSet) -> None:
    profile = PlainProfiles(views.view("profile"))
    for _ in range(50):
        profile.get(uuid.uuid4())
    stats = views.datastore.pool.get_stats()
    assert stats["requests_num"] >= 50
    assert stats["connections_num"] <= views.settings.pool_size + views.settings.max_overflow


def test_the_ledger_pools_its_connections_too(store_url: str) -> None:
    ledger = CustomerLedger.open(store_url)
    try:
        ledger.eager_views = False
        for i in range(20):
            ledger.first_contact(f"P{i:03d}", name=f"n{i}", type="company")
        stats = ledger.recorder.datastore.pool.get_stats()  # type: ignore[attr-defined]
        assert stats["requests_num"] >= 20
        assert stats["connections_num"] <= 2 + 4  # pool_size + max_overflow of store_url
    finally:
        ledger.close()


@pytest.fixture
def restricted_role(postgres_database: str) -> Iterator[tuple[str, str]]:
    """A role that may use one existing schema but not create schemas."""
    role, schema = f"clerk_{uuid.uuid4().hex[:8]}", f"s_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN')
        conn.execute(f'REVOKE CREATE ON DATABASE "{conn.info.dbname}" FROM PUBLIC')
        conn.execute(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{role}"')
    try:
        yield role, schema
    finally:
        with psycopg.connect(postgres_database, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_permissions_a_schema_owner_needs_no_database_rights(
    postgres_database: str, restricted_role: tuple[str, str]
) -> None:
    role, schema = restricted_role
    base = postgres_database.replace("://postgres@", f"://{role}@", 1)
    assert role in base
    ledger = CustomerLedger.open(f"{base}?prefix={schema}&pool_size=1")
    try:
        ledger.first_contact("A001", name="x", type="company")
        assert ledger.profile("A001").name == "x"
    finally:
        ledger.close()
    with pytest.raises(StoreError, match="may not create schema"):
        PostgresAdapter().application_env(StoreURL.parse(f"{base}?prefix=elsewhere"))
