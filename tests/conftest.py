"""Shared fixtures: a fixed clock, a ledger on memory://, a SQLite store URL, and a check
that a rejected command recorded nothing.

Value and command strategies live in ``strategies.py`` beside this file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from strategies import FIXED_NOW, fixed_clock, recorded

from customer_ledger import CustomerLedger, DomainError

# No deadlines: the first example of a test pays for imports and a loaded 2-core CI box
# is slow now and then; a property is about correctness, timing lives in benchmarks/.
# HYPOTHESIS_PROFILE=ledger-thorough runs ten times the examples.
settings.register_profile("ledger", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ledger-thorough", settings.get_profile("ledger"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ledger"))


@pytest.fixture
def now() -> datetime:
    """What the ledger's clock says: ``strategies.FIXED_NOW`` (2024-06-03 09:30 UTC)."""
    return FIXED_NOW


@pytest.fixture
def ledger() -> Iterator[CustomerLedger]:
    """An empty ledger on memory:// whose clock always says ``FIXED_NOW``."""
    ledger = CustomerLedger.open("memory://", clock=fixed_clock)
    yield ledger
    ledger.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A store URL for a fresh SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path}/ledger.db"


@pytest.fixture(scope="session")  # stateless, so hypothesis tests may use it too
def rejects() -> Callable[..., AbstractContextManager[pytest.ExceptionInfo[DomainError]]]:
    """``with rejects(ledger, Rule):`` — the block raises exactly ``Rule`` (not merely a
    subclass or a parent of it), whose ``rule`` is ``Rule.rule``, and records nothing."""

    @contextmanager
    def check(
        ledger: CustomerLedger, error: type[DomainError]
    ) -> Iterator[pytest.ExceptionInfo[DomainError]]:
        before = recorded(ledger)
        with pytest.raises(DomainError) as info:
            yield info
        assert type(info.value) is error, f"raised {info.value!r}, not {error.__name__}"
        assert info.value.rule == error.rule
        assert recorded(ledger) == before, "a rejected command recorded events"

    return check
