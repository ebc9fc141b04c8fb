"""What the free text of a cell says, as values: the output of ``parsing``, the input
of ``rendering``. Dates are business days; amounts are exact."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from attrs import frozen

from customer_ledger.domain.values import Channel

# What the ledger records where it needs a text the sheet does not give (one wording for
# both languages, so a customer reads the same whichever language its sheet used).
SUBJECT_NOT_STATED = "（未写明主题 / subject not stated）"
RESOLUTION_NOT_STATED = "（未写明处理结果 / resolution not stated）"


@frozen
class Phone:
    """A phone as the ledger keeps it; ``lost_mask`` holds the sheet's digits when the
    sheet had dropped the ``****`` of a number masked at the source (1385678)."""

    number: str
    lost_mask: str | None = None


@frozen
class Basics:
    """基础信息: contact details and profile facts written in one cell."""

    phone: Phone | None = None
    email: str | None = None
    industry: str | None = None
    title: str | None = None
    size: str | None = None
    region: str | None = None


@frozen
class Interaction:
    on: date
    channel: Channel
    topic: str
    participant: str | None = None
    follow_up: str | None = None
    feedback: str | None = None


@frozen
class Purchase:
    on: date
    product: str
    amount: Decimal
    currency: str = "CNY"
    text: str = ""  # the note as written, kept in the event's reason


@frozen
class ContractNote:
    signed_on: date
    expires_on: date | None  # None: open-ended, or no term written
    number: str | None = None  # None: the sheet gives none
    amount: Decimal | None = None
    currency: str = "CNY"
    text: str = ""


@frozen
class ComplaintNote:
    filed_on: date
    subject: str | None  # None: not stated
    resolved_on: date | None = None
    resolution: str | None = None  # None: not stated (or not resolved)
    text: str = ""


@frozen
class Resolution:
    """A resolution whose complaint is not in the same cell (filed in an earlier sheet)."""

    on: date
    resolution: str | None
    text: str = ""


@frozen
class KeyDates:
    """关键节点记录: first contact, contracts, complaints, purchases."""

    first_contact: date | None = None
    contracts: tuple[ContractNote, ...] = ()
    complaints: tuple[ComplaintNote, ...] = ()
    resolutions: tuple[Resolution, ...] = ()
    purchases: tuple[Purchase, ...] = ()

    def dates(self) -> list[date]:
        found = [] if self.first_contact is None else [self.first_contact]
        found += [c.signed_on for c in self.contracts]
        for complaint in self.complaints:
            found.append(complaint.filed_on)
            if complaint.resolved_on is not None:
                found.append(complaint.resolved_on)
        found += [r.on for r in self.resolutions] + [p.on for p in self.purchases]
        return found
