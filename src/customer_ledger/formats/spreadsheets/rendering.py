"""Customers written back in the layouts they were imported from: the inverse of
``parsing`` and ``facts``, so that importing an export gives the same customers.

What each layout carries (everything else of a customer stays out of the sheet):

register, one row per customer — number; name; type; the customer's own contact
    (the contact named as the customer: phone, e-mail, a person's title); industry,
    size, region; needs (core needs); the latest interaction (date, channel, content,
    participant, follow-up plan); first-contact date, contracts (signing date, term or
    end date, number unless it is the derived reference, amount), complaints (filing
    date, subject, resolution date and text) and purchases (date, product, amount) as
    key dates; the stage (维护状态: lead and prospect are both 潜在); the last
    satisfaction score; who recorded the latest event and its business date.
worksheet, one row per contact person — number; the company (for a company) or the
    person (for an individual); each contact's name, title, phone, e-mail; region;
    industry; every interaction (date, channel, topic) and the latest one's feedback;
    every purchase; the grade set by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from attrs import frozen

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.values import Contact, Contract, CustomerType
from customer_ledger.formats.spreadsheets.notes import (
    RESOLUTION_NOT_STATED,
    SUBJECT_NOT_STATED,
    Interaction,
    Purchase,
)
from customer_ledger.formats.spreadsheets.parsing import classify_part, term_end
from customer_ledger.formats.spreadsheets.vocabulary import (
    CHANNEL_VERB_ZH,
    Lang,
    channel_word,
    status_word,
    type_word,
)
from customer_ledger.projections.profile import Profile

SEPARATORS = "，,;；\n"


@frozen
class CustomerSheet:
    """What the layouts render of one customer: its profile (masked or not) and the
    facts only its events hold."""

    profile: Profile
    interactions: tuple[Interaction, ...]  # oldest first
    purchases: tuple[Purchase, ...]
    last_actor: str | None
    latest: date | None  # the latest business day among its events
    zone: tzinfo = UTC

    def day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def customer_sheet(ledger: CustomerLedger, profile: Profile) -> CustomerSheet:
    zone = ledger.timezone
    interactions: list[tuple[date, int, Interaction]] = []
    purchases: list[Purchase] = []
    events = ledger.history(profile.number)
    for e in events:
        day = e.occurred_at.astimezone(zone).date()
        kind = type(e).__name__
        if kind == "InteractionLogged":
            x = Interaction(day, e.channel, e.topic, e.participant, e.follow_up, e.feedback)  # type: ignore[attr-defined]
            interactions.append((day, e.originator_version, x))
        elif kind == "PurchaseRecorded":
            money = e.amount  # type: ignore[attr-defined]
            purchases.append(Purchase(day, e.product, money.amount, money.currency))  # type: ignore[attr-defined]
    latest = max((e.occurred_at.astimezone(zone).date() for e in events), default=None)
    return CustomerSheet(
        profile,
        tuple(x for _, _, x in sorted(interactions, key=lambda t: (t[0], t[1]))),
        tuple(purchases),
        events[-1].meta.actor if events else None,
        latest,
        zone,
    )


def _quoted(text: str) -> str:
    """Text holding a separator is quoted, so the importer reads it as one part."""
    return f"“{text}”" if any(ch in text for ch in SEPARATORS) else text


def own_contact(profile: Profile) -> Contact | None:
    """The register's contact: the one named as the customer."""
    return next((c for c in profile.contacts if c.name == profile.name), None)


# -- the register ------------------------------------------------------------------------------


def register_row(sheet: CustomerSheet, lang: Lang) -> dict[str, str | None]:
    p = sheet.profile
    latest = sheet.interactions[-1] if sheet.interactions else None
    return {
        "number": p.number,
        "type": type_word(p.type, lang),
        "name": p.name,
        "basics": basics(p, own_contact(p), lang) or None,
        "interaction_on": None if latest is None else latest.on.isoformat(),
        "channel": None if latest is None else channel_word(latest.channel, lang),
        "content": None if latest is None else latest.topic,
        "participant": None if latest is None else latest.participant,
        "key_dates": key_dates(sheet, lang) or None,
        "status": status_word(p.stage, lang),
        "needs": p.needs.core_needs,
        "satisfaction": None if p.last_satisfaction is None else str(p.last_satisfaction),
        "note": None if latest is None else latest.follow_up,
        "registrar": sheet.last_actor,
        "registered_on": None if sheet.latest is None else sheet.latest.isoformat(),
    }


LABELS = {
    Lang.ZH: {"phone": "电话：", "email": "邮箱：", "industry": "行业：", "title": "职位：",
              "size": "规模：", "region": "地区："},
    Lang.EN: {"phone": "phone: ", "email": "e-mail: ", "industry": "industry: ",
              "title": "title: ", "size": "size: ", "region": "region: "},
}  # fmt: skip


def basics(profile: Profile, contact: Contact | None, lang: Lang) -> str:
    """基础信息: phone, e-mail, industry, then title (person) or size (company); a part
    the importer would read as something else is labelled (职位：…)."""
    company = profile.type is CustomerType.COMPANY
    values = {
        "phone": contact and contact.phone,
        "email": contact and contact.email,
        "industry": profile.industry,
        "title": None if company or contact is None else contact.title,
        "size": profile.size,
        "region": profile.region,
    }
    second = "size" if company else "title"
    parts = []
    for slot in ("phone", "email", "industry", second, "region", "title", "size"):
        value = values.pop(slot, None)
        if not value:
            continue
        found = classify_part(value)
        plain = found == slot or (
            found is None and (slot == "industry" or (slot == second and bool(profile.industry)))
        )
        parts.append(_quoted(value) if plain else LABELS[lang][slot] + _quoted(value))
    return ("，" if lang is Lang.ZH else ", ").join(parts)


