"""A sheet row, read: what it says about one customer, whatever the layout.

Both layouts become ``RowFacts``; ``rows.py`` turns facts into ledger commands. Reading
a row never looks at the ledger, so a row's cells fail or pass on their own.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import date

from attrs import evolve, field, frozen

from customer_ledger.domain.values import CustomerType
from customer_ledger.errors import CustomerTypeUnknown, InconsistentRow, MissingValue
from customer_ledger.formats.spreadsheets.layouts import SheetRow, Table
from customer_ledger.formats.spreadsheets.notes import Interaction, KeyDates, Phone
from customer_ledger.formats.spreadsheets.parsing import (
    iter_dates,
    parse_basics,
    parse_channel,
    parse_customer_type,
    parse_date,
    parse_grade,
    parse_interactions,
    parse_key_dates,
    parse_phone,
    parse_purchases,
    parse_satisfaction,
    parse_status,
    type_from_name,
    unquote,
)
from customer_ledger.formats.spreadsheets.vocabulary import StatedStage

_COMPLAINT_IN_CONTENT = re.compile(
    r"(?:投诉|complaint|complained)\s*(?:about)?\s*[:：]?\s*(.+)$", re.I
)


@frozen
class ContactFacts:
    name: str
    title: str | None = None
    phone: Phone | None = None
    email: str | None = None


@frozen
class RowFacts:
    row: int
    source: str  # "register.csv row 2 (客户关系维护信息登记表)"
    text: str  # the row's cells as written: evidence for a stage set on import
    public_text: str  # the same without personal data: the reason of a churn
    number: str
    name: str
    type: CustomerType | None  # None: not stated and not inferable
    type_note: str | None = None  # how the type was found when 客户类型 stated a stage
    type_error: str | None = None  # why it could not be (raised only for a new customer)
    industry: str | None = None
    region: str | None = None
    size: str | None = None
    contact: ContactFacts | None = None
    needs: str | None = None
    interactions: tuple[Interaction, ...] = ()
    key_dates: KeyDates = field(factory=KeyDates)
    complaint_subject: str | None = None  # what 最近互动内容 says the complaint was about
    satisfaction: int | None = None
    grade: str | None = None
    stated: StatedStage | None = None
    stated_in: str | None = None  # the column that stated it
    actor: str | None = None
    registered_on: date | None = None
    dated_by: str = "the import time"  # how facts without a date of their own are dated

    def dates(self) -> list[date]:
        return [i.on for i in self.interactions] + self.key_dates.dates()

    @property
    def as_of(self) -> date | None:
        """The day the row describes the customer: registered, else its latest date."""
        if self.registered_on is not None:
            return self.registered_on
        return max(self.dates(), default=None)


def facts_of(row: SheetRow, table: Table) -> RowFacts:
    reader = register_facts if table.layout.name == "register" else worksheet_facts
    return reader(row, table)


def _column(table: Table, field: str) -> str:
    for header, f in zip(table.headers, table.fields, strict=True):
        if f == field:
            return header
    return next(c.zh for c in table.layout.columns if c.field == field)


def _required(row: SheetRow, table: Table, field: str) -> str:
    value = row.get(field)
    if value is None:
        raise MissingValue("empty; every row needs it", column=_column(table, field))
    return value


def _year(row: SheetRow, registered: date | None) -> int | None:
    if registered is not None:
        return registered.year
    return max((d.year for d in iter_dates(*row.values.values())), default=None)


# -- the register ---------------------------------------------------------------------------


def register_facts(row: SheetRow, table: Table) -> RowFacts:
    """客户关系维护信息登记表: one row per customer, with its latest interaction."""
    col = functools.partial(_column, table)
    get = row.get
    number, name = _required(row, table, "number"), _required(row, table, "name")
    kind, stage_in_type = (
        (None, None) if get("type") is None else parse_customer_type(get("type") or "", col("type"))
    )
    type_note = type_error = None
    if kind is None and get("type") is not None:
        try:
            kind = type_from_name(name, get("type") or "", col("type"))
            type_note = (
                f"客户类型 {get('type')!r} is a stage; the type {kind.value} is read from the name"
            )
        except CustomerTypeUnknown as error:
            type_error = str(error)
    elif kind is None:
        type_error = f"{col('type')} is empty and the name {name!r} does not tell the type"
        try:
            kind = type_from_name(name, "", col("type"))
            type_note, type_error = (
                f"no 客户类型; the type {kind.value} is read from the name",
                None,
            )
        except CustomerTypeUnknown:
            pass
    registered = (
        None
        if get("registered_on") is None
        else parse_date(get("registered_on") or "", col("registered_on"))
    )
    year = _year(row, registered)
    basics = parse_basics(get("basics") or "", kind, col("basics")) if get("basics") else None
    interaction = _register_interaction(row, table, year)
    stated, stated_in = None, None
    if get("status") is not None:
        stated, stated_in = parse_status(get("status") or "", col("status")), col("status")
    elif stage_in_type is not None:
        stated, stated_in = stage_in_type, col("type")
    content = get("content") or ""
    subject = _COMPLAINT_IN_CONTENT.search(content)
    facts = RowFacts(
        row=row.number,
        source=f"{table.source} row {row.number} ({table.layout.title_zh})",
        text=row.text,
        public_text=row.text_without(
            {"basics"} | ({"name"} if kind is not CustomerType.COMPANY else set())
        ),
        number=number,
        name=name,
        type=kind,
        type_note=type_note,
        type_error=type_error,
        industry=None if basics is None else basics.industry,
        region=None if basics is None else basics.region,
        size=None if basics is None else basics.size,
        contact=_register_contact(name, kind, basics),
        needs=get("needs"),
        interactions=() if interaction is None else (interaction,),
        key_dates=parse_key_dates(get("key_dates") or "", col("key_dates"), year=year),
        complaint_subject=None if subject is None else unquote(subject.group(1)) or None,
        satisfaction=None
        if get("satisfaction") is None
        else parse_satisfaction(get("satisfaction") or "", col("satisfaction")),
        stated=stated,
        stated_in=stated_in,
        actor=get("registrar"),
        registered_on=registered,
    )
    if registered is not None:
        return evolve(facts, dated_by=f"the registration date {registered}")
    if facts.as_of is not None:
        return evolve(facts, dated_by=f"the row's latest date {facts.as_of}")
    return facts


def _register_interaction(row: SheetRow, table: Table, year: int | None) -> Interaction | None:
    fields = ("interaction_on", "channel", "content")
    given = [f for f in fields if row.get(f) is not None]
    extra = [f for f in ("participant", "note") if row.get(f) is not None]
    if not given:
        if extra:
            raise InconsistentRow(
                "is filled but there is no interaction (最近互动时间, 方式, 内容) to attach it to",
                column=_column(table, extra[0]),
            )
        return None
    missing = [f for f in fields if f not in given]
    if missing:
        raise InconsistentRow(
            "empty, but the row records an interaction: it needs its date, channel and content",
            column=_column(table, missing[0]),
        )
    return Interaction(
        on=parse_date(row.get("interaction_on") or "", _column(table, "interaction_on"), year=year),
        channel=parse_channel(row.get("channel") or "", _column(table, "channel")),
        topic=row.get("content") or "",
        participant=row.get("participant"),
        follow_up=row.get("note"),
    )


def _register_contact(name: str, kind: CustomerType | None, basics: object) -> ContactFacts | None:
    """The register's phone and title belong to the customer: a person's own contact
    entry, or for a company one named after it (the register names no person)."""
    if basics is None:
        return None
    phone, email = getattr(basics, "phone", None), getattr(basics, "email", None)
    title = getattr(basics, "title", None) if kind is not CustomerType.COMPANY else None
    if phone is None and email is None and title is None:
        return None
    return ContactFacts(name, title, phone, email)


# -- the worksheet ---------------------------------------------------------------------------


def worksheet_number(
    company: str | None, person: str | None, phone: str | None, email: str | None
) -> str:
    """A stable number for a worksheet row without 客户编号: derived from the company's
    name, or a person's name, phone and e-mail. A reference, not a business number."""
    key = ["company", company] if company else ["person", person or "", phone or "", email or ""]
    return "W" + hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:10].upper()


