"""Tiny inline-SVG charts: horizontal bars (the funnel), grouped and plain columns.

Drawn as text on the server, so the page needs no script library and no network; every
label goes through ``html.escape``. Each mark carries a ``<title>`` (hover tooltip).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from attrs import frozen

FONT = "font-family='system-ui, sans-serif' font-size='12'"
GRID = "#e5e7eb"
INK = "#374151"


@frozen
class Series:
    name: str
    colour: str
    values: tuple[Decimal | int, ...]


def _svg(kind: str, width: int, height: int, body: list[str], title: str) -> str:
    return (
        f"<svg class='chart' data-chart='{escape(kind)}' xmlns='http://www.w3.org/2000/svg' "
        f"width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{escape(title)}'>" + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, label: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' fill='{INK}' {FONT} {extra}>"
        f"{escape(label)}</text>"
    )


def _bar(x: float, y: float, w: float, h: float, colour: str, tip: str) -> str:
    return (
        f"<rect class='mark' x='{x:.1f}' y='{y:.1f}' width='{max(w, 0):.1f}' "
        f"height='{max(h, 0):.1f}' rx='2' fill='{colour}'><title>{escape(tip)}</title></rect>"
    )


def funnel(labels: Sequence[str], counts: Sequence[int], colours: Sequence[str], title: str) -> str:
    """Centred horizontal bars, one per stage, widest for the largest count."""
    width, row, label_w = 560, 34, 150
    height = row * len(labels) + 10
    biggest = max(counts, default=0) or 1
    span = width - label_w - 60
    body = []
    for i, (label, count, colour) in enumerate(zip(labels, counts, colours, strict=True)):
        w = max(span * count / biggest, 2)
        x = label_w + (span - w) / 2
        y = 5 + i * row
        body.append(_text(label_w - 8, y + 20, label, "end"))
        body.append(_bar(x, y + 4, w, row - 8, colour, f"{label}: {count}"))
        body.append(_text(label_w + span + 8, y + 20, str(count)))
    return _svg("funnel", width, height, body, title)


def columns(
    categories: Sequence[str], series: Sequence[Series], title: str, *, kind: str = "columns"
) -> str:
    """Vertical columns per category, one per series side by side, with a legend."""
    width, height = 560 if len(categories) <= 6 else 860, 260
    left, bottom, top = 60, 40, 30
    plot_h = height - bottom - top
    biggest = max((v for s in series for v in s.values), default=0) or 1
    slot = (width - left - 10) / max(len(categories), 1)
    bar_w = min(slot * 0.8 / max(len(series), 1), 48)
    body = [
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' "
        f"stroke='{GRID}'/>",
        _text(left - 6, top + 4, _short(biggest), "end"),
        _text(left - 6, top + plot_h, "0", "end"),
    ]
    for i, category in enumerate(categories):
        x0 = left + i * slot + (slot - bar_w * len(series)) / 2
        body.append(_text(left + (i + 0.5) * slot, height - bottom + 16, category, "middle"))
        for k, s in enumerate(series):
            value = s.values[i]
            h = plot_h * float(value) / float(biggest)
            x, y = x0 + k * bar_w, top + plot_h - h
            body.append(_bar(x, y, bar_w - 2, max(h, 1), s.colour, f"{category} {s.name}: {value}"))
            if len(series) > 1 or len(categories) <= 12:
                body.append(_text(x + bar_w / 2 - 1, y - 4, _short(value), "middle"))
    for k, s in enumerate(series):
        x = left + k * 130
        body.append(
            f"<rect x='{x}' y='6' width='12' height='12' rx='2' fill='{s.colour}'/>"
            + _text(x + 18, 16, s.name)
        )
    return _svg(kind, width, height, body, title)


def _short(value: Decimal | int) -> str:
    """Compact figure for axis and column labels: 56000 → 56k, 1250000 → 1.25M."""
    number = Decimal(value)
    for limit, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k")):
        if abs(number) >= limit:
            scaled = (number / limit).quantize(Decimal("0.01")).normalize()
            return f"{scaled:f}{suffix}"
    return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:.2f}"
