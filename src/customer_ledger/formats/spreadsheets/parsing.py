"""Reading the free text of spreadsheet cells: dates, phones, amounts and notes.

Sheets are typed by people, so each reader accepts the forms the source material uses
(``2023-10-20``, ``2023/10/20``, ``10月16日``; ``1000元``; ``2023-10-10投诉,10月16日解决``)
in Chinese or English, and refuses anything else with a ``BadCell`` naming the column:
a note the importer half-understood would record half the truth.

Every function takes the cell's ``column`` (its header) only to name it in errors.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from customer_ledger.domain.values import CURRENCIES, Channel, CustomerType, phone, phone_shaped
from customer_ledger.errors import (
    BadAmount,
    BadDate,
    BadNumber,
    CellDateOutOfRange,
    CustomerTypeUnknown,
    MalformedPhone,
    UnknownWord,
    UnreadableNote,
)
from customer_ledger.formats.spreadsheets.notes import (
    Basics,
    ComplaintNote,
    ContractNote,
    Interaction,
    KeyDates,
    Phone,
    Purchase,
    Resolution,
)
from customer_ledger.formats.spreadsheets.vocabulary import (
    CHANNEL_INDEX,
    CHANNEL_SUFFIXES,
    CHANNEL_WORDS,
    COMPANY_NAME,
    PERSON_NAME,
    STATUS_INDEX,
    STATUS_WORDS,
    TYPE_INDEX,
    TYPE_WORDS,
    StatedStage,
    fold,
    grade_of,
    words_of,
)

FIRST_YEAR, LAST_YEAR = 1900, 2100  # business dates outside are typing errors

# -- dates --------------------------------------------------------------------------------

_FULL = (
    r"(?<!\d)(?P<y>\d{4})\s*(?:[-/.]|年)\s*(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})"
    r"(?!\d)\s*(?:日|号)?"
)
_MONTH_DAY = r"(?<!\d)(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*(?:日|号)"
DATE_TOKEN = re.compile(f"{_FULL}|{_MONTH_DAY}")
_TIME = re.compile(r"^(?:\s*T?\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def _make_date(y: int, m: int, d: int, text: str, column: str | None) -> date:
    if not FIRST_YEAR <= y <= LAST_YEAR:
        raise CellDateOutOfRange(
            f"{text!r}: the year {y} is outside {FIRST_YEAR}–{LAST_YEAR}", column=column
        )
    try:
        return date(y, m, d)
    except ValueError:
        raise BadDate(f"{text!r} is not a calendar date", column=column) from None


def _month_day(
    m: int, d: int, year: int | None, after: date | None, text: str, column: str | None
) -> date:
    """A date written without its year: the year of the date before it in the same
    cell (rolling over to the next year if it would come earlier), else the row's."""
    if after is not None:
        found = _make_date(after.year, m, d, text, column)
        return found if found >= after else _make_date(after.year + 1, m, d, text, column)
    if year is None:
        raise BadDate(f"{text!r} has no year and the row gives none", column=column)
    return _make_date(year, m, d, text, column)


def parse_date(
    text: str, column: str | None = None, *, year: int | None = None, after: date | None = None
) -> date:
    """A cell that holds one date (a time of day after it is ignored)."""
    value = text.strip()
    compact = _COMPACT.match(value)
    if compact:
        y, m, d = (int(g) for g in compact.groups())
        return _make_date(y, m, d, value, column)
    found = DATE_TOKEN.match(value)
    if found is None or not _TIME.match(value[found.end() :]):
        raise BadDate(
            f"{text!r} is not a date (write 2023-10-20, 2023/10/20 or 10月20日)", column=column
        )
    return _token_date(found, year, after, value, column)


def _token_date(
    found: re.Match[str], year: int | None, after: date | None, text: str, column: str | None
) -> date:
    if found.group("y"):
        return _make_date(int(found["y"]), int(found["m"]), int(found["d"]), text, column)
    return _month_day(int(found["m2"]), int(found["d2"]), year, after, text, column)


def take_date(
    text: str, column: str | None, *, year: int | None, after: date | None
) -> tuple[date | None, str]:
    """The first date written in ``text`` and the text without it."""
    found = DATE_TOKEN.search(text)
    if found is None:
        return None, text
    day = _token_date(found, year, after, text, column)
    return day, (text[: found.start()] + " " + text[found.end() :]).strip()


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    y, m = day.year + month // 12, month % 12 + 1
    return date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def term_end(signed: date, months: int) -> date:
    """The last day of a term: an annual contract signed 2023-08-15 runs to 2024-08-14."""
    return add_months(signed, months) - timedelta(days=1)


