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


class ConcurrencyConflict(LedgerError):
    """Another writer changed the customer first; reload and retry."""

    rule = "concurrency_conflict"


class CorruptEvent(LedgerError):
    """A stored event cannot be read back as it was recorded (damaged or altered bytes).

    Names the aggregate (``originator_id``), its ``version`` and, when it could be
    read from the aggregate's first event, the customer ``number``.
    """

    rule = "corrupt_event"

    def __init__(
        self,
        message: str = "",
        *,
        originator_id: object = None,
        version: int | None = None,
        number: str | None = None,
    ) -> None:
        super().__init__(message)
        self.originator_id = originator_id
        self.version = version
        self.number = number


class StoreError(LedgerError):
    """The store URL is wrong or its adapter is not installed."""

    rule = "store"


class StoreBusy(StoreError):
    """Another writer held the store's lock past the lock timeout. Nothing was
    recorded, so sending the command again is safe (``customer_ledger.retry``)."""

    rule = "store_busy"


class StoreUnavailable(StoreError):
    """The store failed mid-command (connection cut, server restarting). The command's
    transaction rolled back, unless the failure hit its very commit: send it again with
    the same ``command_id`` to be sure it is recorded exactly once."""

    rule = "store_unavailable"
