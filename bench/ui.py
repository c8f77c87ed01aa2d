"""The web UI's pages at N services: milliseconds to render each page from a ``GET /status`` body.

The body is synthetic but shaped like the daemon's: per service its task definition, two target groups, a
forwarding listener, a listener rule, a scalable target and a CPU policy (8 resources), one cluster and one load
balancer per 100 services shared; one service in 50 drifted (with a diff, changes and drift episodes), one in 200
in error; every service with a deployment history. The grouping is built by ``plan/applications.py`` from a
synthetic desired state of the same resources, as the daemon builds it once per revision (timed apart). Each page
is rendered ``--repeat`` times; the median is printed. Pure CPU: no server, no emulator.

    python bench/ui.py [--services 3000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.plan.applications import applications
from reconciler.ui import pages

SERVICES_PER_ALB = 100
BUDGET_MS = 200.0
DRIFTED_SERVICE = "svc-0001"  # one page: drifted, so its diff, changes and episodes are shown


def desired_state(services: int) -> DesiredState:
    """The documents, with the references the grouping follows (by name, as the documents write them)."""
    resources = [DesiredResource("Cluster", "bench", {"clusterName": "bench"}, "cluster.yaml", 1)]
    for alb in range(-(-services // SERVICES_PER_ALB)):
        resources.append(
            DesiredResource("LoadBalancer", f"alb-{alb}", {"Type": "application"}, "lb.yaml", alb)
        )
    for i in range(services):
        name, alb, file = f"svc-{i:04d}", f"alb-{i // SERVICES_PER_ALB}", f"services/svc-{i // 10:03d}.yaml"
        target = {"ServiceNamespace": "ecs", "ResourceId": f"service/bench/{name}",
                  "ScalableDimension": "ecs:service:DesiredCount"}  # fmt: skip
        specs: list[tuple[str, str, dict[str, Any]]] = [
            (
                "TaskDefinition",
                name,
                {"family": name, "containerDefinitions": [{"name": "app", "image": "x"}]},
            ),
            (
                "Service",
                name,
                {
                    "cluster": "bench",
                    "taskDefinition": name,
                    "loadBalancers": [{"targetGroupArn": f"{name}-tg-a"}],
                },
            ),
            ("TargetGroup", f"{name}-tg-a", {"Port": 80}),
            ("TargetGroup", f"{name}-tg-b", {"Port": 80}),
            (
                "Listener",
                f"{name}-l",
                {
                    "LoadBalancerArn": alb,
                    "Port": 8000 + i % 1000,
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": f"{name}-tg-b"}],
                },
            ),
            (
                "ListenerRule",
                f"{name}-r",
                {
                    "ListenerArn": f"{name}-l",
                    "Priority": 1,
                    "Actions": [{"Type": "forward", "TargetGroupArn": f"{name}-tg-a"}],
                },
            ),
            ("ScalableTarget", name, {**target, "MinCapacity": 1, "MaxCapacity": 4}),
            ("ScalingPolicy", f"{name}-cpu", {**target, "PolicyType": "TargetTrackingScaling"}),
        ]
        resources += [
            DesiredResource(kind, n, spec, file, line) for line, (kind, n, spec) in enumerate(specs)
        ]
    return DesiredState(resources=tuple(resources), revision="0123456789abcdef0123456789abcdef01234567")


def status_body(desired: DesiredState, grouping: dict[str, object]) -> dict[str, Any]:
    entries = []
    for n, resource in enumerate(desired.resources):
        entry: dict[str, Any] = {
            "kind": resource.kind, "name": resource.name, "state": "Synced", "revision": desired.revision,
            "lastChange": "2026-12-05T10:00:00+00:00", "lastError": "", "health": "Healthy", "healthReason": "",
        }  # fmt: skip
        if resource.kind == "Service":
            entry["deployments"] = [
                {"id": f"ecs-svc/{n}{d}", "revision": desired.revision, "startedBy": "reconciler",
                 "strategy": "ROLLING", "status": "SUCCESSFUL", "reason": "", "startedAt": "2026-12-05T10:00:00+00:00",
                 "finishedAt": "2026-12-05T10:02:00+00:00"}
                for d in range(5)
            ]  # fmt: skip
            if n % 50 == 1:
                principal = {"type": "user", "name": "alice", "arn": "arn:aws:iam::1:user/alice",
                             "foundBy": "event", "at": "2026-12-05T11:00:00+00:00"}  # fmt: skip
                entry |= {
                    "state": "Drifted", "lastDriftBy": principal,
                    "diff": [{"path": "desiredCount", "live": 5, "desired": 2}],
                    "changes": [{"at": "2026-12-05T10:00:00+00:00", "action": "update", "cause": "drift",
                                 "revision": desired.revision, "paths": ["desiredCount"]}] * 10,
                    "driftEpisodes": [{"detectedAt": "2026-12-05T10:00:00+00:00", "correctedAt": None,
                                       "by": principal, "paths": ["desiredCount"]}] * 10,
                }  # fmt: skip
            if n % 200 == 1:
                entry |= {"state": "Error", "lastError": "AccessDenied: not allowed", "health": "Degraded"}
        entries.append(entry)
    return {
        "revision": desired.revision,
        "source": {
            "git": "git@github.com:example/estate.git@main",
            "revision": desired.revision,
            "lastFetch": "2026-12-05T11:00:00+00:00",
            "lastError": None,
        },
        "lastPass": {
            "at": "2026-12-05T11:00:00+00:00",
            "targeted": False,
            "seconds": 4.2,
            "revision": desired.revision,
            "applied": 3,
            "failed": 0,
            "notApplied": 0,
        },
        "coordination": None,
        "targets": [{"instance": "default", "region": "us-east-1"}],
        **grouping,
        "resources": entries,
    }


def median_ms(render: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        render()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[3000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for services in args.services:
        desired = desired_state(services)
        grouping_ms = median_ms(lambda d=desired: applications(d), 3)  # type: ignore[misc]
        status = status_body(desired, applications(desired).as_json())
        one = DRIFTED_SERVICE
        measured = {
            "estate": lambda s=status: pages.estate_page(s),
            "applications": lambda s=status: pages.applications_page(s, {}),
            "applications?state=Drifted": lambda s=status: pages.applications_page(s, {"state": "Drifted"}),
            "applications?q=svc-01&page=2": lambda s=status: pages.applications_page(
                s, {"q": "svc-01", "page": "2"}
            ),
            f"applications/{one}": lambda s=status: pages.application_page(s, DRIFTED_SERVICE),
        }
        print(f"{services} services, {len(status['resources'])} resources; "
              f"grouping (once per revision): {grouping_ms:.0f} ms")  # fmt: skip
        worst = 0.0
        for page, render in measured.items():
            ms = median_ms(render, args.repeat)
            worst = max(worst, ms)
            print(f"  {page:<32} {ms:7.1f} ms")
        print(
            f"  slowest page {worst:.1f} ms ({'within' if worst <= BUDGET_MS else 'OVER'} {BUDGET_MS:.0f} ms)"
        )


if __name__ == "__main__":
    main()