# -- splitting ----------------------------------------------------------------------------

_BRACKETS = {"（": "）", "(": ")", "“": "”", "「": "」", "『": "』", "《": "》", "【": "】"}
_QUOTES = {"“": "”", "「": "」", "『": "』", '"': '"', "'": "'"}


def split_top(text: str, separators: str) -> list[str]:
    """Splits on ``separators`` outside brackets and quotes; a comma between digits
    (``1,000``) is a thousands separator, not a split."""
    parts: list[str] = []
    current: list[str] = []
    closers: list[str] = []
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in _BRACKETS:
                closers.append(_BRACKETS[ch])
            elif closers and ch == closers[-1]:
                closers.pop()
        if ch in separators and not quoted and not closers and not _thousands(text, i):
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _thousands(text: str, i: int) -> bool:
    return (
        text[i] == ","
        and i > 0
        and text[i - 1].isdigit()
        and re.match(r"\d{3}(?!\d)", text[i + 1 : i + 5]) is not None
    )


def unquote(text: str) -> str:
    """``“物流配送延迟”`` → ``物流配送延迟``."""
    text = text.strip()
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


# -- words --------------------------------------------------------------------------------


def parse_channel(text: str, column: str | None = None) -> Channel:
    word = fold(text)
    for suffix in CHANNEL_SUFFIXES:
        if word != fold(suffix) and word.endswith(fold(suffix)) and word not in CHANNEL_INDEX:
            word = word[: -len(fold(suffix))].strip()
    if word in CHANNEL_INDEX:
        return CHANNEL_INDEX[word]
    raise UnknownWord(
        f"{text!r} is not a channel; write one of {words_of(CHANNEL_WORDS)}", column=column
    )


def parse_status(text: str, column: str | None = None) -> StatedStage:
    word = fold(text)
    if word in STATUS_INDEX:
        return STATUS_INDEX[word]
    raise UnknownWord(
        f"{text!r} is not a maintenance status; write one of {words_of(STATUS_WORDS)}",
        column=column,
    )


def parse_customer_type(
    text: str, column: str | None = None
) -> tuple[CustomerType | None, StatedStage | None]:
    """客户类型 mixes two things: a type (个人客户/企业客户) or a stage (潜在客户)."""
    word = fold(text)
    if word in TYPE_INDEX:
        return TYPE_INDEX[word], None
    stage = STATUS_INDEX.get(word) or STATUS_INDEX.get(word.removesuffix("客户"))
    if stage is not None:
        return None, stage
    raise UnknownWord(
        f"{text!r} is not a customer type; write one of {words_of(TYPE_WORDS)}", column=column
    )


def type_from_name(name: str, stated: str, column: str | None = None) -> CustomerType:
    """When 客户类型 only states a stage: a company or a person by the name's form
    (…公司, …有限公司 / …先生, …女士), else a typed error asking for the type."""
    if COMPANY_NAME.search(name):
        return CustomerType.COMPANY
    if PERSON_NAME.search(name):
        return CustomerType.INDIVIDUAL
    raise CustomerTypeUnknown(
        f"{stated!r} is a stage, not a type, and the name {name!r} does not say whether "
        "the customer is a person or a company: write 个人客户 or 企业客户",
        column=column,
    )


def parse_grade(text: str, column: str | None = None) -> str:
    grade = grade_of(text)
    if grade is None:
        raise UnknownWord(f"{text!r} is not a grade; write A, B or C", column=column)
    return grade.value


def parse_satisfaction(text: str, column: str | None = None) -> int:
    """A whole number (``4``, ``4分``, ``4/5``, ``4.0``); the ledger checks the 1–5 range."""
    found = re.fullmatch(r"\s*(-?\d{1,6})(?:\.0+)?\s*(?:分|/\s*5|星|points?)?\s*", text)
    if found is None:
        raise BadNumber(f"{text!r} is not a whole-number score", column=column)
    return int(found.group(1))


# -- amounts ------------------------------------------------------------------------------

