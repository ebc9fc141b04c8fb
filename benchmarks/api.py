"""``python -m benchmarks.api --backend sqlite --events 1000000 --customers 100000``.

``[--workers 1,4]`` adds requests/s over HTTP.

The HTTP API's cost over the library: p50/p95 of a search, a profile read and a command
POST through the ASGI app (in process, Litestar's TestClient: no network), each against
the same call made on the ledger directly in the same run (the baseline; the ratio is
what the API adds: authentication, routing, JSON). With ``--workers``, requests/s of
profile reads against a real ``customer-ledger serve --workers N`` over HTTP (client
threads on the same machine). Run it under ``flock /tmp/bench.lock``; docs/performance.md
has the figures.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

import orjson

from benchmarks import history, seed
from benchmarks.stores import BACKENDS, DEFAULT_POSTGRES, Stores
from benchmarks.timing import milliseconds_at
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.projections.views import ProfileQuery

USER, PASSWORD = "bench", "bench password"
ACTOR = Actor(USER, "manager")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    p50, p95 = milliseconds_at(samples, 50, 95)
    return p50, p95


def timed(work: Callable[[int], Any], n: int) -> list[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        work(i)
        samples.append(time.perf_counter() - started)
    return samples


def in_process(ledger: CustomerLedger, numbers: list[str], n: int) -> list[dict[str, Any]]:
    from litestar.testing import TestClient

    from customer_ledger.web.app import create_app

    rng = random.Random(7)
    run = os.urandom(3).hex()  # a kept store is measured again: tags of its own
    picks = [rng.choice(numbers) for _ in range(n + 1)]
    regions = [rng.choice(history.REGIONS) for _ in range(n + 1)]
    results = []
    with TestClient(create_app(ledger)) as client:
        login = client.post("/api/login", json={"name": USER, "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {login.json()['token']}"}

        def check(response: Any) -> None:
            if response.status_code >= 300:
                raise SystemExit(f"{response.status_code}: {response.text}")

        cases: list[tuple[str, Callable[[int], Any], Callable[[int], Any]]] = [
            (
                "search (region, 20 a page)",
                lambda i: ledger.search(ProfileQuery(region=regions[i], limit=20), actor=ACTOR),
                lambda i: check(
                    client.get(f"/api/customers?region={regions[i]}&limit=20", headers=bearer)
                ),
            ),
            (
                "profile read",
                lambda i: ledger.profile(picks[i], actor=ACTOR),
                lambda i: check(client.get(f"/api/customers/{picks[i]}", headers=bearer)),
            ),
            (
                "command POST (tag)",
                lambda i: ledger.tag(picks[i], tag=f"direct-{run}-{i}", actor=ACTOR),
                lambda i: check(
                    client.post(
                        f"/api/customers/{picks[i]}/tag",
                        json={"tag": f"api-{run}-{i}"},
                        headers=bearer,
                    )
                ),
            ),
        ]
        for label, direct, api in cases:
            direct(n), api(n)  # warm: caches, first-use imports (the last index, unused)
            base = percentiles(timed(direct, n))
            ours = percentiles(timed(api, n))
            results.append({"what": label, "api_ms": ours, "library_ms": base})
    return results


def over_http(url: str, workers: int, seconds: float, numbers: list[str]) -> float:
    """Profile reads per second against ``customer-ledger serve --workers N``."""
    import httpx

    port = 8700 + workers
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("customer-ledger")), "--store", url, "serve",
         "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(100):
            try:
                token = httpx.post(f"{base}/login", json={"name": USER, "password": PASSWORD})
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        done = [0]
        stop = time.perf_counter() + seconds
        lock = threading.Lock()

        def load(seed_: int) -> None:
            rng = random.Random(seed_)
            with httpx.Client(headers=bearer) as client:
                while time.perf_counter() < stop:
                    client.get(f"{base}/customers/{rng.choice(numbers)}").raise_for_status()
                    with lock:
                        done[0] += 1

        threads = [threading.Thread(target=load, args=(i,)) for i in range(max(4, workers * 2))]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return done[0] / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)


def top_up(events: int, customers: int) -> tuple[int, int]:
    """History events and extra two-event customers that sum to ``events`` and reach
    ``customers`` customers (the generator's own count of customers per event decides)."""
    if not customers:
        return events, 0
    low, high = 0, events
    while low < high:  # the largest history whose customers plus the top-up reach the total
        mid = (low + high + 1) // 2
        extra = (events - mid) // 2
        if len(history.plan(mid, 42)) + extra >= customers:
            low = mid
        else:
            high = mid - 1
    return low, (events - low) // 2


def extra_lines(count: int) -> Iterator[dict[str, Any]]:
    """Small customer files: a first contact and an interaction, numbered apart (X...)."""
    rng = random.Random(11)
    for i in range(count):
        number = f"X{i:07d}"
        region = rng.choice(history.REGIONS)
        yield {"command": "first_contact", "customer": number, "name": f"小客户{i}",
               "type": "individual", "industry": rng.choice(history.INDUSTRIES),
               "region": region, "occurred_at": "2024-03-01T10:00:00+08:00",
               "actor": "bench"}  # fmt: skip
        yield {"command": "log_interaction", "customer": number, "channel": "phone",
               "topic": "enquiry", "occurred_at": "2024-03-02T10:00:00+08:00",
               "actor": "bench"}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api", description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default="sqlite")
    parser.add_argument("--events", type=int, default=100_000, help="customer events")
    parser.add_argument("--customers", type=int, default=0, help="top up to N customers")
    parser.add_argument("--lock", type=Path, help="flock this file for the timed part only")
    parser.add_argument("--store", help="seed this store if it is empty, else reuse it; kept")
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement")
    parser.add_argument("--workers", default="", help="e.g. 1,4: requests/s over HTTP")
    parser.add_argument("--seconds", type=float, default=10.0, help="per --workers figure")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--json", type=Path, metavar="OUT.json")
    args = parser.parse_args(argv)
    if args.backend == "postgres":
        os.environ.setdefault(
            "CUSTOMER_LEDGER_MASTER_KEY", "YmVuY2htYXJrLW1hc3Rlci1rZXktMzItYnl0ZXMhISE="
        )
    stores = Stores(args.backend, postgres=args.postgres)
    try:
        url = args.store or stores.ledger_url("api")
        ledger = CustomerLedger.open(url)
        own, extra = top_up(args.events, args.customers)
        recorded = own + 2 * extra  # customer events (a reused store was seeded alike)
        if not ledger.recorder.max_notification_id():
            started = time.perf_counter()
            seed.record(ledger, chain(history.lines(own), extra_lines(extra)))
            seeded = time.perf_counter() - started
            ledger.rebuild()
            rebuilt = time.perf_counter() - started - seeded
            print(f"seeded in {seeded:.0f} s, rebuilt in {rebuilt:.0f} s", file=sys.stderr)
        numbers = list(ledger.numbers())
        if args.lock:
            lock = args.lock.open("a")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if ledger.users.store.list() == []:
            ledger.users.add(
                USER, role="manager", password_text=PASSWORD, by=Actor("root", "admin")
            )
        results = in_process(ledger, numbers, args.requests)
        rates = {}
        for workers in (int(w) for w in args.workers.split(",") if w):
            if args.backend == "memory":
                raise SystemExit("--workers needs a store other processes can open")
            rates[workers] = over_http(url, workers, args.seconds, numbers)
        ledger.close()
    finally:
        stores.cleanup()
    print(f"{args.backend}, {len(numbers):,} customers, {recorded:,} events")
    print(f"{'':28} {'API p50':>9} {'p95':>9}   {'library p50':>11} {'p95':>9}   ratio p50")
    for r in results:
        (a50, a95), (b50, b95) = r["api_ms"], r["library_ms"]
        print(
            f"{r['what']:28} {a50:8.2f}ms {a95:8.2f}ms   {b50:10.2f}ms {b95:8.2f}ms   "
            f"{a50 / b50:6.1f}x"
        )
    for workers, rate in rates.items():
        print(f"profile reads over HTTP, {workers} worker(s): {rate:,.0f} requests/s")
    if args.json:
        args.json.write_bytes(
            orjson.dumps(
                {
                    "backend": args.backend,
                    "events": recorded,
                    "customers": len(numbers),
                    "results": results,
                    "requests_per_second": rates,
                },
                option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
