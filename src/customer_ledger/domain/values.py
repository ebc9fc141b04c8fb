"""Value objects of a customer record: immutable, validated on construction."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, TypeVar

from attrs import field, frozen

from customer_ledger.domain.errors import (
    DateOutOfRange,
    InvalidValue,
    MalformedEmail,
    MalformedPhone,
    NegativeAmount,
    UnknownCurrency,
)
from customer_ledger.domain.personal import PERSONAL


class CustomerType(StrEnum):
    INDIVIDUAL = "individual"  # 个人
    COMPANY = "company"  # 企业


class Stage(StrEnum):
    LEAD = "lead"  # 潜在 (first contact only)
    PROSPECT = "prospect"  # 潜在 (engaged)
    CUSTOMER = "customer"  # 活跃 / 成交
    AT_RISK = "at_risk"  # 风险预警
    CHURNED = "churned"  # 流失


class Channel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    EMAIL = "email"
    EVENT = "event"
    WECHAT = "wechat"
    QQ = "qq"
    SOCIAL = "social"
    MEETING = "meeting"
    OTHER = "other"


class Grade(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class Tier(StrEnum):
    VIP = "vip"
    KEY = "key"  # 重点
    NORMAL = "normal"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


# ISO 4217 codes a Chinese company's customers plausibly pay in; extend as needed.
CURRENCIES = frozenset(
    "CNY HKD MOP TWD USD EUR GBP JPY KRW SGD AUD CAD CHF NZD SEK NOK DKK "
    "RUB INR THB MYR IDR PHP VND AED SAR BRL MXN ZAR TRY PLN CZK HUF ILS".split()
)

# A phone's number part, once full-width forms and dashes are folded: what release 0.1
# accepted (digits, a '*' mask, spaces, brackets, '-', a leading '+'), also opening with
# a bracket, '.' as a separator. 6–25 characters, as before.
_PHONE = re.compile(r"^\+?[0-9*(][0-9* ().-]{5,24}$")
_PHONE_SHAPE = re.compile(r"^\+?[0-9*(][0-9* ().-]*$")  # any length: for telling a phone
_PHONE_SEPARATORS = re.compile(r"[ ().-]")
# An extension after the number: 转 808, 分机 808, ext. 808, and x808 (the stored form).
_EXTENSION = re.compile(
    r"^(?P<number>.+?)\s*(?:转|分机号?|ext\.?|extension|x)\s*(?P<ext>[0-9]{1,6})$",
    re.IGNORECASE,
)
# Full-width ASCII (０-９, （）, ＋, －) and the ideographic space, and the dashes people
# paste (‐ ‑ ‒ – — ― − ﹣): folded before a phone is read. Not NFKC: ① or ¹ are no digits.
_PHONE_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_PHONE_WIDTH |= {ord(dash): "-" for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63"}
CHINA = ("+86", "0086")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_TEXT = 4000
# C0 controls other than tab and newline, DEL, and the two Unicode non-characters.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


def shown(value: object) -> str:
    """``repr`` for an error message: bounded, and never failing itself."""
    try:
        shown = repr(value)
    except ValueError:  # an int too long to print
        return f"a {type(value).__name__} too large to show"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def text(value: object, what: str, *, max_len: int = MAX_TEXT) -> str:
    """A non-empty, stripped, printable string of bounded length."""
    if not isinstance(value, str):
        raise InvalidValue(f"{what} must be text, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise InvalidValue(f"{what} must not be empty")
    if len(value) > max_len:
        raise InvalidValue(f"{what} is longer than {max_len} characters")
    if _CONTROL.search(value):
        raise InvalidValue(f"{what} contains control characters")
    if not value.isascii():  # (ASCII is valid UTF-8: the common case needs no encoding)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidValue(f"{what} is not valid Unicode") from error
    return value


def optional_text(value: object, what: str, *, max_len: int = MAX_TEXT) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, what, max_len=max_len)


def customer_number(value: object) -> str:
    """客户编号: a short rule-based code such as A001, normalised (NFKC, stripped, upper
    case) so that ``a001``, ``Ａ００１`` and `` A001 `` are one customer's number."""
    number = unicodedata.normalize("NFKC", text(value, "customer number", max_len=64))
    number = number.strip().upper()
    if not _NUMBER.match(number):
        raise InvalidValue(f"customer number {number!r} must be letters, digits, '-', '_' or '.'")
    return number