_CURRENCY_WORDS = {
    "元": "CNY", "块": "CNY", "人民币": "CNY", "rmb": "CNY", "¥": "CNY", "￥": "CNY",
    "美元": "USD", "$": "USD", "欧元": "EUR", "€": "EUR", "港元": "HKD", "港币": "HKD",
    "日元": "JPY", "英镑": "GBP", "£": "GBP",
}  # fmt: skip
_UNIT = r"万元|万|元|块|人民币|美元|欧元|港元|港币|日元|英镑|[A-Za-z]{3}"
AMOUNT = re.compile(
    rf"(?P<pre>[¥￥$€£]|RMB|CNY|USD|EUR|HKD)?\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>{_UNIT})?",
    re.IGNORECASE,
)


def parse_amount(text: str, column: str | None = None) -> tuple[Decimal, str]:
    """``1000元``, ``¥1,000``, ``1.2万元``, ``300 USD`` → (amount, ISO currency)."""
    found = AMOUNT.fullmatch(text.strip())
    if found is None or not (found["pre"] or found["unit"]):
        raise BadAmount(
            f"{text!r} is not an amount with its currency (e.g. 1000元, ¥1000, 300 USD)",
            column=column,
        )
    try:
        number = Decimal(found["num"].replace(",", ""))
    except InvalidOperation:
        raise BadAmount(f"{text!r} is not a number", column=column) from None
    unit = (found["unit"] or "").casefold()
    if unit.startswith("万"):
        number *= 10000
        unit = "元"
    words = {fold(w) for w in (found["pre"], unit) if w}
    codes = {_CURRENCY_WORDS.get(w, w.upper()) for w in words}
    if len(codes) != 1 or next(iter(codes)) not in CURRENCIES:
        raise BadAmount(f"{text!r}: unknown or conflicting currency", column=column)
    return number, codes.pop()


def _trailing_amount(text: str) -> tuple[str, re.Match[str] | None]:
    """Splits ``产品A，1000元`` into the product and its amount."""
    found = re.search(rf"(?:^|[，,:：\s])\s*((?:{AMOUNT.pattern}))\s*$", text, re.IGNORECASE)
    if found is None or not (found["pre"] or found["unit"]):
        return text, None
    return text[: found.start()].strip(" ，,:："), found


# -- phones and basics --------------------------------------------------------------------

_LABELS = {
    "phone": ("电话", "手机", "联系电话", "手机号", "phone", "tel", "mobile"),
    "email": ("邮箱", "电子邮件", "邮件", "email", "e-mail"),
    "industry": ("行业", "所属行业", "industry"),
    "title": ("职位", "职务", "title", "position"),
    "size": ("规模", "size"),
    "region": ("地区", "城市", "地理位置", "region", "city"),
}
_LABEL = re.compile(
    r"^(?P<label>" + "|".join(w for ws in _LABELS.values() for w in ws) + r")\s*[:：]\s*(?P<v>.*)$",
    re.IGNORECASE,
)
_SIZE_LIKE = re.compile(r"\d.*(人|名|员工|staff|employees|people)\s*$|^规模", re.IGNORECASE)
_REGION_LIKE = re.compile(r"(市|省|自治区|特别行政区)$")
_INDUSTRY_LIKE = re.compile(r"(行业|产业)$")


def parse_phone(text: str, column: str | None = None, *, lost_masks: bool = False) -> Phone:
    """A phone in the ledger's stored form (``phone``: ``(0512) 6666-1234`` →
    051266661234), so it compares with the stored one; with ``lost_masks`` (the
    register), a number of the masked shape whose ``****`` was lost is read as masked:
    1385678 → 138****5678, 0108888 → 010****8888 (the material's trap). What is no phone
    is kept as written, for the ledger to refuse with its rule."""
    value = text.strip()
    try:
        digits = phone(value)
    except MalformedPhone:
        return Phone(value)
    if lost_masks and digits.isdigit():
        if len(digits) == 7 and digits[0] == "1":  # mobile: 3 + 4 digits
            return Phone(f"{digits[:3]}****{digits[3:]}", lost_mask=value)
        if len(digits) == 7 and digits[0] == "0" and digits[1] in "12":  # 010, 02x
            return Phone(f"{digits[:3]}****{digits[3:]}", lost_mask=value)
        if len(digits) == 8 and digits[0] == "0" and digits[1] not in "12":  # 0755...
            return Phone(f"{digits[:4]}****{digits[4:]}", lost_mask=value)
    return Phone(digits)


