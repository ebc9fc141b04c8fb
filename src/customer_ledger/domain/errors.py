"""Typed errors: each names the business rule a rejected command broke.

A command that raises one of these has recorded nothing.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    rule = "ledger"


class DomainError(LedgerError):
    """A command broke a business rule."""

    rule = "domain"


class InvalidValue(DomainError):
    """A field has a value the record cannot hold (empty name, bad code...)."""

    rule = "invalid_value"


class UnknownCustomer(DomainError):
    rule = "unknown_customer"


class DuplicateCustomerNumber(DomainError):
    rule = "duplicate_customer_number"


class PossibleDuplicate(DomainError):
    """A first contact looks like a customer already recorded (same company name or
    licence number; an individual's same phone or ID number): ``numbers`` are theirs.
    ``allow_duplicate=True`` records it anyway."""

    rule = "possible_duplicate"

    def __init__(self, message: str, numbers: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.numbers = numbers


class MergedInto(DomainError):
    """The customer was merged into another (``survivor``): record on that one."""

    rule = "merged_into"

    def __init__(self, message: str, survivor: str | None = None) -> None:
        super().__init__(message)
        self.survivor = survivor


class MalformedPhone(InvalidValue):
    rule = "malformed_phone"


class MalformedEmail(InvalidValue):
    rule = "malformed_email"


class UnknownCurrency(InvalidValue):
    rule = "unknown_currency"


class NegativeAmount(InvalidValue):
    rule = "negative_amount"


class ZeroValuePurchase(InvalidValue):
    rule = "zero_value_purchase"


class SatisfactionOutOfRange(InvalidValue):
    rule = "satisfaction_out_of_range"


class FutureDate(InvalidValue):
    rule = "future_date"


class InvalidDateRange(InvalidValue):
    rule = "invalid_date_range"


class DateOutOfRange(InvalidValue):
    """A date outside the calendar a customer record can hold (see ``values.calendar_day``)."""

    rule = "date_out_of_range"


class NothingChanged(DomainError):
    rule = "nothing_changed"


class UnknownContact(DomainError):
    rule = "unknown_contact"


class DuplicateContact(DomainError):
    rule = "duplicate_contact"


class DuplicateContractNumber(DomainError):
    rule = "duplicate_contract_number"


class UnknownContract(DomainError):
    rule = "unknown_contract"


class ContractNotActive(DomainError):
    rule = "contract_not_active"


class DuplicateComplaint(DomainError):
    rule = "duplicate_complaint"


class ComplaintNotOpen(DomainError):
    rule = "complaint_not_open"


class UnknownReminder(DomainError):
    rule = "unknown_reminder"


class DuplicateReminder(DomainError):
    rule = "duplicate_reminder"


class ReminderAlreadyCompleted(DomainError):
    rule = "reminder_already_completed"


class DuplicateAttachment(DomainError):
    rule = "duplicate_attachment"


class LifecycleError(DomainError):
    """The customer's stage does not allow this command."""

    rule = "lifecycle"


class CustomerChurned(LifecycleError):
    """A churned customer takes no contract or purchase until reactivated."""

    rule = "customer_churned"


class AlreadyChurned(LifecycleError):
    rule = "already_churned"


class NotChurned(LifecycleError):
    rule = "not_churned"


class CommandIdReused(DomainError):
    """The same command_id was sent earlier with a different command."""

    rule = "command_id_reused"
