"""Hypothesis strategies for customer_ledger: valid values, commands and whole histories.

Reusable by any test (projection equivalence, backends, CLI):

- value strategies (``words()``, ``phones()``, ``amounts()``, ``contacts()``, ...) draw
  values the domain accepts *already in normal form* (stripped text, phones without
  separators), so what goes in is what comes back out;
- ``bad_*()`` strategies draw values a rule must reject;
- ``histories()`` draws a *valid* random history of commands for several customers:
  replayed in order against a fresh ``CustomerLedger`` whose clock is ``FIXED_NOW``
  (``replay(ledger, history)``), every command is accepted;
- ``EXAMPLES`` holds accepted arguments for every command; ``a_lead``, ``a_customer``,
  ``ready_for(command)`` build the "given" of a given/when/then test;
- ``Model`` is a small, independent model of the ledger (stage, complaints, contracts,
  churn, ...). ``model.expect(command)`` names the errors a command may raise (empty:
  it must be accepted) and ``model.apply(command)`` follows an accepted command.

The model deliberately does not import the lifecycle table: it restates the rules of
issue 2 in its own words, so a test comparing it with the ledger compares two
independent readings of the specification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from attrs import evolve
from hypothesis import strategies as st

from customer_ledger import (
    AlreadyChurned,
    CommandIdReused,
    CommandResult,
    ComplaintNotOpen,
    Contact,
    ContractNotActive,
    CustomerChurned,
    CustomerLedger,
    DomainError,
    DuplicateAttachment,
    DuplicateComplaint,
    DuplicateContact,
    DuplicateContractNumber,
    DuplicateCustomerNumber,
    DuplicateReminder,
    FutureDate,
    InvalidDateRange,
    InvalidValue,
    MalformedEmail,
    MalformedPhone,
    Needs,
    NegativeAmount,
    NotChurned,
    NothingChanged,
    PossibleDuplicate,
    ReminderAlreadyCompleted,
    SatisfactionOutOfRange,
    UnknownContact,
    UnknownContract,
    UnknownCurrency,
    UnknownCustomer,
    UnknownReminder,
    ZeroValuePurchase,
)
from customer_ledger.application.arguments import SYSTEM as SYSTEM_ACTOR
from customer_ledger.domain.access import Actor
from customer_ledger.domain.duplicates import identity_keys
from customer_ledger.domain.values import CURRENCIES

# -- time -----------------------------------------------------------------------------

FIXED_NOW = datetime(2024, 6, 3, 9, 30, tzinfo=UTC)
"""What the ledger's clock says in every test that uses a fixed clock."""

HISTORY_START = FIXED_NOW - timedelta(days=60)
CLOCK_SKEW = timedelta(minutes=5)


def fixed_clock() -> datetime:
    return FIXED_NOW


# Offsets without daylight saving: an aware datetime in a DST zone whose offset depends
# on ``fold`` never compares equal to the same instant at a fixed offset (PEP 495).
ZONES = (UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("Asia/Kolkata"), ZoneInfo("Asia/Kathmandu"))


def offsets() -> st.SearchStrategy[timezone | ZoneInfo]:
    """Time zones: named ones, and fixed offsets down to the second (tzdata has offsets
    such as Shanghai's +08:05:43 before 1901; CPython's ``fromisoformat`` drops an offset
    of less than one second, which no real zone has)."""
    fixed = st.integers(-(24 * 3600 - 1), 24 * 3600 - 1).map(
        lambda s: timezone(timedelta(seconds=s))
    )
    whole_minutes = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
    return st.one_of(st.sampled_from(ZONES), whole_minutes, fixed)


def past_times(
    start: datetime = HISTORY_START, end: datetime = FIXED_NOW
) -> st.SearchStrategy[datetime]:
    """Aware datetimes in [start, end], at various offsets."""
    span = int((end - start).total_seconds() * 1_000_000)
    return st.builds(
        lambda micros, tz: (start + timedelta(microseconds=micros)).astimezone(tz),
        st.integers(0, span),
        offsets(),
    )


# -- valid values (already in the form the ledger stores) ----------------------------

_PRINTABLE = st.characters(categories=("L", "N", "P", "S", "Zs"))


def words(min_size: int = 1, max_size: int = 20) -> st.SearchStrategy[str]:
    """Printable, stripped, non-empty text (Chinese and other scripts included)."""
    return (
        st.text(_PRINTABLE, min_size=min_size, max_size=max_size)
        .map(str.strip)
        .filter(lambda s: len(s) >= min_size)
    )


def customer_numbers() -> st.SearchStrategy[str]:
    """客户编号: letters, digits, '-', '_' or '.', at most 32 characters."""
    return st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}", fullmatch=True)


def phones() -> st.SearchStrategy[str]:
    """Normalised phone numbers, some masked the way source sheets mask them."""
    plain = st.from_regex(r"\+?[0-9]{7,15}", fullmatch=True).filter(
        lambda p: not p.startswith(("+86", "0086"))  # stored without China's country code
    )
    masked = st.from_regex(r"1[0-9]{2}\*{4}[0-9]{4}|0[0-9]{2}\*{4}[0-9]{4}", fullmatch=True)
    return st.one_of(plain, masked)


def emails() -> st.SearchStrategy[str]:
    return st.from_regex(
        r"[a-z0-9][a-z0-9._+\-]{0,15}@[a-z0-9][a-z0-9\-]{0,15}\.[a-z]{2,6}", fullmatch=True
    )


def sha256s() -> st.SearchStrategy[str]:
    return st.binary(max_size=16).map(lambda b: hashlib.sha256(b).hexdigest())


AMOUNT_LIMIT = Decimal("1e15")


