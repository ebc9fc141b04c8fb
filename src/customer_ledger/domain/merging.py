"""Merging two records of one customer: what the absorbed record brings to the survivor.

Nothing already recorded is rewritten (the hash chains stay valid): the survivor records
``CustomerAbsorbed`` carrying a ``Contribution``, the absorbed record ``MergedIntoCustomer``
and takes no command after it. The contribution is what still counts: the contacts, the
contracts in force and the complaints still open, tags, revenue per currency, and the
dated interactions and purchases (so that counts, grades and churn trends see them on
the days they happened).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from attrs import evolve, frozen

from customer_ledger.domain.values import (
    Complaint,
    ComplaintStatus,
    Contact,
    Contract,
    ContractStatus,
    Money,
)


@frozen
class DatedInteraction:
    on: date
    follow_up_on: date | None = None
    follow_up: str | None = None


@frozen
class DatedPurchase:
    on: date
    amount: Money


@frozen
class Contribution:
    """What customer ``number`` (``customer_id``) brings to the customer it is merged into.
    Ids that the survivor already uses are prefixed with ``number`` and a dash."""

    number: str
    customer_id: UUID
    contacts: tuple[Contact, ...] = ()
    contracts: tuple[Contract, ...] = ()
    complaints: tuple[Complaint, ...] = ()
    tags: tuple[str, ...] = ()
    revenue: tuple[Money, ...] = ()
    purchase_count: int = 0
    interaction_count: int = 0
    last_interaction_at: datetime | None = None
    last_purchase_at: datetime | None = None
    cooperation_since: date | None = None
    converted: bool = False  # the absorbed record had become a customer (成交)
    engaged: bool = False  # ... or at least a prospect
    interactions: tuple[DatedInteraction, ...] = ()
    purchases: tuple[DatedPurchase, ...] = ()


def _free(key: str, taken: Iterable[str], number: str) -> str:
    return f"{number}-{key}" if key in set(taken) else key


def contribution(absorbed: Any, events: Iterable[Any], survivor: Any) -> Contribution:
    """What ``absorbed`` (a Customer, with its recorded ``events``) brings to ``survivor``."""
    number = absorbed.number
    contacts = () if absorbed.forgotten else tuple(
        evolve(c, contact_id=_free(c.contact_id, survivor.contacts, number), primary=False)
        for _, c in sorted(absorbed.contacts.items())
    )  # fmt: skip
    contracts = tuple(
        evolve(c, number=_free(c.number, survivor.contracts, number))
        for _, c in sorted(absorbed.contracts.items())
        if c.status is ContractStatus.ACTIVE
    )
    complaints = tuple(
        evolve(c, complaint_id=_free(c.complaint_id, survivor.complaints, number))
        for _, c in sorted(absorbed.complaints.items())
        if c.status is ComplaintStatus.OPEN
    )
    interactions: list[DatedInteraction] = []
    purchases: list[DatedPurchase] = []
    for event in events:
        kind = type(event).__name__
        if kind == "InteractionLogged":
            on = event.occurred_at.date()
            interactions.append(DatedInteraction(on, event.follow_up_on, event.follow_up))
        elif kind == "PurchaseRecorded":
            purchases.append(DatedPurchase(event.occurred_at.date(), event.amount))
        elif kind == "CustomerAbsorbed":  # what an earlier merge brought moves on with it
            interactions += event.contribution.interactions
            purchases += event.contribution.purchases
    return Contribution(
        number=number,
        customer_id=absorbed.id,
        contacts=contacts,
        contracts=contracts,
        complaints=complaints,
        tags=tuple(sorted(absorbed.tags)),
        revenue=tuple(Money(a, c) for c, a in sorted(absorbed.revenue.items())),
        purchase_count=absorbed.purchase_count,
        interaction_count=absorbed.interaction_count,
        last_interaction_at=absorbed.last_interaction_at,
        last_purchase_at=absorbed.last_purchase_at,
        cooperation_since=absorbed.cooperation_since,
        converted=absorbed.stage.value in ("customer", "at_risk"),
        engaged=absorbed.stage.value != "lead",
        interactions=tuple(interactions),
        purchases=tuple(purchases),
    )


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def added(revenue: dict[str, Decimal], more: Iterable[Money]) -> dict[str, Decimal]:
    total = dict(revenue)
    for money in more:
        total[money.currency] = total.get(money.currency, Decimal(0)) + money.amount
    return total
