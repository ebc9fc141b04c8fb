"""One benchmark run: the ledger and the baseline, phase by phase, on one backend.

Phases (``--only`` picks some): ``import`` (a generated JSONL file through the CLI),
``rebuild``, ``replay`` and ``commands`` (on a store seeded with the same history),
``rss`` (peak memory of a rebuild in a child process; ``--rss-1m`` adds 100k and 1M).
``--profile PHASE`` wraps that phase of the ledger in pyinstrument and writes the
profile next to the JSON.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks import baseline as base
from benchmarks import ledger_measures as ours
from benchmarks import rss
from benchmarks.features import ledger_features, machine
from benchmarks.history import lines, number_of, plan, write_jsonl
from benchmarks.seed import record
from benchmarks.stores import Stores
from benchmarks.timing import stopwatch, throughput
from customer_ledger.application.ledger import CustomerLedger

PHASES = ("import", "rebuild", "replay", "commands", "rss")
REPLAY_SAMPLES = 200  # random versions replayed: a p95 of 20 was their second-largest
BASELINE_LOADS = 20  # full loads of the baseline's aggregate (a third of a second each)
COMMAND_CUSTOMERS = 100
ISSUE_VIEWS = ("profile", "timeline", "status")  # the rebuild the issue's target is about
MASTER_KEY = "CUSTOMER_LEDGER_MASTER_KEY"


class Run:
    def __init__(
        self,
        backend: str,
        events: int,
        *,
        seed: int = 42,
        only: tuple[str, ...] = PHASES,
        rss_1m: bool = False,
        commands: int | None = None,
        workdir: Path | None = None,
        postgres: str | None = None,
        profile: str | None = None,
        profile_dir: Path | None = None,
        log: Console | None = None,
    ) -> None:
        self.backend, self.events, self.seed, self.only = backend, events, seed, only
        self.rss_1m = rss_1m
        self.command_count = commands or min(2_000, max(100, events // 50))
        self.stores = Stores(backend, workdir, **({"postgres": postgres} if postgres else {}))
        self.profile, self.profile_dir = profile, profile_dir or Path.cwd()
        self.log = log or Console(stderr=True)
        self.sizes = plan(events, seed)
        self.rng = random.Random(seed)
        self.results: dict[str, Any] = {}
        self.run_info: dict[str, Any] = {"backend": backend, "events": events, "seed": seed}

    # -- orchestration --------------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        # Personal data is encrypted under a master key; a run makes its own (children
        # inherit it), so no key file is left behind and PostgreSQL needs no setup.
        os.environ.setdefault(MASTER_KEY, base64.b64encode(os.urandom(32)).decode())
        try:
            self.run_info["machine"] = machine(self.backend, self.stores.postgres)
            self._step("baseline store", self._baseline_store)
            if "import" in self.only:
                self._step("import", self._import)
            if {"rebuild", "replay", "commands", "rss"} & set(self.only):
                self._step("seed the ledger", self._seed)
            if "rebuild" in self.only:
                self._step("rebuild", self._rebuild)
            if "replay" in self.only:
                self._step("replay", self._replay)
            if "commands" in self.only:
                self._step("commands", self._commands)
            if "rss" in self.only and self.backend != "memory":
                self._step("peak RSS", self._rss)
        finally:
            for app in (getattr(self, "ledger", None), getattr(self, "baseline", None)):
                if app is not None:
                    app.close()
            self.stores.cleanup()
        return {"run": self.run_info, "results": self.results}

    def _step(self, name: str, action: Any) -> None:
        started = time.perf_counter()
        with self.log.status(f"{name}…"):
            action()
        self.log.print(f"[dim]{name}: {time.perf_counter() - started:.1f} s[/dim]")

    @contextlib.contextmanager
    def _profiled(self, phase: str) -> Iterator[None]:
        if self.profile != phase:
            yield
            return
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        try:
            yield
        finally:
            profiler.stop()
            path = self.profile_dir / f"profile-{self.backend}-{phase}.txt"
            path.write_text(profiler.output_text(unicode=True, show_all=False))
            self.log.print(f"profile written to {path}")

    # -- phases ----------------------------------------------------------------------------

    @property
    def log_events(self) -> int:
        """Notifications in a seeded ledger: the customer events and one claim each."""
        return self.events + len(self.sizes)

    def _baseline_store(self) -> None:
        self.baseline = base.open_baseline(self.stores.baseline_env("baseline"))
        self.baseline_write = base.write_rate(self.baseline, self.log_events)

    def _import(self) -> None:
        path = self.stores.workdir / "history.jsonl"
        write_jsonl(path, self.events, self.seed)
        url = self.stores.ledger_url("imported")
        with self._profiled("import"):
            result = ours.import_file(url, path)
        self.results["import"] = {"ours": result, "baseline": self.baseline_write}

    def _seed(self) -> None:
        self.ledger = CustomerLedger.open(self.stores.ledger_url("history"))
        self.ledger.eager_views = False
        with stopwatch() as times:
            recorded = record(self.ledger, lines(self.events, self.seed))
        self.results["seed"] = throughput(recorded, times)
        self.run_info["features"] = ledger_features(self.ledger)

    def _rebuild(self) -> None:
        without_search = ours.without_search(self.ledger, ISSUE_VIEWS)  # rebuilt again next
        with self._profiled("rebuild"):
            result = ours.rebuild(self.ledger, ISSUE_VIEWS)
        self.results["rebuild"] = {
            "ours": result,
            "without_search": without_search,
            "all_views": ours.rebuild(self.ledger),
            "decode": ours.decode(self.ledger),
            "baseline": base.read_and_decode(self.baseline, self.log_events),
        }
        if self.backend != "memory":  # a memory store is gone with this process
            self.results["rebuild"]["process"] = ours.rebuild_process(self.ledger.url.raw)

    def _replay(self) -> None:
        index = max(range(len(self.sizes)), key=self.sizes.__getitem__)
        length = self.sizes[index]
        [item] = base.record_items(self.baseline, [length])
        with self._profiled("replay"):
            result = ours.replay(self.ledger, number_of(index), length, REPLAY_SAMPLES, self.rng)
        self.results["replay"] = {
            "ours": result,
            "baseline": {**base.full_load(self.baseline, item, BASELINE_LOADS), "length": length},
        }

    def _commands(self) -> None:
        largest = max(self.sizes)
        candidates = [i for i, size in enumerate(self.sizes) if size < largest]
        candidates = candidates or list(range(len(self.sizes)))
        chosen = self.rng.sample(candidates, min(COMMAND_CUSTOMERS, len(candidates)))
        numbers = [number_of(i) for i in chosen]
        items = base.record_items(self.baseline, [self.sizes[i] for i in chosen])
        count = self.command_count
        baseline = base.commands(self.baseline, items, count)
        with self._profiled("commands"):
            eager = ours.commands(self.ledger, numbers, count, eager=True)
        with self._profiled("commands-lazy"):
            lazy = ours.commands(self.ledger, numbers, count, eager=False)
        self.results["commands"] = {
            "eager": eager, "lazy": lazy, "baseline": baseline, "customers": len(numbers),
        }  # fmt: skip

    def _rss(self) -> None:
        sizes = (100_000, 1_000_000) if self.rss_1m else (self.events,)
        found: dict[int, Any] = {}
        for size in sizes:
            if size == self.events:  # the seeded ledger (plus any benchmark commands)
                url, env = self.ledger.url.raw, self.stores.baseline_env("rss_base")
            else:
                url = self.stores.ledger_url(f"rss{size}")
                with CustomerLedger.open(url) as ledger:
                    ledger.eager_views = False
                    record(ledger, lines(size, self.seed))
                env = self.stores.baseline_env(f"rss_base{size}")
            stop = size + len(plan(size, self.seed))
            with contextlib.closing(base.open_baseline(env)) as app:
                base.write_rate(app, stop)
            found[size] = {
                "ours": rss.measure_ours(url),
                "baseline": rss.measure_baseline(env, stop),
            }
        self.results["rss"] = found