def amounts(*, positive: bool = False) -> st.SearchStrategy[Decimal]:
    """Exact amounts: up to 15 integer digits, up to 6 places, some with exponents."""
    return st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(1 if positive else 0, 10**15 - 1),
        st.integers(-6, 3),
    ).filter(lambda d: d < AMOUNT_LIMIT)


def quantities() -> st.SearchStrategy[Decimal | int]:
    return st.one_of(
        st.integers(1, 10_000),
        st.builds(lambda d, e: Decimal(d).scaleb(-e), st.integers(1, 10**6), st.integers(0, 3)),
    )


def currencies() -> st.SearchStrategy[str]:
    return st.sampled_from(sorted(CURRENCIES))


def satisfactions() -> st.SearchStrategy[int]:
    return st.integers(1, 5)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def contacts(contact_id: str | st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Contact]:
    ids = (
        st.just(contact_id) if isinstance(contact_id, str)
        else contact_id if contact_id is not None
        else words(max_size=10)
    )  # fmt: skip
    return st.builds(
        Contact,
        contact_id=ids,
        name=words(),
        title=optional(words()),
        phone=optional(phones()),
        email=optional(emails()),
        address=optional(words(max_size=40)),
        wechat=optional(words(max_size=10)),
        qq=optional(st.from_regex(r"[1-9][0-9]{4,10}", fullmatch=True)),
        birthday=optional(st.dates(date(1930, 1, 1), date(2010, 12, 31))),
        primary=st.booleans(),
    )


def needs() -> st.SearchStrategy[Needs]:
    return st.builds(
        Needs,
        core_needs=optional(words()),
        purchase_preferences=optional(words()),
        communication_channel=optional(st.sampled_from(["phone", "WeChat", "e-mail", "visit"])),
        communication_frequency=optional(st.sampled_from(["weekly", "monthly", "quarterly"])),
        upsell_intention=st.booleans(),
    ).filter(lambda n: n != Needs())


CHANNELS = ("phone", "visit", "email", "event", "wechat", "qq", "social", "meeting", "other")
PROFILE_FIELDS = (
    "name", "type", "source", "industry", "region", "size", "licence_no", "registered_address",
)  # fmt: skip

# -- values a rule must reject -------------------------------------------------------


def bad_satisfactions() -> st.SearchStrategy[object]:
    """Outside 1–5, or not a whole number (bools and strings included)."""
    return st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=6),
        st.sampled_from([True, False, "3", 3.0, None, Decimal(3)]),
    )


def negative_amounts() -> st.SearchStrategy[Decimal]:
    return amounts(positive=True).map(lambda d: -d)


def bad_currencies() -> st.SearchStrategy[object]:
    return st.one_of(
        st.from_regex(r"[A-Z]{3}", fullmatch=True).filter(lambda c: c not in CURRENCIES),
        st.sampled_from(["", "RMB", "yuan", "元", "US$", 156, None]),
    )


def bad_phones() -> st.SearchStrategy[str]:
    """Not a phone: letters, too few digits, too short or too long (≤ 32 characters)."""
    return st.one_of(
        st.from_regex(r"[0-9]{0,5}[a-zA-Z][0-9a-zA-Z]{0,10}", fullmatch=True),
        st.from_regex(r"[0-9]{1,5}", fullmatch=True),  # too short
        st.from_regex(r"\*{4,10}[0-9]{0,3}", fullmatch=True),  # fewer than 4 digits
        st.from_regex(r"[0-9]{26,32}", fullmatch=True),  # too long
        st.sampled_from(["138-1234-567x", "+", "phone: 1234567", "1234567#8"]),
    )


def bad_emails() -> st.SearchStrategy[str]:
    return st.one_of(
        words().filter(lambda s: "@" not in s),
        st.sampled_from(
            ["a@b", "a@b.", "@example.com", "a@@example.com", "a b@example.com", "a@exa mple.com",
             "<a@example.com>", "a,b@example.com"]
        ),
    )  # fmt: skip


def bad_sha256s() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text("0123456789abcdef", min_size=1, max_size=63),
        st.text("0123456789abcdef", min_size=65, max_size=80).map(lambda s: s[:64] + "0"),
        sha256s().map(lambda h: "g" + h[1:]),
        sha256s().map(lambda h: h[:20] + " " + h[21:]),
    )


def control_texts() -> st.SearchStrategy[str]:
    """Text with a control character inside (tab and newline are allowed, so excluded)."""
    control = st.sampled_from([chr(c) for c in range(32) if chr(c) not in "\t\n"] + ["\x7f"])
    return st.builds(lambda a, c, b: f"{a}{c}{b}", words(), control, words())


def over_long_texts(limit: int) -> st.SearchStrategy[str]:
    return st.integers(limit + 1, limit + 50).map(lambda n: "长" * n)


def future_times(skew: timedelta = CLOCK_SKEW) -> st.SearchStrategy[datetime]:
    """Later than FIXED_NOW plus the allowed clock skew."""
    return past_times(FIXED_NOW + skew + timedelta(microseconds=1), FIXED_NOW + timedelta(days=800))


# -- commands --------------------------------------------------------------------------


@dataclass(frozen=True, eq=True)
class Command:
    """One call of a ``CustomerLedger`` command: ``ledger.<name>(number, **kwargs)``.

    ``defect`` names the error an argument of the command was made to break (None when
    every argument is valid); whether the customer's *state* allows the command is the
    model's business.
    """

    name: str
    number: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    defect: type[DomainError] | None = field(default=None, compare=False)

    def __call__(self, ledger: CustomerLedger) -> CommandResult:
        result: CommandResult = getattr(ledger, self.name)(self.number, **self.kwargs)
        return result

    @property
    def occurred_at(self) -> datetime:
        when: datetime = self.kwargs["occurred_at"]
        return when

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        defect = f"  # {self.defect.__name__}" if self.defect else ""
        return f"ledger.{self.name}({self.number!r}, {args}){defect}"


