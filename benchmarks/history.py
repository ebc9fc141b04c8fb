"""Seeded, realistic customer histories, as lines of the import format (docs/commands.md).

One seed gives the same history on every machine. The shape is long-tailed, as real
customer files are: most customers have a handful to a few dozen events, a few have
hundreds, and (from 60k events up) a few "whales" have 10,000 or more, the size the
replay target is stated for. Every line is valid for the ledger's rules, so an import
records all of them; customers' events are interleaved in business-time order, as an
export from another system would list them.

The history is simulated, not stored: ``lines()`` streams it with one small state per
customer, so a million-event file costs little memory to write.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson

WHALE_EVENTS = 10_000
WHALE_FROM = 60_000  # histories at least this long get full-size whales
ZONE = timezone(timedelta(hours=8))
START = datetime(2016, 1, 1, 9, tzinfo=ZONE)
END = datetime(2024, 6, 1, 18, tzinfo=ZONE)
DENSE_FROM = 100_000  # histories longer than this get a calendar as much longer
REGIONS = ("北京市", "上海市", "广州市", "深圳市", "杭州市", "成都市", "武汉市", "西安市")
INDUSTRIES = ("manufacturing", "retail", "education", "internet", "logistics", "finance")
SOURCES = ("website", "referral", "trade show", "search engine", "social media")
CHANNELS = ("phone", "visit", "email", "wechat", "meeting", "event")
TOPICS = ("enquiry", "follow-up", "greeting", "demo", "price question", "after-sales")
PRODUCTS = ("product A", "product B", "premium plan", "service pack", "spare parts")
TAGS = ("vip-candidate", "renewal-due", "price-sensitive", "key-account", "slow-payer",
        "referral-source", "new-market", "upsell")  # fmt: skip
ACTIONS = (  # (command, weight): the mix of a customer's life after first contact
    ("log_interaction", 40), ("record_purchase", 20), ("file_complaint", 4),
    ("resolve_complaint", 4), ("sign_contract", 3), ("renew_contract", 2),
    ("terminate_contract", 0.5), ("rate_satisfaction", 3), ("tag", 4), ("untag", 1),
    ("update_profile", 2), ("add_contact", 3), ("record_needs", 2), ("assign_grade", 2),
    ("schedule_reminder", 2), ("complete_reminder", 2), ("assign_owner", 1),
)  # fmt: skip
CHURN_SHARE = 0.03  # of customers churn once, near the end of their history
REACTIVATE_SHARE = 0.3  # of those come back


def plan(events: int, seed: int) -> list[int]:
    """Events per customer (first contact included), summing to exactly ``events``."""
    rng = random.Random(seed)
    if events < 1:
        return []
    whales = max(1, events // 400_000) if events >= WHALE_FROM else (1 if events >= 200 else 0)
    whale_size = WHALE_EVENTS if events >= WHALE_FROM else max(20, events // 10)
    sizes = [whale_size + rng.randrange(0, 1 + whale_size // 20) for _ in range(whales)]
    left = events - sum(sizes)
    while left > 0:  # lognormal: median 12, mean about 20, a tail into the hundreds
        size = min(left, max(1, min(2_000, round(rng.lognormvariate(math.log(12), 1.0)))))
        sizes.append(size)
        left -= size
    rng.shuffle(sizes)
    return sizes


@dataclass
class _Customer:
    """What the simulation must know of a customer to keep its next line valid."""

    number: str
    left: int  # events still to generate
    gap: float  # mean seconds between events
    owner: str
    region: str
    industry: str
    churn_at: int | None  # remaining-count at which it churns, if it does
    reactivates: bool
    churned: bool = False
    grade: str | None = None
    tags: set[str] = field(default_factory=set)
    open_complaints: list[str] = field(default_factory=list)
    active_contracts: dict[str, date] = field(default_factory=dict)  # number -> expiry
    pending_reminders: list[str] = field(default_factory=list)
    counter: int = 0  # for unique ids (complaints, contracts, contacts, reminders)


def number_of(index: int) -> str:
    return f"C{index:07d}"


def calendar_seconds(events: int) -> float:
    """How long a history of ``events`` lasts (it ends at ``END``): 2016-2024 up to
    ``DENSE_FROM`` events, then as much longer as the history, so events per day (and
    customers active at once) stay as they are at 100k; a 1M-event history starts in
    1940. Otherwise a longer log would also be a denser one, and a benchmark of its
    length would measure its density too (issue 17)."""
    return (END - START).total_seconds() * max(1.0, events / DENSE_FROM)


def lines(events: int, seed: int = 42) -> Iterator[dict[str, Any]]:
    """The history as import lines, in business-time order across customers."""
    rng = random.Random(seed + 1)
    span = calendar_seconds(events)
    first = END - timedelta(seconds=span)
    heap: list[tuple[float, int]] = []
    customers: list[_Customer] = []
    for index, size in enumerate(plan(events, seed)):
        start = rng.uniform(0, span * 0.8)
        room = span - start
        gap = min(room / (size + 1), rng.uniform(1, 30) * 86_400)
        churns = size >= 4 and rng.random() < CHURN_SHARE
        customers.append(
            _Customer(
                number=number_of(index),
                left=size,
                gap=max(gap, 60.0),
                owner=f"销售{rng.randrange(40):02d}",
                region=rng.choice(REGIONS),
                industry=rng.choice(INDUSTRIES),
                churn_at=rng.randrange(1, 3) if churns else None,
                reactivates=churns and rng.random() < REACTIVATE_SHARE,
            )
        )
        heap.append((start, index))
    heapq.heapify(heap)
    while heap:
        at, index = heapq.heappop(heap)
        customer = customers[index]
        moment = first + timedelta(seconds=int(at))
        yield _next_line(rng, customer, moment)
        customer.left -= 1
        if customer.left > 0:
            step = min(rng.expovariate(1 / customer.gap), (span - at) / (customer.left + 1) * 2)
            heapq.heappush(heap, (at + max(60.0, step), index))  # a minute apart at least


def _next_line(rng: random.Random, c: _Customer, moment: datetime) -> dict[str, Any]:
    base = {"customer": c.number, "occurred_at": moment.isoformat(), "actor": c.owner}
    if c.counter == 0:
        c.counter = 1
        return {"command": "first_contact", **base, **_first_contact(rng, c)}
    c.counter += 1
    if c.churn_at is not None and c.left == c.churn_at + 1 and not c.churned:
        c.churned = True
        return {"command": "churn", **base, "reason": rng.choice(("price", "moved", "service"))}
    if c.churned and c.reactivates and c.left == 1:
        c.churned = False
        return {"command": "reactivate", **base}
    while True:
        line = _action(rng, c, moment)
        if line is not None:
            return {**line, **base}


def _first_contact(rng: random.Random, c: _Customer) -> dict[str, Any]:
    company = rng.random() < 0.75
    n = int(c.number[1:])
    return {
        "name": f"客户{n}科技有限公司" if company else f"客户{n}",
        "type": "company" if company else "individual",
        "source": rng.choice(SOURCES),
        "industry": c.industry,
        "region": c.region,
        "size": rng.choice(("1-10", "10-100", "100-500", "500+")) if company else None,
        "owner": c.owner,
    }


def _action(rng: random.Random, c: _Customer, moment: datetime) -> dict[str, Any] | None:
    """One weighted action valid in the customer's state, or None to draw again."""
    names, weights = zip(*ACTIONS, strict=True)
    name = rng.choices(names, weights)[0]
    today = moment.date()
    k = c.counter
    if c.churned and name not in ("log_interaction", "file_complaint", "resolve_complaint"):
        return None  # a churned customer only talks and complains
    match name:
        case "log_interaction":
            line = {"channel": rng.choice(CHANNELS), "topic": rng.choice(TOPICS)}
            if rng.random() < 0.3:
                line["feedback"] = "wants faster delivery"
            if rng.random() < 0.2:
                line["follow_up"] = "call back"
                line["follow_up_on"] = (today + timedelta(days=7)).isoformat()
            return {"command": name, **line}
        case "record_purchase":
            amount = f"{rng.randrange(100, 500_000) / 100:.2f}"
            return {
                "command": name, "product": rng.choice(PRODUCTS),
                "quantity": rng.randrange(1, 6), "amount": amount, "currency": "CNY",
            }  # fmt: skip
        case "file_complaint":
            complaint = f"K{k}"
            c.open_complaints.append(complaint)
            return {"command": name, "complaint": complaint, "subject": "delivery delayed"}
        case "resolve_complaint" if c.open_complaints:
            complaint = c.open_complaints.pop(0)
            return {
                "command": name, "complaint": complaint, "resolution": "re-shipped",
                "satisfaction": rng.randrange(1, 6),
            }  # fmt: skip
        case "sign_contract":
            contract = f"HT-{c.number}-{k}"
            expires = today + timedelta(days=365)
            c.active_contracts[contract] = expires
            return {
                "command": name, "contract": contract, "signed_on": today.isoformat(),
                "expires_on": expires.isoformat(), "amount": f"{rng.randrange(1, 500) * 1000}",
            }  # fmt: skip
        case "renew_contract" if c.active_contracts:
            contract, expiry = next(iter(c.active_contracts.items()))
            expires = max(expiry, today) + timedelta(days=365)
            c.active_contracts[contract] = expires
            return {"command": name, "contract": contract, "expires_on": expires.isoformat()}
        case "terminate_contract" if c.active_contracts:
            contract = next(iter(c.active_contracts))
            del c.active_contracts[contract]
            return {"command": name, "contract": contract}
        case "rate_satisfaction":
            return {"command": name, "score": rng.randrange(1, 6)}
        case "tag":
            free = [t for t in TAGS if t not in c.tags]
            if not free:
                return None
            tag = rng.choice(free)
            c.tags.add(tag)
            return {"command": name, "tag": tag}
        case "untag" if c.tags:
            tag = sorted(c.tags)[0]
            c.tags.discard(tag)
            return {"command": name, "tag": tag}
        case "update_profile":
            choices = [r for r in REGIONS if r != c.region]
            c.region = rng.choice(choices)
            return {"command": name, "region": c.region}
        case "add_contact":
            return {
                "command": name, "contact_id": f"P{k}", "name": f"联系人{k}",
                "title": "经理", "phone": f"138{rng.randrange(10**8):08d}",
                "email": f"contact{k}@example.com", "primary": rng.random() < 0.3,
            }  # fmt: skip
        case "record_needs":
            return {
                "command": name, "core_needs": "faster after-sales response",
                "communication_channel": "wechat", "upsell_intention": rng.random() < 0.4,
            }  # fmt: skip
        case "assign_grade":
            grade = rng.choice([g for g in ("A", "B", "C") if g != c.grade])
            c.grade = grade
            return {"command": name, "grade": grade}
        case "schedule_reminder":
            reminder = f"R{k}"
            c.pending_reminders.append(reminder)
            due = (today + timedelta(days=30)).isoformat()
            return {"command": name, "reminder": reminder, "subject": "renewal", "due_on": due}
        case "complete_reminder" if c.pending_reminders:
            return {"command": name, "reminder": c.pending_reminders.pop(0)}
        case "assign_owner":
            owner = f"销售{(int(c.owner[2:]) + 1) % 40:02d}"
            c.owner = owner
            return {"command": name, "owner": owner}
    return None


def write_jsonl(path: Path, events: int, seed: int = 42) -> int:
    """Writes the history as a JSON Lines import file; returns the number of lines."""
    count = 0
    with open(path, "wb") as file:
        for line in lines(events, seed):
            file.write(orjson.dumps(line) + b"\n")
            count += 1
    return count