def worksheet_facts(row: SheetRow, table: Table) -> RowFacts:
    """客户管理工作表: one row per contact person, with their company's dealings."""
    col = functools.partial(_column, table)
    get = row.get
    person, company = get("contact"), get("company")
    if person is None and company is None:
        raise MissingValue(
            "empty, and so is 公司: a row needs a person or a company", column=col("contact")
        )
    year = _year(row, None)
    phone = None if get("phone") is None else parse_phone(get("phone") or "", col("phone"))
    interactions = parse_interactions(get("interactions") or "", col("interactions"), year=year)
    if get("feedback") is not None:
        if not interactions:
            raise InconsistentRow(
                "is filled but 互动记录 records no interaction", column=col("feedback")
            )
        latest = max(range(len(interactions)), key=lambda i: (interactions[i].on, i))
        interactions = tuple(
            evolve(x, feedback=get("feedback")) if i == latest else x
            for i, x in enumerate(interactions)
        )
    kind = CustomerType.COMPANY if company else CustomerType.INDIVIDUAL
    contact = None
    if person is not None and (company or phone or get("email") or get("title")):
        contact = ContactFacts(person, get("title"), phone, get("email"))
    number = get("number") or worksheet_number(company, person, get("phone"), get("email"))
    facts = RowFacts(
        row=row.number,
        source=f"{table.source} row {row.number} ({table.layout.title_zh})",
        text=row.text,
        public_text=row.text_without({"contact", "phone", "email"}),
        number=number,
        name=company or person or "",
        type=kind,
        industry=get("industry"),
        region=get("city"),
        contact=contact,
        interactions=interactions,
        key_dates=KeyDates(
            purchases=parse_purchases(get("purchases") or "", col("purchases"), year=year)
        ),
        grade=None if get("grade") is None else parse_grade(get("grade") or "", col("grade")),
    )
    if facts.as_of is not None:
        return evolve(facts, dated_by=f"the row's latest date {facts.as_of}")
    return facts
