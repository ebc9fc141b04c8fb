"""Rebuild rate on PostgreSQL: N customer events replayed into all three views.

    python adapters/postgres/benchmarks/rebuild_rate.py \
        [--store postgresql://postgres@127.0.0.1:5432/postgres] [--customers 10000]

Records ``customers`` x 10 customer events (plus one number claim each) in a fresh
schema, then times ``CustomerLedger.rebuild(fresh=True)``. The baseline, measured in
the same run on the same history, is the in-memory store: the ratio is what the
database costs on top of the projection code. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from customer_ledger.application import CustomerLedger
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CustomerNumber
from customer_ledger.domain.values import Meta, Money

EVENTS_PER_CUSTOMER = 10


def record_history(ledger: CustomerLedger, customers: int) -> int:
    """Saves 200 aggregates per transaction (an import's pace, not a clerk's)."""
    ledger.eager_views = False
    meta, start, batch = Meta(actor="bench"), datetime(2023, 1, 1, tzinfo=UTC), []
    for i in range(customers):
        when = start + timedelta(minutes=i)
        customer = Customer.first_contact(
            number=f"C{i:06d}", name=f"客户{i}", type="company", occurred_at=when,
            meta=meta, now=when, region=["北京市", "上海市"][i % 2],
        )  # fmt: skip
        for j in range(EVENTS_PER_CUSTOMER - 1):
            at = when + timedelta(days=j + 1)
            if j % 3 == 0:
                customer.log_interaction(
                    channel="phone", topic=f"call {j}", occurred_at=at, meta=meta, now=at
                )
            elif j % 3 == 1:
                customer.record_purchase(
                    product="p", quantity=1, amount=Money(Decimal(10 * (j + 1)), "CNY"),
                    occurred_at=at, meta=meta, now=at,
                )  # fmt: skip
            else:
                customer.tag(f"t{j}", occurred_at=at, meta=meta, now=at)
        batch += [customer, CustomerNumber(number=customer.number, customer_id=customer.id)]
        if len(batch) >= 200:
            ledger.save(*batch)
            batch = []
    if batch:
        ledger.save(*batch)
    return ledger.recorder.max_notification_id() or 0


def rebuild_seconds(url: str, customers: int) -> tuple[int, float]:
    ledger = CustomerLedger.open(url)
    try:
        events = record_history(ledger, customers)
        started = time.perf_counter()
        ledger.rebuild(fresh=True)
        return events, time.perf_counter() - started
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        events, seconds = rebuild_seconds(f"{args.store}?prefix={schema}", args.customers)
        _, baseline = rebuild_seconds("memory://", args.customers)
    finally:
        with psycopg.connect(args.store, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    print(
        f"PostgreSQL rebuild, {events} events, all three views: {seconds:.1f} s = "
        f"{events / seconds:,.0f} events/s; memory:// {events / baseline:,.0f} events/s "
        f"(PostgreSQL takes {seconds / baseline:.2f}x the memory time)"
    )


if __name__ == "__main__":
    main()
