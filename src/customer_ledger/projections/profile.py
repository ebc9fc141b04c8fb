"""The profile read model: everything a sales or service person sees of a customer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from attrs import evolve, frozen

from customer_ledger.domain.customer import Customer
from customer_ledger.domain.personal import INDIVIDUALS_ONLY
from customer_ledger.domain.values import (
    Attachment,
    Complaint,
    ComplaintStatus,
    Contact,
    Contract,
    CustomerType,
    Grade,
    Needs,
    Reminder,
    Stage,
)
from customer_ledger.privacy.fields import PersonalFields
from customer_ledger.privacy.masking import mask_name
from customer_ledger.serialization import converter, decode, encode

BASE_CURRENCY = "CNY"


@frozen
class Profile:
    """A customer's current record; ``total_revenue`` is in ``BASE_CURRENCY``."""

    customer_id: UUID
    number: str
    name: Annotated[str, INDIVIDUALS_ONLY]
    type: CustomerType
    stage: Stage
    source: str | None
    industry: str | None
    region: str | None
    size: str | None
    owner: str | None
    licence_no: Annotated[str | None, INDIVIDUALS_ONLY]
    registered_address: Annotated[str | None, INDIVIDUALS_ONLY]
    first_contact_at: datetime
    cooperation_since: date | None
    tags: tuple[str, ...]
    grade: Grade | None
    vip: bool
    contacts: tuple[Contact, ...]
    needs: Needs
    revenue: dict[str, Decimal]
    total_revenue: Decimal
    purchase_count: int
    average_order_value: Decimal | None
    last_purchase_at: datetime | None
    interaction_count: int
    last_interaction_at: datetime | None
    contracts: tuple[Contract, ...]
    complaints: tuple[Complaint, ...]
    open_complaints: int
    last_satisfaction: int | None
    attachments: tuple[Attachment, ...]
    reminders: tuple[Reminder, ...]
    next_reminder_on: date | None
    churn_reason: str | None
    version: int
    updated_at: datetime  # recorded time of the latest event
    # Fields added after the first release come last, with defaults, so documents
    # stored by older versions still load (a rebuild then fills them in).
    risk_flagged: bool = False
    # Set when the customer's events cannot all be read (one missing, undecodable or
    # not matching its seal): the profile is the customer as it stood before.
    damaged: str | None = None
    merged_into: str | None = None  # the survivor's number, once merged into it
    merged_from: tuple[str, ...] = ()  # numbers of the records merged into this one
    # Not stored: set when the profile was asked for by a number merged into this one.
    looked_up_as: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types (strings for Decimal, dates and ids)."""
        data: dict[str, Any] = converter.unstructure(self)
        return data


def profile_of(customer: Customer) -> Profile:
    """The profile of a customer aggregate as it stands."""
    total = customer.revenue.get(BASE_CURRENCY, Decimal(0))
    base_purchases = customer.purchase_count if set(customer.revenue) <= {BASE_CURRENCY} else None
    next_reminder = customer.next_reminder
    return Profile(
        customer_id=customer.id,
        number=customer.number,
        name=customer.name,
        type=customer.type,
        stage=customer.stage,
        source=customer.source,
        industry=customer.industry,
        region=customer.region,
        size=customer.size,
        owner=customer.owner,
        licence_no=customer.licence_no,
        registered_address=customer.registered_address,
        first_contact_at=customer.first_contact_at,
        cooperation_since=customer.cooperation_since,
        tags=tuple(sorted(customer.tags)),
        grade=customer.grade,
        vip=customer.vip,
        contacts=tuple(customer.contacts[k] for k in sorted(customer.contacts)),
        needs=customer.needs,
        revenue=dict(sorted(customer.revenue.items())),
        total_revenue=total,
        purchase_count=customer.purchase_count,
        average_order_value=(
            (total / base_purchases).quantize(Decimal("0.01")) if base_purchases else None
        ),
        last_purchase_at=customer.last_purchase_at,
        interaction_count=customer.interaction_count,
        last_interaction_at=customer.last_interaction_at,
        contracts=tuple(customer.contracts[k] for k in sorted(customer.contracts)),
        complaints=tuple(customer.complaints[k] for k in sorted(customer.complaints)),
        open_complaints=sum(c.status is ComplaintStatus.OPEN for c in customer.complaints.values()),
        last_satisfaction=customer.last_satisfaction,
        attachments=tuple(customer.attachments[k] for k in sorted(customer.attachments)),
        reminders=tuple(customer.reminders[k] for k in sorted(customer.reminders)),
        next_reminder_on=None if next_reminder is None else next_reminder.due_on,
        churn_reason=customer.churn_reason,
        risk_flagged=customer.risk_flagged,
        merged_into=customer.merged_into,
        merged_from=customer.merged_from,
        version=customer.version,
        updated_at=customer.modified_on,
    )


def listing(profile: Profile) -> Profile:
    """What a view may keep of the profile in clear, to search, filter and sort by: no
    contacts, and an individual's name masked, licence and address left out. (A
    company's name, licence and registered address are public.)"""
    if profile.type is CustomerType.COMPANY:
        return evolve(profile, contacts=()) if profile.contacts else profile
    return evolve(
        profile,
        name=mask_name(profile.name),
        licence_no=None,
        registered_address=None,
        contacts=(),
    )


def profile_document(profile: Profile, fields: PersonalFields) -> bytes:
    """The profile as canonical JSON, its personal fields sealed with the customer's key:
    the form views store it in."""
    data = fields.seal_value(profile.customer_id, Profile, profile.to_json())
    return encode(data)


def profile_from_document(
    document: bytes | str, fields: PersonalFields, *, without_keys: bool = False
) -> Profile:
    """A stored profile, its personal fields opened (``[erased]`` for a forgotten
    customer; ``without_keys``: ``[encrypted]`` where the keys cannot be used)."""
    data = decode(document)
    opened = fields.open_value(UUID(data["customer_id"]), data, without_keys=without_keys)
    return converter.structure(opened, Profile)