def parse_basics(
    text: str, kind: CustomerType | None, column: str | None = None, *, lost_masks: bool = True
) -> Basics:
    """基础信息 such as ``138****5678，互联网行业，中层管理``: a phone, an e-mail, then the
    industry and (a person's) title or (a company's) size, in that order unless labelled
    (``职位：…``, ``规模：…``, ``地区：…``)."""
    found: dict[str, object] = {}
    positional: list[str] = []
    for part in split_top(text, "，,;；\n"):
        kind_of_part = classify_part(part)
        if kind_of_part == "labelled":
            labelled = _LABEL.match(part)
            assert labelled is not None
            key = next(k for k, ws in _LABELS.items() if fold(labelled["label"]) in map(fold, ws))
            _put(found, key, unquote(labelled["v"]), part, column, lost_masks)
        elif kind_of_part in ("industry", "region") and kind_of_part in found:
            positional.append(unquote(part))
        elif kind_of_part is not None:
            _put(found, kind_of_part, part, part, column, lost_masks)
        else:
            positional.append(unquote(part))
    slots = ["industry", "size" if kind is CustomerType.COMPANY else "title"]
    for part in positional:
        free = [s for s in slots if s not in found]
        if not free:
            raise UnreadableNote(
                f"{part!r} in {text!r} is not understood: after the phone, industry and "
                f"{'size' if kind is CustomerType.COMPANY else 'title'}, label a part "
                "(职位：…, 规模：…, 地区：…, 行业：…)",
                column=column,
            )
        found[free[0]] = part
    return Basics(**found)  # type: ignore[arg-type]


def classify_part(part: str) -> str | None:
    """How 基础信息 reads a part by its form: ``labelled``, ``phone``, ``email``,
    ``size``, ``industry``, ``region``, or None (then its position decides)."""
    if _LABEL.match(part):
        return "labelled"
    if phone_shaped(part):
        return "phone"
    if "@" in part:
        return "email"
    if _SIZE_LIKE.search(part):
        return "size"
    if _INDUSTRY_LIKE.search(part):
        return "industry"
    if _REGION_LIKE.search(part):
        return "region"
    return None


def _put(
    found: dict[str, object], key: str, value: str, part: str, column: str | None, lost: bool
) -> None:
    if key in found:
        raise UnreadableNote(f"{part!r}: the cell gives a second {key}", column=column)
    if value:
        found[key] = parse_phone(value, column, lost_masks=lost) if key == "phone" else value


# -- key dates ----------------------------------------------------------------------------

_FIRST = re.compile(r"^(首次接触|首次联系|初次接触|首次沟通|first contact(?:ed)?)\s*$", re.I)
_CONTRACT_ZH = re.compile(r"^(?:签订|签署|签约|签了)\s*(?P<term>.*?)\s*(?:合同|协议)(?P<rest>.*)$")
_CONTRACT_EN = re.compile(r"^signed\s+(?:an?\s+)?(?P<term>.*?)\s*contract(?P<rest>.*)$", re.I)
_COMPLAINT = re.compile(
    r"^(?:投诉|客诉|complaint|complained)\s*(?:about)?\s*[:：]?\s*(?P<s>.*)$", re.I
)
_RESOLVED = re.compile(r"^(?:已解决|解决|处理完毕|已处理|resolved)\s*[:：]?\s*(?P<r>.*)$", re.I)
_PURCHASE = re.compile(
    r"^(?:购买了?|采购|购入|订购|下单|买了|bought|purchased|ordered)\s*[:：]?\s*(?P<p>.*)$", re.I
)
_NUM = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
        "十": 10}  # fmt: skip
_TERM_YEARS = re.compile(r"^(?:年度|年|一年期?|(?P<n>\d{1,2}|[一二两三四五六七八九十])\s*年期?)")
_TERM_MONTHS = re.compile(r"^(?:半年|(?P<n>\d{1,3}|[一二两三四五六七八九十])\s*个月)")
_TERM_EN = re.compile(r"^(?:annual|one-year|(?P<n>\d{1,2})-year|(?P<m>\d{1,3})-month)\b", re.I)
_UNTIL = re.compile(r"^(?:至|到期|到|until|expires?|to)\s*[:：]?\s*(?P<d>.+)$", re.I)
_CONTRACT_NO = re.compile(r"^(?:编号|合同号|合同编号|no\.?|number)\s*[:：]?\s*(?P<n>\S.*)$", re.I)
KEY_DATE_FORMS = (
    "首次接触DATE, DATE签订(年度)合同, DATE投诉(：主题), DATE解决, DATE购买PRODUCT，AMOUNT"
)


