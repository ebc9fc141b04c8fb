"""The Customer aggregate: one customer's whole record (客户档案) as events.

Public methods are commands: they validate and raise a ``DomainError`` naming the
broken rule, recording nothing. Private ``@event`` methods are the events: their
bodies apply the change, both when it happens and on every replay, so they never
validate and never fail.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, cast
from uuid import UUID

from attrs import evolve
from eventsourcing.domain import Aggregate, event

from customer_ledger.domain import lifecycle
from customer_ledger.domain.errors import (
    ComplaintNotOpen,
    ContractNotActive,
    CustomerChurned,
    DuplicateAttachment,
    DuplicateComplaint,
    DuplicateContact,
    DuplicateContractNumber,
    DuplicateReminder,
    FutureDate,
    InvalidDateRange,
    InvalidValue,
    MergedInto,
    NothingChanged,
    PossibleDuplicate,
    ReminderAlreadyCompleted,
    SatisfactionOutOfRange,
    UnknownContact,
    UnknownContract,
    UnknownReminder,
    ZeroValuePurchase,
)
from customer_ledger.domain.lifecycle import Trigger
from customer_ledger.domain.merging import Contribution, added, later
from customer_ledger.domain.personal import (
    ERASED,
    INDIVIDUALS_ONLY,
    PERSONAL,
    AlreadyForgotten,
    ForgottenCustomer,
    Personal,
    erased,
)
from customer_ledger.domain.values import (
    Attachment,
    Channel,
    Complaint,
    ComplaintStatus,
    Contact,
    Contract,
    ContractStatus,
    CustomerType,
    Grade,
    Meta,
    Money,
    Needs,
    Reminder,
    Stage,
    calendar_day,
    customer_number,
    decimal,
    email,
    optional_text,
    phone,
    sha256,
    text,
)

CLOCK_SKEW = timedelta(minutes=5)
LATE_AFTER = timedelta(hours=24)  # interactions are logged within a day (补录 after)
MAX_INTERACTION_MINUTES = 24 * 60
PROFILE_FIELDS = (
    "name",
    "type",
    "source",
    "industry",
    "region",
    "size",
    "licence_no",
    "registered_address",
)
# Personal for an individual (a company's are public). A profile update does not say
# which the customer is, so its values under these keys are always encrypted.
PERSONAL_PROFILE_FIELDS = frozenset({"name", "licence_no", "registered_address"})
PERSONAL_PROFILE_CHANGES = Personal(keys=PERSONAL_PROFILE_FIELDS)


def business_time(occurred_at: object, now: datetime | None) -> datetime:
    """When it happened: timezone-aware, and not later than now (plus clock skew)."""
    if not isinstance(occurred_at, datetime):
        raise InvalidValue(f"occurred_at must be a datetime, got {occurred_at!r}")
    if occurred_at.tzinfo is None or occurred_at.utcoffset() is None:
        raise InvalidValue("occurred_at must carry a time zone")
    calendar_day(occurred_at, "occurred_at")
    if occurred_at > (now or datetime.now(UTC)) + CLOCK_SKEW:
        raise FutureDate(f"occurred_at {occurred_at.isoformat()} is in the future")
    return occurred_at


def past_date(value: object, what: str, now: datetime | None) -> date:
    day = a_date(value, what)
    if day > ((now or datetime.now(UTC)) + CLOCK_SKEW).date() + timedelta(days=1):
        raise FutureDate(f"{what} {day.isoformat()} is in the future")
    return day


def a_date(value: object, what: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidValue(f"{what} must be a date, got {value!r}")
    return calendar_day(value, what)


def duration(minutes: object) -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise InvalidValue(f"duration_minutes must be a whole number, got {minutes!r}")
    if not 0 < minutes <= MAX_INTERACTION_MINUTES:
        raise InvalidValue(f"duration_minutes {minutes} is not within 1–{MAX_INTERACTION_MINUTES}")
    return minutes


def satisfaction(score: object) -> int:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise SatisfactionOutOfRange(f"satisfaction {score!r} is not a whole number 1–5")
    return score


def valid_contact(contact: Contact) -> Contact:
    return Contact(
        contact_id=text(contact.contact_id, "contact id", max_len=64),
        name=text(contact.name, "contact name", max_len=200),
        title=optional_text(contact.title, "title", max_len=200),
        phone=None if contact.phone is None else phone(contact.phone),
        email=None if contact.email is None else email(contact.email),
        address=optional_text(contact.address, "address"),
        wechat=optional_text(contact.wechat, "WeChat", max_len=100),
        qq=optional_text(contact.qq, "QQ", max_len=100),
        birthday=None if contact.birthday is None else a_date(contact.birthday, "birthday"),
        primary=bool(contact.primary),
    )


def _profile_value(value: object) -> str | None:
    """A profile field's value as a ProfileUpdated event holds it (a type by its word)."""
    return value.value if isinstance(value, CustomerType) else cast(str | None, value)


