"""Exports: what can be exported (sources), and writing one to a file.

A *source* is a function ``(ledger, request) -> Sheet``: the headers in both languages
and the rows, produced lazily so large exports stream. Sources register themselves by
name with ``@export_source("name")`` (or ``EXPORT_SOURCES[name] = fn``); the
``export`` command offers every registered name. This package registers
``profiles``, ``timeline``, ``status`` and ``analytics``.

Personal data is masked unless the request is ``unmasked``: then each customer's
profile is read through ``CustomerLedger.profile(..., unmasked=True)``, which checks
the reader's role, needs a reason and records the read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from attrs import field, frozen

from customer_ledger.analytics.analysis import CustomerAnalytics
from customer_ledger.analytics.churn import REASON_LABELS_ZH
from customer_ledger.analytics.segments import CADENCE_LABELS_ZH, SEGMENT_LABELS_ZH
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.privacy import masked
from customer_ledger.domain.access import Actor
from customer_ledger.domain.values import Contact
from customer_ledger.errors import ExportError, InvalidValue
from customer_ledger.formats.output import output_file
from customer_ledger.formats.spreadsheets import headers as H
from customer_ledger.formats.spreadsheets.layouts import LAYOUTS
from customer_ledger.formats.spreadsheets.rendering import (
    customer_sheet,
    register_row,
    worksheet_rows,
)
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.formats.spreadsheets.writing import WRITERS, Tick
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import ProfileQuery

PAGE = 500


@frozen
class ExportRequest:
    """What an export asks for; sources use what concerns them."""

    as_of: datetime  # for "now"-dependent sources (analytics)
    lang: Lang = Lang.ZH
    unmasked: bool = False
    actor: Actor | str | None = None  # who reads unmasked data (needs a role that may)
    why: str | None = None  # why they do (recorded with the read)
    layout: str | None = None  # profiles only: "register" or "worksheet"


@frozen
class Sheet:
    headers_zh: Sequence[str]
    headers_en: Sequence[str]
    rows: Iterable[Sequence[Any]]
    total: int | None = None  # when known in advance (for a progress bar)
    title_zh: str = "导出"
    title_en: str = field(default="export")

    def headers(self, lang: Lang) -> Sequence[str]:
        return self.headers_zh if lang is Lang.ZH else self.headers_en

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang is Lang.ZH else self.title_en


ExportSource = Callable[[CustomerLedger, ExportRequest], Sheet]
EXPORT_SOURCES: dict[str, ExportSource] = {}


def export_source(name: str) -> Callable[[ExportSource], ExportSource]:
    """Registers ``source`` as ``customer-ledger export NAME``."""

    def register(source: ExportSource) -> ExportSource:
        EXPORT_SOURCES[name] = source
        return source

    return register


def export(
    ledger: CustomerLedger,
    source: str,
    out: IO[bytes],
    *,
    format: str = "csv",
    request: ExportRequest | None = None,
    tick: Tick | None = None,
    total: Callable[[int | None], None] | None = None,
) -> int:
    """Writes ``source`` to ``out`` in ``format``; returns the number of rows."""
    if source not in EXPORT_SOURCES:
        raise ExportError(f"no export {source!r}; exports are: {', '.join(sorted(EXPORT_SOURCES))}")
    if format not in WRITERS:
        raise ExportError(f"no format {format!r}; formats are: {', '.join(WRITERS)}")
    request = request or ExportRequest(as_of=ledger.clock())
    if request.unmasked:  # refused before anything is written, customers or not
        ledger.may_read(ledger.acting(request.actor), f"export {source}", why=request.why)
        if not (request.why or "").strip():
            raise InvalidValue("an unmasked export needs a reason (why)")
    sheet = EXPORT_SOURCES[source](ledger, request)
    if total is not None:
        total(sheet.total)
    lang = request.lang
    if format == "xlsx":
        return WRITERS["xlsx"](sheet.headers(lang), sheet.rows, out, tick, sheet.title(lang))
    return WRITERS[format](sheet.headers(lang), sheet.rows, out, tick)


def export_file(ledger: CustomerLedger, source: str, path: str | Path, **options: Any) -> int:
    """``export`` into a file; the format defaults to the file's suffix. The file is
    replaced whole or not at all (``formats.output``: a device or a FIFO is written in
    place, a link or a directory refused); raises ``OutputError``."""
    path = Path(path)
    options.setdefault("format", path.suffix.lstrip(".").lower() or "csv")
    with output_file(path) as out:
        return export(ledger, source, out, **options)


# -- profiles ----------------------------------------------------------------------------------


def profiles(ledger: CustomerLedger, request: ExportRequest) -> Iterator[Profile]:
    """Every profile by number (but those merged into another), masked unless the
    request is unmasked (each such read is checked and recorded by the ledger)."""
    ledger.refresh()
    view = ledger.views.view("profile")
    names = ledger.policy.shows_names(ledger.acting(request.actor))
    after = None
    while True:
        page = view.search(ProfileQuery(limit=PAGE, after=after))
        for document in page.items:
            profile = ledger.open_profile(document)
            if profile.merged_into is not None:  # its record is the survivor's row now
                continue
            if request.unmasked:
                yield ledger.profile(
                    profile.number, actor=request.actor, unmasked=True, why=request.why
                )
            else:
                yield masked(profile, show_names=names)
        if page.next_cursor is None:
            return
        after = page.next_cursor


def _count(ledger: CustomerLedger) -> int:
    ledger.refresh()
    return sum(ledger.views.view("status").count_by_stage().values())


@export_source("profiles")
def profiles_source(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    if request.layout is not None:
        return layout_sheet(ledger, request)
    lang = request.lang
    return Sheet(
        [h.zh for h in H.PROFILE],
        [h.en for h in H.PROFILE],
        (profile_row(p, lang, ledger.timezone) for p in profiles(ledger, request)),
        _count(ledger),
        "客户档案",
        "profiles",
    )


def profile_row(p: Profile, lang: Lang, zone: tzinfo) -> list[Any]:
    def day(moment: datetime | None) -> date | None:
        return None if moment is None else moment.astimezone(zone).date()

    primary = next((c for c in p.contacts if c.primary), p.contacts[0] if p.contacts else None)
    contracts = "; ".join(
        f"{c.number} {c.signed_on}→{c.expires_on or ''}"
        + ("" if c.amount is None else f" {c.amount.amount} {c.amount.currency}")
        for c in p.contracts
    )
    return [
        p.number, p.name, _type(p, lang), H.STAGE_WORDS[p.stage](lang),
        H.YES_NO[p.risk_flagged](lang), p.industry, p.region, p.size, p.source, p.owner,
        None if p.grade is None else p.grade.value, H.YES_NO[p.vip](lang), ", ".join(p.tags),
        day(p.first_contact_at), p.cooperation_since,
        primary and primary.name, primary and primary.title, primary and primary.phone,
        primary and primary.email, _others(p, primary, lang), p.needs.core_needs,
        p.total_revenue, _by_currency(p, lang), p.purchase_count,
        p.average_order_value, day(p.last_purchase_at), p.interaction_count,
        day(p.last_interaction_at), contracts,
        len(p.complaints), p.open_complaints, p.last_satisfaction, p.next_reminder_on,
        p.churn_reason, p.version,
    ]  # fmt: skip


def _others(p: Profile, primary: Contact | None, lang: Lang) -> str:
    """Every contact besides the primary one, in the profile's order (masked as the
    profile is): 李四（总监），****4321，l***@xyz.com；王五."""
    zh = lang is Lang.ZH
    entries = []
    for c in p.contacts:
        if c is primary:
            continue
        title = "" if not c.title else (f"（{c.title}）" if zh else f" ({c.title})")
        details = [d for d in (c.phone, c.email) if d]
        entries.append(("，" if zh else ", ").join([c.name + title, *details]))
    return ("；" if zh else "; ").join(entries)


def _by_currency(p: Profile, lang: Lang) -> str:
    """Revenue in each currency the customer paid in (历史交易金额 is the base's alone)."""
    return ("；" if lang is Lang.ZH else "; ").join(
        f"{amount} {currency}" for currency, amount in sorted(p.revenue.items())
    )


def _type(p: Profile, lang: Lang) -> str:
    if lang is Lang.EN:
        return p.type.value
    return {"individual": "个人", "company": "企业"}[p.type.value]


def layout_sheet(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    """Profiles in a source layout (register / worksheet), ready to re-import."""
    layout = LAYOUTS.get(request.layout or "")
    if layout is None:
        raise ExportError(f"no layout {request.layout!r}; layouts are: {', '.join(LAYOUTS)}")
    lang = request.lang
    fields = [c.field for c in layout.columns]

    def rows() -> Iterator[list[Any]]:
        for profile in profiles(ledger, request):
            sheet = customer_sheet(ledger, profile)
            found = (
                [register_row(sheet, lang)]
                if layout.name == "register"
                else worksheet_rows(sheet, lang)
            )
            for row in found:
                yield [row.get(f) for f in fields]

    return Sheet(
        layout.headers(Lang.ZH), layout.headers(Lang.EN), rows(),
        _count(ledger) if layout.name == "register" else None, layout.title_zh, layout.title_en,
    )  # fmt: skip


# -- timeline and status -----------------------------------------------------------------------


@export_source("timeline")
def timeline_source(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    zone, lang = ledger.timezone, request.lang

    def rows() -> Iterator[list[Any]]:
        page = ledger.timeline(limit=1000)
        while True:
            for e in page.items:
                yield [
                    e.number, e.version, e.kind, e.occurred_at.astimezone(zone).isoformat(),
                    e.recorded_at.astimezone(zone).isoformat(), e.actor,
                    e.summary_zh if lang is Lang.ZH else e.summary_en, H.YES_NO[e.late](lang),
                ]  # fmt: skip
            if page.next_cursor is None:
                return
            page = ledger.timeline(limit=1000, after=page.next_cursor)

    return Sheet([h.zh for h in H.TIMELINE], [h.en for h in H.TIMELINE], rows(), None,
                 "时间线", "timeline")  # fmt: skip


@export_source("status")
def status_source(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    zone, lang = ledger.timezone, request.lang
    found = ledger.status()
    rows = (
        [
            r.number,
            r.name,
            r.owner,
            H.STAGE_WORDS[r.stage](lang),
            r.open_complaints,
            r.last_interaction_at and r.last_interaction_at.astimezone(zone).date(),
            r.next_reminder_on,
            r.first_contact_at.astimezone(zone).date(),
        ]
        for r in found
    )
    return Sheet([h.zh for h in H.STATUS], [h.en for h in H.STATUS], rows, len(found),
                 "客户状态", "status")  # fmt: skip


# -- analytics: one row per customer, as of the request's date -----------------------
# No personal data is in these rows beyond the customer's name, as in every export.

ANALYTICS_HEADERS = (
    H.Header("截至日期", "as of"),
    H.Header("客户编号", "number"),
    H.Header("客户名称", "name"),
    H.Header("维护人", "owner"),
    H.Header("生命周期阶段", "stage"),
    H.Header("近12个月收入", "trailing revenue"),
    H.Header("收入排名", "rank"),
    H.Header("累计收入占比", "cumulative share"),
    H.Header("计算分级", "computed grade"),
    H.Header("手工分级", "grade (by hand)"),
    H.Header("有效分级", "grade"),
    H.Header("流失风险", "churn risk"),
    H.Header("风险原因", "churn reasons"),
    H.Header("维护类型", "segment"),
    H.Header("联系频率", "contact cadence"),
    H.Header("近期互动", "interactions (last window)"),
    H.Header("前期互动", "interactions (previous window)"),
    H.Header("近期订单额", "orders (last window)"),
    H.Header("前期订单额", "orders (previous window)"),
    H.Header("未解决投诉", "open complaints"),
    H.Header("满意度评分", "last satisfaction"),
)


@export_source("analytics")
def analytics_source(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    as_of = request.as_of.astimezone(ledger.timezone).date()
    result = ledger.analytics(as_of, actor=request.actor)
    lang = request.lang

    def rows() -> Iterator[list[Any]]:
        for c in result.customers:
            yield [as_of, *analytics_row(c, lang)]

    headers = ANALYTICS_HEADERS
    return Sheet(
        [h.zh for h in headers], [h.en for h in headers], rows(), len(result.customers),
        "客户分析", "analytics",
    )  # fmt: skip


def analytics_row(c: CustomerAnalytics, lang: Lang) -> list[Any]:
    zh = lang is Lang.ZH
    reasons = ("；" if zh else "; ").join(
        f"{REASON_LABELS_ZH[r.rule]}：{r.detail_zh}" if zh else f"{r.rule}: {r.detail}"
        for r in c.churn_reasons
    )
    segment = cadence = None
    if c.segment is not None:
        segment = SEGMENT_LABELS_ZH[c.segment] if zh else c.segment.value
    if c.cadence is not None:
        cadence = CADENCE_LABELS_ZH[c.cadence] if zh else c.cadence.value
    return [
        c.number, c.name, c.owner, H.STAGE_WORDS[c.stage](lang), c.revenue, c.rank,
        c.cumulative_share, c.computed_grade.value,
        None if c.manual_grade is None else c.manual_grade.value, c.grade.value,
        H.YES_NO[c.churn_risk](lang), reasons, segment, cadence, c.interactions_last,
        c.interactions_previous, c.orders_last, c.orders_previous, c.open_complaints,
        c.last_satisfaction,
    ]  # fmt: skip