def _number(word: str | None) -> int:
    return 1 if not word else int(word) if word.isdigit() else _NUM[word]


def parse_term(term: str, signed: date, column: str | None) -> date | None:
    """The expiry a written term implies: 年度 → one year, 两年, 6个月, 2-year..."""
    term = term.strip()
    if not term:
        return None
    years, months, en = _TERM_YEARS.match(term), _TERM_MONTHS.match(term), _TERM_EN.match(term)
    if months:
        return term_end(signed, 6 if term.startswith("半年") else _number(months["n"]))
    if years:
        return term_end(signed, 12 * _number(years["n"]))
    if en:
        n = int(en["m"]) if en["m"] else 12 * int(en["n"] or 1)
        return term_end(signed, n)
    return None  # a kind of contract (服务合同), not a term: the words stay in the reason


def _bracketed(text: str) -> tuple[str, str | None]:
    found = re.search(r"[（(](?P<inner>[^（()）]*)[）)]\s*$", text)
    if found is None:
        return text, None
    return text[: found.start()].strip(), found["inner"]


def parse_key_dates(text: str, column: str | None = None, *, year: int | None = None) -> KeyDates:
    """关键节点记录 such as ``2023-10-10投诉,10月16日解决`` or ``2023-08-15签订年度合同``.

    Parts are split on commas and semicolons; a part without a date continues the one
    before (``…购买产品A，1000元``). Dates without a year take the year of the date
    before them in the cell, else the row's ``year``.
    """
    first: date | None = None
    contracts: list[ContractNote] = []
    complaints: list[ComplaintNote] = []
    loose: list[Resolution] = []
    purchases: list[Purchase | tuple[date, str, str]] = []
    last: date | None = None
    for part in split_top(text, "，,;；\n"):
        body, attributes = _bracketed(part)
        if attributes is not None and not _is_contract(body):  # brackets only in contracts
            body, attributes = part, None
        day, rest = take_date(body, column, year=year, after=last)
        rest = rest.strip(" :：")
        if day is None:
            pending = purchases[-1] if purchases else None
            if isinstance(pending, tuple) and attributes is None:
                purchases[-1] = _purchase(
                    pending[0], pending[1], part, pending[2] + "，" + part, column
                )
                continue
            raise UnreadableNote(
                f"{part!r} has no date; each key date is written as one of {KEY_DATE_FORMS}",
                column=column,
            )
        last = day
        if _FIRST.match(rest) and attributes is None:
            if first is not None:
                raise UnreadableNote(f"{part!r}: a second first-contact date", column=column)
            first = day
        elif (contract := _CONTRACT_ZH.match(rest) or _CONTRACT_EN.match(rest)) is not None:
            if contract["rest"].strip():
                raise UnreadableNote(
                    f"{part!r}: {contract['rest']!r} is not understood", column=column
                )
            contracts.append(_contract(day, contract["term"], attributes, part, column))
        elif (complaint := _COMPLAINT.match(rest)) is not None and attributes is None:
            subject = unquote(complaint["s"]) or None
            complaints.append(ComplaintNote(day, subject, text=part))
        elif (resolved := _RESOLVED.match(rest)) is not None and attributes is None:
            resolution = unquote(resolved["r"]) or None
            open_ = [i for i, c in enumerate(complaints) if c.resolved_on is None]
            if open_:
                c = complaints[open_[-1]]
                complaints[open_[-1]] = ComplaintNote(
                    c.filed_on, c.subject, day, resolution, text=f"{c.text}，{part}"
                )
            else:
                loose.append(Resolution(day, resolution, text=part))
        elif (bought := _PURCHASE.match(rest)) is not None and attributes is None:
            product, amount = _trailing_amount(bought["p"])
            if amount is None:
                purchases.append((day, unquote(product), part))
            else:
                purchases.append(_purchase(day, unquote(product), amount.group(1), part, column))
        else:
            raise UnreadableNote(
                f"{part!r} is not understood; write key dates as {KEY_DATE_FORMS}", column=column
            )
    for p in purchases:
        if isinstance(p, tuple):
            raise BadAmount(
                f"{p[2]!r}: a purchase needs its amount (the importer invents none)",
                column=column,
            )
    return KeyDates(first, tuple(contracts), tuple(complaints), tuple(loose), tuple(purchases))  # type: ignore[arg-type]


