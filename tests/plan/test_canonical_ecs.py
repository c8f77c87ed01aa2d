"""No false drift: what a user writes and what AWS describes back canonicalise to the same thing.

The "live" sides here are shaped like real DescribeTaskDefinition / DescribeServices / DescribeClusters output:
fields in another order, defaults filled in, ARNs where the user wrote names, numbers where they wrote strings.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.model.ecs import canonical_cluster, canonical_service, canonical_task_definition
from reconciler.plan.diff import scoped_diff

DESIRED_TASK: dict[str, Any] = {
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "2 vCPU",
    "memory": "16 GB",
    "executionRoleArn": "ecsTaskExecutionRole",
    "containerDefinitions": [
        {
            "name": "log_router",
            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            "firelensConfiguration": {"type": "fluentbit"},
        },
        {
            "name": "app",
            "image": "frontapp:1.4.2",
            "portMappings": [{"containerPort": 8080}],
            "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}],
            "ulimits": [{"name": "nofile", "softLimit": 10240, "hardLimit": 10240}],
            "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]},
        },
    ],
}

LIVE_TASK: dict[str, Any] = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/frontapp:7",
    "family": "frontapp",
    "revision": 7,
    "status": "ACTIVE",
    "compatibilities": ["EC2", "FARGATE"],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "2048",
    "memory": "16384",
    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "registeredAt": "2026-11-01T00:00:00Z",
    "volumes": [],
    "placementConstraints": [],
    "containerDefinitions": [
        {
            "name": "app",
            "image": "frontapp:1.4.2",
            "cpu": 0,
            "essential": True,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "mountPoints": [],
            "volumesFrom": [],
            "systemControls": [],
            "ulimits": [{"name": "nofile", "softLimit": 10240, "hardLimit": 10240}],
            "healthCheck": {
                "command": ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"],
                "interval": 30,
                "timeout": 5,
                "retries": 3,
            },
        },
        {
            "name": "log_router",
            "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable",
            "cpu": 0,
            "essential": True,
            "portMappings": [],
            "environment": [],
            "mountPoints": [],
            "volumesFrom": [],
            "user": "0",
            "firelensConfiguration": {"type": "fluentbit", "options": {}},
        },
    ],
}


def _task_diff(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    return [d.path for d in scoped_diff(canonical_task_definition(desired), canonical_task_definition(live))]


def test_task_definition_as_aws_describes_it_is_no_drift() -> None:
    assert _task_diff(DESIRED_TASK, LIVE_TASK) == []


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda t: t["containerDefinitions"][0].update(image="frontapp:evil"), "containerDefinitions[app].image"),
        (lambda t: t["containerDefinitions"][0]["environment"].pop(), "containerDefinitions[app].environment[B]"),
        (lambda t: t["containerDefinitions"][0]["ulimits"][0].update(softLimit=1024),
         "containerDefinitions[app].ulimits[nofile].softLimit"),
        (lambda t: t.update(memory="8192"), "memory"),
        (lambda t: t["containerDefinitions"][0].update(essential=False), "containerDefinitions[app].essential"),
        (lambda t: t["containerDefinitions"][0]["healthCheck"].update(retries=10),
         "containerDefinitions[app].healthCheck.retries"),
    ],
)  # fmt: skip
def test_task_definition_real_differences_have_exact_paths(mutate: Any, path: str) -> None:
    live = copy.deepcopy(LIVE_TASK)
    mutate(live)
    assert _task_diff(DESIRED_TASK, live) == [path]


def test_items_only_aws_has_are_differences() -> None:
    """An extra container or environment variable runs in production: drift, not an AWS default."""
    live = copy.deepcopy(LIVE_TASK)
    live["containerDefinitions"][0]["environment"].append({"name": "DEBUG", "value": "true"})
    live["containerDefinitions"].append({"name": "miner", "image": "evil:latest", "essential": False})
    assert _task_diff(DESIRED_TASK, live) == [
        "containerDefinitions[app].environment[DEBUG]",
        "containerDefinitions[miner]",
    ]


DESIRED_SERVICE: dict[str, Any] = {
    "cluster": "myapp-prod",
    "taskDefinition": "frontapp",
    "desiredCount": 2,
    "launchType": "FARGATE",
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-b", "subnet-a"], "securityGroups": ["sg-1"]}
    },
    "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
}

LIVE_SERVICE: dict[str, Any] = {
    "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/myapp-prod/frontapp",
    "serviceName": "frontapp",
    "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/myapp-prod",
    "status": "ACTIVE",
    "desiredCount": 2,
    "runningCount": 2,
    "pendingCount": 0,
    "launchType": "FARGATE",
    "platformVersion": "LATEST",
    "platformFamily": "Linux",
    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/frontapp:7",
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
    },
    "deployments": [{"status": "PRIMARY", "rolloutState": "COMPLETED"}],
    "events": [],
    "loadBalancers": [],
    "serviceRegistries": [],
    "networkConfiguration": {
        "awsvpcConfiguration": {
            "subnets": ["subnet-a", "subnet-b"],
            "securityGroups": ["sg-1"],
            "assignPublicIp": "DISABLED",
        }
    },
    "healthCheckGracePeriodSeconds": 0,
    "schedulingStrategy": "REPLICA",
    "deploymentController": {"type": "ECS"},
    "enableECSManagedTags": False,
    "propagateTags": "NONE",
    "enableExecuteCommand": False,
    "availabilityZoneRebalancing": "ENABLED",
}


def _service_diff(live: dict[str, Any]) -> list[str]:
    return [d.path for d in scoped_diff(canonical_service(DESIRED_SERVICE), canonical_service(live))]


def test_service_as_aws_describes_it_is_no_drift() -> None:
    assert _service_diff(LIVE_SERVICE) == []


def test_managed_tags_left_out_of_the_document_are_left_as_they_are() -> None:
    """The console turns ECS managed tags on, the API leaves them off: a document that does not say is no drift
    either way (adopting a console-made service does not turn them off), one that says is compared."""
    assert _service_diff({**LIVE_SERVICE, "enableECSManagedTags": True}) == []
    desired = canonical_service({**DESIRED_SERVICE, "enableECSManagedTags": False})
    live = canonical_service({**LIVE_SERVICE, "enableECSManagedTags": True})
    assert [d.path for d in scoped_diff(desired, live)] == ["enableECSManagedTags"]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda s: s.update(desiredCount=5), "desiredCount"),
        (lambda s: s.update(propagateTags="SERVICE"), "propagateTags"),
        (lambda s: s.update(enableExecuteCommand=True), "enableExecuteCommand"),
        (lambda s: s["deploymentConfiguration"]["deploymentCircuitBreaker"].update(rollback=False),
         "deploymentConfiguration.deploymentCircuitBreaker.rollback"),
        (lambda s: s["deploymentConfiguration"].update(maximumPercent=150), "deploymentConfiguration.maximumPercent"),
        (lambda s: s["networkConfiguration"]["awsvpcConfiguration"].update(assignPublicIp="ENABLED"),
         "networkConfiguration.awsvpcConfiguration.assignPublicIp"),
        (lambda s: s["networkConfiguration"]["awsvpcConfiguration"].update(subnets=["subnet-a"]),
         "networkConfiguration.awsvpcConfiguration.subnets"),
    ],
)  # fmt: skip
def test_service_real_differences_have_exact_paths(mutate: Any, path: str) -> None:
    live = copy.deepcopy(LIVE_SERVICE)
    mutate(live)
    assert _service_diff(live) == [path]


def test_service_defaults_apply_when_aws_omits_them() -> None:
    """An emulator or an older API may leave defaults out; absent and default are the same thing."""
    live = {k: v for k, v in LIVE_SERVICE.items() if k not in {"propagateTags", "enableExecuteCommand"}}
    assert _service_diff(live) == []


def test_cluster_settings_compare_as_a_map() -> None:
    desired = {
        "settings": [{"name": "containerInsights", "value": "enabled"}],
        "tags": [{"key": "t", "value": "1"}],
    }
    live = {
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/myapp-prod",
        "clusterName": "myapp-prod",
        "status": "ACTIVE",
        "settings": [{"name": "containerInsights", "value": "disabled"}],
        "capacityProviders": [],
        "activeServicesCount": 2,
    }
    paths = [d.path for d in scoped_diff(canonical_cluster(desired), canonical_cluster(live))]
    assert paths == ["settings.containerInsights"]
