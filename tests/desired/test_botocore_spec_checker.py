"""``BotocoreSpecChecker`` on the real botocore shapes: a valid spec passes, each error kind has its path."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.desired import SpecProblem
from reconciler.model.kinds import (
    CLUSTER,
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SCHEDULED_ACTION,
    SERVICE,
    TARGET_GROUP,
    TASK_DEFINITION,
    KindInfo,
)
from reconciler.shapes import BotocoreSpecChecker, updatable_fields

CHECK = BotocoreSpecChecker()

VALID_TASK_DEFINITION: dict[str, Any] = {
    "requiresCompatibilities": ["FARGATE"],
    "networkMode": "awsvpc",
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "prod"}],
            "dockerLabels": {"team": "web"},
            "healthCheck": {"command": ["CMD", "true"], "interval": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}},
        }
    ],
    "tags": [{"key": "env", "value": "prod"}],
}


def with_container(**changes: Any) -> dict[str, Any]:
    container = {**VALID_TASK_DEFINITION["containerDefinitions"][0], **changes}
    return {**VALID_TASK_DEFINITION, "containerDefinitions": [container]}


def test_a_valid_task_definition_passes() -> None:
    assert CHECK(TASK_DEFINITION, VALID_TASK_DEFINITION) == []


def test_the_name_field_is_not_required_and_is_allowed() -> None:
    assert CHECK(SERVICE, {"cluster": "prod", "taskDefinition": "web"}) == []
    assert CHECK(CLUSTER, {"clusterName": "prod"}) == []


@pytest.mark.parametrize(
    ("case", "spec", "expected"),
    [
        (
            "unknown field suggests the closest name",
            with_container(imagee="nginx"),
            SpecProblem("containerDefinitions[0].imagee", "unknown field (did you mean 'image'?)"),
        ),
        (
            "unknown field matches a different case",
            {**VALID_TASK_DEFINITION, "NetworkMode": "awsvpc"},
            SpecProblem("NetworkMode", "unknown field (did you mean 'networkMode'?)"),
        ),
        (
            "unknown field without a close name",
            {**VALID_TASK_DEFINITION, "zzz": 1},
            SpecProblem("zzz", "unknown field"),
        ),
        (
            "quoted number for an integer",
            with_container(portMappings=[{"containerPort": "80"}]),
            SpecProblem(
                "containerDefinitions[0].portMappings[0].containerPort",
                "expected an integer, got a string (write the number without quotes)",
            ),
        ),
        (
            "number for a string",
            {**VALID_TASK_DEFINITION, "cpu": 256},
            SpecProblem("cpu", 'expected a string, got an integer (quote it: "256")'),
        ),
        (
            "boolean is not an integer",
            with_container(memory=True),
            SpecProblem("containerDefinitions[0].memory", "expected an integer, got a boolean"),
        ),
        (
            "mapping where a list is expected",
            {**VALID_TASK_DEFINITION, "requiresCompatibilities": {"FARGATE": True}},
            SpecProblem("requiresCompatibilities", "expected a list, got a mapping"),
        ),
        (
            "map value of the wrong type",
            with_container(dockerLabels={"team": 1}),
            SpecProblem(
                "containerDefinitions[0].dockerLabels.team",
                'expected a string, got an integer (quote it: "1")',
            ),
        ),
        (
            "missing required field",
            {"networkMode": "awsvpc"},
            SpecProblem("containerDefinitions", "required field is missing"),
        ),
        (
            "missing required nested field",
            with_container(environmentFiles=[{"value": "arn:aws:s3:::b/k.env"}]),
            SpecProblem("containerDefinitions[0].environmentFiles[0].type", "required field is missing"),
        ),
        (
            "enum value",
            {**VALID_TASK_DEFINITION, "networkMode": "bogus"},
            SpecProblem("networkMode", "'bogus' is not one of: bridge, host, awsvpc, none"),
        ),
        (
            "enum value in a list",
            {**VALID_TASK_DEFINITION, "requiresCompatibilities": ["FARGATE", "LAMBDA"]},
            SpecProblem(
                "requiresCompatibilities[1]",
                "'LAMBDA' is not one of: EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES",
            ),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_error_kind_has_its_path(case: str, spec: dict[str, Any], expected: SpecProblem) -> None:
    assert CHECK(TASK_DEFINITION, spec) == [expected], case


def test_every_problem_is_reported() -> None:
    spec = with_container(imagee="x", portMappings=[{"containerPort": "80"}]) | {"networkMode": "bogus"}
    assert {problem.path for problem in CHECK(TASK_DEFINITION, spec)} == {
        "networkMode",
        "containerDefinitions[0].imagee",
        "containerDefinitions[0].portMappings[0].containerPort",
    }


def test_extra_fields_of_a_kind_are_allowed_at_the_top_only() -> None:
    kind: KindInfo = dataclasses.replace(TASK_DEFINITION, extra_fields=frozenset({"Attributes"}))
    assert CHECK(kind, {**VALID_TASK_DEFINITION, "Attributes": [{"Key": "k", "Value": "v"}]}) == []
    assert [p.path for p in CHECK(kind, with_container(Attributes=[]))] == [
        "containerDefinitions[0].Attributes"
    ]


def test_the_checker_does_not_modify_spec() -> None:
    spec = with_container(imagee="x")
    before = repr(spec)
    CHECK(TASK_DEFINITION, spec)
    assert repr(spec) == before


def test_updatable_fields_are_the_request_members() -> None:
    fields = updatable_fields("ecs", "UpdateService")
    assert {"desiredCount", "taskDefinition", "networkConfiguration"} <= fields
    assert not SERVICE.replace_fields & fields
    assert updatable_fields("ecs", "CreateService") >= SERVICE.replace_fields


ECS_TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": "service/prod/web",
    "ScalableDimension": "ecs:service:DesiredCount",
}
VALID_SPECS: list[tuple[KindInfo, dict[str, Any]]] = [
    (
        LOAD_BALANCER,
        {
            "Type": "application",
            "Subnets": ["subnet-a", "subnet-b"],
            "Attributes": [{"Key": "idle_timeout.timeout_seconds", "Value": "60"}],
        },
    ),
    (
        TARGET_GROUP,
        {
            "Protocol": "HTTP",
            "Port": 8080,
            "VpcId": "vpc-1",
            "TargetType": "ip",
            "Matcher": {"HttpCode": "200,302"},
            "Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
        },
    ),
    (
        LISTENER,
        {
            "LoadBalancerArn": "web-alb",
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/a"}],
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": "web-tg"}],
        },
    ),
    (
        LISTENER_RULE,
        {
            "ListenerArn": "web-alb:443",
            "Priority": 10,
            "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/api/*"]}}],
            "Actions": [{"Type": "forward", "TargetGroupArn": "web-tg"}],
        },
    ),
    (SCALABLE_TARGET, {**ECS_TARGET, "MinCapacity": 2, "MaxCapacity": 4}),
    (
        SCALING_POLICY,
        {
            **ECS_TARGET,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 60,
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
            },
        },
    ),
    (
        SCHEDULED_ACTION,
        {**ECS_TARGET, "Schedule": "cron(0 22 * * ? *)", "ScalableTargetAction": {"MaxCapacity": 1}},
    ),
]


@pytest.mark.parametrize(("kind", "spec"), VALID_SPECS, ids=[kind.kind for kind, _ in VALID_SPECS])
def test_a_valid_spec_of_each_load_balancing_and_scaling_kind_passes(
    kind: KindInfo, spec: dict[str, Any]
) -> None:
    assert CHECK(kind, spec) == []


def test_the_request_shapes_of_the_new_kinds_are_enforced() -> None:
    assert CHECK(TARGET_GROUP, {"Protocol": "HTTPX", "Prot": 80}) == [
        SpecProblem(
            "Protocol", "'HTTPX' is not one of: HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC"
        ),
        SpecProblem("Prot", "unknown field (did you mean 'Port'?)"),
    ]
    assert CHECK(
        LISTENER_RULE, {"ListenerArn": "a:1", "Priority": "10", "Conditions": [], "Actions": []}
    ) == [SpecProblem("Priority", "expected an integer, got a string (write the number without quotes)")]
    assert CHECK(SCALABLE_TARGET, {"ServiceNamespace": "ecs", "ResourceId": "service/a/b"}) == [
        SpecProblem("ScalableDimension", "required field is missing")
    ]


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        ({"a": "b"}, [SpecProblem("Attributes", "expected a list, got a mapping")]),
        (["a=b"], [SpecProblem("Attributes[0]", "expected a mapping, got a string")]),
        ([{"Key": "k"}], [SpecProblem("Attributes[0].Value", "required field is missing")]),
        ([{"Value": "v"}], [SpecProblem("Attributes[0].Key", "required field is missing")]),
        (
            [{"Key": "k", "Value": True}],
            [SpecProblem("Attributes[0].Value", 'expected a string, got a boolean (quote it: "true")')],
        ),
        (
            [{"Key": "k", "Value": "v", "Name": "n"}],
            [SpecProblem("Attributes[0].Name", "unknown field")],
        ),
    ],
    ids=["mapping", "text", "no-value", "no-key", "boolean-value", "unknown-member"],
)
@pytest.mark.parametrize("kind", [LOAD_BALANCER, TARGET_GROUP], ids=lambda kind: kind.kind)
def test_attributes_are_key_value_string_pairs(
    kind: KindInfo, attributes: object, expected: list[SpecProblem]
) -> None:
    assert CHECK(kind, {"Attributes": attributes}) == expected


def test_attributes_are_only_allowed_where_the_kind_has_them() -> None:
    spec = {**VALID_SPECS[2][1], "Attributes": [{"Key": "k", "Value": "v"}]}
    assert [problem.path for problem in CHECK(LISTENER, spec)] == ["Attributes"]