def valid_profile_value(name: str, value: object) -> str | None:
    if name == "type":
        try:
            return CustomerType(cast(str, value)).value  # anything else: ValueError
        except ValueError as error:
            raise InvalidValue(f"type must be individual or company, not {value!r}") from error
    if name == "name":
        return text(value, "name", max_len=200)
    return optional_text(value, name.replace("_", " "))


class Customer(Aggregate):
    """A customer's record; ``stage`` follows ``domain.lifecycle``."""

    TOPIC = "customer_ledger.Customer"

    # State added after the first release defaults here, so older snapshots and view
    # states (which lack the attribute) still load.
    risk_flagged = False
    forgotten = False
    merged_into: str | None = None  # the survivor's number, once merged into it
    merged_from: tuple[str, ...] = ()  # the numbers merged into this customer

    class Event(Aggregate.Event):
        TOPIC = "customer_ledger.Customer.Event"
        occurred_at: datetime
        meta: Meta

    # -- creation -------------------------------------------------------------------

    @classmethod
    def first_contact(
        cls,
        *,
        number: str,
        name: str,
        type: CustomerType | str,
        occurred_at: datetime,
        meta: Meta,
        source: str | None = None,
        industry: str | None = None,
        region: str | None = None,
        size: str | None = None,
        owner: str | None = None,
        licence_no: str | None = None,
        registered_address: str | None = None,
        now: datetime | None = None,
        allow_duplicate: bool = False,
        likely_duplicates: tuple[str, ...] = (),
    ) -> Customer:
        """``likely_duplicates``: the numbers of customers this one looks like (the
        ledger's duplicate index finds them); refused unless ``allow_duplicate``."""
        if not isinstance(allow_duplicate, bool):
            raise InvalidValue(f"allow_duplicate must be true or false, got {allow_duplicate!r}")
        if likely_duplicates and not allow_duplicate:
            raise PossibleDuplicate(
                f"this looks like customer {', '.join(likely_duplicates)} already recorded; "
                "record it anyway with allow_duplicate (--allow-duplicate), or merge them later",
                tuple(likely_duplicates),
            )
        return cls(
            number=customer_number(number),
            name=text(name, "name", max_len=200),
            type=CustomerType(cast(str, valid_profile_value("type", type))),
            source=optional_text(source, "source"),
            industry=optional_text(industry, "industry"),
            region=optional_text(region, "region"),
            size=optional_text(size, "size"),
            owner=optional_text(owner, "owner", max_len=200),
            licence_no=optional_text(licence_no, "licence no", max_len=64),
            registered_address=optional_text(registered_address, "registered address"),
            occurred_at=business_time(occurred_at, now),
            meta=meta,
            allow_duplicate=allow_duplicate,
            duplicate_of=tuple(likely_duplicates),
        )

    class FirstContacted(Aggregate.Created, Event):
        """v2 added ``allow_duplicate`` (the recorder chose to record a likely duplicate)
        and ``duplicate_of`` (the numbers it looked like then); v1 events read as False
        and none."""

        TOPIC = "customer_ledger.Customer.FirstContacted"
        class_version = 2
        number: str
        name: Annotated[str, INDIVIDUALS_ONLY]
        type: CustomerType
        source: str | None
        industry: str | None
        region: str | None
        size: str | None
        owner: str | None
        licence_no: Annotated[str | None, INDIVIDUALS_ONLY]
        registered_address: Annotated[str | None, INDIVIDUALS_ONLY]
        allow_duplicate: bool
        duplicate_of: tuple[str, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["allow_duplicate"] = False
            state["duplicate_of"] = ()

    @event(FirstContacted)
    def __init__(
        self,
        number: str,
        name: Annotated[str, INDIVIDUALS_ONLY],
        type: CustomerType,
        source: str | None,
        industry: str | None,
        region: str | None,
        size: str | None,
        owner: str | None,
        licence_no: Annotated[str | None, INDIVIDUALS_ONLY],
        registered_address: Annotated[str | None, INDIVIDUALS_ONLY],
        occurred_at: datetime,
        meta: Meta,
        allow_duplicate: bool = False,
        duplicate_of: tuple[str, ...] = (),
    ) -> None:
        self.number = number
        self.name = name
        self.type = type
        self.source = source
        self.industry = industry
        self.region = region
        self.size = size
        self.owner = owner
        self.licence_no = licence_no
        self.registered_address = registered_address
        self.first_contact_at = occurred_at
        self.stage = Stage.LEAD
        self.contacts: dict[str, Contact] = {}
        self.tags: set[str] = set()
        self.needs = Needs()
        self.interaction_count = 0
        self.last_interaction_at: datetime | None = None
        self.purchase_count = 0
        self.revenue: dict[str, Decimal] = {}
        self.last_purchase_at: datetime | None = None
        self.cooperation_since: date | None = None
        self.contracts: dict[str, Contract] = {}
        self.complaints: dict[str, Complaint] = {}
        self.last_satisfaction: int | None = None
        self.grade: Grade | None = None
        self.vip = False
        self.churn_reason: str | None = None
        self.risk_flagged = False
        self.attachments: dict[str, Attachment] = {}
        self.reminders: dict[str, Reminder] = {}

    # -- derived --------------------------------------------------------------------

    @property
    def open_complaints(self) -> int:
        return sum(c.status is ComplaintStatus.OPEN for c in self.complaints.values())

    def _move(self, trigger: Trigger) -> None:
        """Apply-side stage change: lenient, so old history always replays."""
        stage = lifecycle.TRANSITIONS.get((self.stage, trigger), self.stage)
        if stage is Stage.CUSTOMER or stage is Stage.AT_RISK:  # the stages settle moves
            # whether any complaint is open, not how many: a whale has hundreds. From the
            # newest end: old ones are resolved, so an open one is met within a few
            # instead of after hundreds (issue 17: this was 15% of a whale's replay)
            opened = self.risk_flagged or any(
                c.status is ComplaintStatus.OPEN for c in reversed(self.complaints.values())
            )
            stage = lifecycle.settle(stage, int(opened), self.risk_flagged)
        self.stage = stage

    def _started_cooperating(self, day: date) -> None:
        if self.cooperation_since is None or day < self.cooperation_since:
            self.cooperation_since = day

    # -- profile and contacts -------------------------------------------------------

    def update_profile(
        self, *, occurred_at: datetime, meta: Meta, now: datetime | None = None, **fields: Any
    ) -> None:
        unknown = sorted(set(fields) - set(PROFILE_FIELDS))
        if unknown:
            raise InvalidValue(f"not a profile field: {', '.join(unknown)}")
        changes = {name: valid_profile_value(name, value) for name, value in fields.items()}
        changes = {k: v for k, v in changes.items() if v != getattr(self, k)}
        if not changes:
            raise NothingChanged("the profile already holds these values")
        if personal := PERSONAL_PROFILE_FIELDS.intersection(changes):
            self._refuse_personal_data_if_forgotten(", ".join(sorted(personal)))
        previous = {k: _profile_value(getattr(self, k)) for k in changes}
        self._profile_updated(changes, previous, business_time(occurred_at, now), meta)

    class ProfileUpdated(Event):
        """v2 added ``previous``: the values the changes replaced (a timeline shows
        old → new); v1 events read None (not recorded)."""

        TOPIC = "customer_ledger.Customer.ProfileUpdated"
        class_version = 2
        changes: Annotated[dict[str, str | None], PERSONAL_PROFILE_CHANGES]
        previous: Annotated[dict[str, str | None] | None, PERSONAL_PROFILE_CHANGES]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["previous"] = None

    @event(ProfileUpdated)
    def _profile_updated(
        self,
        changes: Annotated[dict[str, str | None], PERSONAL_PROFILE_CHANGES],
        previous: Annotated[dict[str, str | None] | None, PERSONAL_PROFILE_CHANGES],
        occurred_at: datetime,
        meta: Meta,
    ) -> None:
        for name, value in changes.items():
            setattr(self, name, CustomerType(cast(str, value)) if name == "type" else value)

    def add_contact(
        self, contact: Contact, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        self._refuse_personal_data_if_forgotten("a contact")
        contact = valid_contact(contact)
        if contact.contact_id in self.contacts:
            raise DuplicateContact(f"contact {contact.contact_id!r} already exists")
        self._contact_added(contact, business_time(occurred_at, now), meta)

    @event("ContactAdded", topic="customer_ledger.Customer.ContactAdded")
    def _contact_added(self, contact: Contact, occurred_at: datetime, meta: Meta) -> None:
        self._put_contact(contact)

    def update_contact(
        self, contact: Contact, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        self._refuse_personal_data_if_forgotten("a contact")
        contact = valid_contact(contact)
        if contact.contact_id not in self.contacts:
            raise UnknownContact(f"no contact {contact.contact_id!r}")
        if self.contacts[contact.contact_id] == contact:
            raise NothingChanged(f"contact {contact.contact_id!r} already holds these values")
        self._contact_updated(contact, business_time(occurred_at, now), meta)

    @event("ContactUpdated", topic="customer_ledger.Customer.ContactUpdated")
    def _contact_updated(self, contact: Contact, occurred_at: datetime, meta: Meta) -> None:
        self._put_contact(contact)

    def _put_contact(self, contact: Contact) -> None:
        if contact.primary:  # one primary contact at a time
            self.contacts = {
                k: evolve(c, primary=False) if c.primary else c for k, c in self.contacts.items()
            }
        self.contacts[contact.contact_id] = contact

    def remove_contact(
        self, contact_id: str, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        contact_id = text(contact_id, "contact id", max_len=64)  # as add_contact stored it
        if contact_id not in self.contacts:
            raise UnknownContact(f"no contact {contact_id!r}")
        self._contact_removed(contact_id, business_time(occurred_at, now), meta)

    @event("ContactRemoved", topic="customer_ledger.Customer.ContactRemoved")
    def _contact_removed(self, contact_id: str, occurred_at: datetime, meta: Meta) -> None:
        del self.contacts[contact_id]

    def assign_owner(
        self, owner: str, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        owner = text(owner, "owner", max_len=200)
        if owner == self.owner:
            raise NothingChanged(f"{owner!r} already owns this customer")
        self._owner_assigned(owner, self.owner, business_time(occurred_at, now), meta)

    @event("OwnerAssigned", topic="customer_ledger.Customer.OwnerAssigned")
    def _owner_assigned(
        self, owner: str, previous: str | None, occurred_at: datetime, meta: Meta
    ) -> None:
        self.owner = owner

    def tag(
        self, tag: str, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        tag = text(tag, "tag", max_len=64)
        if tag in self.tags:
            raise NothingChanged(f"already tagged {tag!r}")
        self._tagged(tag, business_time(occurred_at, now), meta)

    @event("Tagged", topic="customer_ledger.Customer.Tagged")
    def _tagged(self, tag: str, occurred_at: datetime, meta: Meta) -> None:
        self.tags.add(tag)

    def untag(
        self, tag: str, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        tag = text(tag, "tag", max_len=64)  # as tag() stored it
        if tag not in self.tags:
            raise NothingChanged(f"not tagged {tag!r}")
        self._untagged(tag, business_time(occurred_at, now), meta)

    @event("Untagged", topic="customer_ledger.Customer.Untagged")
    def _untagged(self, tag: str, occurred_at: datetime, meta: Meta) -> None:
        self.tags.discard(tag)

    def record_needs(
        self, needs: Needs, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        needs = Needs(
            core_needs=optional_text(needs.core_needs, "core needs"),
            purchase_preferences=optional_text(needs.purchase_preferences, "preferences"),
            communication_channel=optional_text(needs.communication_channel, "channel"),
            communication_frequency=optional_text(needs.communication_frequency, "frequency"),
            upsell_intention=bool(needs.upsell_intention),
        )
        if needs == Needs():
            raise InvalidValue("needs must say something")
        lifecycle.check(self.stage, Trigger.ENGAGED)
        self._needs_recorded(needs, business_time(occurred_at, now), meta)

    @event("NeedsRecorded", topic="customer_ledger.Customer.NeedsRecorded")
    def _needs_recorded(self, needs: Needs, occurred_at: datetime, meta: Meta) -> None:
        self.needs = needs
        self._move(Trigger.ENGAGED)

    # -- interactions and business ----------------------------------------------------

    def log_interaction(
        self,
        *,
        channel: Channel | str,
        topic: str,
        occurred_at: datetime,
        meta: Meta,
        feedback: str | None = None,
        participant: str | None = None,
        follow_up: str | None = None,
        follow_up_on: date | None = None,
        duration_minutes: int | None = None,
        now: datetime | None = None,
    ) -> None:
        try:
            channel = Channel(channel)
        except ValueError as error:
            choices = ", ".join(c.value for c in Channel)
            raise InvalidValue(f"channel {channel!r} is not one of {choices}") from error
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.ENGAGED)
        self._interaction_logged(
            channel=channel,
            topic=text(topic, "topic"),
            feedback=optional_text(feedback, "feedback"),
            participant=optional_text(participant, "participant", max_len=200),
            follow_up=optional_text(follow_up, "follow-up plan"),
            follow_up_on=None if follow_up_on is None else a_date(follow_up_on, "follow-up date"),
            duration_minutes=None if duration_minutes is None else duration(duration_minutes),
            late=(now or datetime.now(UTC)) - when > LATE_AFTER,
            occurred_at=when,
            meta=meta,
        )

    class InteractionLogged(Event):
        """v2 added ``duration_minutes``; v1 events read as None (not known)."""

        TOPIC = "customer_ledger.Customer.InteractionLogged"
        class_version = 2
        channel: Channel
        topic: str
        feedback: str | None
        participant: str | None
        follow_up: str | None
        follow_up_on: date | None
        duration_minutes: int | None
        late: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["duration_minutes"] = None

    @event(InteractionLogged)
    def _interaction_logged(
        self,
        channel: Channel,
        topic: str,
        feedback: str | None,
        participant: str | None,
        follow_up: str | None,
        follow_up_on: date | None,
        duration_minutes: int | None,
        late: bool,
        occurred_at: datetime,
        meta: Meta,
    ) -> None:
        self.interaction_count += 1
        if self.last_interaction_at is None or occurred_at > self.last_interaction_at:
            self.last_interaction_at = occurred_at
        self._move(Trigger.ENGAGED)

    def record_purchase(
        self,
        *,
        product: str,
        quantity: Decimal | int | str,
        amount: Money,
        occurred_at: datetime,
        meta: Meta,
        payment_method: str | None = None,
        now: datetime | None = None,
    ) -> None:
        count = decimal(quantity, "quantity")
        if count <= 0:
            raise ZeroValuePurchase(f"quantity {count} must be positive")
        if amount.amount == 0:
            raise ZeroValuePurchase("a purchase must have a value")
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.CONVERTED)
        self._purchase_recorded(
            product=text(product, "product", max_len=200),
            quantity=count,
            amount=amount,
            payment_method=optional_text(payment_method, "payment method", max_len=100),
            occurred_at=when,
            meta=meta,
        )

    @event("PurchaseRecorded", topic="customer_ledger.Customer.PurchaseRecorded")
    def _purchase_recorded(
        self,
        product: str,
        quantity: Decimal,
        amount: Money,
        payment_method: str | None,
        occurred_at: datetime,
        meta: Meta,
    ) -> None:
        self.purchase_count += 1
        self.revenue[amount.currency] = self.revenue.get(amount.currency, Decimal(0)) + (
            amount.amount
        )
        if self.last_purchase_at is None or occurred_at > self.last_purchase_at:
            self.last_purchase_at = occurred_at
        self._started_cooperating(occurred_at.date())
        self._move(Trigger.CONVERTED)

    def sign_contract(
        self,
        *,
        contract_number: str,
        signed_on: date,
        occurred_at: datetime,
        meta: Meta,
        amount: Money | None = None,
        starts_on: date | None = None,
        expires_on: date | None = None,
        now: datetime | None = None,
    ) -> None:
        number = text(contract_number, "contract number", max_len=64)
        if number in self.contracts:
            raise DuplicateContractNumber(f"contract {number!r} already exists")
        signed = past_date(signed_on, "signed_on", now)
        starts = signed if starts_on is None else a_date(starts_on, "starts_on")
        expires = None if expires_on is None else a_date(expires_on, "expires_on")
        if expires is not None and expires <= starts:
            raise InvalidDateRange(f"contract expires {expires} before it starts {starts}")
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.CONVERTED)
        self._contract_signed(Contract(number, signed, starts, expires, amount), when, meta)

    @event("ContractSigned", topic="customer_ledger.Customer.ContractSigned")
    def _contract_signed(self, contract: Contract, occurred_at: datetime, meta: Meta) -> None:
        self.contracts[contract.number] = contract
        self._started_cooperating(contract.starts_on)
        self._move(Trigger.CONVERTED)

    def _active_contract(self, number: str) -> Contract:
        number = text(number, "contract number", max_len=64)  # as sign_contract stored it
        if number not in self.contracts:
            raise UnknownContract(f"no contract {number!r}")
        contract = self.contracts[number]
        if contract.status is not ContractStatus.ACTIVE:
            raise ContractNotActive(f"contract {number!r} is {contract.status.value}")
        return contract

    def renew_contract(
        self,
        *,
        contract_number: str,
        expires_on: date,
        occurred_at: datetime,
        meta: Meta,
        amount: Money | None = None,
        now: datetime | None = None,
    ) -> None:
        contract = self._active_contract(contract_number)
        expires = a_date(expires_on, "expires_on")
        if expires <= (contract.expires_on or contract.starts_on):
            raise InvalidDateRange(f"renewal must move the expiry past {contract.expires_on}")
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.CONVERTED)
        self._contract_renewed(contract.number, expires, amount, when, meta)

    @event("ContractRenewed", topic="customer_ledger.Customer.ContractRenewed")
    def _contract_renewed(
        self,
        contract_number: str,
        expires_on: date,
        amount: Money | None,
        occurred_at: datetime,
        meta: Meta,
    ) -> None:
        old = self.contracts[contract_number]
        self.contracts[contract_number] = evolve(
            old,
            expires_on=expires_on,
            amount=amount if amount is not None else old.amount,
            renewals=old.renewals + 1,
        )
        self._move(Trigger.CONVERTED)

    def terminate_contract(
        self,
        *,
        contract_number: str,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        contract = self._active_contract(contract_number)
        self._contract_terminated(contract.number, business_time(occurred_at, now), meta)

    @event("ContractTerminated", topic="customer_ledger.Customer.ContractTerminated")
    def _contract_terminated(self, contract_number: str, occurred_at: datetime, meta: Meta) -> None:
        self.contracts[contract_number] = evolve(
            self.contracts[contract_number],
            status=ContractStatus.TERMINATED,
            terminated_on=occurred_at.date(),
        )

    # -- complaints and satisfaction ---------------------------------------------------

    def file_complaint(
        self,
        *,
        complaint_id: str,
        subject: str,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        complaint_id = text(complaint_id, "complaint id", max_len=64)
        if complaint_id in self.complaints:
            raise DuplicateComplaint(f"complaint {complaint_id!r} already exists")
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.COMPLAINED)
        self._complaint_filed(complaint_id, text(subject, "subject"), when, meta)

    @event("ComplaintFiled", topic="customer_ledger.Customer.ComplaintFiled")
    def _complaint_filed(
        self, complaint_id: str, subject: str, occurred_at: datetime, meta: Meta
    ) -> None:
        self.complaints[complaint_id] = Complaint(complaint_id, subject, occurred_at)
        self._move(Trigger.COMPLAINED)

    def resolve_complaint(
        self,
        *,
        complaint_id: str,
        resolution: str,
        occurred_at: datetime,
        meta: Meta,
        satisfaction: int | None = None,
        now: datetime | None = None,
    ) -> None:
        complaint_id = text(complaint_id, "complaint id", max_len=64)  # as filed
        complaint = self.complaints.get(complaint_id)
        if complaint is None or complaint.status is not ComplaintStatus.OPEN:
            raise ComplaintNotOpen(f"complaint {complaint_id!r} is not open")
        score = None if satisfaction is None else _score(satisfaction)
        when = business_time(occurred_at, now)
        if when < complaint.filed_at:
            raise InvalidDateRange("a complaint cannot be resolved before it was filed")
        self._complaint_resolved(complaint_id, text(resolution, "resolution"), score, when, meta)

    @event("ComplaintResolved", topic="customer_ledger.Customer.ComplaintResolved")
    def _complaint_resolved(
        self,
        complaint_id: str,
        resolution: str,
        satisfaction: int | None,
        occurred_at: datetime,
        meta: Meta,
    ) -> None:
        self.complaints[complaint_id] = evolve(
            self.complaints[complaint_id],
            status=ComplaintStatus.RESOLVED,
            resolution=resolution,
            satisfaction=satisfaction,
            resolved_at=occurred_at,
        )
        if satisfaction is not None:
            self.last_satisfaction = satisfaction
        self._move(Trigger.COMPLAINED)

    def rate_satisfaction(
        self,
        *,
        score: int,
        occurred_at: datetime,
        meta: Meta,
        comment: str | None = None,
        now: datetime | None = None,
    ) -> None:
        self._satisfaction_rated(
            _score(score), optional_text(comment, "comment"), business_time(occurred_at, now), meta
        )

    @event("SatisfactionRated", topic="customer_ledger.Customer.SatisfactionRated")
    def _satisfaction_rated(
        self, score: int, comment: str | None, occurred_at: datetime, meta: Meta
    ) -> None:
        self.last_satisfaction = score

    def assign_grade(
        self,
        *,
        grade: Grade | str | None,
        occurred_at: datetime,
        meta: Meta,
        vip: bool = False,
        now: datetime | None = None,
    ) -> None:
        try:
            value = None if grade is None else Grade(grade)
        except ValueError as error:
            raise InvalidValue(f"grade {grade!r} is not A, B or C") from error
        if (value, bool(vip)) == (self.grade, self.vip):
            raise NothingChanged("the customer already has this grade")
        self._grade_assigned(value, bool(vip), business_time(occurred_at, now), meta)

    @event("GradeAssigned", topic="customer_ledger.Customer.GradeAssigned")
    def _grade_assigned(
        self, grade: Grade | None, vip: bool, occurred_at: datetime, meta: Meta
    ) -> None:
        self.grade = grade
        self.vip = vip

    # -- lifecycle ---------------------------------------------------------------------

    def churn(
        self, *, reason: str, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        reason = text(reason, "churn reason")
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.CHURNED)
        self._churned(reason, when, meta)

    @event("Churned", topic="customer_ledger.Customer.Churned")
    def _churned(self, reason: str, occurred_at: datetime, meta: Meta) -> None:
        self.churn_reason = reason
        self.risk_flagged = False  # a lost customer's old warning does not outlive it
        self._move(Trigger.CHURNED)

    def reactivate(self, *, occurred_at: datetime, meta: Meta, now: datetime | None = None) -> None:
        when = business_time(occurred_at, now)
        lifecycle.check(self.stage, Trigger.REACTIVATED)
        self._reactivated(when, meta)

    @event("Reactivated", topic="customer_ledger.Customer.Reactivated")
    def _reactivated(self, occurred_at: datetime, meta: Meta) -> None:
        self.churn_reason = None
        self._move(Trigger.REACTIVATED)

    def set_stage_on_import(
        self,
        *,
        stage: Stage | str,
        row: str,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        """Records a stage a spreadsheet row states, without inventing the events that
        would have implied it; ``at_risk`` flags the customer at risk by hand."""
        self._refuse_personal_data_if_forgotten("an imported row")
        try:
            value = Stage(stage)
        except ValueError as error:
            raise InvalidValue(f"stage {stage!r} is not a stage") from error
        if value not in lifecycle.IMPORTABLE_STAGES:
            raise InvalidValue(f"a {value.value} stage is recorded with its own command")
        if self.stage is Stage.CHURNED:
            raise CustomerChurned("a churned customer is reactivated, not re-imported")
        flagged = value is Stage.AT_RISK
        after = lifecycle.settle(
            Stage.CUSTOMER if flagged else value, self.open_complaints, flagged
        )
        if (after, flagged) == (self.stage, self.risk_flagged):  # stage *and* hand flag
            raise NothingChanged(f"the customer is already {value.value}")
        self._stage_set_on_import(
            value, text(row, "row", max_len=8000), business_time(occurred_at, now), meta
        )

    @event("StageSetOnImport", topic="customer_ledger.Customer.StageSetOnImport")
    def _stage_set_on_import(
        self, stage: Stage, row: Annotated[str, PERSONAL], occurred_at: datetime, meta: Meta
    ) -> None:
        self.risk_flagged = stage is Stage.AT_RISK
        self.stage = lifecycle.settle(
            Stage.CUSTOMER if stage is Stage.AT_RISK else stage,
            self.open_complaints,
            self.risk_flagged,
        )

    def clear_risk_flag(
        self, *, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        if not self.risk_flagged:
            raise NothingChanged("the customer is not flagged at risk")
        self._risk_flag_cleared(business_time(occurred_at, now), meta)

    @event("RiskFlagCleared", topic="customer_ledger.Customer.RiskFlagCleared")
    def _risk_flag_cleared(self, occurred_at: datetime, meta: Meta) -> None:
        self.risk_flagged = False
        self.stage = lifecycle.settle(self.stage, self.open_complaints, False)

    # -- forgetting (the right to erasure; customer_ledger.privacy.fields destroys the key) ----

    def forget(self, *, occurred_at: datetime, meta: Meta, now: datetime | None = None) -> None:
        """Records that the customer's personal data is erased; the facts stay."""
        if self.forgotten:
            raise AlreadyForgotten(f"customer {self.number} was forgotten already")
        public = self.type is CustomerType.COMPANY  # its name etc. outlive its key
        kept = {k: getattr(self, k) for k in sorted(PERSONAL_PROFILE_FIELDS)} if public else {}
        self._forgotten(kept, business_time(occurred_at, now), meta)

    @event("CustomerForgotten", topic="customer_ledger.Customer.CustomerForgotten")
    def _forgotten(self, kept: dict[str, str | None], occurred_at: datetime, meta: Meta) -> None:
        """``kept``: a company's public profile fields, in clear, because profile updates
        stored them encrypted (under the key this event's command destroys)."""
        self.forgotten = True
        for name in PERSONAL_PROFILE_FIELDS:
            value = getattr(self, name)
            setattr(self, name, kept.get(name, None if value is None else ERASED))
        self.contacts = {k: erased(c) for k, c in self.contacts.items()}

    def _refuse_personal_data_if_forgotten(self, what: str) -> None:
        if self.forgotten:
            raise ForgottenCustomer(
                f"customer {self.number} was forgotten: {what} would add personal data"
            )

    # -- merging (domain.merging says what moves) ----------------------------------------

    def refuse_if_merged(self) -> None:
        """Every command but ``forget`` is for the survivor once this record is merged."""
        if self.merged_into is not None:
            raise MergedInto(
                f"customer {self.number} was merged into {self.merged_into}: record on "
                f"{self.merged_into}",
                self.merged_into,
            )

    def absorb(
        self,
        contribution: Contribution,
        *,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        """Takes in what a record of the same customer brings (``domain.merging``)."""
        self.refuse_if_merged()
        if contribution.customer_id == self.id:
            raise InvalidValue(f"customer {self.number} cannot be merged into itself")
        if contribution.contacts:
            self._refuse_personal_data_if_forgotten("the merged record's contacts")
        self._absorbed(contribution, business_time(occurred_at, now), meta)

    @event("CustomerAbsorbed", topic="customer_ledger.Customer.CustomerAbsorbed")
    def _absorbed(self, contribution: Contribution, occurred_at: datetime, meta: Meta) -> None:
        c = contribution
        self.contacts = {**self.contacts, **{x.contact_id: x for x in c.contacts}}
        self.contracts = {**self.contracts, **{x.number: x for x in c.contracts}}
        self.complaints = {**self.complaints, **{x.complaint_id: x for x in c.complaints}}
        self.tags = self.tags | set(c.tags)
        self.revenue = added(self.revenue, c.revenue)
        self.purchase_count += c.purchase_count
        self.interaction_count += c.interaction_count
        self.last_interaction_at = later(self.last_interaction_at, c.last_interaction_at)
        self.last_purchase_at = later(self.last_purchase_at, c.last_purchase_at)
        if c.cooperation_since is not None:
            self._started_cooperating(c.cooperation_since)
        self.merged_from = (*self.merged_from, c.number)
        if c.converted or c.engaged:
            self._move(Trigger.CONVERTED if c.converted else Trigger.ENGAGED)
        else:
            self.stage = lifecycle.settle(self.stage, self.open_complaints, self.risk_flagged)

    def merge_into(
        self,
        survivor: Customer,
        *,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        """Records that this record is one customer with ``survivor`` from now on."""
        self.refuse_if_merged()
        survivor.refuse_if_merged()
        if survivor.id == self.id:
            raise InvalidValue(f"customer {self.number} cannot be merged into itself")
        self._merged_into(survivor.number, survivor.id, business_time(occurred_at, now), meta)

    @event("MergedIntoCustomer", topic="customer_ledger.Customer.MergedIntoCustomer")
    def _merged_into(
        self, survivor_number: str, survivor_id: UUID, occurred_at: datetime, meta: Meta
    ) -> None:
        """What moved to the survivor counts there: open complaints and contracts in force
        no longer count here."""
        self.merged_into = survivor_number
        self.complaints = {
            k: c for k, c in self.complaints.items() if c.status is not ComplaintStatus.OPEN
        }
        self.stage = lifecycle.settle(self.stage, self.open_complaints, self.risk_flagged)

    # -- attachments and reminders -------------------------------------------------------

    def link_attachment(
        self,
        *,
        name: str,
        uri: str,
        sha256: str,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        attachment = Attachment(
            text(name, "attachment name", max_len=200),
            text(uri, "attachment uri", max_len=2000),
            _sha256(sha256),
        )
        if attachment.name in self.attachments:
            raise DuplicateAttachment(f"attachment {attachment.name!r} already linked")
        self._attachment_linked(attachment, business_time(occurred_at, now), meta)

    @event("AttachmentLinked", topic="customer_ledger.Customer.AttachmentLinked")
    def _attachment_linked(self, attachment: Attachment, occurred_at: datetime, meta: Meta) -> None:
        self.attachments[attachment.name] = attachment

    def schedule_reminder(
        self,
        *,
        reminder_id: str,
        subject: str,
        due_on: date,
        occurred_at: datetime,
        meta: Meta,
        now: datetime | None = None,
    ) -> None:
        reminder_id = text(reminder_id, "reminder id", max_len=64)
        if reminder_id in self.reminders:
            raise DuplicateReminder(f"reminder {reminder_id!r} already exists")
        reminder = Reminder(reminder_id, text(subject, "subject"), a_date(due_on, "due_on"))
        self._reminder_scheduled(reminder, business_time(occurred_at, now), meta)

    @event("ReminderScheduled", topic="customer_ledger.Customer.ReminderScheduled")
    def _reminder_scheduled(self, reminder: Reminder, occurred_at: datetime, meta: Meta) -> None:
        self.reminders[reminder.reminder_id] = reminder

    def complete_reminder(
        self, *, reminder_id: str, occurred_at: datetime, meta: Meta, now: datetime | None = None
    ) -> None:
        reminder_id = text(reminder_id, "reminder id", max_len=64)  # as scheduled
        reminder = self.reminders.get(reminder_id)
        if reminder is None:
            raise UnknownReminder(f"no reminder {reminder_id!r}")
        if reminder.done_at is not None:
            raise ReminderAlreadyCompleted(f"reminder {reminder_id!r} is already done")
        self._reminder_completed(reminder_id, business_time(occurred_at, now), meta)

    @event("ReminderCompleted", topic="customer_ledger.Customer.ReminderCompleted")
    def _reminder_completed(self, reminder_id: str, occurred_at: datetime, meta: Meta) -> None:
        self.reminders[reminder_id] = evolve(self.reminders[reminder_id], done_at=occurred_at)

    @property
    def next_reminder(self) -> Reminder | None:
        pending = [r for r in self.reminders.values() if r.done_at is None]
        return min(pending, key=lambda r: (r.due_on, r.reminder_id), default=None)


_score = satisfaction
_sha256 = sha256


# Typed state, so a snapshot (and a view's stored state) round-trips exactly.
Customer.__annotations__.update(
    {
        "number": str,
        "name": Annotated[str, INDIVIDUALS_ONLY],
        "type": CustomerType,
        "source": str | None,
        "industry": str | None,
        "region": str | None,
        "size": str | None,
        "owner": str | None,
        "licence_no": Annotated[str | None, INDIVIDUALS_ONLY],
        "registered_address": Annotated[str | None, INDIVIDUALS_ONLY],
        "first_contact_at": datetime,
        "stage": Stage,
        "contacts": dict[str, Contact],
        "tags": set[str],
        "needs": Needs,
        "interaction_count": int,
        "last_interaction_at": datetime | None,
        "purchase_count": int,
        "revenue": dict[str, Decimal],
        "last_purchase_at": datetime | None,
        "cooperation_since": date | None,
        "contracts": dict[str, Contract],
        "complaints": dict[str, Complaint],
        "last_satisfaction": int | None,
        "grade": Grade | None,
        "vip": bool,
        "churn_reason": str | None,
        "risk_flagged": bool,
        "forgotten": bool,
        "merged_into": str | None,
        "merged_from": tuple[str, ...],
        "attachments": dict[str, Attachment],
        "reminders": dict[str, Reminder],
        "_id": UUID,
        "_version": int,
        "_created_on": datetime,
        "_modified_on": datetime,
    }
)
