"""No false drift for load balancing and scaling, table-wise: what a user writes and
what ELBv2 / Application Auto Scaling describe back canonicalise to the same thing; real changes keep their path."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model.autoscaling import canonical_scalable_target, canonical_scaling_policy
from reconciler.model.elbv2 import canonical_listener, canonical_rule, canonical_target_group
from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.plan.diff import scoped_diff
from reconciler.plan.owners import OwnerContext, settle
from reconciler.plan.planner import schedule_bounds

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg01/abc"
FORWARD_AS_WRITTEN = [{"Type": "forward", "TargetGroupArn": TG}]
FORWARD_AS_DESCRIBED = [
    {
        "Type": "forward",
        "TargetGroupArn": TG,
        "Order": 1,
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": TG, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        },
    }
]

CASES: list[tuple[str, Any, dict[str, Any], dict[str, Any], list[str]]] = [
    ("single forward = one-entry ForwardConfig", canonical_listener,
     {"Port": 443, "DefaultActions": FORWARD_AS_WRITTEN}, {"Port": 443, "DefaultActions": FORWARD_AS_DESCRIBED}, []),
    ("forward to another group", canonical_listener,
     {"DefaultActions": FORWARD_AS_WRITTEN},
     {"DefaultActions": [{"Type": "forward", "TargetGroupArn": TG + "x"}]},
     ["DefaultActions[0].ForwardConfig.TargetGroups[0].TargetGroupArn"]),
    ("certificate IsDefault is AWS's", canonical_listener,
     {"Certificates": [{"CertificateArn": "c1"}]}, {"Certificates": [{"CertificateArn": "c1", "IsDefault": True}]}, []),
    ("priority 10 = '10'", canonical_rule, {"Priority": 10}, {"Priority": "10", "IsDefault": False}, []),
    ("conditions in the legacy form as written", canonical_rule,
     {"Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}]},
     {"Conditions": [{"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}}]}, []),
    ("conditions in the *Config form as written", canonical_rule,
     {"Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com"]}}]},
     {"Conditions": [{"Field": "host-header", "Values": ["a.example.com"],
                      "HostHeaderConfig": {"Values": ["b.example.com"]}}]},
     ["Conditions[0].HostHeaderConfig.Values"]),
    ("health check defaults not written are not compared", canonical_target_group,
     {"HealthCheckPath": "/health", "Port": 8080},
     {"HealthCheckPath": "/health", "Port": 8080, "HealthCheckPort": "traffic-port", "HealthCheckTimeoutSeconds": 5}, []),
    ("attributes compare as a map, only the keys written", canonical_target_group,
     {"Attributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}]},
     {"Attributes": [{"Key": "stickiness.enabled", "Value": "false"},
                     {"Key": "deregistration_delay.timeout_seconds", "Value": "300"}]},
     ["Attributes.deregistration_delay.timeout_seconds"]),
    ("suspended state defaults to all false", canonical_scalable_target,
     {"MinCapacity": 2, "MaxCapacity": 4},
     {"MinCapacity": 2, "MaxCapacity": 4, "SuspendedState": {"DynamicScalingInSuspended": True}},
     ["SuspendedState.DynamicScalingInSuspended"]),
    ("ECS always uses its service-linked role", canonical_scalable_target,
     {"ServiceNamespace": "ecs", "RoleARN": "arn:aws:iam::1:role/ecsAutoscaleRole"},
     {"ServiceNamespace": "ecs", "RoleARN": "arn:aws:iam::1:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/x"},
     []),
    ("two header conditions, in any order", canonical_rule,
     {"Conditions": [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "A", "Values": ["1"]}},
                     {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "B", "Values": ["2"]}}]},
     {"Conditions": [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "B", "Values": ["2"]}},
                     {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "A", "Values": ["1"]}}]}, []),
    ("RoleARN is AWS's unless written", canonical_scalable_target,
     {"MinCapacity": 2}, {"MinCapacity": 2, "RoleARN": "arn:aws:iam::1:role/aws-service-role/x"}, []),
    ("DisableScaleIn defaults to false", canonical_scaling_policy,
     {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60.0}},
     {"TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60, "DisableScaleIn": True}},
     ["TargetTrackingScalingPolicyConfiguration.DisableScaleIn"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "canonical", "desired", "live", "paths"), CASES, ids=[c[0] for c in CASES])
def test_canonical_forms(
    case: str, canonical: Any, desired: dict[str, Any], live: dict[str, Any], paths: list[str]
) -> None:
    assert [d.path for d in scoped_diff(canonical(desired), canonical(live))] == paths


TARGET = {
    "ServiceNamespace": "ecs",
    "ResourceId": "service/c/s",
    "ScalableDimension": "ecs:service:DesiredCount",
}


def _doc(kind: str, spec: dict[str, Any]) -> DesiredResource:
    return DesiredResource(kind=kind, name=kind.lower(), spec=spec, file="x.yaml", line=1)


@pytest.mark.parametrize(
    ("live_bounds", "seen_as"),
    [((1, 2), (2, 4)), ((2, 4), (2, 4)), ((1, 3), (1, 3))],
    ids=["the night schedule at work", "the target's own bounds", "someone else's bounds"],
)
def test_scheduled_bounds_are_not_drift(live_bounds: tuple[int, int], seen_as: tuple[int, int]) -> None:
    target = _doc("ScalableTarget", {**TARGET, "MinCapacity": 2, "MaxCapacity": 4})
    night = _doc("ScheduledAction", {**TARGET, "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 2}})
    live = {**TARGET, "MinCapacity": live_bounds[0], "MaxCapacity": live_bounds[1]}
    context = OwnerContext(
        schedule_bounds=schedule_bounds(target, DesiredState(resources=(target, night), revision="r"))
    )
    seen = settle("ScalableTarget", live, target.spec, context).live
    assert seen is not None
    assert (seen["MinCapacity"], seen["MaxCapacity"]) == seen_as


def test_scheduled_times_compare_as_instants_whatever_the_local_zone() -> None:
    from datetime import datetime, timedelta, timezone

    from reconciler.model.autoscaling import canonical_scheduled_action

    tokyo = timezone(timedelta(hours=9))
    desired = canonical_scheduled_action({"StartTime": "2030-01-01T00:00:00Z"})
    live = canonical_scheduled_action({"StartTime": datetime(2030, 1, 1, 9, 0, tzinfo=tokyo)})
    assert scoped_diff(desired, live) == []
    later = canonical_scheduled_action({"StartTime": datetime(2030, 1, 1, 10, 0, tzinfo=tokyo)})
    assert [d.path for d in scoped_diff(desired, later)] == ["StartTime"]
