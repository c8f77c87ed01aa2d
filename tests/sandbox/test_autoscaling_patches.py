"""Each Application Auto Scaling patch, shown over HTTP (see patches/autoscaling_*.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BotoFactory
from tests.sandbox.conftest import FargateEstate

DIMENSION = "ecs:service:DesiredCount"
CPU_AT_60 = {
    "TargetValue": 60.0,
    "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
    "ScaleInCooldown": 300,
    "ScaleOutCooldown": 60,
}


@pytest.fixture
def aas(boto: BotoFactory, fargate: FargateEstate) -> Any:
    for name in ("frontapp", "frontapp-canary", "wordpress"):
        fargate.create_service(name)
    return boto("application-autoscaling")


def _register(aas: Any, service: str, **request: Any) -> str:
    settings = {"MinCapacity": 2, "MaxCapacity": 4}
    answer = aas.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/myapp-prod/{service}",
        ScalableDimension=DIMENSION,
        **(settings | request),
    )
    return str(answer["ScalableTargetARN"])


def _put_policy(aas: Any, service: str, name: str = "cpu60", **configuration: Any) -> dict[str, Any]:
    answer: dict[str, Any] = aas.put_scaling_policy(
        PolicyName=name,
        ServiceNamespace="ecs",
        ResourceId=f"service/myapp-prod/{service}",
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration=CPU_AT_60 | configuration,
    )
    return answer


def _target(aas: Any, service: str) -> dict[str, Any]:
    [target] = aas.describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[f"service/myapp-prod/{service}"]
    )["ScalableTargets"]
    return dict(target)


def _error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_paging_through_scalable_targets_ends(aas: Any, fargate: FargateEstate) -> None:
    names = [f"svc-{index}" for index in range(5)]
    for name in names:
        fargate.create_service(name, desiredCount=1)
        _register(aas, name, MinCapacity=1)
    pages = list(
        aas.get_paginator("describe_scalable_targets").paginate(
            ServiceNamespace="ecs", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(page["ScalableTargets"]) for page in pages] == [2, 2, 1]
    listed = [target["ResourceId"] for page in pages for target in page["ScalableTargets"]]
    assert listed == [f"service/myapp-prod/{name}" for name in names]
    with pytest.raises(ClientError) as raised:
        aas.describe_scalable_targets(ServiceNamespace="ecs", MaxResults=51)
    assert _error_code(raised) == "ValidationException"


def test_targets_have_suspended_state_and_the_service_linked_role(aas: Any) -> None:
    arn = _register(aas, "frontapp")
    target = _target(aas, "frontapp")
    assert target["ScalableTargetARN"] == arn
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": False,
    }
    assert target["RoleARN"] == (
        "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_ECSService"
    )


def test_an_update_keeps_the_arn_and_the_suspended_flags_it_leaves_out(aas: Any) -> None:
    arn = _register(aas, "frontapp", SuspendedState={"DynamicScalingInSuspended": True})
    assert _register(aas, "frontapp", SuspendedState={"ScheduledScalingSuspended": True}) == arn
    target = _target(aas, "frontapp")
    assert target["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    }


def test_min_above_max_is_refused(aas: Any) -> None:
    with pytest.raises(ClientError) as raised:
        _register(aas, "frontapp", MinCapacity=5, MaxCapacity=4)
    assert _error_code(raised) == "ValidationException"
    _register(aas, "frontapp")
    with pytest.raises(ClientError) as raised:
        aas.register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/myapp-prod/frontapp",
            ScalableDimension=DIMENSION,
            MinCapacity=9,
        )
    assert _error_code(raised) == "ValidationException"
    assert (_target(aas, "frontapp")["MinCapacity"], _target(aas, "frontapp")["MaxCapacity"]) == (2, 4)


def test_updating_a_policy_keeps_its_arn(aas: Any, boto: BotoFactory) -> None:
    _register(aas, "frontapp")
    created = _put_policy(aas, "frontapp")
    updated = _put_policy(aas, "frontapp", TargetValue=70.0)
    assert updated["PolicyARN"] == created["PolicyARN"]
    [policy] = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["PolicyARN"] == created["PolicyARN"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70.0
    alarms = boto("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {alarm["AlarmName"] for alarm in alarms} == {alarm["AlarmName"] for alarm in updated["Alarms"]}


def test_a_policy_or_scheduled_action_needs_a_registered_target(aas: Any) -> None:
    with pytest.raises(ClientError) as raised:
        _put_policy(aas, "frontapp")
    assert _error_code(raised) == "ObjectNotFoundException"
    with pytest.raises(ClientError) as raised:
        aas.put_scheduled_action(
            ServiceNamespace="ecs",
            ScheduledActionName="night",
            ResourceId="service/myapp-prod/frontapp",
            ScalableDimension=DIMENSION,
            Schedule="cron(0 13 * * ? *)",
            ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 2},
        )
    assert _error_code(raised) == "ObjectNotFoundException"


def test_deregistering_a_target_deletes_its_policies_and_scheduled_actions(
    aas: Any, boto: BotoFactory
) -> None:
    for service in ("frontapp", "wordpress"):
        _register(aas, service)
        _put_policy(aas, service)
        aas.put_scheduled_action(
            ServiceNamespace="ecs",
            ScheduledActionName=f"{service}-night",
            ResourceId=f"service/myapp-prod/{service}",
            ScalableDimension=DIMENSION,
            Schedule="cron(0 13 * * ? *)",
            ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 2},
        )
    aas.deregister_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/myapp-prod/frontapp", ScalableDimension=DIMENSION
    )
    policies = aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert [policy["ResourceId"] for policy in policies] == ["service/myapp-prod/wordpress"]
    actions = aas.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"]
    assert [action["ScheduledActionName"] for action in actions] == ["wordpress-night"]
    alarms = boto("cloudwatch").describe_alarms()["MetricAlarms"]
    assert all("wordpress" in alarm["AlarmName"] for alarm in alarms)


def test_describe_policies_matches_resource_id_exactly_and_filters_by_name(aas: Any) -> None:
    for service in ("frontapp", "frontapp-canary"):
        _register(aas, service)
        _put_policy(aas, service, name="cpu60")
        _put_policy(aas, service, name="cpu80", TargetValue=80.0)
    answer = aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId="service/myapp-prod/frontapp-canary"
    )
    assert {policy["ResourceId"] for policy in answer["ScalingPolicies"]} == {
        "service/myapp-prod/frontapp-canary"
    }
    answer = aas.describe_scaling_policies(
        ServiceNamespace="ecs", ResourceId="service/myapp-prod/frontapp", PolicyNames=["cpu80"]
    )
    assert [(p["ResourceId"], p["PolicyName"]) for p in answer["ScalingPolicies"]] == [
        ("service/myapp-prod/frontapp", "cpu80")
    ]


def test_describe_policies_pages_by_ten(aas: Any, fargate: FargateEstate) -> None:
    _register(aas, "frontapp")
    for index in range(12):
        _put_policy(aas, "frontapp", name=f"policy-{index:02d}")
    first = aas.describe_scaling_policies(ServiceNamespace="ecs")
    assert len(first["ScalingPolicies"]) == 10
    second = aas.describe_scaling_policies(ServiceNamespace="ecs", NextToken=first["NextToken"])
    assert len(second["ScalingPolicies"]) == 2
    assert "NextToken" not in second
    with pytest.raises(ClientError) as raised:
        aas.describe_scaling_policies(ServiceNamespace="ecs", MaxResults=11)
    assert _error_code(raised) == "ValidationException"


def test_scheduled_actions_page(aas: Any) -> None:
    _register(aas, "frontapp")
    for index in range(3):
        aas.put_scheduled_action(
            ServiceNamespace="ecs",
            ScheduledActionName=f"action-{index}",
            ResourceId="service/myapp-prod/frontapp",
            ScalableDimension=DIMENSION,
            Schedule=f"cron(0 {index} * * ? *)",
            ScalableTargetAction={"MinCapacity": 1, "MaxCapacity": 2},
        )
    pages = list(
        aas.get_paginator("describe_scheduled_actions").paginate(
            ServiceNamespace="ecs", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(page["ScheduledActions"]) for page in pages] == [2, 1]


def test_scalable_targets_take_tags(aas: Any) -> None:
    arn = _register(aas, "frontapp", Tags={"reconciler:instance": "default"})
    aas.tag_resource(ResourceARN=arn, Tags={"team": "web", "reconciler:spec-hash": "abc"})
    aas.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert aas.list_tags_for_resource(ResourceARN=arn)["Tags"] == {
        "reconciler:instance": "default",
        "reconciler:spec-hash": "abc",
    }
    _register(aas, "frontapp", Tags={"ignored": "on update"})
    assert "ignored" not in aas.list_tags_for_resource(ResourceARN=arn)["Tags"]


def test_tagging_an_unknown_target_fails(aas: Any) -> None:
    arn = _register(aas, "frontapp")
    aas.deregister_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/myapp-prod/frontapp", ScalableDimension=DIMENSION
    )
    with pytest.raises(ClientError) as raised:
        aas.list_tags_for_resource(ResourceARN=arn)
    assert _error_code(raised) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as raised:
        aas.tag_resource(ResourceARN=arn, Tags={"a": "b"})
    assert _error_code(raised) == "ResourceNotFoundException"


def test_deleting_a_policy_that_is_gone_is_object_not_found(aas: Any) -> None:
    _register(aas, "frontapp")
    _put_policy(aas, "frontapp")
    request = {"PolicyName": "cpu60", "ServiceNamespace": "ecs", "ResourceId": "service/myapp-prod/frontapp",
               "ScalableDimension": DIMENSION}  # fmt: skip
    aas.delete_scaling_policy(**request)
    with pytest.raises(ClientError) as raised:
        aas.delete_scaling_policy(**request)
    assert _error_code(raised) == "ObjectNotFoundException"
