"""``python -m benchmarks.search --backend sqlite --customers 100000``.

Search latency at scale: records N customers (a company, a contact with a phone, an
e-mail and a WeChat id, an interaction each) through the batch import, catches the
views up, then times searches of each kind a person makes: part of a contact's name,
a phone in another spelling, an e-mail, words of the history, a company name, a
filter. The baseline, measured in the same run, is a profile read by number (one
indexed row): the ratio says what a search costs beyond reading one customer.
Prints p50/p95 per kind. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.stores import DEFAULT_POSTGRES
from customer_ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.formats.jsonl import import_objects

ADMIN = Actor("bench", "admin")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
TOPICS = ["续约谈判", "报价单确认", "投诉物流延迟", "delivery schedule", "新品发布咨询", "售后回访"]


def lines(customers: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(customers):
        number = f"S{i:06d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        yield {"command": "first_contact", "customer": number, "name": f"客户{i}科技有限公司",
               "type": "company", "industry": rng.choice(["制造业", "电商", "教育"]),
               "occurred_at": "2024-01-02"}  # fmt: skip
        yield {"command": "add_contact", "customer": number, "contact_id": "c1", "name": name,
               "phone": f"139{i:08d}", "email": f"user{i}@example.com",
               "wechat": f"wx_{i}", "occurred_at": "2024-01-03"}  # fmt: skip
        yield {"command": "log_interaction", "customer": number, "channel": "phone",
               "topic": f"{rng.choice(TOPICS)} #{i}", "occurred_at": "2024-01-04"}  # fmt: skip


def name_piece(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)]


def store_url(backend: str, workdir: Path, postgres: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/search-{uuid.uuid4().hex[:8]}.db"
    os.environ.setdefault("CUSTOMER_LEDGER_MASTER_KEY", "A" * 43 + "=")
    return f"{postgres}?prefix=bs{uuid.uuid4().hex[:8]}"


def timings(run: Callable[[int], object], times: int) -> tuple[float, float]:
    samples = []
    for k in range(times):
        started = time.perf_counter()
        run(k)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--times", type=int, default=100, help="searches of each kind")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    n = args.customers
    with tempfile.TemporaryDirectory() as tmp:
        url = store_url(args.backend, Path(tmp), args.postgres)
        with CustomerLedger.open(url) as ledger:
            started = time.perf_counter()
            report = import_objects(ledger, lines(n), actor=ADMIN)
            ledger.refresh()
            print(f"recorded {report.recorded} commands for {n} customers in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
            rng = random.Random(1)
            pick = [rng.randrange(n) for _ in range(args.times)]

            def search(text: Callable[[int], str], **criteria: Any) -> Callable[[int], object]:
                return lambda k: ledger.search(text=text(pick[k]), actor=ADMIN, **criteria)

            kinds: dict[str, Callable[[int], object]] = {
                "profile by number (baseline)": lambda k: ledger.profile(f"S{pick[k]:06d}", actor=ADMIN),  # noqa: E501
                "contact name, 2 characters": search(name_piece),
                "phone, another spelling": search(lambda i: f"+86 139 {i:08d}"),
                "e-mail": search(lambda i: f"USER{i}@EXAMPLE.COM"),
                "history words": search(lambda i: f"#{i}"),
                "company name": search(lambda i: f"客户{i}科技"),
                "filter only (industry)": lambda k: ledger.search(industry="电商", actor=ADMIN),
            }  # fmt: skip
            results = {name: timings(run, args.times) for name, run in kinds.items()}
    base = results["profile by number (baseline)"][0]
    print(f"backend {args.backend}, {n} customers, {args.times} searches of each kind")
    print(f"{'kind':32} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, (p50, p95) in results.items():
        print(f"{name:32} {p50:8.2f} {p95:8.2f} {p50 / base:14.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