COMMAND_NAMES = (
    "first_contact", "update_profile", "add_contact", "update_contact", "remove_contact",
    "assign_owner", "tag", "untag", "record_needs", "log_interaction", "record_purchase",
    "sign_contract", "renew_contract", "terminate_contract", "file_complaint",
    "resolve_complaint", "rate_satisfaction", "assign_grade", "churn", "reactivate",
    "link_attachment", "schedule_reminder", "complete_reminder", "set_stage_on_import",
    "clear_risk_flag",
)  # fmt: skip
IMPORTABLE_STAGES = ("lead", "prospect", "customer", "at_risk")


def recorded(ledger: CustomerLedger) -> int:
    """How many events the store holds (customers' events, number claims, receipts)."""
    return ledger.recorder.max_notification_id() or 0


def replay(ledger: CustomerLedger, history: Iterable[Command]) -> list[CommandResult]:
    """Runs every command of ``history`` against ``ledger``, in order."""
    return [command(ledger) for command in history]


# -- the model -------------------------------------------------------------------------

META_KEYS = ("occurred_at", "actor", "reason", "command_id", "correlation_id")
ACTORS = (
    Actor("*助理", "admin"), Actor("*经理", "manager"), Actor("*专员", "admin"), SYSTEM_ACTOR
)  # fmt: skip


@dataclass
class CustomerModel:
    """What the specification says one customer's record holds."""

    engagement: str = "lead"  # lead / prospect / customer / churned
    flagged: bool = False  # at risk by hand (an imported 风险预警 row), until cleared
    profile: dict[str, str | None] = field(default_factory=dict)
    owner: str | None = None
    contacts: dict[str, Contact] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    contracts: dict[str, tuple[bool, date]] = field(default_factory=dict)  # active, ends
    complaints: dict[str, tuple[bool, datetime]] = field(default_factory=dict)  # open, filed
    reminders: dict[str, bool] = field(default_factory=dict)  # done
    attachments: set[str] = field(default_factory=set)
    grade: tuple[str | None, bool] = (None, False)
    revenue: dict[str, Decimal] = field(default_factory=dict)
    interactions: int = 0
    purchases: int = 0
    last_satisfaction: int | None = None
    events: int = 0

    @property
    def open_complaints(self) -> set[str]:
        return {k for k, (is_open, _) in self.complaints.items() if is_open}

    @property
    def stage(self) -> str:
        """A customer with an open complaint, or flagged at risk, is at risk."""
        if self.engagement == "customer" and (self.open_complaints or self.flagged):
            return "at_risk"
        return self.engagement

    @property
    def churned(self) -> bool:
        return self.engagement == "churned"

    def engage(self) -> None:
        if self.engagement == "lead":
            self.engagement = "prospect"

    def convert(self) -> None:
        assert not self.churned
        self.engagement = "customer"


@dataclass
class Model:
    """The whole ledger as the specification reads: customers and command receipts."""

    customers: dict[str, CustomerModel] = field(default_factory=dict)
    receipts: dict[str, Command] = field(default_factory=dict)

    def expect(self, command: Command) -> set[type[DomainError]]:
        """The errors ``command`` may raise; empty when it must be accepted."""
        command_id = command.kwargs.get("command_id")
        if command_id is not None and command_id in self.receipts:
            earlier = self.receipts[command_id]
            return set() if _same_content(earlier, command) else {CommandIdReused}
        errors: set[type[DomainError]] = set()
        if command.defect is not None:
            errors.add(command.defect)
        customer = self.customers.get(command.number)
        if command.name == "first_contact":
            if customer is not None:
                errors.add(DuplicateCustomerNumber)
            elif self.looks_like_another(command.kwargs):
                errors.add(PossibleDuplicate)
            return errors
        if customer is None:
            return errors | {UnknownCustomer}
        return errors | _state_errors(customer, command)

    def looks_like_another(self, kw: dict[str, Any]) -> bool:
        """Whether a first contact shares a company name, licence or ID number with a
        customer already recorded (``domain.duplicates``), not allowed as a duplicate."""
        keys = identity_keys(kw.get("name"), kw.get("type"), kw.get("licence_no"))
        theirs = (
            identity_keys(c.profile.get("name"), c.profile.get("type"), c.profile.get("licence_no"))
            for c in self.customers.values()
        )
        return not kw.get("allow_duplicate") and any(keys & other for other in theirs)

    def replays(self, command: Command) -> bool:
        """True when ``command`` is a re-send of an accepted command."""
        command_id = command.kwargs.get("command_id")
        return command_id is not None and command_id in self.receipts

    def apply(self, command: Command) -> None:
        """Follows ``command``, which the ledger accepted."""
        if self.replays(command):
            return
        if command.kwargs.get("command_id") is not None:
            self.receipts[command.kwargs["command_id"]] = command
        if command.name == "first_contact":
            kw = command.kwargs
            self.customers[command.number] = CustomerModel(
                profile={f: kw.get(f) for f in PROFILE_FIELDS}, owner=kw.get("owner")
            )
        customer = self.customers[command.number]
        customer.events += 1
        _APPLY[command.name](customer, command.kwargs)


