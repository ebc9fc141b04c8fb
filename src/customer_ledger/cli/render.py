"""Rich renderings of the read models: a profile as a panel, timelines as tables, a
history as text; and a stored event as plain JSON."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from customer_ledger.cli.output import local
from customer_ledger.domain.customer import Customer
from customer_ledger.privacy.masking import event_json
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import TimelineEntry
from customer_ledger.serialization import converter


def profile_panel(profile: Profile, zone: ZoneInfo) -> Panel:
    """The profile as a two-column panel; empty fields are left out."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for label, value in _profile_rows(profile, zone):
        if value not in (None, "", ()):
            grid.add_row(label, str(value))
    title = f"{profile.number}  {profile.name}"
    if profile.looked_up_as:  # asked for by a number merged into this customer: say so
        title += f"  ({profile.looked_up_as} was merged into {profile.number})"
    return Panel(grid, title=Text(title), title_align="left", expand=False)


def _profile_rows(p: Profile, zone: ZoneInfo) -> list[tuple[str, Any]]:
    grade = f"{p.grade} (manual)" if p.grade else None
    return [
        ("type", p.type),
        ("stage", f"{p.stage} (risk warning set by hand)" if p.risk_flagged else p.stage),
        ("industry", p.industry),
        ("region", p.region),
        ("size", p.size),
        ("source", p.source),
        ("owner", p.owner),
        ("grade", f"{grade or ''}{' VIP' if p.vip else ''}".strip()),
        ("tags", ", ".join(p.tags)),
        ("merged from", ", ".join(p.merged_from)),
        ("merged into", p.merged_into),
        ("first contact", local(p.first_contact_at, zone)),
        ("cooperating since", p.cooperation_since),
        ("contacts", "\n".join(_contact_line(c) for c in p.contacts)),
        ("needs", "; ".join(str(v) for v in converter.unstructure(p.needs).values() if v)),
        ("revenue", _revenue(p)),
        ("interactions", _count_since(p.interaction_count, p.last_interaction_at, zone)),
        ("contracts", "\n".join(_contract_line(c) for c in p.contracts)),
        ("complaints", _complaints(p)),
        ("last satisfaction", None if p.last_satisfaction is None else f"{p.last_satisfaction}/5"),
        ("next reminder", p.next_reminder_on),
        ("churn reason", p.churn_reason),
        ("version", p.version),
    ]


def _money(amount: Any) -> str:
    return "" if amount is None else f", {amount}"


def _contact_line(contact: Any) -> str:
    parts = [contact.name, contact.title, contact.phone, contact.email]
    return " · ".join(str(x) for x in parts if x) + (" (primary)" if contact.primary else "")


def _contract_line(contract: Any) -> str:
    term = f"{contract.starts_on} → {contract.expires_on or 'open-ended'}"
    return f"{contract.number}: {term}{_money(contract.amount)}, {contract.status}"


def _revenue(p: Profile) -> str | None:
    if not p.purchase_count:
        return None
    others = ", ".join(f"{v} {k}" for k, v in p.revenue.items() if k != "CNY")
    average = "" if p.average_order_value is None else f", average {p.average_order_value}"
    text = f"{p.total_revenue} CNY in {p.purchase_count} purchase(s){average}"
    return text + (f" (+ {others})" if others else "")


def _count_since(count: int, last: datetime | None, zone: ZoneInfo) -> str | None:
    return None if not count else f"{count}, last {local(last, zone)}" if last else str(count)


def _complaints(p: Profile) -> str | None:
    if not p.complaints:
        return None
    return f"{p.open_complaints} open of {len(p.complaints)}"


def entries_table(
    entries: Iterable[TimelineEntry], zone: ZoneInfo, title: str, lang: str = "en"
) -> Table:
    """Timeline entries (business-time order) as a table; ``lang`` picks the summary."""
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("date", no_wrap=True)
    table.add_column("customer", no_wrap=True)
    table.add_column("what", ratio=1, overflow="fold")
    table.add_column("by", no_wrap=True)
    table.add_column("recorded", no_wrap=True)
    for e in entries:
        summary = e.summary_zh if lang == "zh" else e.summary_en
        table.add_row(
            local(e.occurred_at, zone), e.number, summary, e.actor, local(e.recorded_at, zone),
        )  # fmt: skip
    return table


def history_text(
    events: Sequence[Customer.Event],
    zone: ZoneInfo,
    number: str,
    *,
    masked: bool = True,
    show_names: bool = False,
) -> Group:
    """Each event as a heading line and an indented line of fields: readable at any width."""
    lines: list[RenderableType] = [Text(f"{number}: {len(events)} events", style="bold")]
    for e in events:
        data = event_json(e, masked=masked, show_names=show_names)
        head = Text.assemble(
            (f"v{data['version']:<4}", "dim"),
            (f"{data['event']:<19}", "bold cyan"),
            f"{local(e.occurred_at, zone)}  by {data['actor']}",
            (f"  (recorded {local(e.timestamp, zone)})", "dim"),
        )
        fields = "  ".join(f"{k}={_short(v)}" for k, v in data["fields"].items() if v is not None)
        lines += [head, Padding(Text(fields), (0, 0, 0, 5), expand=False)]
    return Group(*lines)


def _short(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_short(v)}" for k, v in value.items() if v not in (None, False))
        return "{" + inner + "}"
    return word(value)


def word(value: Any) -> str:
    """A value as people read it: flags as yes/no, never Python's True."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
