"""The numbers users judge a GitOps tool by, at N services in the sandbox's emulator, as one table.

Each service comes with its task definition, target group, listener rule, scalable target and CPU policy (the
estate of bench/steady_state.py --full; --ecs-only drops the last four). The estate is converged from empty, then
``reconciler run`` starts as a process of its own (so that its memory and CPU are its own), on the estate's
directory, with the events queue the sandbox makes (the emulator emits CloudTrail-shaped events for writes that are
not the reconciler's, as EventBridge would deliver them). Measured, from the daemon's /metrics and /proc:

  * a steady-state (full) pass, asked for with ``POST /sync``: AWS calls, wall time, CPU seconds;
  * commit → converged for one changed service: its image changed in the directory, then ``POST /sync``, until
    ECS runs the new revision (the median of five commits);
  * drift → corrected for one hand-made change (a service's desiredCount), with events, and without (the
    EventBridge rule disabled: the next full pass finds it);
  * the daemon's peak RSS.

With --aws the daemon talks to the emulator through the fault proxy with AWS's rate limits and 40 ms of latency
per call (and its client-side budget on, as in production). Wall times are of this shared machine and vary; call
counts do not. ``--write`` puts the table in bench/RESULTS.md with the machine and the date.

With --passes only passes are measured, once ECS has finished the estate's first deployments: a fresh process's
first pass (every task definition described), the passes after it while it still reads the services' deployment
histories (a share of the services a pass), and then a steady pass, each asked for with ``POST /sync`` (the
daemon's interval is then an hour): AWS calls by throttling group, throttled answers, wall, CPU, the seconds calls
waited for the client-side budget, and what bounds the pass: how long each throttling group's calls take at the
budget's sustained rate once its burst is spent.

    python bench/latency.py [--services 100 1000 3000] [--ecs-only] [--aws] [--passes] [--interval 10] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import yaml

from reconciler.live.budget import GROUPS, ApiBudget
from reconciler.live.clients import AwsClients
from reconciler.logs import configure_logging
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules
from reconciler.sandbox.faults import FaultProxyProcess
from reconciler.sandbox.seed import EVENTS_RULE, create_events_queue

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steady_state import REGION, seeded_estate, services_file, settled  # the estate of the steady-state bench

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TICKS = os.sysconf("SC_CLK_TCK")
AWS_LATENCY_MS = 40.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def until(check: Callable[[], Awaitable[bool]], *, within: float, every: float = 0.05) -> float:
    """Seconds until ``await check()`` is true."""
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise TimeoutError(f"not within {within} s")
        await asyncio.sleep(every)
    return time.perf_counter() - started


class DaemonProcess:
    """``reconciler run`` in a process of its own, and what its /metrics and /proc say."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{port}"

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)[1]) / 1024  # type: ignore[index]

    async def metrics(self) -> dict[str, float]:
        """Each series by its whole name (``name{labels}``), and each metric's sum over its series by its name."""
        async with aiohttp.ClientSession() as http, http.get(f"{self.base}/metrics") as response:
            text = await response.text()
        totals: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                totals[name.split("{", 1)[0]] = totals.get(name.split("{", 1)[0], 0.0) + float(value)
                totals[name] = float(value)
        return totals

    async def sync(self) -> None:
        async with aiohttp.ClientSession() as http, http.post(f"{self.base}/sync") as response:
            assert response.status == 202, response.status


@contextmanager
def daemon(
    root: Path,
    vars_file: Path | None,
    endpoint: str,
    *,
    queue: str | None,
    interval: float,
    aws: bool,
    pass_timeout: float | None = None,
    python: str = sys.executable,
    environment: dict[str, str] | None = None,
    log_path: Path | None = None,
    checkout: Path | None = None,
) -> Iterator[DaemonProcess]:
    """``reconciler run`` on ``root``: ``python -m reconciler`` run in ``checkout`` (this one by default), whose
    reconciler it then is (``-m`` puts the directory it runs in first on ``sys.path``); with ``aws``, its
    client-side budget at half AWS's rates. Its log goes to ``log_path``, else to a temporary file whose end is
    printed if it fails."""
    port = free_port()
    command = [python, "-m", "reconciler", "run", str(root), "--endpoint-url", endpoint, "--region", REGION,
               "--interval", str(interval), "--listen", f"127.0.0.1:{port}", "--debounce-ms", "50",
               "--log-format", "json"]  # fmt: skip
    command += ["--vars", str(vars_file)] if vars_file else []
    command += ["--events-queue-url", queue] if queue else []
    command += ["--pass-timeout", str(pass_timeout)] if pass_timeout else []
    environment = {**os.environ, **(environment or {}), "RECONCILER_API_BUDGET": "0.5" if aws else "0"}
    # its own cache directory: an emulator started anew gives the same task definition ARNs to other content
    with (
        log_path.open("w+b") if log_path else tempfile.TemporaryFile() as log,
        tempfile.TemporaryDirectory() as cache,
    ):
        command += ["--cache-dir", cache]
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=checkout or Path(__file__).parents[1],
        )
        try:
            yield DaemonProcess(process, port)
        finally:
            process.terminate()
            process.wait(timeout=30)
            if process.returncode not in (0, -15) or os.environ.get("BENCH_DEBUG"):
                log.seek(0)
                print(log.read().decode()[-4000:], file=sys.stderr)