def _same_content(a: Command, b: Command) -> bool:
    """What a command_id's fingerprint covers: the command, customer, arguments, time."""

    def content(c: Command) -> tuple[str, str, dict[str, Any]]:
        meta = set(META_KEYS[1:]) - ({"reason"} if c.name == "churn" else set())  # an argument
        return c.name, c.number, {k: v for k, v in c.kwargs.items() if k not in meta}

    return content(a) == content(b)


def _state_errors(c: CustomerModel, command: Command) -> set[type[DomainError]]:
    kw = command.kwargs
    name = command.name
    errors: set[type[DomainError]] = set()
    if name == "update_profile":
        changes = kw["changes"]
        if all(c.profile.get(k) == v for k, v in changes.items()):
            errors.add(NothingChanged)
    elif name == "add_contact":
        if kw["contact"].contact_id in c.contacts:
            errors.add(DuplicateContact)
    elif name == "update_contact":
        contact = kw["contact"]
        if contact.contact_id not in c.contacts:
            errors.add(UnknownContact)
        elif c.contacts[contact.contact_id] == contact:
            errors.add(NothingChanged)
    elif name == "remove_contact":
        if kw["contact_id"] not in c.contacts:
            errors.add(UnknownContact)
    elif name == "assign_owner":
        if kw["owner"] == c.owner:
            errors.add(NothingChanged)
    elif name == "tag":
        if kw["tag"] in c.tags:
            errors.add(NothingChanged)
    elif name == "untag":
        if kw["tag"] not in c.tags:
            errors.add(NothingChanged)
    elif name == "record_purchase":
        if c.churned:
            errors.add(CustomerChurned)
    elif name == "sign_contract":
        if kw["contract"] in c.contracts:
            errors.add(DuplicateContractNumber)
        if c.churned:
            errors.add(CustomerChurned)
    elif name in ("renew_contract", "terminate_contract"):
        contract = c.contracts.get(kw["contract"])
        if contract is None:
            errors.add(UnknownContract)
        elif not contract[0]:
            errors.add(ContractNotActive)
        elif name == "renew_contract":
            if kw["expires_on"] <= contract[1]:
                errors.add(InvalidDateRange)
            if c.churned:
                errors.add(CustomerChurned)
    elif name == "file_complaint":
        if kw["complaint"] in c.complaints:
            errors.add(DuplicateComplaint)
    elif name == "resolve_complaint":
        complaint = c.complaints.get(kw["complaint"])
        if complaint is None or not complaint[0]:
            errors.add(ComplaintNotOpen)
        elif command.occurred_at < complaint[1]:
            errors.add(InvalidDateRange)
    elif name == "assign_grade":
        if (kw["grade"], kw.get("vip", False)) == c.grade:
            errors.add(NothingChanged)
    elif name == "churn":
        if c.churned:
            errors.add(AlreadyChurned)
    elif name == "reactivate":
        if not c.churned:
            errors.add(NotChurned)
    elif name == "set_stage_on_import":
        if c.churned:
            errors.add(CustomerChurned)
        elif _after_import(c, kw["stage"]) == (c.stage, c.flagged):
            errors.add(NothingChanged)
    elif name == "clear_risk_flag":
        if not c.flagged:
            errors.add(NothingChanged)
    elif name == "link_attachment":
        if kw["name"] in c.attachments:
            errors.add(DuplicateAttachment)
    elif name == "schedule_reminder":
        if kw["reminder"] in c.reminders:
            errors.add(DuplicateReminder)
    elif name == "complete_reminder":
        if kw["reminder"] not in c.reminders:
            errors.add(UnknownReminder)
        elif c.reminders[kw["reminder"]]:
            errors.add(ReminderAlreadyCompleted)
    return errors


def _put_contact(c: CustomerModel, kw: dict[str, Any]) -> None:
    contact: Contact = kw["contact"]
    if contact.primary:
        c.contacts = {k: evolve(v, primary=False) for k, v in c.contacts.items()}
    c.contacts[contact.contact_id] = contact


def _purchase(c: CustomerModel, kw: dict[str, Any]) -> None:
    currency = kw.get("currency", "CNY").upper()
    c.revenue[currency] = c.revenue.get(currency, Decimal(0)) + Decimal(kw["amount"])
    c.purchases += 1
    c.convert()


def _sign(c: CustomerModel, kw: dict[str, Any]) -> None:
    ends = kw.get("expires_on") or kw.get("starts_on") or kw["signed_on"]
    c.contracts[kw["contract"]] = (True, ends)
    c.convert()


def _renew(c: CustomerModel, kw: dict[str, Any]) -> None:
    c.contracts[kw["contract"]] = (True, kw["expires_on"])
    c.convert()


def _resolve(c: CustomerModel, kw: dict[str, Any]) -> None:
    c.complaints[kw["complaint"]] = (False, c.complaints[kw["complaint"]][1])
    if kw.get("satisfaction") is not None:
        c.last_satisfaction = kw["satisfaction"]


def _after_import(c: CustomerModel, stage: str) -> tuple[str, bool]:
    """(stage, flagged) after a sheet row states ``stage``."""
    flagged = stage == "at_risk"
    if flagged or (stage == "customer" and c.open_complaints):
        return "at_risk", flagged
    return stage, flagged


def _import_stage(c: CustomerModel, kw: dict[str, Any]) -> None:
    c.flagged = kw["stage"] == "at_risk"
    c.engagement = "customer" if c.flagged else kw["stage"]


def _set(attribute: str, value: Callable[[dict[str, Any]], Any]) -> Callable[..., None]:
    return lambda c, kw: setattr(c, attribute, value(kw))


def _interaction(c: CustomerModel, kw: dict[str, Any]) -> None:
    c.interactions += 1
    c.engage()


