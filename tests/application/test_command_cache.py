"""The command cache: each command works on a private copy of the cached customer.

A copy must be as independent as ``copy.deepcopy``'s; a refused command leaves the
cached customer as recorded, and a customer changed by another writer is brought up
to date.
"""

from __future__ import annotations

import copy
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from customer_ledger import CustomerLedger
from customer_ledger.application.arguments import copy_of as _copy_of
from customer_ledger.domain.values import Contact

os.environ.setdefault("EVENTSOURCING_DISABLE_REDEFINITION_CHECK", "y")


def busy_customer(ledger: CustomerLedger) -> None:
    """A customer with something in every kind of container the aggregate keeps."""
    ledger.first_contact("A001", name="客户一", type="individual", occurred_at="2023-01-02")
    ledger.add_contact("A001", contact=Contact("c1", "张三", phone="13800138000"))
    ledger.tag("A001", tag="vip")
    ledger.record_purchase("A001", product="p", amount="10.50", occurred_at="2023-01-03")
    ledger.sign_contract(
        "A001", contract="K1", signed_on=date(2023, 1, 4), expires_on=date(2024, 1, 4), amount=100
    )
    ledger.file_complaint("A001", complaint="Q1", subject="late")
    ledger.schedule_reminder("A001", reminder="R1", subject="call", due_on=date(2023, 2, 1))


def cached(ledger: CustomerLedger) -> Any:
    customer_id = ledger.customer_id("A001")
    return ledger._command_loads.get(customer_id, deepcopy_from_cache=False)


def test_a_commands_copy_equals_a_deep_copy_and_shares_no_container() -> None:
    with CustomerLedger.open("memory://") as ledger:
        busy_customer(ledger)
        original = cached(ledger)
        copied = _copy_of(original)
        assert type(copied) is type(original)
        assert vars(copied) == vars(copy.deepcopy(original)) == vars(original)
        for name, value in vars(copied).items():
            if isinstance(value, (dict, list, set)):
                assert value is not vars(original)[name], name
        copied.tags.add("changed")
        copied.contacts.clear()
        assert "changed" not in original.tags and original.contacts


def test_state_that_is_not_plain_data_is_deep_copied() -> None:
    with CustomerLedger.open("memory://") as ledger:
        busy_customer(ledger)
        original = cached(ledger)
        original.__dict__["extra"] = {"nested": [1, 2]}  # not one level of plain values
        copied = _copy_of(original)
        copied.extra["nested"].append(3)
        assert original.extra == {"nested": [1, 2]}


def test_a_refused_command_leaves_the_cached_customer_as_recorded() -> None:
    with CustomerLedger.open("memory://") as ledger:
        busy_customer(ledger)
        before = vars(copy.deepcopy(cached(ledger)))
        with pytest.raises(Exception):  # noqa: B017 - any refusal
            ledger.tag("A001", tag="vip")  # already tagged
        assert vars(cached(ledger)) == before
        ledger.tag("A001", tag="other")
        assert ledger.customer("A001").version == cached(ledger).version == 8


def test_a_customer_changed_by_another_writer_is_brought_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/ledger.db"
    with CustomerLedger.open(url) as first, CustomerLedger.open(url) as second:
        busy_customer(first)
        second.tag("A001", tag="from the second writer")
        first.tag("A001", tag="from the first again")
        customer = first.customer("A001")
        assert customer.version == 9
        assert {"from the second writer", "from the first again"} <= customer.tags
        assert cached(first).tags == customer.tags