async def measure(
    services: int, emulator_url: str, *, full: bool, interval: float, aws: bool, passes: bool = False
) -> list[dict[str, Any]]:
    """One row (the latencies), or with ``passes`` one row a pass."""
    async with seeded_estate(emulator_url, services, full=full) as source:
        started = time.perf_counter()
        async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
            await Engine(clients, options=PlanOptions()).reconcile(source.load())  # converge from empty
            print(f"N={services}: converged from empty in {time.perf_counter() - started:.0f} s", flush=True)
            if passes:  # a pass over services still rolling out reads their deployments again and again
                print(
                    f"deployments settled after {await settled(clients, within=1800):.0f} s more", flush=True
                )
        queue = None if passes else await create_events_queue(endpoint_url=emulator_url, region=REGION)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as vars_file:
            yaml.safe_dump(dict(source.extra_vars), vars_file)
            vars_file.flush()
            with aws_proxy(emulator_url, aws=aws) as proxy:
                endpoint = proxy.url if proxy else emulator_url
                with daemon(
                    source.root,
                    Path(vars_file.name),
                    endpoint,
                    queue=queue,
                    interval=PASSES_INTERVAL if passes else interval,
                    pass_timeout=PASSES_INTERVAL if passes else None,
                    aws=aws,
                ) as process:
                    if passes:
                        return [{"N": services} | row for row in await first_passes(process)]
                    return [
                        {"N": services}
                        | await latencies(
                            process, source.root, emulator_url, interval=interval, ecs_only=not full
                        )
                    ]


# --passes: every pass is asked for, and none is cut short (a fresh process's first pass at 3000 services through
# the budget takes longer than the default --pass-timeout)
PASSES_INTERVAL = 3600.0


@contextmanager
def aws_proxy(emulator_url: str, *, aws: bool) -> Iterator[FaultProxyProcess | None]:
    """With ``aws``, the fault proxy in front of the emulator with AWS's rates and ``AWS_LATENCY_MS`` a call."""
    if not aws:
        yield None
        return
    proxy = FaultProxyProcess.start(emulator_url, FaultRules(aws_rates=True, latency_ms=AWS_LATENCY_MS))
    try:
        yield proxy
    finally:
        proxy.stop()


async def latencies(
    process: DaemonProcess, root: Path, emulator_url: str, *, interval: float, ecs_only: bool
) -> dict[str, Any]:
    boto = {"endpoint_url": emulator_url, "region_name": REGION}
    ecs, events = boto3.client("ecs", **boto), boto3.client("events", **boto)

    async def answered() -> bool:
        try:
            return (await process.metrics()).get("reconciler_cycles_total", 0) >= 1
        except aiohttp.ClientError:
            return False

    await until(answered, within=1800, every=0.5)  # the first pass (cold: every task definition described)

    async def service(name: str) -> dict[str, Any]:
        found: dict[str, Any] = ecs.describe_services(cluster="bench", services=[name])["services"][0]
        return found

    row = await steady_pass(process)
    row |= {"commit→converged s": await commit(process, root, service)}
    drift = ecs_drift if ecs_only else health_check_drift
    row |= {"drift→corrected s (events)": await drift(boto, "svc-0001", within=60)}
    events.disable_rule(Name=EVENTS_RULE)  # no events: the next full pass must find it
    matched = (await process.metrics()).get('reconciler_events_received_total{result="matched"}', 0)
    row |= {"drift→corrected s (no events)": await drift(boto, "svc-0002", within=3 * interval + 60)}
    if (await process.metrics()).get('reconciler_events_received_total{result="matched"}', 0) != matched:
        raise RuntimeError("an event arrived with the rule disabled: the figure without events is not one")
    events.enable_rule(Name=EVENTS_RULE)
    row["peak RSS MiB"] = process.peak_rss_mib()
    return row