def customer_number_forms(value: object) -> tuple[str, ...]:
    """The forms a number may have been claimed under: the normalised one first, then
    (for stores older than the normalisation) as typed, and in lower case."""
    number = customer_number(value)
    typed = value.strip() if isinstance(value, str) else number
    forms = [number]
    for form in (typed, unicodedata.normalize("NFKC", typed).strip(), number.lower()):
        if form not in forms and _NUMBER.match(form):
            forms.append(form)
    return tuple(forms)


def phone(value: object) -> str:
    """A phone in its one stored form, whatever spelling it came in: the national
    number's digits (and a '*' mask, as source sheets have) in their order, separators
    dropped, the Chinese country code (+86, 0086) dropped and a landline's trunk 0 put
    back (+86 512... → 0512...), another country's code kept with its '+', an extension
    after an ``x`` (no ';' or ',': a sheet's note splits on them): ``(0512) 6666-1234 转
    808`` → ``051266661234x808``, ``+86 138 1234 5678`` → ``13812345678``.

    Stored phones are never rewritten: ``phone(stored)`` gives the stored form of the
    same number, so an old event's phone and a new one compare the same through it."""
    raw = text(value, "phone", max_len=40)
    number, extension = _phone_parts(raw)
    if not _PHONE.match(number) or _digits(number) < 4:
        raise MalformedPhone(f"{raw!r} is not a phone number")
    compact = _PHONE_SEPARATORS.sub("", number)
    for code in CHINA:
        rest = compact[len(code) :]
        if compact.startswith(code) and _digits(rest) >= 4:
            mobile = rest[0] == "1" and len(rest) == 11  # else Beijing's 10 is an area code
            compact = rest if rest[0] in "0*" or mobile else "0" + rest
            break
    return compact if extension is None else f"{compact}x{extension}"


def phone_shaped(value: str) -> bool:
    """Whether ``value`` is written like a phone (of any length): how a sheet's cell
    tells a phone from the other parts of a note; ``phone`` then validates it."""
    number, _ = _phone_parts(value.strip())
    return bool(_PHONE_SHAPE.match(number)) and _digits(number) >= 4


def _phone_parts(raw: str) -> tuple[str, str | None]:
    """(number, extension) of a phone as written, widths and dashes folded."""
    folded = raw.translate(_PHONE_WIDTH).strip()
    found = _EXTENSION.match(folded)
    if found is None:
        return folded, None
    return found["number"].strip(), found["ext"]


def _digits(number: str) -> int:
    return sum("0" <= ch <= "9" for ch in number)


def email(value: object) -> str:
    raw = text(value, "e-mail", max_len=254)
    if not _EMAIL.match(raw):
        raise MalformedEmail(f"{raw!r} is not an e-mail address")
    return raw


def sha256(value: object) -> str:
    raw = text(value, "sha256", max_len=64).lower()
    if not _SHA256.match(raw):
        raise InvalidValue(f"{raw!r} is not a hex SHA-256 digest")
    return raw


# The documented written forms (docs/commands.md "Values"), ASCII digits only: what
# Decimal() and fromisoformat() take besides (other scripts' digits, ``1_000``,
# ``20240301``, ISO week dates, sub-microsecond fractions silently cut) is refused.
# An exponent stays (``1E+1``): it is how ``str(Decimal)`` writes some amounts.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.([0-9]+))?)?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)


def iso_moment(value: str, what: str) -> date | datetime:
    """A date (``2024-03-01``) or a date-time (``2024-03-01T09:30``, seconds, up to six
    fractional digits and an offset or ``Z`` optional; a space may stand for ``T``)."""
    written = value.strip()
    if _DATE_TEXT.fullmatch(written):
        parse: Callable[[str], date | datetime] = date.fromisoformat
    elif moment := _MOMENT_TEXT.fullmatch(written):
        if moment.group(1) is not None and len(moment.group(1)) > 6:
            raise InvalidValue(
                f"{what} {shown(value)} is finer than a microsecond, which cannot be kept"
            )
        parse = datetime.fromisoformat
    else:
        raise InvalidValue(
            f"{what} {shown(value)} is not an ISO date (2024-03-01) or date-time "
            "(2024-03-01T09:30:00+08:00)"
        )
    try:
        return parse(written)
    except ValueError as error:  # e.g. 2024-02-30
        raise InvalidValue(f"{what} {shown(value)} is not a real date or time: {error}") from None


