"""Applications, table-wise: each service with what it uses, on the example estate and on small estates built
for one rule each; everything else shared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.applications import applications
from reconciler.source.directory import load_directory

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"
EXAMPLE = applications(load_directory(ESTATE, (), {}))


def key(text: str) -> ResourceKey:
    kind, name = text.split("/", 1)
    return ResourceKey(kind, name)


@pytest.mark.parametrize(
    ("resource", "application"),
    [
        ("Service/frontapp", "frontapp"),
        ("TaskDefinition/frontapp", "frontapp"),
        ("TargetGroup/frontapp-tg02", "frontapp"),  # the blue/green pair, through the deployment group
        ("Listener/frontapp-https", "frontapp"),  # its default action forwards to frontapp's group
        ("ScalableTarget/frontapp", "frontapp"),
        ("ScalingPolicy/frontapp-cpu60", "frontapp"),
        ("ScheduledAction/frontapp-night-scale-in", "frontapp"),
        ("DeploymentGroup/frontapp", "frontapp"),
        ("DiscoveryService/scorekeep-api", "scorekeep-api"),
        ("ListenerRule/scorekeep-frontend", "scorekeep-frontend"),  # forwards to that service's group
        ("ListenerRule/catalog-test", "catalog"),
        ("TargetGroup/wordpress-tg", "wordpress"),
        ("Cluster/myapp-prod", None),  # every service's: shared
        ("LoadBalancer/frontapp-alb", None),
        ("Listener/frontapp-http", None),  # redirects: forwards to no service
        ("ListenerRule/frontapp-admin-denied", None),  # a fixed response
        ("Service/not-declared", None),
    ],
)
def test_each_resource_of_the_example_is_in_its_service_s_application(
    resource: str, application: str | None
) -> None:
    assert EXAMPLE.of(key(resource)) == application
    if application is not None:
        assert key(resource) in EXAMPLE.by_name[application]
        assert key(resource) not in EXAMPLE.shared
    elif resource != "Service/not-declared":
        assert key(resource) in EXAMPLE.shared


def test_every_resource_is_in_exactly_one_place_and_each_application_starts_with_its_service() -> None:
    everywhere = [k for keys in EXAMPLE.by_name.values() for k in keys] + list(EXAMPLE.shared)
    desired = load_directory(ESTATE, (), {})
    assert sorted(everywhere) == sorted(r.key for r in desired)
    assert list(EXAMPLE.by_name) == sorted(EXAMPLE.by_name)
    assert all(keys[0] == ResourceKey("Service", name) for name, keys in EXAMPLE.by_name.items())


def doc(kind: str, name: str, line: int, **spec: Any) -> DesiredResource:
    return DesiredResource(kind=kind, name=name, spec=spec, file="estate.yaml", line=line)


def service(name: str, line: int, task: str, *groups: str) -> DesiredResource:
    balancers = [{"targetGroupArn": g, "containerName": "app", "containerPort": 80} for g in groups]
    return doc("Service", name, line, cluster="main", taskDefinition=task, loadBalancers=balancers)


CLUSTER = doc("Cluster", "main", 1, clusterName="main")
ALB = doc("LoadBalancer", "alb", 2)


@pytest.mark.parametrize(
    ("resources", "expected", "shared"),
    [
        (  # two services, each with its own task definition and group
            [CLUSTER, doc("TaskDefinition", "a", 3), doc("TaskDefinition", "b", 4), doc("TargetGroup", "a-tg", 5),
             service("b", 6, "b"), service("a", 7, "a", "a-tg")],
            {"a": ["Service/a", "TaskDefinition/a", "TargetGroup/a-tg"], "b": ["Service/b", "TaskDefinition/b"]},
            ["Cluster/main"],
        ),
        (  # two services sharing a target group are one application, named after the first by name
            [doc("TargetGroup", "tg", 3), service("web-2", 4, "x:1", "tg"), service("web-1", 5, "y:1", "tg")],
            {"web-1": ["Service/web-1", "Service/web-2", "TargetGroup/tg"]},
            [],
        ),
        (  # a task definition no service runs, and a group nothing registers in: shared
            [CLUSTER, doc("TaskDefinition", "batch", 3), doc("TargetGroup", "spare", 4), service("a", 5, "a:3")],
            {"a": ["Service/a"]},
            ["Cluster/main", "TaskDefinition/batch", "TargetGroup/spare"],
        ),
        (  # a listener forwarding to a service's group is that service's; one with a fixed response is shared
            [ALB, doc("TargetGroup", "tg", 3),
             doc("Listener", "fwd", 4, LoadBalancerArn="alb", Port=80,
                 DefaultActions=[{"Type": "forward", "TargetGroupArn": "tg"}]),
             doc("Listener", "fixed", 5, LoadBalancerArn="alb", Port=81,
                 DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]),
             service("a", 6, "a:1", "tg")],
            {"a": ["Service/a", "TargetGroup/tg", "Listener/fwd"]},
            ["LoadBalancer/alb", "Listener/fixed"],
        ),
        ([], {}, []),
    ],
)  # fmt: skip
def test_applications_of_small_estates(
    resources: list[DesiredResource], expected: dict[str, list[str]], shared: list[str]
) -> None:
    found = applications(DesiredState(resources=tuple(resources), revision="r"))
    assert {name: [str(k) for k in keys] for name, keys in found.by_name.items()} == expected
    assert [str(k) for k in found.shared] == shared
    for name, keys in expected.items():
        assert all(found.of(key(k)) == name for k in keys)