async def steady_pass(process: DaemonProcess) -> dict[str, Any]:
    before, cpu = await process.metrics(), process.cpu_seconds()
    await process.sync()  # nothing changed: a full pass

    async def passed() -> bool:
        return (await process.metrics())["reconciler_cycles_total"] > before["reconciler_cycles_total"]

    await until(passed, within=600, every=1.0)  # a scrape renders every series: rarely, not to count its CPU
    after = await process.metrics()
    return {
        "pass calls": int(after["reconciler_aws_api_calls_total"] - before["reconciler_aws_api_calls_total"]),
        "pass wall s": after["reconciler_cycle_duration_seconds_sum"]
        - before["reconciler_cycle_duration_seconds_sum"],
        "pass CPU s": process.cpu_seconds() - cpu,
    }


async def commit(
    process: DaemonProcess, root: Path, service: Callable[[str], Awaitable[dict[str, Any]]]
) -> float:
    """The median of ``COMMITS`` commits, one after the other, each a new image for svc-0000 (one sample is at the
    mercy of the machine, and of the 20 ms the check polls at)."""
    estate = root / "services" / services_file(0)  # the file that declares svc-0000
    samples = []
    for number in range(1, COMMITS + 1):
        revision = (await service("svc-0000"))["taskDefinition"]
        started = time.perf_counter()
        estate.write_text(re.sub(r"svc-0000:[0-9.]+", f"svc-0000:1.0.{number}", estate.read_text(), count=1))
        await process.sync()

        async def deployed(revision: str = revision) -> bool:
            return bool((await service("svc-0000"))["taskDefinition"] != revision)

        await until(deployed, within=600, every=0.02)
        samples.append(time.perf_counter() - started)
        await asyncio.sleep(1)  # the pass that deployed it is over
    print(f"commit → converged, {COMMITS} commits: " + ", ".join(f"{s:.3f}" for s in samples), flush=True)
    return statistics.median(samples)


COMMITS = 5


async def ecs_drift(boto: dict[str, str], name: str, *, within: float) -> float:
    """desiredCount changed by hand (not the reconciler's user agent); only drift when nothing scales the service."""
    ecs = boto3.client("ecs", **boto)
    await asyncio.sleep(2)  # whatever the last step woke is over
    ecs.update_service(cluster="bench", service=name, desiredCount=3)
    started = time.perf_counter()

    async def corrected() -> bool:
        return bool(
            ecs.describe_services(cluster="bench", services=[name])["services"][0]["desiredCount"] == 1
        )

    await until(corrected, within=within)
    return time.perf_counter() - started


async def health_check_drift(boto: dict[str, str], name: str, *, within: float) -> float:
    """A target group's health check path changed by hand (a scaled service's desiredCount is the scaler's)."""
    elbv2 = boto3.client("elbv2", **boto)
    arn = elbv2.describe_target_groups(Names=[f"{name}-tg"])["TargetGroups"][0]["TargetGroupArn"]
    await asyncio.sleep(2)  # whatever the last step woke is over
    elbv2.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/changed-by-hand")
    started = time.perf_counter()

    async def corrected() -> bool:
        group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        return bool(group["HealthCheckPath"] == "/health")

    await until(corrected, within=within)
    return time.perf_counter() - started


async def first_passes(process: DaemonProcess, *, steady: int = 1) -> list[dict[str, Any]]:
    """A fresh process's first pass, the passes after it while it still reads deployment histories, then
    ``steady`` passes that read none: a row each (and each pass's calls by operation, printed)."""
    await until(partial(cycles_at_least, process, 1), within=3600, every=0.5)
    cpu = process.cpu_seconds()  # the first pass's: since the process started, its start and first load too
    row, _ = pass_row("first", {}, await process.metrics(), cpu)
    rows = [row]
    number, quiet = 1, 0
    while quiet < steady:
        before, cpu = await process.metrics(), process.cpu_seconds()
        await process.sync()
        passed = partial(cycles_at_least, process, before["reconciler_cycles_total"] + 1)
        await until(passed, within=3600, every=0.5)
        number += 1
        row, calls = pass_row(str(number), before, await process.metrics(), process.cpu_seconds() - cpu)
        quiet = 0 if calls[("ecs", "ListServiceDeployments", "ok")] else quiet + 1
        row["pass"] = row["pass"].replace(str(number), "steady") if quiet else row["pass"]
        rows.append(row)
    return rows


async def cycles_at_least(process: DaemonProcess, count: float) -> bool:
    try:
        return (await process.metrics()).get("reconciler_cycles_total", 0) >= count
    except aiohttp.ClientError:
        return False


