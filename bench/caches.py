"""What each cache or memo buys: warm full passes at N services with one turned off at a time.

The estate is bench/steady_state.py's --full one, converged in the emulator; then, in this process, five warm full
passes for each row, each row turning one more memo off, printing the median CPU a pass and the AWS calls, then
one more pass traced by tracemalloc: the peak of memory allocated during it (over what was held before it), and
what it left held (the caches it filled). A row's figure against the row above it is what that memo buys
(docs/performance.md keeps the table).

    python bench/caches.py [--services 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from steady_state import REGION, seeded_estate  # the same estate as the steady-state bench

from reconciler.live import autoscaling as live_autoscaling
from reconciler.live import ecs as live_ecs
from reconciler.live import elbv2 as live_elbv2
from reconciler.live.clients import AwsClients
from reconciler.logs import configure_logging
from reconciler.model import references
from reconciler.plan.ecs import RevisionMemo
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess

PASSES = 5
FAST_EMULATOR = {"SANDBOX_ECS_ROLLOUT_SECONDS": "0.5", "SANDBOX_ECS_DRAIN_SECONDS": "0.5"}


def _no_reference_memo() -> None:
    references.iter_reference_values = references.iter_reference_values.__wrapped__  # type: ignore[attr-defined]


INTERNING_READERS = (live_elbv2, live_autoscaling, live_ecs)
INTERNED = live_ecs.shared_strings


def _no_interning() -> None:
    for module in INTERNING_READERS:
        module.shared_strings = lambda value: value  # type: ignore[attr-defined]


def _interning() -> None:
    for module in INTERNING_READERS:
        module.shared_strings = INTERNED  # type: ignore[attr-defined]


# (what is turned off, how, whether each pass starts with a fresh revision memo)
ROWS: list[tuple[str, Callable[[], None] | None, bool]] = [
    ("nothing", None, False),
    ("`per_document` on `iter_reference_values`", _no_reference_memo, False),
    ("`RevisionMemo` kept between passes (a fresh one each pass)", None, True),
    ("interning of live reads", _no_interning, False),
]


async def _passes(engine: Engine, desired: Any, *, fresh_memo: bool) -> tuple[float, int]:
    cpu, calls = [], []
    for _ in range(PASSES):
        if fresh_memo:
            engine._revisions = RevisionMemo()
        before = sum(engine.clients.calls_by_operation().values())
        started = time.process_time()
        await engine.reconcile(desired)
        cpu.append(time.process_time() - started)
        calls.append(sum(engine.clients.calls_by_operation().values()) - before)
    return statistics.median(cpu), max(calls)


async def _traced_pass(engine: Engine, desired: Any) -> tuple[float, float]:
    """The peak MiB allocated during one pass above what was held before it, and the MiB it left held."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await engine.reconcile(desired)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return (peak - before) / 2**20, (after - before) / 2**20


async def _bench(url: str, services: int) -> None:
    async with (
        seeded_estate(url, services, full=True) as source,
        AwsClients(region=REGION, endpoint_url=url) as clients,
    ):
        engine = Engine(clients, options=PlanOptions())
        await engine.reconcile(source.load())
        await asyncio.sleep(
            2
        )  # the first deployments roll out in the emulator (0.5 s each, see FAST_EMULATOR)
        desired = source.load()
        for _ in range(3):  # warm: caches filled, tags read
            await engine.reconcile(desired)
        print("| turned off | CPU a pass | AWS calls a pass | peak MiB of a pass | MiB a pass left held |")
        print("|---|---|---|---|---|")
        for name, turn_off, fresh_memo in ROWS:
            if turn_off is not None:
                turn_off()
            cpu, calls = await _passes(engine, desired, fresh_memo=fresh_memo)
            if fresh_memo:
                engine._revisions = RevisionMemo()
            peak, held = await _traced_pass(engine, desired)
            print(f"| {name} | {cpu:.2f} s | {calls} | {peak:.1f} | {held:.1f} |", flush=True)
        # What interning keeps is the process's caches, filled by its first pass: a fresh engine's, traced.
        print("\n| a fresh engine's first pass | peak MiB | MiB it left held |\n|---|---|---|")
        for name, setting in (
            ("live reads not interned", _no_interning),
            ("live reads interned", _interning),
        ):
            setting()
            peak, held = await _traced_pass(Engine(clients, options=PlanOptions()), desired)
            print(f"| {name} | {peak:.1f} | {held:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION=REGION)
    configure_logging(fmt="json", level=40, stream=sys.stderr)
    with EmulatorProcess.start(extra_env=FAST_EMULATOR) as emulator:
        asyncio.run(_bench(emulator.url, args.services))


if __name__ == "__main__":
    main()