_APPLY: dict[str, Callable[[CustomerModel, dict[str, Any]], None]] = {
    "first_contact": lambda c, kw: None,
    "update_profile": lambda c, kw: c.profile.update(kw["changes"]),
    "add_contact": _put_contact,
    "update_contact": _put_contact,
    "remove_contact": lambda c, kw: c.contacts.pop(kw["contact_id"]),
    "assign_owner": _set("owner", lambda kw: kw["owner"]),
    "tag": lambda c, kw: c.tags.add(kw["tag"]),
    "untag": lambda c, kw: c.tags.remove(kw["tag"]),
    "record_needs": lambda c, kw: c.engage(),
    "log_interaction": _interaction,
    "record_purchase": _purchase,
    "sign_contract": _sign,
    "renew_contract": _renew,
    "terminate_contract": lambda c, kw: c.contracts.update(
        {kw["contract"]: (False, c.contracts[kw["contract"]][1])}
    ),
    "file_complaint": lambda c, kw: c.complaints.update(
        {kw["complaint"]: (True, kw["occurred_at"])}
    ),
    "resolve_complaint": _resolve,
    "rate_satisfaction": _set("last_satisfaction", lambda kw: kw["score"]),
    "assign_grade": _set("grade", lambda kw: (kw["grade"], kw.get("vip", False))),
    "churn": lambda c, kw: (setattr(c, "engagement", "churned"), setattr(c, "flagged", False)),
    "reactivate": _set("engagement", lambda kw: "prospect"),
    "link_attachment": lambda c, kw: c.attachments.add(kw["name"]),
    "schedule_reminder": lambda c, kw: c.reminders.update({kw["reminder"]: False}),
    "complete_reminder": lambda c, kw: c.reminders.update({kw["reminder"]: True}),
    "set_stage_on_import": _import_stage,
    "clear_risk_flag": _set("flagged", lambda kw: False),
}


# -- drawing commands ------------------------------------------------------------------

Draw = Callable[[st.SearchStrategy[Any]], Any]


def valid_kinds(customer: CustomerModel | None) -> list[str]:
    """The commands a customer in this state accepts (given suitable arguments).

    Commands that need a particular state come first: hypothesis favours the start of a
    ``sampled_from`` list, and those are the interesting ones.
    """
    if customer is None:
        return ["first_contact"]
    kinds = []
    active = [k for k, (is_active, _) in customer.contracts.items() if is_active]
    if customer.open_complaints:
        kinds.append("resolve_complaint")
    if active:
        if not customer.churned:
            kinds.append("renew_contract")
        kinds.append("terminate_contract")
    if customer.churned:
        kinds.append("reactivate")
    if customer.flagged:
        kinds.append("clear_risk_flag")
    if any(not done for done in customer.reminders.values()):
        kinds.append("complete_reminder")
    if customer.contacts:
        kinds += ["update_contact", "remove_contact"]
    if customer.tags:
        kinds.append("untag")
    if not customer.churned:
        kinds += ["sign_contract", "record_purchase", "churn", "set_stage_on_import"]
    kinds += [
        "file_complaint", "log_interaction", "record_needs", "add_contact", "tag",
        "schedule_reminder", "link_attachment", "rate_satisfaction", "assign_grade",
        "assign_owner", "update_profile",
    ]  # fmt: skip
    return kinds


def _fresh(draw: Draw, taken: Iterable[str], prefix: str) -> str:
    taken = set(taken)
    base = f"{prefix}{draw(st.integers(1, 999))}"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _pick(draw: Draw, existing: Iterable[str], prefix: str, *, valid: bool) -> str:
    """An existing key, or (when not bound to be valid) sometimes an unknown one."""
    keys = sorted(existing)
    if keys and (valid or draw(st.integers(0, 3))):
        return str(draw(st.sampled_from(keys)))
    return _fresh(draw, keys, prefix)


