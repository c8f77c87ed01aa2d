"""How ``reconciler import`` turns AWS descriptions into documents, table-wise: only members of the create request
are kept (at every depth), ARNs become the names documents use, and our own and AWS's tags are left out."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from reconciler.importer.documents import imported_files
from reconciler.importer.read import ImportedEstate
from reconciler.shapes.requests import request_from

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
TG = f"{ARN}:targetgroup/web-tg/1"
LB = f"{ARN}:loadbalancer/app/web-alb/1"
LISTENER = f"{ARN}:listener/app/web-alb/1/2"
RULE = f"{ARN}:listener-rule/app/web-alb/1/2/3"

CUTS = [
    (  # read-only members go at every depth; empty lists and None go; timestamps become text
        ("ecs", "RegisterTaskDefinition"),
        {
            "family": "web",
            "revision": 3,
            "status": "ACTIVE",
            "requiresAttributes": [{"name": "x"}],
            "containerDefinitions": [{"name": "app", "image": "web:1", "mountPoints": [], "cpu": 0}],
            "volumes": [],
            "registeredAt": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        },
        {"family": "web", "containerDefinitions": [{"name": "app", "image": "web:1", "cpu": 0}]},
    ),
    (
        ("application-autoscaling", "PutScheduledAction"),
        {
            "ScheduledActionName": "n",
            "StartTime": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
            "CreationTime": 1,
        },
        {"ScheduledActionName": "n", "StartTime": "2026-01-01T00:00:00+00:00"},
    ),
]


@pytest.mark.parametrize(("operation", "described", "expected"), CUTS, ids=["task-definition", "timestamps"])
def test_a_description_is_cut_to_the_create_request(
    operation: tuple[str, str], described: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert request_from(*operation, described) == expected


def _estate() -> ImportedEstate:
    cluster = {
        "clusterName": "demo",
        "status": "ACTIVE",
        "tags": [{"key": "reconciler:instance", "value": "x"}],
    }
    service = {
        "serviceName": "web",
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/demo/web",
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}],
        "desiredCount": 2,
        "runningCount": 2,
        "deployments": [{"id": "ecs-svc/1"}],
        "tags": [{"key": "Team", "value": "web"}, {"key": "aws:cloudformation:stack-name", "value": "s"}],
    }
    task = {"family": "web", "containerDefinitions": [{"name": "app", "image": "web:1"}], "tags": []}
    forward = {
        "Type": "forward",
        "TargetGroupArn": TG,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }
    return ImportedEstate(
        cluster=cluster,
        services=[service],
        task_definitions={service["taskDefinition"]: task},
        target_groups={
            TG: {"TargetGroupName": "web-tg", "TargetGroupArn": TG, "Port": 80, "LoadBalancerArns": [LB]}
        },
        load_balancers={
            LB: {
                "LoadBalancerName": "web-alb",
                "LoadBalancerArn": LB,
                "AvailabilityZones": [{"SubnetId": "subnet-a"}, {"SubnetId": "subnet-b"}],
                "State": {"Code": "active"},
            }
        },
        listeners={
            LISTENER: {
                "ListenerArn": LISTENER,
                "LoadBalancerArn": LB,
                "Port": 80,
                "Protocol": "HTTP",
                "DefaultActions": [forward],
            }
        },
        rules={
            RULE: {
                "RuleArn": RULE,
                "ListenerArn": LISTENER,
                "Priority": "10",
                "IsDefault": False,
                "Actions": [forward],
                "Conditions": [
                    {
                        "Field": "path-pattern",
                        "Values": ["/api/*"],
                        "PathPatternConfig": {"Values": ["/api/*"]},
                    }
                ],
            }
        },
        tags={TG: {"reconciler:spec-hash": "h", "Team": "web"}, LISTENER: {"reconciler:name": "web-http"}},
    )


def _documents() -> dict[tuple[str, str], dict[str, Any]]:
    return {(d.kind, d.name): d.spec for docs in imported_files(_estate()).values() for d in docs}


def test_arns_become_the_names_documents_use() -> None:
    documents = _documents()
    service = documents[("Service", "web")]
    assert (service["cluster"], service["taskDefinition"]) == ("demo", "web")
    assert service["loadBalancers"] == [
        {"targetGroupArn": "web-tg", "containerName": "app", "containerPort": 80}
    ]
    assert documents[("Listener", "web-http")]["LoadBalancerArn"] == "web-alb"  # named by our tag
    rule = documents[("ListenerRule", "web-alb-80-10")]  # no tag: load balancer, port, priority
    assert (rule["ListenerArn"], rule["Priority"]) == ("web-alb:80", 10)
    assert documents[("LoadBalancer", "web-alb")]["Subnets"] == ["subnet-a", "subnet-b"]


def test_read_only_members_and_reserved_tags_are_left_out() -> None:
    documents = _documents()
    service = documents[("Service", "web")]
    assert not {"runningCount", "deployments", "serviceArn", "serviceName"} & set(service)
    assert service["tags"] == [
        {"key": "Team", "value": "web"}
    ]  # aws:… and reconciler:… tags are not ours to write
    assert documents[("TargetGroup", "web-tg")]["Tags"] == [{"Key": "Team", "Value": "web"}]
    assert "tags" not in documents[("Cluster", "demo")]


def test_a_forward_to_one_target_group_is_written_once_and_conditions_take_their_config() -> None:
    rule = _documents()[("ListenerRule", "web-alb-80-10")]
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": "web-tg"}]
    assert rule["Conditions"] == [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}]
