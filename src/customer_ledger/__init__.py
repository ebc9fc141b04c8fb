"""customer_ledger: customer records (客户档案) as an immutable, event-sourced history.

The public names are loaded on first use (PEP 562): ``import customer_ledger`` (or any of
its value classes) loads no application, database driver or cryptography until a name
that needs them is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC: dict[str, str] = {
    # customer_ledger.analytics
    "Analytics": "customer_ledger.analytics",
    "AnalyticsSettings": "customer_ledger.analytics",
    "Cadence": "customer_ledger.analytics",
    "ChurnReason": "customer_ledger.analytics",
    "CustomerAnalytics": "customer_ledger.analytics",
    "DueReminder": "customer_ledger.analytics",
    "PeriodIndicators": "customer_ledger.analytics",
    "ReminderKind": "customer_ledger.analytics",
    "Segment": "customer_ledger.analytics",
    # customer_ledger.application.commands
    "COMMANDS": "customer_ledger.application.commands",
    "CommandResult": "customer_ledger.application.commands",
    # customer_ledger.application.ledger
    "CustomerLedger": "customer_ledger.application.ledger",
    # customer_ledger.application.privacy
    "ForgetResult": "customer_ledger.application.privacy",
    "masked": "customer_ledger.application.privacy",
    # customer_ledger.application.retry
    "Backoff": "customer_ledger.application.retry",
    "retry_command": "customer_ledger.application.retry",
    "retrying": "customer_ledger.application.retry",
    # customer_ledger.audit.verify
    "Checkpoint": "customer_ledger.audit.verify",
    "Finding": "customer_ledger.audit.verify",
    # customer_ledger.domain
    "Attachment": "customer_ledger.domain",
    "Channel": "customer_ledger.domain",
    "Complaint": "customer_ledger.domain",
    "ComplaintStatus": "customer_ledger.domain",
    "Contact": "customer_ledger.domain",
    "Contract": "customer_ledger.domain",
    "ContractStatus": "customer_ledger.domain",
    "Customer": "customer_ledger.domain",
    "CustomerType": "customer_ledger.domain",
    "Grade": "customer_ledger.domain",
    "Meta": "customer_ledger.domain",
    "Money": "customer_ledger.domain",
    "Needs": "customer_ledger.domain",
    "Reminder": "customer_ledger.domain",
    "Stage": "customer_ledger.domain",
    "lifecycle": "customer_ledger.domain",
    # customer_ledger.domain.personal
    "ERASED": "customer_ledger.domain.personal",
    # customer_ledger.errors
    "AlreadyChurned": "customer_ledger.errors",
    "AlreadyForgotten": "customer_ledger.errors",
    "CommandIdReused": "customer_ledger.errors",
    "ComplaintNotOpen": "customer_ledger.errors",
    "ConcurrencyConflict": "customer_ledger.errors",
    "ContractNotActive": "customer_ledger.errors",
    "CorruptEvent": "customer_ledger.errors",
    "CustomerChurned": "customer_ledger.errors",
    "DateOutOfRange": "customer_ledger.errors",
    "DomainError": "customer_ledger.errors",
    "DuplicateAttachment": "customer_ledger.errors",
    "DuplicateComplaint": "customer_ledger.errors",
    "DuplicateContact": "customer_ledger.errors",
    "DuplicateContractNumber": "customer_ledger.errors",
    "DuplicateCustomerNumber": "customer_ledger.errors",
    "DuplicateReminder": "customer_ledger.errors",
    "ForgottenCustomer": "customer_ledger.errors",
    "FutureDate": "customer_ledger.errors",
    "InvalidCheckpoint": "customer_ledger.errors",
    "InvalidDateRange": "customer_ledger.errors",
    "InvalidValue": "customer_ledger.errors",
    "KeyProblem": "customer_ledger.errors",
    "LedgerError": "customer_ledger.errors",
    "LifecycleError": "customer_ledger.errors",
    "MalformedEmail": "customer_ledger.errors",
    "MalformedPhone": "customer_ledger.errors",
    "MasterKeyMismatch": "customer_ledger.errors",
    "MasterKeyMissing": "customer_ledger.errors",
    "NegativeAmount": "customer_ledger.errors",
    "NotChurned": "customer_ledger.errors",
    "NotYetKnown": "customer_ledger.errors",
    "NothingChanged": "customer_ledger.errors",
    "ReminderAlreadyCompleted": "customer_ledger.errors",
    "SatisfactionOutOfRange": "customer_ledger.errors",
    "StoreBusy": "customer_ledger.errors",
    "StoreError": "customer_ledger.errors",
    "StoreUnavailable": "customer_ledger.errors",
    "UnknownContact": "customer_ledger.errors",
    "UnknownContract": "customer_ledger.errors",
    "UnknownCurrency": "customer_ledger.errors",
    "UnknownCustomer": "customer_ledger.errors",
    "UnknownReminder": "customer_ledger.errors",
    "ZeroValuePurchase": "customer_ledger.errors",
    # customer_ledger.formats.spreadsheets
    "EXPORT_SOURCES": "customer_ledger.formats.spreadsheets",
    "ExportRequest": "customer_ledger.formats.spreadsheets",
    "SheetReport": "customer_ledger.formats.spreadsheets",
    "SpreadsheetError": "customer_ledger.formats.spreadsheets",
    "export_file": "customer_ledger.formats.spreadsheets",
    "export_source": "customer_ledger.formats.spreadsheets",
    "import_sheet": "customer_ledger.formats.spreadsheets",
    # customer_ledger.projections.profile
    "Profile": "customer_ledger.projections.profile",
    "profile_of": "customer_ledger.projections.profile",
}

__all__ = [
    "COMMANDS",
    "ERASED",
    "EXPORT_SOURCES",
    "AlreadyChurned",
    "AlreadyForgotten",
    "Analytics",
    "AnalyticsSettings",
    "Attachment",
    "Backoff",
    "Cadence",
    "Channel",
    "Checkpoint",
    "ChurnReason",
    "CommandIdReused",
    "CommandResult",
    "Complaint",
    "ComplaintNotOpen",
    "ComplaintStatus",
    "ConcurrencyConflict",
    "Contact",
    "Contract",
    "ContractNotActive",
    "ContractStatus",
    "CorruptEvent",
    "Customer",
    "CustomerAnalytics",
    "CustomerChurned",
    "CustomerLedger",
    "CustomerType",
    "DateOutOfRange",
    "DomainError",
    "DueReminder",
    "DuplicateAttachment",
    "DuplicateComplaint",
    "DuplicateContact",
    "DuplicateContractNumber",
    "DuplicateCustomerNumber",
    "DuplicateReminder",
    "ExportRequest",
    "Finding",
    "ForgetResult",
    "ForgottenCustomer",
    "FutureDate",
    "Grade",
    "InvalidCheckpoint",
    "InvalidDateRange",
    "InvalidValue",
    "KeyProblem",
    "LedgerError",
    "LifecycleError",
    "MalformedEmail",
    "MalformedPhone",
    "MasterKeyMismatch",
    "MasterKeyMissing",
    "Meta",
    "Money",
    "Needs",
    "NegativeAmount",
    "NotChurned",
    "NotYetKnown",
    "NothingChanged",
    "PeriodIndicators",
    "Profile",
    "Reminder",
    "ReminderAlreadyCompleted",
    "ReminderKind",
    "SatisfactionOutOfRange",
    "Segment",
    "SheetReport",
    "SpreadsheetError",
    "Stage",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "UnknownContact",
    "UnknownContract",
    "UnknownCurrency",
    "UnknownCustomer",
    "UnknownReminder",
    "ZeroValuePurchase",
    "export_file",
    "export_source",
    "import_sheet",
    "lifecycle",
    "masked",
    "profile_of",
    "retry_command",
    "retrying",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'customer_ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from customer_ledger.analytics import (
        Analytics,
        AnalyticsSettings,
        Cadence,
        ChurnReason,
        CustomerAnalytics,
        DueReminder,
        PeriodIndicators,
        ReminderKind,
        Segment,
    )
    from customer_ledger.application.commands import (
        COMMANDS,
        CommandResult,
    )
    from customer_ledger.application.ledger import (
        CustomerLedger,
    )
    from customer_ledger.application.privacy import (
        ForgetResult,
        masked,
    )
    from customer_ledger.application.retry import (
        Backoff,
        retry_command,
        retrying,
    )
    from customer_ledger.audit.verify import (
        Checkpoint,
        Finding,
    )
    from customer_ledger.domain import (
        Attachment,
        Channel,
        Complaint,
        ComplaintStatus,
        Contact,
        Contract,
        ContractStatus,
        Customer,
        CustomerType,
        Grade,
        Meta,
        Money,
        Needs,
        Reminder,
        Stage,
        lifecycle,
    )
    from customer_ledger.domain.personal import (
        ERASED,
    )
    from customer_ledger.errors import (
        AlreadyChurned,
        AlreadyForgotten,
        CommandIdReused,
        ComplaintNotOpen,
        ConcurrencyConflict,
        ContractNotActive,
        CorruptEvent,
        CustomerChurned,
        DateOutOfRange,
        DomainError,
        DuplicateAttachment,
        DuplicateComplaint,
        DuplicateContact,
        DuplicateContractNumber,
        DuplicateCustomerNumber,
        DuplicateReminder,
        ForgottenCustomer,
        FutureDate,
        InvalidCheckpoint,
        InvalidDateRange,
        InvalidValue,
        KeyProblem,
        LedgerError,
        LifecycleError,
        MalformedEmail,
        MalformedPhone,
        MasterKeyMismatch,
        MasterKeyMissing,
        NegativeAmount,
        NotChurned,
        NothingChanged,
        NotYetKnown,
        ReminderAlreadyCompleted,
        SatisfactionOutOfRange,
        StoreBusy,
        StoreError,
        StoreUnavailable,
        UnknownContact,
        UnknownContract,
        UnknownCurrency,
        UnknownCustomer,
        UnknownReminder,
        ZeroValuePurchase,
    )
    from customer_ledger.formats.spreadsheets import (
        EXPORT_SOURCES,
        ExportRequest,
        SheetReport,
        SpreadsheetError,
        export_file,
        export_source,
        import_sheet,
    )
    from customer_ledger.projections.profile import (
        Profile,
        profile_of,
    )