def draw_command(
    draw: Draw,
    model: Model,
    number: str,
    kind: str,
    when: datetime,
    *,
    valid: bool,
) -> Command:
    """Draws arguments for ``ledger.<kind>(number, ...)`` at business time ``when``.

    ``valid=True``: arguments the customer's current state accepts. Otherwise targets
    may be unknown or used up, values may repeat the current ones (NothingChanged), and
    one argument may carry a defect (recorded in ``Command.defect``).
    """
    c = model.customers.get(number) or CustomerModel()
    kw: dict[str, Any] = {}
    defects: dict[str, tuple[type[DomainError], Callable[[], None]]] = {}
    later = when.date() + timedelta(days=draw(st.integers(1, 800)))

    def text_defect(key: str, limit: int = 4000) -> None:
        defects[f"control:{key}"] = (InvalidValue, lambda: kw.update({key: draw(control_texts())}))
        defects[f"long:{key}"] = (
            InvalidValue, lambda: kw.update({key: draw(over_long_texts(limit))}),
        )  # fmt: skip

    if kind == "first_contact":
        kw.update(
            name=draw(words()),
            type=draw(st.sampled_from(["individual", "company"])),
            source=draw(optional(st.sampled_from(["website", "referral", "trade show", "微信"]))),
            industry=draw(optional(words())),
            region=draw(optional(st.sampled_from(["北京市", "上海市", "深圳", "Hangzhou"]))),
            owner=draw(optional(words(max_size=8))),
        )
        if valid and model.looks_like_another(kw):
            kw["allow_duplicate"] = True  # (a name drawn twice: still a valid first contact)
        text_defect("name", 200)
        defects["type"] = (InvalidValue, lambda: kw.update(type="partner"))
    elif kind == "update_profile":
        fields = draw(
            st.lists(st.sampled_from(PROFILE_FIELDS), min_size=1, max_size=3, unique=True)
        )
        changes: dict[str, str | None] = {}
        for name in fields:
            if not valid and draw(st.booleans()):
                changes[name] = c.profile.get(name)  # maybe nothing changes
                if changes[name] is None and name in ("name", "type"):
                    changes[name] = draw(words())
            elif name == "type":
                changes[name] = draw(st.sampled_from(["individual", "company"]))
            elif name == "name":
                changes[name] = draw(words())
            else:
                changes[name] = draw(optional(words()))
        if valid and all(c.profile.get(k) == v for k, v in changes.items()):
            name = next(k for k in changes if k != "type") if set(changes) != {"type"} else "type"
            changes[name] = (
                ("company" if c.profile.get("type") == "individual" else "individual")
                if name == "type"
                else f"{c.profile.get(name) or ''}新".strip()
            )
        kw["changes"] = changes
        defects["field"] = (InvalidValue, lambda: kw.update(changes={**changes, "colour": "red"}))
        defects["name"] = (InvalidValue, lambda: kw.update(changes={**changes, "name": None}))
    elif kind in ("add_contact", "update_contact"):
        if kind == "add_contact":
            contact_id = (
                _fresh(draw, c.contacts, "c") if valid or draw(st.booleans())
                else _pick(draw, c.contacts, "c", valid=True)
            )  # fmt: skip
        else:
            contact_id = _pick(draw, c.contacts, "c", valid=valid)
        contact = draw(contacts(contact_id))
        if kind == "update_contact" and contact_id in c.contacts:
            current = c.contacts[contact_id]
            if not valid and draw(st.integers(0, 3)) == 0:
                contact = current
            elif valid and contact == current:
                contact = evolve(contact, name=f"{contact.name}新")
        kw["contact"] = contact
        defects["phone"] = (
            MalformedPhone,
            lambda: kw.update(contact=evolve(contact, phone=draw(bad_phones()))),
        )
        defects["email"] = (
            MalformedEmail,
            lambda: kw.update(contact=evolve(contact, email=draw(bad_emails()))),
        )
    elif kind == "remove_contact":
        kw["contact_id"] = _pick(draw, c.contacts, "c", valid=valid)
    elif kind == "assign_owner":
        owner = draw(words(max_size=8))
        if not valid and c.owner is not None and draw(st.booleans()):
            owner = c.owner
        elif owner == c.owner:
            owner += "2"
        kw["owner"] = owner
        text_defect("owner", 200)
    elif kind == "tag":
        tag = draw(st.sampled_from(["VIP", "重点", "教育", "manufacturing", "老客户"]))
        if valid and tag in c.tags:
            tag = _fresh(draw, c.tags, tag)
        kw["tag"] = tag
        text_defect("tag", 64)
    elif kind == "untag":
        kw["tag"] = _pick(draw, c.tags, "t", valid=valid)
    elif kind == "record_needs":
        kw["needs"] = draw(needs())
        defects["empty"] = (InvalidValue, lambda: kw.update(needs=Needs()))
    elif kind == "log_interaction":
        kw.update(
            channel=draw(st.sampled_from(CHANNELS)),
            topic=draw(words()),
            feedback=draw(optional(words())),
            participant=draw(optional(words(max_size=8))),
            follow_up=draw(optional(words())),
            follow_up_on=draw(optional(st.just(later))),
        )
        defects["channel"] = (InvalidValue, lambda: kw.update(channel="pigeon"))
        text_defect("topic")
    elif kind == "record_purchase":
        kw.update(
            product=draw(words()),
            amount=draw(amounts(positive=True)),
            currency=draw(st.sampled_from(["CNY", "CNY", "USD", "eur", "JPY"])),
            quantity=draw(quantities()),
            payment_method=draw(optional(st.sampled_from(["bank transfer", "Alipay", "微信支付"]))),
        )
        defects["negative"] = (NegativeAmount, lambda: kw.update(amount=draw(negative_amounts())))
        defects["zero"] = (ZeroValuePurchase, lambda: kw.update(amount=Decimal("0.00")))
        defects["quantity"] = (
            ZeroValuePurchase, lambda: kw.update(quantity=draw(st.integers(-5, 0))),
        )  # fmt: skip
        defects["currency"] = (UnknownCurrency, lambda: kw.update(currency="XXX"))
    elif kind == "sign_contract":
        contract = (
            _fresh(draw, c.contracts, "HT-") if valid or draw(st.booleans())
            else _pick(draw, c.contracts, "HT-", valid=True)
        )  # fmt: skip
        signed_on = when.date()
        kw.update(
            contract=contract,
            signed_on=signed_on,
            amount=draw(optional(amounts())),
            currency=draw(st.sampled_from(["CNY", "USD"])),
            starts_on=draw(optional(st.just(signed_on + timedelta(days=draw(st.integers(0, 30)))))),
        )
        starts = kw["starts_on"] or signed_on
        kw["expires_on"] = draw(
            optional(st.just(starts + timedelta(days=draw(st.integers(1, 1200)))))
        )
        defects["range"] = (
            InvalidDateRange,
            lambda: kw.update(expires_on=starts - timedelta(days=draw(st.integers(0, 9)))),
        )  # fmt: skip
        defects["negative"] = (NegativeAmount, lambda: kw.update(amount=draw(negative_amounts())))
        defects["signed"] = (
            FutureDate, lambda: kw.update(signed_on=FIXED_NOW.date() + timedelta(days=3)),
        )  # fmt: skip
    elif kind == "renew_contract":
        active = [k for k, (a, _) in c.contracts.items() if a]
        contract = (
            str(draw(st.sampled_from(sorted(active)))) if valid
            else _pick(draw, c.contracts, "HT-", valid=False)
        )  # fmt: skip
        ends = c.contracts[contract][1] if contract in c.contracts else when.date()
        extend = draw(st.integers(1, 800)) if valid else draw(st.integers(-30, 800))
        kw.update(
            contract=contract,
            expires_on=ends + timedelta(days=extend),
            amount=draw(optional(amounts())),
        )
    elif kind == "terminate_contract":
        active = [k for k, (a, _) in c.contracts.items() if a]
        kw["contract"] = (
            str(draw(st.sampled_from(sorted(active)))) if valid
            else _pick(draw, c.contracts, "HT-", valid=False)
        )  # fmt: skip
    elif kind == "file_complaint":
        kw.update(
            complaint=(
                _fresh(draw, c.complaints, "TS")
                if valid or draw(st.booleans())
                else _pick(draw, c.complaints, "TS", valid=True)
            ),
            subject=draw(words()),
        )
        text_defect("subject")
    elif kind == "resolve_complaint":
        kw.update(
            complaint=(
                str(draw(st.sampled_from(sorted(c.open_complaints))))
                if valid
                else _pick(draw, c.complaints, "TS", valid=False)
            ),
            resolution=draw(words()),
            satisfaction=draw(optional(satisfactions())),
        )
        defects["satisfaction"] = (
            SatisfactionOutOfRange,
            lambda: kw.update(satisfaction=draw(bad_satisfactions().filter(_not_none))),
        )  # fmt: skip
    elif kind == "rate_satisfaction":
        kw.update(score=draw(satisfactions()), comment=draw(optional(words())))
        defects["score"] = (
            SatisfactionOutOfRange,
            lambda: kw.update(score=draw(bad_satisfactions())),
        )
    elif kind == "assign_grade":
        grade, vip = draw(st.sampled_from([None, "A", "B", "C"])), draw(st.booleans())
        if valid and (grade, vip) == c.grade:
            vip = not vip
        kw.update(grade=grade, vip=vip)
        defects["grade"] = (InvalidValue, lambda: kw.update(grade="S"))
    elif kind == "churn":
        kw["reason"] = draw(st.sampled_from(["switched to a competitor", "budget cut", "无回应"]))
        text_defect("reason", 500)
    elif kind in ("reactivate", "clear_risk_flag"):
        pass
    elif kind == "set_stage_on_import":
        stages = [
            s for s in IMPORTABLE_STAGES if not valid or _after_import(c, s) != (c.stage, c.flagged)
        ]
        kw.update(stage=draw(st.sampled_from(stages)), row=draw(words(max_size=60)))
        defects["stage"] = (
            InvalidValue,
            lambda: kw.update(stage=draw(st.sampled_from(["churned", "vip", "潜在"]))),
        )
        text_defect("row", 8000)
    elif kind == "link_attachment":
        kw.update(
            name=(
                _fresh(draw, c.attachments, "合同扫描件")
                if valid or draw(st.booleans())
                else _pick(draw, c.attachments, "合同扫描件", valid=True)
            ),
            uri=f"s3://crm/{draw(st.uuids())}.pdf",
            sha256=draw(sha256s()),
        )
        defects["sha256"] = (InvalidValue, lambda: kw.update(sha256=draw(bad_sha256s())))
    elif kind == "schedule_reminder":
        kw.update(
            reminder=(
                _fresh(draw, c.reminders, "R")
                if valid or draw(st.booleans())
                else _pick(draw, c.reminders, "R", valid=True)
            ),
            subject=draw(words()),
            due_on=later,
        )
        text_defect("subject")
    elif kind == "complete_reminder":
        pending = [k for k, done in c.reminders.items() if not done]
        kw["reminder"] = (
            str(draw(st.sampled_from(sorted(pending)))) if valid
            else _pick(draw, c.reminders, "R", valid=False)
        )  # fmt: skip
    else:  # pragma: no cover - a new command needs a branch here
        raise AssertionError(f"no strategy for {kind}")

    kw["occurred_at"] = when
    # who acts: the domain's rules, not the policy, are what these commands exercise
    kw["actor"] = draw(st.sampled_from(ACTORS))
    if kind == "resolve_complaint" and not valid and kw["complaint"] in c.complaints:
        filed = c.complaints[kw["complaint"]][1]
        if draw(st.integers(0, 4)) == 0:
            kw["occurred_at"] = filed - timedelta(minutes=draw(st.integers(1, 600)))
    defects["future"] = (FutureDate, lambda: kw.update(occurred_at=draw(future_times())))
    defect = None
    if not valid and draw(st.integers(0, 3)) == 0:
        key = draw(st.sampled_from(sorted(defects)))
        defect, inject = defects[key]
        inject()
    return Command(kind, number, kw, defect)