def _is_contract(text: str) -> bool:
    rest = DATE_TOKEN.sub(" ", text).strip(" :：")
    return bool(_CONTRACT_ZH.match(rest) or _CONTRACT_EN.match(rest))


def _contract(
    day: date, term: str, attributes: str | None, text: str, column: str | None
) -> ContractNote:
    expires = parse_term(term, day, column)
    number: str | None = None
    amount: Decimal | None = None
    currency = "CNY"
    for item in split_top(attributes or "", "，,;；"):
        if (until := _UNTIL.match(item)) is not None:
            explicit = parse_date(until["d"], column, year=day.year, after=day)
            if expires is not None and explicit != expires:
                raise UnreadableNote(f"{text!r}: the term and the end date disagree", column=column)
            expires = explicit
        elif (no := _CONTRACT_NO.match(item)) is not None:
            number = unquote(no["n"])
        else:
            amount, currency = parse_amount(item, column)
    return ContractNote(day, expires, number, amount, currency, text=text)


def _purchase(day: date, product: str, amount: str, text: str, column: str | None) -> Purchase:
    if not product:
        raise UnreadableNote(f"{text!r}: what was bought is not written", column=column)
    value, currency = parse_amount(amount, column)
    return Purchase(day, product, value, currency, text=text)


def parse_purchases(
    text: str, column: str | None = None, *, year: int | None = None
) -> tuple[Purchase, ...]:
    """购买历史: ``2022-12-01购买产品A，1000元``, several separated by ``；`` or lines."""
    found: list[Purchase] = []
    for entry in split_top(text, ";；\n"):
        notes = parse_key_dates(entry, column, year=year)
        if notes.first_contact or notes.contracts or notes.complaints or notes.resolutions:
            raise UnreadableNote(f"{entry!r} is not a purchase", column=column)
        found += notes.purchases
    return tuple(found)


def parse_interactions(
    text: str, column: str | None = None, *, year: int | None = None
) -> tuple[Interaction, ...]:
    """互动记录: ``2023-01-01电话沟通，了解需求`` (date, channel, topic); several separated
    by ``；`` or lines."""
    return tuple(_interaction(e, column, year) for e in split_top(text, ";；\n"))


def _interaction(entry: str, column: str | None, year: int | None) -> Interaction:
    day, rest = take_date(entry, column, year=year, after=None)
    if day is None:
        raise UnreadableNote(f"{entry!r}: an interaction needs its date", column=column)
    channel, topic = _leading_channel(rest.strip(" ，,:："), entry, column)
    topic = unquote(topic.strip(" ，,:："))
    if not topic:
        raise UnreadableNote(f"{entry!r}: what the interaction was about is missing", column=column)
    return Interaction(day, channel, topic)


def _leading_channel(text: str, entry: str, column: str | None) -> tuple[Channel, str]:
    folded = fold(text)
    best: tuple[int, Channel] | None = None
    for word, channel in CHANNEL_INDEX.items():
        if folded.startswith(word) and (best is None or len(word) > best[0]):
            best = (len(word), channel)
    if best is None:
        raise UnknownWord(
            f"{entry!r}: no channel after the date; write one of {words_of(CHANNEL_WORDS)}",
            column=column,
        )
    rest = _cut(text, best[0])
    for suffix in CHANNEL_SUFFIXES:
        if fold(rest).startswith(fold(suffix).strip()):
            rest = _cut(rest, len(fold(suffix).strip()))
            break
    return best[1], rest


def _cut(text: str, folded_length: int) -> str:
    """``text`` after its first ``folded_length`` characters as ``fold`` counts them."""
    for i in range(len(text) + 1):
        if len(fold(text[:i])) >= folded_length:
            return text[i:]
    return ""


def iter_dates(*cells: str | None) -> Iterator[date]:
    """Full dates written anywhere in these cells (for a row's year and latest date)."""
    for cell in cells:
        for found in DATE_TOKEN.finditer(cell or ""):
            if found.group("y"):
                try:
                    yield _make_date(
                        int(found["y"]), int(found["m"]), int(found["d"]), cell or "", None
                    )
                except (BadDate, CellDateOutOfRange):
                    continue
