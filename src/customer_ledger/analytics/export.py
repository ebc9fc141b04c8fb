"""``customer-ledger export analytics``: one row per customer, as of the request's date.

Importing this module registers the source with the spreadsheet exports;
``customer_ledger/__init__.py`` does, so the command line and the library both offer
it. No personal data is in these rows beyond the customer's name, as in every export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from customer_ledger.analytics.analysis import CustomerAnalytics
from customer_ledger.analytics.churn import REASON_LABELS_ZH
from customer_ledger.analytics.segments import CADENCE_LABELS_ZH, SEGMENT_LABELS_ZH
from customer_ledger.application import CustomerLedger
from customer_ledger.spreadsheets.exports import ExportRequest, Sheet, export_source
from customer_ledger.spreadsheets.headers import STAGE_WORDS, YES_NO, Header
from customer_ledger.spreadsheets.vocabulary import Lang

HEADERS = (
    Header("截至日期", "as of"),
    Header("客户编号", "number"),
    Header("客户名称", "name"),
    Header("维护人", "owner"),
    Header("生命周期阶段", "stage"),
    Header("近12个月收入", "trailing revenue"),
    Header("收入排名", "rank"),
    Header("累计收入占比", "cumulative share"),
    Header("计算分级", "computed grade"),
    Header("手工分级", "grade (by hand)"),
    Header("有效分级", "grade"),
    Header("流失风险", "churn risk"),
    Header("风险原因", "churn reasons"),
    Header("维护类型", "segment"),
    Header("联系频率", "contact cadence"),
    Header("近期互动", "interactions (last window)"),
    Header("前期互动", "interactions (previous window)"),
    Header("近期订单额", "orders (last window)"),
    Header("前期订单额", "orders (previous window)"),
    Header("未解决投诉", "open complaints"),
    Header("满意度评分", "last satisfaction"),
)


@export_source("analytics")
def analytics_source(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
    as_of = request.as_of.astimezone(ledger.timezone).date()
    result = ledger.analytics(as_of)
    lang = request.lang

    def rows() -> Iterator[list[Any]]:
        for c in result.customers:
            yield [as_of, *row(c, lang)]

    return Sheet(
        [h.zh for h in HEADERS], [h.en for h in HEADERS], rows(), len(result.customers),
        "客户分析", "analytics",
    )  # fmt: skip


def row(c: CustomerAnalytics, lang: Lang) -> list[Any]:
    zh = lang is Lang.ZH
    reasons = "; ".join(
        f"{REASON_LABELS_ZH[r.rule]}: {r.detail}" if zh else f"{r.rule}: {r.detail}"
        for r in c.churn_reasons
    )
    segment = cadence = None
    if c.segment is not None:
        segment = SEGMENT_LABELS_ZH[c.segment] if zh else c.segment.value
    if c.cadence is not None:
        cadence = CADENCE_LABELS_ZH[c.cadence] if zh else c.cadence.value
    return [
        c.number, c.name, c.owner, STAGE_WORDS[c.stage](lang), c.revenue, c.rank,
        c.cumulative_share, c.computed_grade.value,
        None if c.manual_grade is None else c.manual_grade.value, c.grade.value,
        YES_NO[c.churn_risk](lang), reasons, segment, cadence, c.interactions_last,
        c.interactions_previous, c.orders_last, c.orders_previous, c.open_complaints,
        c.last_satisfaction,
    ]  # fmt: skip
