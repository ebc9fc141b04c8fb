"""The ledger's commands, one method each: the one command schema.

Each method names a command's fields (its keyword parameters, with their types) and
hands them to ``_run``, which a ``CustomerLedger`` runs as one transaction and a
``Batch`` (``application.batch``) as part of one. JSON Lines, the command line, web
forms and the HTTP API all read their fields from these signatures
(``application.schema``), so no front end states a command's fields again.

Every command also takes the metadata ``META_FIELDS``: ``occurred_at`` (business time;
default now), ``actor``, ``reason``, ``command_id`` (idempotency), ``correlation_id``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from attrs import field, frozen

from customer_ledger.domain.customer import PROFILE_FIELDS
from customer_ledger.domain.values import Contact, Money, Needs, shown
from customer_ledger.errors import InvalidValue


@frozen
class CommandResult:
    """What a command did: the customer and its version after the command."""

    customer_id: UUID
    number: str
    version: int
    replayed: bool = field(default=False, eq=False)  # True when command_id was seen
    events: int = field(default=0, eq=False)  # events it recorded (0 when replayed)

    def to_json(self) -> dict[str, Any]:
        return {
            "customer_id": str(self.customer_id),
            "number": self.number,
            "version": self.version,
            "events": self.events,
            "replayed": self.replayed,
        }


COMMANDS = (
    "first_contact", "update_profile", "add_contact", "update_contact", "remove_contact",
    "assign_owner", "tag", "untag", "record_needs", "log_interaction", "record_purchase",
    "sign_contract", "renew_contract", "terminate_contract", "file_complaint",
    "resolve_complaint", "rate_satisfaction", "assign_grade", "churn", "reactivate",
    "link_attachment", "schedule_reminder", "complete_reminder", "set_stage_on_import",
    "clear_risk_flag",
)  # fmt: skip


def _instance(cls: type[Any], value: Any) -> Any:
    """``value`` if it is a ``cls`` (Contact, Needs): the rules read its fields."""
    if not isinstance(value, cls):
        raise InvalidValue(f"expected a {cls.__name__}, got {type(value).__name__}")
    return value


def _money(amount: Any, currency: str) -> Money | None:
    return None if amount is None else Money(amount, currency)


class Commands(ABC):
    """The commands; ``_run`` says where they run."""

    @abstractmethod
    def _run(self, name: str, number: str, meta: dict[str, Any], /, **args: Any) -> CommandResult:
        """Runs ``Customer.<name>(**args)`` for the customer ``number``."""

    def first_contact(
        self,
        number: str,
        *,
        name: str,
        type: str,  # the record's own word (客户类型)
        source: str | None = None,
        industry: str | None = None,
        region: str | None = None,
        size: str | None = None,
        owner: str | None = None,
        licence_no: str | None = None,
        registered_address: str | None = None,
        allow_duplicate: bool = False,
        **meta: Any,
    ) -> CommandResult:
        """Records a first contact: a new customer file under this number.

        A likely duplicate of a customer already recorded (the same company name or
        licence number, an individual's ID number) is refused (``possible_duplicate``)
        unless ``allow_duplicate``, which the event records."""
        # passed only when given, so a command's fingerprint (idempotency) is the one
        # an earlier release computed for the same command
        allowed = {"allow_duplicate": allow_duplicate} if allow_duplicate is not False else {}
        return self._run(
            "first_contact", number, meta, name=name, type=type, source=source,
            industry=industry, region=region, size=size, owner=owner, licence_no=licence_no,
            registered_address=registered_address, **allowed,
        )  # fmt: skip

    def update_profile(
        self, number: str, *, changes: dict[str, str | None], **meta: Any
    ) -> CommandResult:
        """Changes basic information: name, type, source, industry, region, size,
        licence number, registered address."""
        if not isinstance(changes, dict):
            raise InvalidValue("changes must map profile fields to new values")
        # keys of any type: shown, not str()-ed or sorted as they come
        unknown = sorted(k if isinstance(k, str) else shown(k) for k in changes)
        unknown = [k for k in unknown if k not in PROFILE_FIELDS]
        if unknown:  # before they can clash with the pipeline's own keywords
            raise InvalidValue(f"not a profile field: {', '.join(unknown)}")
        return self._run("update_profile", number, meta, **changes)

    def add_contact(self, number: str, *, contact: Contact, **meta: Any) -> CommandResult:
        """Adds a contact person (phones, e-mail, WeChat, QQ, address, birthday)."""
        return self._run("add_contact", number, meta, contact=_instance(Contact, contact))

    def update_contact(self, number: str, *, contact: Contact, **meta: Any) -> CommandResult:
        """Replaces a contact person's details."""
        return self._run("update_contact", number, meta, contact=_instance(Contact, contact))

    def remove_contact(self, number: str, *, contact_id: str, **meta: Any) -> CommandResult:
        """Removes a contact person."""
        return self._run("remove_contact", number, meta, contact_id=contact_id)

    def assign_owner(self, number: str, *, owner: str, **meta: Any) -> CommandResult:
        """Makes a member of staff the customer's owner (负责人)."""
        return self._run("assign_owner", number, meta, owner=owner)

    def tag(self, number: str, *, tag: str, **meta: Any) -> CommandResult:
        """Adds a tag."""
        return self._run("tag", number, meta, tag=tag)

    def untag(self, number: str, *, tag: str, **meta: Any) -> CommandResult:
        """Removes a tag."""
        return self._run("untag", number, meta, tag=tag)

    def record_needs(self, number: str, *, needs: Needs, **meta: Any) -> CommandResult:
        """Records the customer's needs, preferences and how to reach them."""
        return self._run("record_needs", number, meta, needs=_instance(Needs, needs))

    def log_interaction(
        self,
        number: str,
        *,
        channel: str,
        topic: str,
        feedback: str | None = None,
        participant: str | None = None,
        follow_up: str | None = None,
        follow_up_on: date | None = None,
        duration_minutes: int | None = None,
        **meta: Any,
    ) -> CommandResult:
        """Logs a visit, call, meeting or message (within 24 hours of it, or it is marked late)."""
        # passed only when given, so a command's fingerprint (idempotency) is the one
        # release 0.1 computed for the same command
        duration = {} if duration_minutes is None else {"duration_minutes": duration_minutes}
        return self._run(
            "log_interaction", number, meta, channel=channel, topic=topic, feedback=feedback,
            participant=participant, follow_up=follow_up, follow_up_on=follow_up_on, **duration,
        )  # fmt: skip

    def record_purchase(
        self,
        number: str,
        *,
        product: str,
        amount: Decimal | int | str,
        currency: str = "CNY",
        quantity: Decimal | int | str = 1,
        payment_method: str | None = None,
        **meta: Any,
    ) -> CommandResult:
        """Records a purchase (an order): product, amount, currency, quantity."""
        return self._run(
            "record_purchase", number, meta, product=product, quantity=quantity,
            amount=Money(amount, currency), payment_method=payment_method,
        )  # fmt: skip

    def sign_contract(
        self,
        number: str,
        *,
        contract: str,
        signed_on: date,
        amount: Decimal | int | str | None = None,
        currency: str = "CNY",
        starts_on: date | None = None,
        expires_on: date | None = None,
        **meta: Any,
    ) -> CommandResult:
        """Records a signed contract: number, date, amount, term."""
        meta.setdefault("occurred_at", signed_on)
        return self._run(
            "sign_contract", number, meta, contract_number=contract, signed_on=signed_on,
            amount=_money(amount, currency), starts_on=starts_on, expires_on=expires_on,
        )  # fmt: skip

    def renew_contract(
        self,
        number: str,
        *,
        contract: str,
        expires_on: date,
        amount: Decimal | int | str | None = None,
        currency: str = "CNY",
        **meta: Any,
    ) -> CommandResult:
        """Renews a contract to a new expiry date."""
        return self._run(
            "renew_contract", number, meta, contract_number=contract, expires_on=expires_on,
            amount=_money(amount, currency),
        )  # fmt: skip

    def terminate_contract(self, number: str, *, contract: str, **meta: Any) -> CommandResult:
        """Ends a contract before its term."""
        return self._run("terminate_contract", number, meta, contract_number=contract)

    def file_complaint(
        self, number: str, *, complaint: str, subject: str, **meta: Any
    ) -> CommandResult:
        """Files a complaint."""
        return self._run("file_complaint", number, meta, complaint_id=complaint, subject=subject)

    def resolve_complaint(
        self,
        number: str,
        *,
        complaint: str,
        resolution: str,
        satisfaction: int | None = None,
        **meta: Any,
    ) -> CommandResult:
        """Resolves an open complaint, with the customer's satisfaction (1-5)."""
        return self._run(
            "resolve_complaint", number, meta, complaint_id=complaint, resolution=resolution,
            satisfaction=satisfaction,
        )  # fmt: skip

    def rate_satisfaction(
        self, number: str, *, score: int, comment: str | None = None, **meta: Any
    ) -> CommandResult:
        """Records a satisfaction score (1-5)."""
        return self._run("rate_satisfaction", number, meta, score=score, comment=comment)

    def assign_grade(
        self, number: str, *, grade: str | None, vip: bool = False, **meta: Any
    ) -> CommandResult:
        """Grades the customer by hand (A/B/C), and marks or clears VIP."""
        return self._run("assign_grade", number, meta, grade=grade, vip=vip)

    def churn(self, number: str, *, reason: str, **meta: Any) -> CommandResult:
        """Records that the customer was lost, and why.

        The churn reason is also the event's recorded reason."""
        return self._run("churn", number, {"reason": reason, **meta}, reason=reason)

    def reactivate(self, number: str, **meta: Any) -> CommandResult:
        """Brings a churned customer back."""
        return self._run("reactivate", number, meta)

    def set_stage_on_import(
        self, number: str, *, stage: str, row: str, **meta: Any
    ) -> CommandResult:
        """Records the lifecycle stage a spreadsheet row states, with the row as evidence.

        See ``domain.lifecycle``."""
        return self._run("set_stage_on_import", number, meta, stage=stage, row=row)

    def clear_risk_flag(self, number: str, **meta: Any) -> CommandResult:
        """Clears the churn-risk flag after the customer was looked after."""
        return self._run("clear_risk_flag", number, meta)

    def link_attachment(
        self, number: str, *, name: str, uri: str, sha256: str, **meta: Any
    ) -> CommandResult:
        """Links a file (a contract scan, a photo) by its location and SHA-256."""
        return self._run("link_attachment", number, meta, name=name, uri=uri, sha256=sha256)

    def schedule_reminder(
        self, number: str, *, reminder: str, subject: str, due_on: date, **meta: Any
    ) -> CommandResult:
        """Schedules a reminder for a day."""
        return self._run(
            "schedule_reminder", number, meta, reminder_id=reminder, subject=subject,
            due_on=due_on,
        )  # fmt: skip

    def complete_reminder(self, number: str, *, reminder: str, **meta: Any) -> CommandResult:
        """Marks a reminder done."""
        return self._run("complete_reminder", number, meta, reminder_id=reminder)
