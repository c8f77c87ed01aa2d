"""A restarted reconciler's first full pass, at N services, with and without the caches of the process before it.

The estate of bench/steady_state.py --full (each service with its task definition, target group, listener rule,
scalable target and CPU policy) is converged from empty and its deployments left to settle. Then each measured
pass is the first of a fresh engine (a restarted daemon), through the fault proxy emulating AWS's published
throttling rates, with the client budget at half of them (``--api-budget 0.5``, the default):

  * without a snapshot: every task definition is described again, every ELBv2 tag read again;
  * with the snapshot the pass before it wrote (``runtime/cache_snapshot.py``), from the cache directory, then from
    the lease table (DynamoDB, in the emulator).

Each pass gets a new proxy, so that AWS's token buckets start full as after a restart. Printed: AWS calls by
operation, wall time (the restore included, and said apart), the seconds calls waited for the client budget by
service, throttled answers, and the changes planned (zero: the estate is converged). ``--write`` appends the table
to bench/RESULTS.md with the machine and the date. Exits 1 when a pass with a snapshot misses its targets (≤ 300
calls, ≤ 20 s).

    python bench/cold_start.py [--services 1000] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reconciler import metrics
from reconciler.live.budget import ApiBudget
from reconciler.live.clients import AwsClients
from reconciler.live.health import HISTORIES_PER_PASS
from reconciler.logs import configure_logging
from reconciler.model.resource import DesiredState
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.cache_snapshot import DirectoryStore, SnapshotStore, TableStore
from reconciler.runtime.engine import Engine
from reconciler.runtime.lease import Lease
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules
from reconciler.sandbox.faults import FaultProxyProcess

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steady_state import REGION, seeded_estate, settled  # the estate of the steady-state bench

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TARGET_CALLS = 300
TARGET_SECONDS = 20.0
TABLE = "reconciler-bench-lease"


@dataclass
class FirstPass:
    title: str
    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # restore and pass
    restore_seconds: float = 0.0
    waited: dict[str, float] = field(default_factory=dict)  # service → seconds waited for the budget
    throttled: int = 0
    changes: int = 0
    restored: bool = False

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def services(desired: DesiredState) -> int:
    return sum(1 for _ in desired.of_kind("Service"))


def budget_waits() -> dict[str, float]:
    waits: dict[str, float] = {}
    for family in metrics.AWS_BUDGET_WAIT.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                waits[sample.labels["service"]] = sample.value
    return waits


Stores = Callable[[AwsClients], SnapshotStore]  # a store, reached through a process's own clients


async def first_pass(
    title: str,
    emulator_url: str,
    desired: DesiredState,
    *,
    store: Stores | None,
    keep_in: tuple[Stores, ...] = (),
) -> FirstPass:
    """A fresh engine's first full pass through a new AWS-rate proxy (its restore's calls counted with it); then,
    for ``keep_in``, the passes it takes to have read every service's deployment history (a process lists
    ``HISTORIES_PER_PASS`` services a pass: the process before a restart has usually run for longer than that),
    and its caches written there (as the daemon writes them after a full pass)."""
    proxy = FaultProxyProcess.start(emulator_url, FaultRules(aws_rates=True))
    measured = FirstPass(title)
    try:
        async with AwsClients(region=REGION, endpoint_url=proxy.url, budget=ApiBudget(share=0.5)) as clients:
            engine = Engine(clients, options=PlanOptions(), snapshots=store(clients) if store else None)
            waits = budget_waits()
            started = time.perf_counter()
            measured.restored = await engine.restore_caches()
            measured.restore_seconds = time.perf_counter() - started
            outcome = await engine.reconcile(desired)
            measured.seconds = time.perf_counter() - started
            measured.calls = +clients.calls_by_operation()
            measured.throttled = sum(
                n for (_, _, result), n in clients.calls.items() if result == "throttled"
            )
            measured.waited = {
                s: w - waits.get(s, 0.0) for s, w in budget_waits().items() if w > waits.get(s, 0.0)
            }
            measured.changes = len(outcome.plan.changes)
            if keep_in:
                for _ in range(math.ceil(services(desired) / HISTORIES_PER_PASS) - 1):
                    await engine.reconcile(desired)
            for other in keep_in:
                await engine.save_caches(store=other(clients))
    finally:
        proxy.stop()
    return measured


async def restore_peak(emulator_url: str, store: Stores) -> tuple[float, float]:
    """What restoring a snapshot allocates at its peak, and what it leaves held (MiB, tracemalloc), in an engine
    of its own straight to the emulator."""
    async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
        engine = Engine(clients, options=PlanOptions(), snapshots=store(clients))
        await clients.client("dynamodb")  # its model is the clients', not the snapshot's
        tracemalloc.start()
        try:
            await engine.restore_caches()
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 2**20, held / 2**20


def report(measured: FirstPass) -> None:
    restore = f" (restore {measured.restore_seconds:.2f} s)" if measured.restored else ""
    print(f"\n{measured.title}: {measured.total} AWS calls, {measured.seconds:.1f} s wall{restore}, "
          f"{measured.changes} changes, {measured.throttled} throttled")  # fmt: skip
    for operation, count in sorted(measured.calls.items()):
        print(f"  {operation:<44} {count:>6}")
    waited = ", ".join(f"{service} {seconds:.1f} s" for service, seconds in sorted(measured.waited.items()))
    print(f"  waited for the client budget: {waited or 'nothing'}", flush=True)


async def bench(services: int, emulator_url: str, cache_dir: Path) -> list[FirstPass]:
    async with seeded_estate(emulator_url, services, full=True) as source:
        desired = source.load()
        started = time.perf_counter()
        async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
            await Engine(clients, options=PlanOptions(), health=False).reconcile(desired)  # from empty
            print(f"N={services}: converged from empty in {time.perf_counter() - started:.0f} s", flush=True)
            print(f"deployments settled after {await settled(clients):.1f} s more", flush=True)
            await Lease(clients, table=TABLE, holder="bench").ensure_table()

            def directory(_: AwsClients) -> SnapshotStore:
                return DirectoryStore(cache_dir)

            def table(process: AwsClients) -> SnapshotStore:
                return TableStore(process, TABLE)

            before = await first_pass(
                "no snapshot", emulator_url, desired, store=None, keep_in=(directory, table)
            )
            report(before)
            from_directory = await first_pass(
                "snapshot in the cache directory", emulator_url, desired, store=directory
            )
            report(from_directory)
            from_table = await first_pass("snapshot in the lease table", emulator_url, desired, store=table)
            report(from_table)
            for name, store in (("cache directory", directory), ("lease table", table)):
                peak, held = await restore_peak(emulator_url, store)
                print(
                    f"restore from the {name}: {peak:.1f} MiB at its peak, {held:.1f} MiB held (tracemalloc)"
                )
    return [before, from_directory, from_table]


def write_results(services: int, passes: list[FirstPass]) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## {when}, {platform.node() or 'vm'}: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"`bench/cold_start.py --services {services}` on {commit}\n",
        "| first pass of a restarted daemon | AWS calls | wall s (restore) | changes | throttled |",
        "|---|---|---|---|---|",
    ]
    for measured in passes:
        restore = f" ({measured.restore_seconds:.2f})" if measured.restored else ""
        lines.append(f"| {measured.title} | {measured.total} | {measured.seconds:.1f}{restore} | "
                     f"{measured.changes} | {measured.throttled} |")  # fmt: skip
    with RESULTS.open("a") as results:
        results.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    configure_logging(fmt="json", level=logging.WARNING, stream=sys.stderr)
    with EmulatorProcess.start() as emulator, tempfile.TemporaryDirectory() as cache_dir:
        passes = asyncio.run(bench(args.services, emulator.url, Path(cache_dir)))
    if args.write:
        write_results(args.services, passes)
    missed = [p.title for p in passes[1:] if p.total > TARGET_CALLS or p.seconds > TARGET_SECONDS]
    print("targets met" if not missed else f"TARGET MISSED: {', '.join(missed)}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
