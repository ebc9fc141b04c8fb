"""The table and the JSON: each metric, ours, the baseline, their ratio, the target.

Ratios are always ours / baseline: above 1 means more events per second for
throughputs, and more milliseconds or megabytes for latencies and memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import asdict, define
from rich.console import Console
from rich.table import Table

# Issue 17's targets, as ratios against the baseline measured in the same run.
IMPORT_RATIO = 0.35  # of the baseline's bulk save() of as many events
REBUILD_RATIO = 0.30  # profile + timeline + status, of the baseline's read-and-decode
REBUILD_ALL_RATIO = 0.22  # all four views
REPLAY_P95_MS = 15.0
RSS_1M_MB = 150.0
RSS_GROWTH_PERCENT = 15.0  # from 100k to 1M events, at constant density


@define
class Metric:
    key: str
    label: str
    unit: str  # "events/s", "ms", "MB", "%"
    ours: float | None
    baseline: float | None = None
    target: str = ""  # what the issue asks, in words
    met: bool | None = None  # None: no target for this metric here
    note: str = ""
    compared: bool = True  # False: the baseline is shown beside ours, a ratio means nothing

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline or not self.compared:
            return None
        return self.ours / self.baseline

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def at_least(ratio: float) -> Callable[[Metric], bool | None]:
    return lambda m: None if m.ratio is None else m.ratio >= ratio


def against(metric: Metric, ratio: float) -> Metric:
    """``metric`` with the target "at least ``ratio`` times the baseline", judged."""
    metric.target = f"≥ {ratio}× baseline"
    metric.met = at_least(ratio)(metric)
    return metric


def metrics(results: dict[str, Any], backend: str) -> list[Metric]:
    """The report rows for whatever phases ran."""
    rows: list[Metric] = []
    r = results
    if "commands" in r:
        labels = (("lazy", "default: views wait for a read"), ("eager", "eager_views=True"))
        for key, label in labels:
            m = Metric(
                f"commands_{key}",
                f"command throughput ({label})",
                "events/s",
                r["commands"][key]["rate"],
                r["commands"]["baseline"]["rate"],
                note=f"{r['commands'][key]['events']} commands on {r['commands']['customers']} "
                "customers; baseline: load + one event + save"
                + ("" if key == "lazy" else "; each command also catches up the four views"),
            )
            rows.append(against(m, 1.0) if key == "lazy" else m)
    if "import" in r:
        m = Metric(
            "import",
            "bulk import (customer-ledger import)",
            "events/s",
            r["import"]["ours"]["rate"],
            r["import"]["baseline"]["rate"],
            note=f"{r['import']['ours']['events']:,} customer events (one per line)"
            + (
                f"; the store wrote {stored:,} events with each line's command receipt "
                "and each customer's number claim"
                if (stored := r["import"]["ours"].get("stored"))
                else ""
            )
            + "; baseline: plain save() of as many events, 1,000 per transaction",
        )
        rows.append(against(m, IMPORT_RATIO))
    if "rebuild" in r:
        m = Metric(
            "rebuild",
            f"rebuild of {' + '.join(r['rebuild']['ours']['views'])}",
            "events/s",
            r["rebuild"]["ours"]["rate"],
            r["rebuild"]["baseline"]["rate"],
            note="baseline: select_notifications pages + mapper decode of as many events",
        )
        rows.append(against(m, REBUILD_RATIO))
        if "all_views" in r["rebuild"]:
            every = r["rebuild"]["all_views"]
            m = Metric(
                "rebuild_all",
                f"rebuild of all views ({', '.join(every['views'])})",
                "events/s",
                every["rate"],
                r["rebuild"]["baseline"]["rate"],
                note="the deploy-time rebuild (analytics included); same baseline",
            )
            rows.append(against(m, REBUILD_ALL_RATIO))
        if "process" in r["rebuild"]:
            process = r["rebuild"]["process"]
            rows.append(
                Metric(
                    "rebuild_process",
                    "`customer-ledger rebuild --fresh` of all views, as a process",
                    "events/s",
                    process["rate"],
                    r["rebuild"]["baseline"]["rate"],
                    note=f"{process['seconds']:.1f} s wall, {process['cpu_seconds']:.1f} s "
                    f"CPU, interpreter start-up and store opening included; same baseline",
                )
            )
        if "without_search" in r["rebuild"]:
            bare = r["rebuild"]["without_search"]
            m = Metric(
                "rebuild_without_search",
                f"rebuild of {' + '.join(bare['views'])}, without the search indexes",
                "events/s",
                bare["rate"],
                r["rebuild"]["baseline"]["rate"],
                note="the profile view's blind keys and clear texts left out (a diagnostic "
                "patch); the issue counts them as views of their own",
            )
            rows.append(against(m, REBUILD_RATIO))
            with_them = r["rebuild"]["ours"]
            rows.append(
                Metric(
                    "search_indexes",
                    "the search indexes' share of that rebuild",
                    "%",
                    (1 - bare["seconds"] / with_them["seconds"]) * 100,
                    compared=False,
                    note=f"{with_them['seconds']:.1f} s with them, {bare['seconds']:.1f} s "
                    f"without (CPU {with_them['cpu_seconds']:.1f} / {bare['cpu_seconds']:.1f} s)",
                )
            )
        rows.append(
            Metric(
                "decode",
                "read-and-decode alone (ledger mapper)",
                "events/s",
                r["rebuild"]["decode"]["rate"],
                r["rebuild"]["baseline"]["rate"],
                note="diagnostic: the ceiling a rebuild could reach",
            )
        )
    if "replay" in r:
        ours = r["replay"]["ours"]
        rows.append(
            Metric(
                "replay",
                f"replay of a {ours['length']:,}-event customer at a random version (median)",
                "ms",
                ours["median_ms"],
                r["replay"]["baseline"]["median_ms"],
                f"p95 ≤ {REPLAY_P95_MS:.0f} ms",
                ours["p95_ms"] <= REPLAY_P95_MS,
                note=f"median of {ours['samples']}; p95 {ours['p95_ms']:.1f} ms, max "
                f"{ours['max_ms']:.1f} ms; baseline: full load of a "
                f"{r['replay']['baseline']['length']:,}-event aggregate",
            )
        )
    for size, rss in sorted(r.get("rss", {}).items()):
        at_1m = size >= 1_000_000
        rows.append(
            Metric(
                f"rss_{size}",
                f"rebuild peak RSS at {size:,} events",
                "MB",
                rss["ours"]["peak_mb"],
                rss["baseline"]["peak_mb"],
                f"≤ {RSS_1M_MB:.0f} MB" if at_1m else "",
                rss["ours"]["peak_mb"] <= RSS_1M_MB if at_1m else None,
                note="child process VmHWM, interpreter included; baseline: read-and-decode",
            )
        )
    sizes = sorted(r.get("rss", {}))
    if len(sizes) >= 2:
        small, large = r["rss"][sizes[0]], r["rss"][sizes[-1]]
        growth = (large["ours"]["peak_mb"] / small["ours"]["peak_mb"] - 1) * 100
        base = (large["baseline"]["peak_mb"] / small["baseline"]["peak_mb"] - 1) * 100
        rows.append(
            Metric(
                "rss_growth",
                f"peak RSS growth {sizes[0]:,} → {sizes[-1]:,} events",
                "%",
                growth,
                base,
                f"< {RSS_GROWTH_PERCENT:.0f}%",
                growth < RSS_GROWTH_PERCENT,
                compared=False,
            )
        )
    return rows


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "events/s":
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def table(rows: list[Metric], title: str) -> Table:
    out = Table(title=title, title_justify="left")
    for name, justify in (
        ("metric", "left"), ("unit", "left"), ("ours", "right"), ("baseline", "right"),
        ("ratio", "right"), ("target", "left"), ("met", "center"),
    ):  # fmt: skip
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for m in rows:
        met = "—" if m.met is None else ("yes" if m.met else "NO")
        ratio = "—" if m.ratio is None else f"{m.ratio:.2f}×"
        out.add_row(
            m.label,
            m.unit,
            _number(m.ours, m.unit),
            _number(m.baseline, m.unit),
            ratio,
            m.target,
            met,
        )
    return out


def print_report(rows: list[Metric], run: dict[str, Any], console: Console) -> None:
    features = run.get("features", {})
    on = ", ".join(f"{k}={v}" for k, v in features.items() if k != "views")
    title = f"{run['backend']}, {run['events']:,} events (seed {run['seed']}); {on}"
    console.print(table(rows, title))
    for m in rows:
        if m.note:
            console.print(f"  {m.label}: {m.note}", highlight=False)


def markdown(rows: list[Metric]) -> str:
    """The table as Markdown (for docs/performance.md)."""
    lines = [
        "| metric | unit | ours | baseline | ratio | target | met? |",
        "|---|---|--:|--:|--:|---|:-:|",
    ]
    for m in rows:
        met = "—" if m.met is None else ("yes" if m.met else "**no**")
        ratio = "—" if m.ratio is None else f"{m.ratio:.2f}×"
        lines.append(
            f"| {m.label} | {m.unit} | {_number(m.ours, m.unit)} | "
            f"{_number(m.baseline, m.unit)} | {ratio} | {m.target or '—'} | {met} |"
        )
    return "\n".join(lines) + "\n"
