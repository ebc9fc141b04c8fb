"""The domain is pure: importing it (or the package, or a value class) loads no
application, persistence, database driver, codec or cryptography."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "customer_ledger.application",
    "customer_ledger.storage",
    "eventsourcing.application",
    "eventsourcing.persistence",
    "sqlite3",
    "psycopg",
    "cryptography",
    "cattrs",
    "orjson",
)


def loaded_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``statement``."""
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(out.split())


@pytest.mark.parametrize(
    "statement",
    [
        "import customer_ledger",
        "import customer_ledger.domain",
        "from customer_ledger.domain.values import Money, Contact",
        "from customer_ledger import Money",  # a public name, loaded lazily
        "from customer_ledger.domain import Customer",
    ],
)
def test_importing_the_domain_loads_nothing_heavy(statement: str) -> None:
    loaded = loaded_after(statement)
    heavy = sorted(
        m
        for m in loaded
        if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}
        and any(m == h or m.startswith(h + ".") for h in HEAVY)
    )
    assert heavy == [], f"{statement} loads {heavy}"
    ours = sorted(m for m in loaded if m.startswith("customer_ledger"))
    assert all(m == "customer_ledger" or m.startswith("customer_ledger.domain") for m in ours), ours


def test_the_package_gives_its_public_names_lazily_and_refuses_others() -> None:
    import customer_ledger

    assert customer_ledger.CustomerLedger.__name__ == "CustomerLedger"
    assert "CustomerLedger" in dir(customer_ledger)
    with pytest.raises(AttributeError):
        customer_ledger.no_such_name  # noqa: B018
    for name in customer_ledger.__all__:
        assert getattr(customer_ledger, name) is not None
