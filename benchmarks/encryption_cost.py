"""What per-customer field encryption costs when recording events (run by hand).

    .venv/bin/python -m benchmarks.encryption_cost [--events 20000] [--backend sqlite]

Records the same commands twice in one run: once with the ledger as shipped, once
with a ledger whose mapper encrypts nothing (the baseline), on fresh stores, views
off (recording only). Prints seconds, events/s and the ratio; then the mapper alone
(encode + decode of the recorded events, best of 3) with and without encryption.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from customer_ledger import Contact, CustomerLedger
from customer_ledger.storage.mapper import CattrsMapper

EVENTS_PER_CUSTOMER = 10
NOW = datetime(2024, 6, 3, tzinfo=UTC)


class PlainLedger(CustomerLedger):
    """The baseline: the same ledger, personal fields stored in clear."""

    def construct_mapper(self) -> CattrsMapper:
        return CattrsMapper(
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
            recorder=self.construct_recorder(),
        )


def record(ledger: CustomerLedger, customers: int) -> None:
    """Ten events per customer; four of them carry personal data."""
    ledger.eager_views = False
    for i in range(customers):
        n = f"C{i:06d}"
        ledger.first_contact(n, name=f"客户{i}", type="individual", registered_address=f"路{i}号")
        contact = Contact(
            "c1", f"联系人{i}", phone=f"138{i:08d}", email=f"u{i}@ex.org", birthday=date(1980, 1, 1)
        )
        ledger.add_contact(n, contact=contact)
        ledger.update_contact(n, contact=Contact("c1", f"联系人{i}", phone=f"139{i:08d}"))
        ledger.update_profile(n, changes={"name": f"客户{i}号"})
        ledger.record_purchase(n, product="A", amount="100")
        ledger.log_interaction(n, channel="phone", topic="回访")
        ledger.tag(n, tag="vip")
        ledger.sign_contract(n, contract=f"H{i}", signed_on=date(2024, 1, 1))
        ledger.file_complaint(n, complaint="K1", subject="延迟")
        ledger.resolve_complaint(n, complaint="K1", resolution="好")


def timed(make: Any, url: str, customers: int) -> tuple[float, float, list[Any]]:
    """(wall seconds, CPU seconds, the recorded events decoded)."""
    ledger = make(url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        record(ledger, customers)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        events = [
            ledger.mapper.to_domain_event(n)
            for n in ledger.recorder.select_notifications(1, customers * 20)
        ]
        return seconds, cpu, events
    finally:
        ledger.close()


def mapper_seconds(mapper: Any, events: list[Any]) -> float:
    started = time.perf_counter()
    stored = [mapper.to_stored_event(e) for e in events]
    for s in stored:
        mapper.to_domain_event(s)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--backend", choices=["memory", "sqlite"], default="sqlite")
    args = parser.parse_args()
    customers = args.events // EVENTS_PER_CUSTOMER
    with tempfile.TemporaryDirectory() as directory:

        def url(name: str) -> str:
            return (
                "memory://"
                if args.backend == "memory"
                else f"sqlite:///{Path(directory)}/{name}.db"
            )

        plain_s, plain_cpu, _ = timed(
            lambda u: PlainLedger.open(u, clock=lambda: NOW), url("plain"), customers
        )
        sealed_s, sealed_cpu, events = timed(
            lambda u: CustomerLedger.open(u, clock=lambda: NOW), url("sealed"), customers
        )
        n = customers * EVENTS_PER_CUSTOMER
        print(f"{args.backend}, {n} customer events ({customers} customers, 4 of 10 personal)")
        for label, wall, cpu in (
            ("clear", plain_s, plain_cpu),
            ("encrypted", sealed_s, sealed_cpu),
        ):
            print(
                f"  recording, {label:9}: {wall:7.2f} s, {cpu:7.2f} s CPU, {n / wall:6.0f} events/s"
            )
        print(f"  encrypted/clear: {sealed_s / plain_s:.2f} wall, {sealed_cpu / plain_cpu:.2f} CPU")
        with CustomerLedger.open("memory://", clock=lambda: NOW) as ledger:
            customer_events = [e for e in events if hasattr(e, "occurred_at")]
            ids = {e.originator_id for e in customer_events}
            for customer_id in ids:  # keys for the measured customers, made beforehand
                ledger.keys.key_for_writing(customer_id)
            sealed = CattrsMapper(personal=ledger.mapper.personal)  # type: ignore[attr-defined]
            clear = CattrsMapper()
            clear_mapper, sealed_mapper = _Unchained(clear), _Unchained(sealed)
            c = min(mapper_seconds(clear_mapper, customer_events) for _ in range(3))
            s = min(mapper_seconds(sealed_mapper, customer_events) for _ in range(3))
            count = len(customer_events)
            print(f"  mapper encode+decode, clear:     {c * 1e6 / count:6.1f} µs/event")
            print(f"  mapper encode+decode, encrypted: {s * 1e6 / count:6.1f} µs/event")


class _Unchained:
    """The mapper without the hash chain's seal, to time field encryption alone."""

    def __init__(self, mapper: CattrsMapper) -> None:
        self.mapper = mapper
        mapper.chain.seal = lambda _id, _v, _t, body: body  # type: ignore[method-assign]

    def to_stored_event(self, event: Any) -> Any:
        return self.mapper.to_stored_event(event)

    def to_domain_event(self, stored: Any) -> Any:
        return self.mapper.to_domain_event(stored)


if __name__ == "__main__":
    main()
