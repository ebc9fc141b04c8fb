"""The shared test fixtures' policy: skip loudly without a server, fail under CI=true."""

from __future__ import annotations

import psycopg
import pytest
from customer_ledger_postgres import testing as testing_postgres
from customer_ledger_postgres.testing import require_postgres, store_url, unavailable_reason

pytestmark = pytest.mark.postgres
NOWHERE = "postgresql://nobody:secret@127.0.0.1:1/none"


def test_a_missing_server_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL tests NOT RUN") as skipped:
        require_postgres(NOWHERE)
    assert "127.0.0.1" in str(skipped.value) and "secret" not in str(skipped.value)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_server_fails_under_ci(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="CI=true, so this is a failure"):
        require_postgres(NOWHERE)


def test_the_server_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(testing_postgres.ENV_DSN, NOWHERE)
    assert testing_postgres.postgres_dsn() == NOWHERE
    monkeypatch.delenv(testing_postgres.ENV_DSN)
    assert testing_postgres.postgres_dsn() == testing_postgres.DEFAULT_DSN
    assert unavailable_reason() is None  # the server these tests run against


def test_store_urls_from_any_libpq_form() -> None:
    assert store_url("host=db port=6000 user=u password=p@ss dbname=x", prefix="a") == (
        "postgresql://u:p%40ss@db:6000/x?prefix=a"
    )
    assert store_url("postgresql://u@/x?host=/run/pg", dbname="y") == (
        "postgresql://u@localhost:5432/y?host=/run/pg"
    )


def test_the_session_database_is_fresh_and_fast(postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        name = conn.info.dbname
        assert name.startswith("customer_ledger_test_")
        assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)


def test_the_shared_store_url_opens_a_ledger(postgres_url: str) -> None:
    from customer_ledger.application.ledger import CustomerLedger

    assert "prefix=ledger" in postgres_url
    ledger = CustomerLedger.open(postgres_url)
    try:
        ledger.first_contact("T001", name="shared", type="company")
        assert ledger.profile("T001").name == "shared"
    finally:
        ledger.close()