_CALLS = re.compile(r"^reconciler_aws_api_calls_total\{(.*)\}$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def calls_of(metrics: dict[str, float]) -> Counter[tuple[str, str, str]]:
    """(service, operation, outcome) → AWS calls, from the daemon's /metrics."""
    calls: Counter[tuple[str, str, str]] = Counter()
    for name, value in metrics.items():
        if found := _CALLS.match(name):
            labels = dict(_LABEL.findall(found[1]))
            calls[(labels["service"], labels["operation"], labels["outcome"])] += int(value)
    return calls


def pass_row(
    label: str, before: dict[str, float], after: dict[str, float], cpu: float
) -> tuple[dict[str, Any], Counter[tuple[str, str, str]]]:
    """One pass, printed: what the daemon's /metrics ``after`` it add to ``before`` (empty: since the process
    started); and its calls by (service, operation, outcome)."""
    calls = calls_of(after)
    calls.subtract(calls_of(before))
    calls = +calls
    by_group = calls_by_group(calls)
    waited = after.get("reconciler_aws_budget_wait_seconds_total", 0.0) - before.get(
        "reconciler_aws_budget_wait_seconds_total", 0.0
    )
    failed = after.get('reconciler_cycles_total{result="error"}', 0.0) - before.get(
        'reconciler_cycles_total{result="error"}', 0.0
    )
    row: dict[str, Any] = {
        "pass": label + (" (failed)" if failed else ""),
        "calls": sum(calls.values()),
        "throttled": sum(n for (_, _, outcome), n in calls.items() if outcome == "throttled"),
        "wall s": after["reconciler_cycle_duration_seconds_sum"]
        - before.get("reconciler_cycle_duration_seconds_sum", 0.0),
        "CPU s": cpu,
        "budget wait s": waited,
        "budget floors s": floors(by_group),
        "by group": ", ".join(f"{group} {n}" for group, n in by_group.most_common()),
    }
    print(table([row]), f"by operation: {by_operation(calls)}", sep="\n", flush=True)
    return row, calls


def by_operation(calls: Counter[tuple[str, str, str]]) -> str:
    """``service:Operation count``, most first, every outcome together."""
    operations: Counter[str] = Counter()
    for (service, operation, _), n in calls.items():
        operations[f"{service}:{operation}"] += n
    return ", ".join(f"{operation} {n}" for operation, n in operations.most_common())


def calls_by_group(calls: Counter[tuple[str, str, str]]) -> Counter[str]:
    """Calls by the client-side budget's throttling group (``live/budget.py``), every attempt counted."""
    budget = ApiBudget()
    grouped: Counter[str] = Counter()
    for (service, operation, _), n in calls.items():
        grouped[budget.group_of(service, operation) or service] += n
    return grouped


def floors(by_group: Counter[str], share: float = 0.5) -> str:
    """For each budget group past its burst, the seconds its calls take at ``share`` of its sustained rate once
    its burst (at ``share``) is spent, slowest first: the least each group adds to a pass that starts with full
    buckets. Groups read in one step of a pass overlap; the steps do not (the ECS, ELBv2 and Cloud Map readers,
    then the Application Auto Scaling reader, then the health reads)."""
    seconds = {
        name: (by_group[name] - burst * share) / (rate * share)
        for name, _, _, burst, rate in GROUPS
        if by_group.get(name, 0) > burst * share
    }
    slowest = sorted(seconds, key=lambda group: -seconds[group])
    return ", ".join(f"{group} {seconds[group]:.0f}" for group in slowest) or "within the bursts"


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
    parser.add_argument("--ecs-only", action="store_true", help="services and task definitions only")
    parser.add_argument(
        "--aws", action="store_true", help=f"through the proxy: AWS's rates, {AWS_LATENCY_MS:g} ms a call"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=30.0,
        help="the daemon's interval (drift without events); 30 s is the default of reconciler run",
    )
    parser.add_argument(
        "--passes",
        action="store_true",
        help="only passes: a fresh process's first ones, then a steady one, calls by throttling group",
    )
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION=REGION)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    configure_logging(fmt="json", level=40, stream=sys.stderr)
    rows = []
    for services in args.services:
        with EmulatorProcess.start() as emulator:
            measured = asyncio.run(
                measure(
                    services,
                    emulator.url,
                    full=not args.ecs_only,
                    interval=args.interval,
                    aws=args.aws,
                    passes=args.passes,
                )
            )
            rows.extend(measured)
        print(table(measured), flush=True)
    result = table(rows)
    print(f"\n{result}")
    if args.write:
        machine = f"{platform.node()}: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        estate = (
            "services and task definitions"
            if args.ecs_only
            else "each service with TD, TG, rule, scalable target, policy"
        )
        network = (
            f"through the proxy (AWS's rates, {AWS_LATENCY_MS:g} ms a call)"
            if args.aws
            else "straight to the emulator"
        )
        what = (
            "passes of a fresh process, asked for one by one"
            if args.passes
            else f"interval {args.interval:g} s"
        )
        header = f"## {stamp}, {machine}, {what}, {estate}, {network}\n\n"
        RESULTS.write_text(
            (RESULTS.read_text() if RESULTS.exists() else "# bench/latency.py\n\n") + header + result + "\n\n"
        )


if __name__ == "__main__":
    main()