NUMBERS = ("A001", "B002", "C003", "张三", "李四")


@st.composite
def histories(
    draw: Draw,
    numbers: tuple[str, ...] = ("A001", "B002", "C003"),
    min_size: int = 1,
    max_size: int = 40,
    command_ids: bool = True,
) -> list[Command]:
    """A valid history: every command is accepted when replayed, in order, against a
    fresh ledger whose clock is ``FIXED_NOW``. Business times increase from
    ``HISTORY_START`` and stay in the past; each customer starts with ``first_contact``.
    """
    size = draw(st.integers(min_size, max_size))
    model = Model()
    history: list[Command] = []
    when = HISTORY_START
    step = (FIXED_NOW - HISTORY_START - timedelta(hours=1)) / max(size, 1)
    for i in range(size):
        when += step * draw(st.floats(0.0, 1.0))
        number = draw(st.sampled_from(numbers))
        kind = draw(st.sampled_from(valid_kinds(model.customers.get(number))))
        zone = draw(st.sampled_from(ZONES))
        command = draw_command(draw, model, number, kind, when.astimezone(zone), valid=True)
        if command_ids and draw(st.booleans()):
            command.kwargs["command_id"] = f"cmd-{i}"
            command.kwargs["correlation_id"] = f"batch-{i // 5}"
        expected = model.expect(command)
        assert not expected, f"strategy drew an invalid command {command!r}: {expected}"
        model.apply(command)
        history.append(command)
    return history


