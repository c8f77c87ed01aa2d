"""What each cache or memo buys: warm full passes at N services with one turned off at a time.

The estate is bench/steady_state.py's --full one, converged in the emulator; then, in this process, five warm full
passes for each row, each row turning one more memo off, printing the median CPU a pass and the AWS calls.
A row's figure against the row above it is what that memo buys (docs/performance.md keeps the table).

    python bench/caches.py [--services 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
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


def _no_interning() -> None:
    for module in (live_elbv2, live_autoscaling, live_ecs):
        module.shared_strings = lambda value: value  # type: ignore[attr-defined]


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
        print("| turned off | CPU a pass | AWS calls a pass |\n|---|---|---|")
        for name, turn_off, fresh_memo in ROWS:
            if turn_off is not None:
                turn_off()
            cpu, calls = await _passes(engine, desired, fresh_memo=fresh_memo)
            print(f"| {name} | {cpu:.2f} s | {calls} |", flush=True)


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