def is_decimal_text(value: str) -> bool:
    """Whether ``value`` is a decimal in the documented form (``1999.90``, ``-3``)."""
    return _DECIMAL_TEXT.fullmatch(value.strip()) is not None


def decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InvalidValue(f"{what} must be a decimal number, got {shown(value)}")
    if isinstance(value, str) and not is_decimal_text(value):
        raise InvalidValue(
            f"{what} {shown(value)} is not a decimal number written with ASCII digits "
            "and an optional point (1999.90)"
        )
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:  # ValueError: int too long for str()
        raise InvalidValue(f"{what} is not a number") from error
    if not number.is_finite():
        raise InvalidValue(f"{what} must be finite")
    # copy_abs, not abs(): abs() rounds in the context and overflows on "1e999999999".
    if number.copy_abs() >= Decimal("1e15") or number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise InvalidValue(f"{what} {value!r} is out of range")
    return number


EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


D = TypeVar("D", bound=date)  # a date or a datetime, given back as it came


def calendar_day(value: D, what: str) -> D:
    """A date (or date-time) within 1900–2999: no customer record is older or plans
    further ahead, and any time-zone conversion of such a moment stays in range."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise DateOutOfRange(f"{what} {value.isoformat()} is outside {EARLIEST_DAY}..{LATEST_DAY}")
    return value


def _currency(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in CURRENCIES:
        raise UnknownCurrency(f"unknown currency {value!r}")
    return value.upper()


def _amount(value: object) -> Decimal:
    number = decimal(value, "amount")
    if number < 0:
        raise NegativeAmount(f"amount {number} is negative")
    return number


@frozen
class Money:
    """An exact, non-negative amount in one ISO 4217 currency."""

    amount: Decimal = field(converter=_amount)
    currency: str = field(default="CNY", converter=_currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@frozen
class Meta:
    """Who recorded an event, why, and under which command."""

    actor: str  # who did it: the acting user or program, as the policy checked it
    reason: str | None = None
    command_id: str | None = None
    correlation_id: str | None = None
    role: str | None = None  # None in events recorded before roles existed
    # Who a file said recorded it (a sheet's 登记人, a JSON line's "actor"): what the
    # source says, never who did it. Left out of the stored JSON when None.
    source_actor: str | None = None


@frozen
class Contact:
    """A contact person (联系人): everything about the person is personal data (encrypted
    per customer, erased when the customer is forgotten); id, title and flag are not."""

    contact_id: str
    name: Annotated[str, PERSONAL]
    title: str | None = None
    phone: Annotated[str | None, PERSONAL] = None
    email: Annotated[str | None, PERSONAL] = None
    address: Annotated[str | None, PERSONAL] = None
    wechat: Annotated[str | None, PERSONAL] = None
    qq: Annotated[str | None, PERSONAL] = None
    birthday: Annotated[date | None, PERSONAL] = None
    primary: bool = False


@frozen
class Needs:
    """需求与偏好: what the customer wants and how to talk to them."""

    core_needs: str | None = None
    purchase_preferences: str | None = None
    communication_channel: str | None = None
    communication_frequency: str | None = None
    upsell_intention: bool = False


@frozen
class Contract:
    number: str
    signed_on: date
    starts_on: date
    expires_on: date | None
    amount: Money | None
    status: ContractStatus = ContractStatus.ACTIVE
    renewals: int = 0
    terminated_on: date | None = None


@frozen
class Complaint:
    complaint_id: str
    subject: str
    filed_at: datetime
    status: ComplaintStatus = ComplaintStatus.OPEN
    resolution: str | None = None
    satisfaction: int | None = None
    resolved_at: datetime | None = None


@frozen
class Reminder:
    reminder_id: str
    subject: str
    due_on: date
    done_at: datetime | None = None


@frozen
class Attachment:
    name: str
    uri: str
    sha256: str