def key_dates(sheet: CustomerSheet, lang: Lang) -> str:
    p = sheet.profile
    zone_day = sheet.day(p.first_contact_at)
    entries = [f"首次接触{zone_day}" if lang is Lang.ZH else f"first contact {zone_day}"]
    entries += [contract_note(c, p.number, lang) for c in p.contracts]
    for c in sorted(p.complaints, key=lambda c: (c.filed_at, c.complaint_id)):
        entries.append(complaint_note(c, lang, sheet.day))
    entries += [purchase_note(x, lang) for x in sheet.purchases]
    return ("；" if lang is Lang.ZH else "; ").join(entries)


def _term(contract: Contract) -> tuple[int | None, bool]:
    """(months, whole years?) when the end date is a whole term after signing."""
    if contract.expires_on is None or contract.starts_on != contract.signed_on:
        return None, False
    for months in range(1, 121):
        if term_end(contract.signed_on, months) == contract.expires_on:
            return months, months % 12 == 0
    return None, False


def contract_note(contract: Contract, number: str, lang: Lang) -> str:
    months, years = _term(contract)
    attrs = []
    if contract.number != f"{number}-{contract.signed_on}":
        attrs.append(("编号" if lang is Lang.ZH else "no. ") + contract.number)
    if contract.expires_on is not None and months is None:
        attrs.append(("至" if lang is Lang.ZH else "until ") + contract.expires_on.isoformat())
    if contract.amount is not None:
        attrs.append(money(contract.amount.amount, contract.amount.currency, lang))
    if lang is Lang.ZH:
        term = (
            ""
            if months is None
            else "年度"
            if months == 12
            else f"{months // 12}年"
            if years
            else f"{months}个月"
        )
        text = f"{contract.signed_on}签订{term}合同"
        return text + (f"（{'，'.join(attrs)}）" if attrs else "")
    term = (
        ""
        if months is None
        else "annual "
        if months == 12
        else f"{months // 12}-year "
        if years
        else f"{months}-month "
    )
    text = f"{contract.signed_on} signed {term}contract"
    return text + (f" ({', '.join(attrs)})" if attrs else "")


def complaint_note(complaint: Any, lang: Lang, day: Callable[[datetime], date]) -> str:
    filed = day(complaint.filed_at)
    subject = None if complaint.subject == SUBJECT_NOT_STATED else complaint.subject
    if lang is Lang.ZH:
        text = f"{filed}投诉" + (f"：{_quoted(subject)}" if subject else "")
    else:
        text = f"{filed} complaint" + (f": {_quoted(subject)}" if subject else "")
    if complaint.resolved_at is None:
        return text
    resolved = day(complaint.resolved_at)
    resolution = complaint.resolution
    if resolution == RESOLUTION_NOT_STATED:
        resolution = None
    if lang is Lang.ZH:
        return text + f"，{resolved}解决" + (f"：{_quoted(resolution)}" if resolution else "")
    return text + f", {resolved} resolved" + (f": {_quoted(resolution)}" if resolution else "")


def money(amount: Decimal, currency: str, lang: Lang) -> str:
    if lang is Lang.ZH and currency == "CNY":
        return f"{amount}元"
    return f"{amount} {currency}"


def purchase_note(purchase: Purchase, lang: Lang) -> str:
    product = _quoted(purchase.product)
    amount = money(purchase.amount, purchase.currency, lang)
    if lang is Lang.ZH:
        return f"{purchase.on}购买{product}，{amount}"
    return f"{purchase.on} bought {product}, {amount}"


# -- the worksheet -----------------------------------------------------------------------------


def interaction_note(x: Interaction, lang: Lang) -> str:
    topic = f"“{x.topic}”" if any(ch in x.topic for ch in ";；\n") else x.topic
    if lang is Lang.ZH:
        verb = "沟通" if x.channel in CHANNEL_VERB_ZH else ""
        return f"{x.on}{channel_word(x.channel, Lang.ZH)}{verb}，{topic}"
    return f"{x.on} {channel_word(x.channel, Lang.EN)}, {topic}"


def worksheet_rows(sheet: CustomerSheet, lang: Lang) -> list[dict[str, str | None]]:
    p = sheet.profile
    latest = sheet.interactions[-1] if sheet.interactions else None
    separator = "；" if lang is Lang.ZH else "; "
    shared: dict[str, str | None] = {
        "number": p.number,
        "company": p.name if p.type is CustomerType.COMPANY else None,
        "city": p.region,
        "interactions": separator.join(interaction_note(x, lang) for x in sheet.interactions)
        or None,
        "purchases": separator.join(purchase_note(x, lang) for x in sheet.purchases) or None,
        "feedback": None if latest is None else latest.feedback,
        "industry": p.industry,
        "grade": None if p.grade is None else p.grade.value,
    }
    company = p.type is CustomerType.COMPANY
    people: Sequence[Contact | None] = (list(p.contacts) or [None]) if company else [own_contact(p)]
    rows = []
    for person in people:
        name = p.name if not company else None if person is None else person.name
        rows.append(
            {
                **shared,
                "contact": name,
                "title": None if person is None else person.title,
                "phone": None if person is None else person.phone,
                "email": None if person is None else person.email,
            }
        )
    return rows
