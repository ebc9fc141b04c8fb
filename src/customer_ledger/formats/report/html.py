"""The report as ONE self-contained HTML page: inline CSS, inline SVG, a few lines of
inline script, no network. Every value from the ledger is HTML-escaped.

The script only measures: it marks each chart with its drawn size and mark count and
sets ``data-rendered`` on ``<body>`` to the number of charts that rendered, so a
headless browser can prove the page draws (tests/test_report.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from customer_ledger.analytics import PeriodIndicators
from customer_ledger.analytics.churn import REASON_LABELS_ZH
from customer_ledger.analytics.reminders import KIND_LABELS_ZH
from customer_ledger.analytics.segments import CADENCE_LABELS_ZH, SEGMENT_LABELS_ZH
from customer_ledger.domain.values import Grade, Stage
from customer_ledger.formats.report.data import ReportData
from customer_ledger.formats.report.svg import Series, columns, funnel

STAGE_LABELS = {
    Stage.LEAD: "潜在 lead",
    Stage.PROSPECT: "潜在 prospect",
    Stage.CUSTOMER: "活跃 customer",
    Stage.AT_RISK: "风险预警 at risk",
    Stage.CHURNED: "流失 churned",
}
STAGE_COLOURS = ("#93c5fd", "#60a5fa", "#2563eb", "#f59e0b", "#9ca3af")
COMPUTED, MANUAL = "#2563eb", "#f59e0b"

STYLE = """
body { font-family: system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif; margin: 24px;
       color: #111827; background: #f9fafb; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 0 0 10px; }
h3 { font-size: 14px; margin: 12px 0 6px; color: #374151; }
.lead { color: #4b5563; margin: 0 0 18px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 14px 16px;
          margin-bottom: 16px; overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #f3f4f6; font-weight: 600; white-space: nowrap; } td.n { text-align: right;
     font-variant-numeric: tabular-nums; }
.note { color: #6b7280; font-size: 12px; margin: 6px 0 0; }
.tag { display: inline-block; border-radius: 4px; padding: 0 6px; margin: 1px 4px 1px 0;
       background: #fef3c7; color: #92400e; font-size: 12px; }
.overdue { color: #b91c1c; font-weight: 600; }
.empty { color: #6b7280; font-style: italic; }
"""

SCRIPT = """
(function () {
  var charts = document.querySelectorAll("svg.chart");
  var rendered = 0;
  charts.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var marks = Array.prototype.filter.call(svg.querySelectorAll(".mark"), function (m) {
      var b = m.getBBox();
      return b.width > 0 && b.height > 0;
    }).length;
    svg.setAttribute("data-box", Math.round(box.width) + "x" + Math.round(box.height));
    svg.setAttribute("data-marks", String(marks));
    if (box.width > 0 && box.height > 0 && marks > 0) { rendered += 1; }
  });
  document.body.setAttribute("data-charts", String(charts.length));
  document.body.setAttribute("data-rendered", String(rendered));
})();
"""


def render(data: ReportData) -> str:
    a = data.analytics
    at_risk = a.at_risk()
    head = (
        f"截至 as of {data.as_of} · {len(a.customers)} customers · revenue "
        f"(trailing {a.settings.revenue_months} months) {_money(a.total_revenue)} "
        f"{a.settings.currency} · {len(at_risk)} at churn risk · {len(data.reminders)} reminders"
    )
    return "".join(
        [
            "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>客户分析报告 Customer report {data.as_of}</title>",
            f"<style>{STYLE}</style></head>",
            f"<body data-as-of='{data.as_of}'>",
            "<h1>客户分析报告 · Customer analytics report</h1>",
            f"<p class='lead'>{escape(head)}</p>",
            "<div class='grid'>",
            _section("funnel", "客户阶段漏斗 · Stage funnel", _funnel(data)),
            _section("abc", "ABC 分级：计算 vs 人工 · ABC grades, computed vs by hand", _abc(data)),
            "</div>",
            _section("revenue", "月度收入 · Revenue by month", _revenue(data)),
            _section("risk", f"流失风险 · Churn risk ({len(at_risk)})", _risk(data)),
            _section("segments", "维护类型 · Maintenance segments", _segments(data)),
            _section("indicators", "季度与月度指标 · Indicators", _indicators(data)),
            _section("reminders", "提醒 · Reminders", _reminders(data)),
            f"<p class='note'>{escape(_settings_note(data))}</p>",
            f"<script>{SCRIPT}</script></body></html>",
        ]
    )


def _section(anchor: str, title: str, body: str) -> str:
    return f"<section id='{anchor}'><h2>{escape(title)}</h2>{body}</section>"


def _funnel(data: ReportData) -> str:
    counts = data.analytics.stage_counts()
    return funnel(
        [STAGE_LABELS[s] for s in Stage],
        [counts[s] for s in Stage],
        STAGE_COLOURS,
        "customers per lifecycle stage",
    )


def _abc(data: ReportData) -> str:
    counts = data.analytics.grade_counts()
    settings = data.analytics.settings
    chart = columns(
        [f"{g.value}" for g in Grade],
        [
            Series("computed 计算", COMPUTED, tuple(counts["computed"][g] for g in Grade)),
            Series("by hand 人工", MANUAL, tuple(counts["manual"][g] for g in Grade)),
        ],
        "customers per ABC grade, computed and assigned by hand",
        kind="abc",
    )
    share = data.analytics.a_share
    note = (
        f"Cut-offs: A up to {_pct(settings.grade_a_share)}, B up to "
        f"{_pct(settings.grade_b_share)} of cumulative revenue; the A set holds "
        f"{_pct(share) if share is not None else '—'}. A grade set by hand overrides the "
        "computed one and is shown apart."
    )
    rows = [
        [c.number, c.name, _money(c.revenue), c.computed_grade.value, c.manual_grade.value]
        for c in data.analytics.customers
        if c.manual_grade is not None and c.manual_grade != c.computed_grade
    ]
    table = (
        _table(["no.", "name", "revenue", "computed", "by hand"], rows, numeric={2}) if rows else ""
    )
    return chart + f"<p class='note'>{escape(note)}</p>" + table


def _revenue(data: ReportData) -> str:
    currency = data.analytics.settings.currency
    return columns(
        [p.period[2:] for p in data.monthly],
        [Series(f"revenue {currency}", COMPUTED, tuple(p.revenue for p in data.monthly))],
        f"revenue per month in {currency}",
        kind="revenue",
    )


def _risk(data: ReportData) -> str:
    rows = [
        [
            c.number,
            c.name,
            c.owner or "",
            f"{c.grade.value}{' (人工)' if c.grade_is_manual else ''}",
            _Raw(
                "".join(
                    f"<span class='tag'>{escape(REASON_LABELS_ZH[r.rule])}</span>"
                    f"{escape(r.detail)}<br>"
                    for r in c.churn_reasons
                )
            ),
        ]
        for c in data.analytics.at_risk()
    ]
    if not rows:
        return "<p class='empty'>No customer at churn risk.</p>"
    return _table(["no.", "name", "owner", "grade", "reasons 原因"], rows)


def _segments(data: ReportData) -> str:
    rows = [
        [
            c.number,
            c.name,
            c.owner or "",
            f"{SEGMENT_LABELS_ZH[c.segment]} {c.segment.value}",
            "" if c.cadence is None else f"{CADENCE_LABELS_ZH[c.cadence]} {c.cadence.value}",
            c.segment_reason or "",
        ]
        for c in data.analytics.customers
        if c.segment is not None
    ]
    if not rows:
        return "<p class='empty'>No customer in a maintenance segment.</p>"
    return _table(["no.", "name", "owner", "segment 类型", "cadence 联系频率", "why"], rows)


INDICATOR_ROWS: tuple[tuple[str, str], ...] = (
    ("customers", "customers 客户数"),
    ("interactions_per_customer", "interactions / customer 人均互动"),
    ("complaint_rate", "complaint rate 投诉率"),
    ("renewal_rate", "renewal rate 续约率"),
    ("top_share", "top 20% revenue share 高价值客户收入占比"),
    ("average_satisfaction", "average satisfaction 平均满意度"),
    ("revenue", "revenue 收入"),
    ("new_leads", "new leads 新线索"),
    ("new_customers", "new customers 新成交客户"),
    ("churned_customers", "churned 流失客户"),
)


def _indicators(data: ReportData) -> str:
    return (
        "<h3>季度 · Quarterly</h3>"
        + _indicator_table(data.quarterly)
        + "<h3>月度 · Monthly</h3>"
        + _indicator_table(data.monthly)
    )


def _indicator_table(rows: Sequence[PeriodIndicators]) -> str:
    body = []
    for name, label in INDICATOR_ROWS:
        values = [getattr(p, name) for p in rows]
        shown = [_pct(v) if name.endswith(("rate", "share")) else _plain(v) for v in values]
        body.append([label, *shown])
    return _table(["", *(p.period for p in rows)], body, numeric=set(range(1, len(rows) + 1)))


def _reminders(data: ReportData) -> str:
    rows = [
        [
            str(r.due_on),
            _Raw(f"<span class='overdue'>{-r.days} days overdue</span>")
            if r.overdue
            else f"in {r.days} days",
            f"{KIND_LABELS_ZH[r.kind]} {r.kind.value}",
            r.number,
            r.name,
            r.owner or "",
            r.subject,
        ]
        for r in data.reminders
    ]
    if not rows:
        return f"<p class='empty'>Nothing due in the next {data.within_days} days.</p>"
    note = (
        f"<p class='note'>Contracts expiring, follow-ups and reminders due in the next "
        f"{data.within_days} days (overdue included); birthdays and anniversaries "
        f"{data.analytics.settings.greeting_days} days ahead.</p>"
    )
    return _table(["due", "when", "kind 类型", "no.", "name", "owner", "what"], rows) + note


def _settings_note(data: ReportData) -> str:
    s = data.analytics.settings
    return (
        f"Settings: revenue in {s.currency} over {s.revenue_months} months; ABC cut-offs "
        f"{_pct(s.grade_a_share)} / {_pct(s.grade_b_share)}; churn windows {s.window_days} "
        f"days; engagement {s.engagement_days} days; low satisfaction ≤ {s.low_satisfaction}; "
        f"top share {_pct(s.top_share)}. See docs/analytics.md."
    )


class _Raw(str):
    """Markup built here from escaped parts: inserted as is."""


def _table(
    head: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Collection[int] = ()
) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    lines = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
    for row in rows:
        lines.append("<tr>")
        for i, value in enumerate(row):
            text = value if isinstance(value, _Raw) else escape(str(value))
            lines.append(f"<td class='n'>{text}</td>" if i in numeric else f"<td>{text}</td>")
        lines.append("</tr>")
    lines.append("</tbody></table>")
    return "".join(lines)


def _money(amount: Decimal) -> str:
    return f"{amount:,}"


def _pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


def _plain(value: Any) -> str:
    if value is None:
        return "—"
    return _money(value) if isinstance(value, Decimal) else str(value)
