"""The numbers users judge a GitOps tool by (issue 8), at N services in the sandbox's emulator, as one table:

  * a steady-state pass: AWS calls, wall time, CPU seconds of this process;
  * commit → converged for one changed service: its image changed in the desired-state directory, then
    ``POST /sync`` on the running daemon, until ECS runs the new revision;
  * drift → corrected for one hand-made change (a service's desiredCount), without events: the next interval;
  * peak RSS.

The daemon runs in this process (``reconciler run``'s own classes), on a directory like bench/steady_state.py's
estate (each service with its task definition; --full adds a target group, a rule, a scalable target and a CPU
policy). Wall times are of this shared machine and vary; call counts do not. ``--write`` puts the table in
bench/RESULTS.md with the machine and the date.

    python bench/latency.py [--services 100 1000 3000] [--full] [--interval 10] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import resource
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from reconciler.live.clients import AwsClients
from reconciler.logs import configure_logging
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.source.directory import DirectorySource

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steady_state import REGION, seeded_estate  # the same estate as the steady-state bench

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until(check: Callable[[], Any], *, within: float, every: float = 0.05) -> float:
    """Seconds until ``await check()`` is true."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise TimeoutError(f"not within {within} s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


async def measure(services: int, emulator_url: str, *, full: bool, interval: float) -> dict[str, Any]:
    async with seeded_estate(emulator_url, services, full=full) as source:
        root = source.root
        async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
            await Engine(clients, options=PlanOptions()).reconcile(source.load())  # converge from empty
        async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
            engine = Engine(clients, options=PlanOptions())
            desired = source.load()
            await engine.reconcile(desired)  # warm the caches, as a running daemon has them
            before, cpu, started = sum(clients.calls.values()), cpu_seconds(), time.perf_counter()
            outcome = await engine.reconcile(desired)
            row: dict[str, Any] = {
                "N": services,
                "pass calls": sum(clients.calls.values()) - before,
                "pass wall s": time.perf_counter() - started,
                "pass CPU s": cpu_seconds() - cpu,
                "changes": len(outcome.plan.reported_changes),
            }
            row |= await daemon_latencies(engine, source, root, clients, interval=interval)
    row["peak RSS MiB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


async def daemon_latencies(
    engine: Engine, source: DirectorySource, root: Path, clients: AwsClients, *, interval: float
) -> dict[str, float]:
    port = free_port()
    options = DaemonOptions(interval=interval, debounce_ms=50, host="127.0.0.1", port=port)
    daemon = Daemon(source, engine, options)
    task = asyncio.create_task(daemon.run())
    ecs = await clients.client("ecs")
    try:

        async def ready() -> bool:
            return daemon.ready()

        await until(ready, within=600)

        async def service() -> dict[str, Any]:
            answer = await ecs.describe_services(cluster="bench", services=["svc-0000"])
            found: dict[str, Any] = answer["services"][0]
            return found

        estate = root / "estate-000.yaml"  # svc-0000 is in the first file
        estate.write_text(estate.read_text().replace("svc-0000:1.0.0", "svc-0000:1.0.1", 1))
        revision = (await service())["taskDefinition"]
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            await http.post(f"http://127.0.0.1:{port}/sync")

            async def deployed() -> bool:
                return bool((await service())["taskDefinition"] != revision)

            await until(deployed, within=600)
            commit = time.perf_counter() - started
        await asyncio.sleep(2)  # the passes the commit woke are over: the drift waits for the interval
        await ecs.update_service(cluster="bench", service="svc-0000", desiredCount=3)

        async def corrected() -> bool:
            return bool((await service())["desiredCount"] == 1)

        drift = await until(corrected, within=3 * interval + 60)
    finally:
        daemon.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return {"commit→converged s": commit, "drift→corrected s (no events)": drift}


def table(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [f"{row[c]:.2f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, nargs="+", default=[100, 1000, 3000])
    parser.add_argument(
        "--full", action="store_true", help="each service with target group, rule and scaling"
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="the daemon's interval (drift without events)"
    )
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    configure_logging(fmt="json", level=logging.WARNING, stream=sys.stderr)
    rows = []
    for services in args.services:
        with EmulatorProcess.start() as emulator:
            rows.append(asyncio.run(measure(services, emulator.url, full=args.full, interval=args.interval)))
        print(table(rows[-1:]), flush=True)
    result = table(rows)
    print(f"\n{result}")
    if args.write:
        machine = f"{platform.node()}: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = f"## {stamp}, {machine}, interval {args.interval:g} s{', --full' if args.full else ''}\n\n"
        RESULTS.write_text(
            (RESULTS.read_text() if RESULTS.exists() else "# bench/latency.py\n\n") + header + result + "\n\n"
        )


if __name__ == "__main__":
    main()
