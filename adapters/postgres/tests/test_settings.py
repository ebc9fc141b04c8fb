"""Store URLs to settings: what reaches eventsourcing and the views' pool."""

from __future__ import annotations

import pytest
from customer_ledger_postgres import PostgresAdapter, PostgresSettings

from customer_ledger.errors import StoreError
from customer_ledger.storage.registry import adapter_for
from customer_ledger.storage.urls import StoreURL

pytestmark = pytest.mark.postgres


def settings(url: str) -> PostgresSettings:
    return PostgresSettings.from_url(StoreURL.parse(url))


def test_a_full_url_maps_to_eventsourcing_settings() -> None:
    env = settings(
        "postgresql://clerk:s%40cret@db.example:6543/crm?prefix=North_1&pool_size=3"
        "&max_overflow=2&lock_timeout=7&idle_timeout=9&connect_timeout=4"
    ).application_env()
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "crm",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "clerk",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "north_1",
        "POSTGRES_POOL_SIZE": "3",
        "POSTGRES_MAX_OVERFLOW": "2",
        "POSTGRES_CONNECT_TIMEOUT": "4",
        "POSTGRES_LOCK_TIMEOUT": "7",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "9",
        "POSTGRES_PRE_PING": "n",
        "SINGLE_ROW_TRACKING": "y",
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        # eventsourcing's other settings, pinned to their defaults
        "ORIGINATOR_ID_TYPE": "uuid",
        "CREATE_TABLE": "y",
        "APPLICATION_RECORDER_TOPIC": "",
        "TRACKING_RECORDER_TOPIC": "",
        "PROCESS_RECORDER_TOPIC": "",
        "POSTGRES_GET_PASSWORD_TOPIC": "",
    }


def test_defaults_public_schema_and_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSWORD", "from-env")
    s = settings("postgres://clerk@db/crm")  # postgres:// is accepted too
    assert (s.schema, s.port, s.password, s.pool_size, s.lock_timeout) == (
        "public",
        5432,
        "from-env",
        5,
        5,
    )
    socket = settings("postgresql://clerk@/crm?host=/var/run/postgresql")
    assert socket.host == "/var/run/postgresql"


def test_the_entry_point_serves_both_schemes() -> None:
    for url in ("postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"):
        assert isinstance(adapter_for(StoreURL.parse(url)), PostgresAdapter)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u@h", "must name one database"),
        ("postgresql://u@h/", "must name one database"),
        ("postgresql://u@h/db?pool_size=0", "pool_size"),
        ("postgresql://u@h/db?lock_timeout=soon", "lock_timeout"),
        ("postgresql://u@h/db?poolsize=3", "unknown option"),
        ("postgresql://u@h/db?prefix=pg_catalog", "cannot name a PostgreSQL schema"),
        ("postgresql://u@h/db?prefix=a;drop", "letters, digits"),
        ("postgresql://u@h:99999/db", "bad port"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        settings(url)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(StoreError) as error:
        settings("postgresql://u:hunter2@h/db?bogus=1")
    assert "hunter2" not in str(error.value) and "***" in str(error.value)


def test_an_unreachable_server_is_a_store_error() -> None:
    url = StoreURL.parse("postgresql://nobody:pw@127.0.0.1:1/db?prefix=x&connect_timeout=1")
    with pytest.raises(StoreError, match="cannot reach PostgreSQL") as error:
        PostgresAdapter().application_env(url)
    assert "pw@" not in str(error.value)