def model_of(history: Iterable[Command]) -> Model:
    """The model after a valid history."""
    model = Model()
    for command in history:
        model.apply(command)
    return model


# -- examples and givens for given/when/then tests ---------------------------------------

DAY = timedelta(days=1)
EARLIER = FIXED_NOW - 30 * DAY


def at(days: float) -> datetime:
    """A business time ``days`` after EARLIER (30 days before the ledger's now)."""
    return EARLIER + days * DAY


def fresh() -> CustomerLedger:
    """A new, empty ledger on memory:// with the fixed clock, for one hypothesis example
    (a pytest fixture would outlive the examples)."""
    return CustomerLedger.open("memory://", clock=fixed_clock)


def a_lead(ledger: CustomerLedger, number: str = "A001") -> CustomerLedger:
    ledger.first_contact(number, name="*先生", type="individual", occurred_at=at(0), actor="*助理")
    return ledger


def a_customer(ledger: CustomerLedger, number: str = "A001") -> CustomerLedger:
    """A lead who signed contract HT-1, running for a year from day 1."""
    a_lead(ledger, number)
    ledger.sign_contract(
        number, contract="HT-1", signed_on=at(1).date(), amount="12000",
        expires_on=at(1).date() + 365 * DAY, occurred_at=at(1),
    )  # fmt: skip
    return ledger


EXAMPLE_CONTACT = Contact("c1", "*先生", phone="138****5678")


def with_contact(ledger: CustomerLedger, number: str = "A001") -> CustomerLedger:
    if not list(ledger.numbers()):
        a_lead(ledger, number)
    ledger.add_contact(number, contact=EXAMPLE_CONTACT, occurred_at=at(1))
    return ledger


# Arguments that would be accepted by a suitable customer, for each command but the first.
EXAMPLES: dict[str, dict[str, Any]] = {
    "update_profile": {"changes": {"industry": "教育"}},
    "add_contact": {"contact": Contact("c2", "*女士", email="lisi@xyz.com")},
    "update_contact": {"contact": Contact("c1", "*先生", title="经理")},
    "remove_contact": {"contact_id": "c1"},
    "assign_owner": {"owner": "*经理"},
    "tag": {"tag": "重点"},
    "untag": {"tag": "VIP"},
    "record_needs": {"needs": Needs(core_needs="needs an industry solution")},
    "log_interaction": {"channel": "phone", "topic": "asked when the new product launches"},
    "record_purchase": {"product": "product A", "amount": "1000"},
    "sign_contract": {"contract": "HT-2", "signed_on": at(2).date()},
    "renew_contract": {"contract": "HT-1", "expires_on": date(2026, 1, 1)},
    "terminate_contract": {"contract": "HT-1"},
    "file_complaint": {"complaint": "TS-2", "subject": "logistics delivery delayed"},
    "resolve_complaint": {"complaint": "TS-1", "resolution": "re-shipped", "satisfaction": 2},
    "rate_satisfaction": {"score": 4},
    "assign_grade": {"grade": "A", "vip": True},
    "churn": {"reason": "budget cut"},
    "reactivate": {},
    "link_attachment": {"name": "contract scan", "uri": "s3://crm/ht-1.pdf", "sha256": "0" * 64},
    "schedule_reminder": {
        "reminder": "R2",
        "subject": "contract expiry",
        "due_on": date(2025, 1, 1),
    },
    "complete_reminder": {"reminder": "R1"},
    "set_stage_on_import": {"stage": "customer", "row": "A001,*先生,活跃"},
    "clear_risk_flag": {},
}


def ready_for(command: str) -> CustomerLedger:
    """A fresh ledger where A001 accepts ``EXAMPLES[command]``: a customer at risk (by
    hand and by open complaint TS-1) with contact c1, tag VIP, contract HT-1 and pending
    reminder R1; churned if the command is ``reactivate``."""
    ledger = with_contact(a_customer(fresh()))
    ledger.tag("A001", tag="VIP", occurred_at=at(1))
    ledger.file_complaint("A001", complaint="TS-1", subject="delivery delayed", occurred_at=at(1))
    ledger.schedule_reminder(
        "A001", reminder="R1", subject="birthday", due_on=date(2024, 9, 1), occurred_at=at(1)
    )
    ledger.set_stage_on_import(
        "A001", stage="at_risk", row="A001,*先生,风险预警", occurred_at=at(1)
    )
    if command == "reactivate":
        ledger.churn("A001", reason="no answer", occurred_at=at(1))
    return ledger


def _not_none(value: object) -> bool:
    return value is not None


def import_line(command: str, number: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """A command's Python arguments as its JSON Lines line: structured values (a
    ``Contact``, ``Needs``, ``update_profile``'s changes) given flat, dates as text."""
    line: dict[str, Any] = {"command": command, "customer": number}
    for key, value in arguments.items():
        if attrs.has(type(value)):
            line.update({k: v for k, v in attrs.asdict(value).items() if v not in (None, False)})
        elif key == "changes":
            line.update(value)
        else:
            line[key] = value.isoformat() if isinstance(value, date) else value
    return line
