"""The business: the Customer aggregate, its values, lifecycle and rules."""

from customer_ledger.domain import errors, lifecycle
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CommandReceipt, CustomerNumber
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
)

__all__ = [
    "Attachment",
    "Channel",
    "CommandReceipt",
    "Complaint",
    "ComplaintStatus",
    "Contact",
    "Contract",
    "ContractStatus",
    "Customer",
    "CustomerNumber",
    "CustomerType",
    "Grade",
    "Meta",
    "Money",
    "Needs",
    "Reminder",
    "Stage",
    "errors",
    "lifecycle",
]
