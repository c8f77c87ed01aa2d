"""Steady-state cost of one reconcile pass over N services, in the sandbox's emulator.

Creates one cluster with N Fargate services (each with its own task definition family; with --full also a target
group, a rule on a shared ALB listener, a scalable target and a CPU policy), converges, waits for ECS to finish the
services' first deployments (the emulator takes seconds over them, as ECS takes minutes), then measures:
  * the first pass of a fresh engine on the converged estate (cold task definition cache), and
  * the steady-state passes of a warm engine: as many as it takes ELBv2 tags to be re-read once each (they are
    cached and re-read a third at a time, see reconciler/live/tag_cache.py); the costliest of them is judged,
printing AWS calls by operation, wall time, and peak RSS. Target: calls ≤ ceil(N/10) + ceil(N/100) + 5
per cluster (with --full: ≤ 3 * ceil(N/10) + 10), and zero DescribeTaskDefinition after the first pass. Exits 1
when a target is missed.

    python bench/steady_state.py [--services 200] [--full] [--aws-rates]

With --aws-rates the measured passes go through the fault proxy emulating AWS's published throttling rates,
with the reconciler's client-side budget at half those rates: the target is then zero throttled calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import yaml

from reconciler.live.budget import ApiBudget
from reconciler.live.clients import AwsClients
from reconciler.live.paging import chunks, paginate
from reconciler.live.tag_cache import REFRESH_PASSES
from reconciler.logs import configure_logging
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules
from reconciler.sandbox.faults import FaultProxyProcess
from reconciler.sandbox.seed import seed_base_infrastructure
from reconciler.source.directory import DirectorySource

REGION = "us-east-1"


def write_estate(root: Path, services: int, *, full: bool) -> None:
    """The cluster and load balancers in files of their own, and the services in files of ``SERVICES_PER_FILE``
    each (a team's file: task definitions, services, their target groups, rules and scaling). The same layout at
    every N, so that a commit changes a file of the same size whatever the estate's: what grows with N is the
    estate's cost, not the file's."""
    insights: dict[str, object] = {"settings": [{"name": "containerInsights", "value": "enabled"}]}
    write_documents(root / "cluster.yaml", [document("Cluster", "bench", insights)])
    for start in range(0, services, SERVICES_PER_FILE):
        documents: list[dict[str, object]] = []
        for i in range(start, min(start + SERVICES_PER_FILE, services)):
            name = f"svc-{i:04d}"
            documents.append(task_definition(name))
            documents.append(service(name, load_balanced=full))
            if full:
                documents.extend(load_balancing_and_scaling(name, i))
        write_documents(root / "services" / services_file(start), documents)
    if full:
        albs = [load_balancer(f"bench-alb-{k}") for k in range(math.ceil(services / SERVICES_PER_ALB))]
        write_documents(root / "load-balancers.yaml", albs)


def services_file(index: int) -> str:
    """The file that declares service number ``index`` (relative to ``services/``)."""
    first = index - index % SERVICES_PER_FILE
    return f"svc-{first:04d}-{first + SERVICES_PER_FILE - 1:04d}.yaml"


def write_documents(path: Path, documents: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


SERVICES_PER_ALB = 100  # AWS allows 100 rules per application load balancer by default
SERVICES_PER_FILE = 10  # 3000 services: 300 files, under the loader's 2000


def document(kind: str, name: str, spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "reconciler/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def load_balancer(name: str) -> dict[str, object]:
    return document("LoadBalancer", name, {"Type": "application", "Scheme": "internal",
                    "Subnets": ["${PRIVATE_SUBNET_A}", "${PRIVATE_SUBNET_B}"]})  # fmt: skip


def load_balancing_and_scaling(name: str, index: int) -> list[dict[str, object]]:
    """--full: per service a target group, a rule on its ALB's listener, a scalable target and a CPU policy."""
    alb = f"bench-alb-{index // SERVICES_PER_ALB}"
    target = {"ServiceNamespace": "ecs", "ResourceId": f"service/bench/{name}",
              "ScalableDimension": "ecs:service:DesiredCount"}  # fmt: skip
    forward = [{"Type": "forward", "TargetGroupArn": f"{name}-tg"}]
    documents = [
        document("TargetGroup", f"{name}-tg", {"Protocol": "HTTP", "Port": 8080, "VpcId": "${VPC_ID}",
                 "TargetType": "ip", "HealthCheckPath": "/health"}),
        document("ListenerRule", f"{name}-rule", {"ListenerArn": f"{alb}:80", "Priority": index % SERVICES_PER_ALB + 1,
                 "Conditions": [{"Field": "path-pattern", "Values": [f"/{name}/*"]}], "Actions": forward}),
        document("ScalableTarget", name, {**target, "MinCapacity": 1, "MaxCapacity": 4}),
        document("ScalingPolicy", f"{name}-cpu", {**target, "PolicyType": "TargetTrackingScaling",
                 "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60.0, "PredefinedMetricSpecification":
                 {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}),
    ]  # fmt: skip
    if index % SERVICES_PER_ALB == 0:
        listener = {"LoadBalancerArn": alb, "Protocol": "HTTP", "Port": 80, "DefaultActions": forward}
        documents.append(document("Listener", f"{alb}-http", listener))
    return documents


def task_definition(name: str) -> dict[str, object]:
    container = {
        "name": "app",
        "image": f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{name}:1.0.0",
        "portMappings": [{"containerPort": 8080}],
        "environment": [{"name": "SERVICE", "value": name}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": f"/ecs/{name}",
                             "awslogs-region": REGION, "awslogs-stream-prefix": "app"}},
    }  # fmt: skip
    spec = {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "executionRoleArn": "${EXECUTION_ROLE_ARN}", "containerDefinitions": [container]}  # fmt: skip
    return {"apiVersion": "reconciler/v1", "kind": "TaskDefinition", "metadata": {"name": name}, "spec": spec}


def service(name: str, *, load_balanced: bool) -> dict[str, object]:
    network = {"awsvpcConfiguration": {"subnets": ["${PRIVATE_SUBNET_A}", "${PRIVATE_SUBNET_B}"],
                                       "securityGroups": ["${APP_SECURITY_GROUP}"]}}  # fmt: skip
    spec = {"cluster": "bench", "taskDefinition": name, "desiredCount": 1, "launchType": "FARGATE",
            "networkConfiguration": network}  # fmt: skip
    if load_balanced:
        spec["loadBalancers"] = [
            {"targetGroupArn": f"{name}-tg", "containerName": "app", "containerPort": 8080}
        ]
    return document("Service", name, spec)


async def measured_pass(engine: Engine, source: DirectorySource) -> tuple[Counter[str], float, int]:
    desired = source.load()
    before = engine.clients.calls_by_operation()
    started = time.perf_counter()
    outcome = await engine.reconcile(desired)
    seconds = time.perf_counter() - started
    calls = engine.clients.calls_by_operation()
    calls.subtract(before)
    return +calls, seconds, len(outcome.plan.changes)


def report(title: str, calls: Counter[str], seconds: float, changes: int) -> None:
    print(f"\n{title}: {sum(calls.values())} AWS calls, {seconds:.2f} s wall, {changes} changes")
    for operation, count in sorted(calls.items()):
        print(f"  {operation:<40} {count:>6}")


@contextlib.asynccontextmanager
async def seeded_estate(emulator_url: str, services: int, *, full: bool) -> AsyncIterator[DirectorySource]:
    """The emulator seeded as the sandbox seeds it, and the estate written in a temporary directory."""
    variables = await seed_base_infrastructure(endpoint_url=emulator_url, region=REGION)
    with tempfile.TemporaryDirectory() as tmp:
        write_estate(Path(tmp), services, full=full)
        yield DirectorySource(root=Path(tmp), extra_vars=variables)


async def bench(services: int, emulator_url: str, *, full: bool, aws_rates: bool = False) -> int:
    async with seeded_estate(emulator_url, services, full=full) as source:
        async with AwsClients(region=REGION, endpoint_url=emulator_url) as clients:
            engine = Engine(clients, options=PlanOptions())
            started = time.perf_counter()
            calls, _, changes = await measured_pass(engine, source)
            print(f"converge from empty: {changes} changes, {sum(calls.values())} calls, "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            print(f"deployments settled after {await settled(clients):.1f} s more")
        proxy = FaultProxyProcess.start(emulator_url, FaultRules(aws_rates=True)) if aws_rates else None
        endpoint, budget = (proxy.url, ApiBudget()) if proxy else (emulator_url, None)
        async with AwsClients(region=REGION, endpoint_url=endpoint, budget=budget) as clients:
            engine = Engine(clients, options=PlanOptions())
            cold = await measured_pass(engine, source)
            report("first pass of a fresh engine (cold cache)", *cold)
            warm_passes = [await measured_pass(engine, source) for _ in range(REFRESH_PASSES)]
            totals = [sum(calls.values()) for calls, _, _ in warm_passes]
            print(f"\nsteady-state passes (warm engine): {totals} calls")
            warm = max(warm_passes, key=lambda measured: sum(measured[0].values()))
            report("costliest steady-state pass", *warm)
            throttled = sum(n for (_, _, outcome), n in clients.calls.items() if outcome == "throttled")
        if proxy is not None:
            limited = sum(n for (_, _, outcome), n in proxy.counts().items() if outcome == "rate_limit")
            proxy.stop()
            print(f"\nAWS's rates emulated (fault proxy), client budget at half: {throttled} throttled "
                  f"answers seen by the client, {limited} requests over AWS's rate")  # fmt: skip
            if throttled or limited:
                return 1
    return verdict(services, warm[0], warm[2], full=full)


SETTLE_TIMEOUT = 120.0  # seconds


async def settled(clients: AwsClients, *, within: float = SETTLE_TIMEOUT) -> float:
    """Wait until no service of the bench's cluster has a deployment rolling out; the seconds it took. With
    ``clients``, not the measured engine's: these calls are not a pass's. A pass over services still rolling out
    is not the steady state: what it reads of their deployments changes from one pass to the next."""
    ecs = await clients.client("ecs")
    started = time.perf_counter()
    while True:
        arns = await paginate(ecs, "list_services", "serviceArns", cluster="bench", maxResults=100)
        pages = [
            await ecs.describe_services(cluster="bench", services=list(batch)) for batch in chunks(arns, 10)
        ]
        rolling = sum(
            any(d.get("rolloutState") == "IN_PROGRESS" for d in service.get("deployments") or ())
            for page in pages
            for service in page["services"]
        )
        waited = time.perf_counter() - started
        if not rolling:
            return waited
        if waited > within:
            raise SystemExit(f"{rolling} services still rolling out after {within:.0f} s")
        await asyncio.sleep(0.5)


def verdict(services: int, calls: Counter[str], changes: int, *, full: bool) -> int:
    tens = math.ceil(services / 10)
    budget = 3 * tens + 10 if full else tens + math.ceil(services / 100) + 5
    total = sum(calls.values())
    describes = calls.get("ecs:DescribeTaskDefinition", 0)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nN={services}: steady-state calls {total} (budget {budget}), DescribeTaskDefinition {describes}, "
          f"changes {changes}, peak RSS {rss_mib:.0f} MiB")  # fmt: skip
    ok = total <= budget and describes == 0 and changes == 0
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument(
        "--full", action="store_true", help="each service with target group, rule and scaling"
    )
    parser.add_argument(
        "--aws-rates",
        action="store_true",
        help="measured passes go through the fault proxy with AWS's throttling rates, and the client budget",
    )
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    configure_logging(fmt="json", level=logging.WARNING, stream=sys.stderr)
    with EmulatorProcess.start() as emulator:
        sys.exit(asyncio.run(bench(args.services, emulator.url, full=args.full, aws_rates=args.aws_rates)))


if __name__ == "__main__":
    main()
