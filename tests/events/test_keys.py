"""AWS events → the declared resources they name, table-wise, on the example estate: CloudTrail write calls of
ECS, ELBv2 and Application Auto Scaling (as EventBridge delivers them) and ECS service events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.events.keys import deployments_named, keys_of_event
from reconciler.model.resource import ResourceKey
from reconciler.source.directory import load_directory

DESIRED = load_directory(Path(__file__).resolve().parents[2] / "desired-state", (), {})
ACCOUNT = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
LISTENER = f"{ACCOUNT}:listener/app/wordpress-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
RULE = f"{ACCOUNT}:listener-rule/app/wordpress-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
ARN_KEYS = {
    LISTENER: ResourceKey("Listener", "wordpress-http"),
    RULE: ResourceKey("ListenerRule", "frontapp-admin-denied"),
}
SOURCES = {"ecs": "aws.ecs", "elasticloadbalancing": "aws.elasticloadbalancing",
           "application-autoscaling": "aws.application-autoscaling"}  # fmt: skip


def cloudtrail(service: str, name: str, parameters: dict[str, Any], **detail: Any) -> dict[str, Any]:
    return {
        "source": SOURCES[service],
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {"eventSource": f"{service}.amazonaws.com", "eventName": name, "userAgent": "aws-cli/2.17",
                   "requestParameters": parameters, **detail},
    }  # fmt: skip


SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/myapp-prod/wordpress"
TARGET = {"serviceNamespace": "ecs", "resourceId": "service/myapp-prod/frontapp",
          "scalableDimension": "ecs:service:DesiredCount"}  # fmt: skip


@pytest.mark.parametrize(
    ("event", "result", "keys"),
    [
        (cloudtrail("ecs", "UpdateService", {"cluster": "myapp-prod", "service": "wordpress", "desiredCount": 5}),
         "matched", {"Service/wordpress"}),
        (cloudtrail("ecs", "UpdateService", {"cluster": "arn:aws:ecs:us-east-1:1:cluster/myapp-prod",
                                             "service": SERVICE_ARN}), "matched", {"Service/wordpress"}),
        (cloudtrail("ecs", "UpdateService", {"cluster": "other", "service": "wordpress"}), "unmatched", set()),
        (cloudtrail("ecs", "RegisterTaskDefinition", {"family": "frontapp", "cpu": "512"}),
         "matched", {"TaskDefinition/frontapp"}),
        (cloudtrail("ecs", "TagResource", {"resourceArn": "arn:aws:ecs:us-east-1:1:cluster/myapp-prod"}),
         "matched", {"Cluster/myapp-prod"}),
        (cloudtrail("ecs", "UpdateClusterSettings", {"cluster": "myapp-prod", "settings": []}),
         "matched", {"Cluster/myapp-prod"}),
        (cloudtrail("elasticloadbalancing", "ModifyTargetGroup",
                    {"targetGroupArn": f"{ACCOUNT}:targetgroup/wordpress-tg/73e2d6bc24d8a067", "healthCheckPath": "/x"}),
         "matched", {"TargetGroup/wordpress-tg"}),
        (cloudtrail("elasticloadbalancing", "ModifyRule", {"ruleArn": RULE}), "matched", {"ListenerRule/frontapp-admin-denied"}),
        (cloudtrail("elasticloadbalancing", "DeleteRule", {"ruleArn": RULE.replace("9683b2d02a6cabee", "1")}),
         "matched", {"Listener/wordpress-http"}),  # a rule not known: its listener
        (cloudtrail("elasticloadbalancing", "SetRulePriorities",
                    {"rulePriorities": [{"ruleArn": RULE, "priority": "7"}]}), "matched", {"ListenerRule/frontapp-admin-denied"}),
        (cloudtrail("elasticloadbalancing", "AddTags", {"resourceArns": [LISTENER], "tags": []}),
         "matched", {"Listener/wordpress-http"}),
        (cloudtrail("application-autoscaling", "RegisterScalableTarget", {**TARGET, "minCapacity": 1}),
         "matched", {"ScalableTarget/frontapp"}),
        (cloudtrail("application-autoscaling", "DeleteScalingPolicy", {**TARGET, "policyName": "frontapp-cpu60"}),
         "matched", {"ScalingPolicy/frontapp-cpu60"}),
        (cloudtrail("application-autoscaling", "PutScheduledAction",
                    {**TARGET, "scheduledActionName": "frontapp-night-scale-in"}),
         "matched", {"ScheduledAction/frontapp-night-scale-in"}),
        ({"source": "aws.ecs", "detail-type": "ECS Service Action", "resources": [SERVICE_ARN],
          "detail": {"eventName": "SERVICE_STEADY_STATE"}}, "matched", {"Service/wordpress"}),
        (cloudtrail("ecs", "UpdateService", {"cluster": "myapp-prod", "service": "wordpress"},
                    userAgent="aiobotocore/2.15 reconciler-instance/default"), "own", set()),
        (cloudtrail("ecs", "UpdateService", {"cluster": "myapp-prod", "service": "wordpress"},
                    userAgent="aiobotocore/2.15 reconciler-instance/default-b"), "matched", {"Service/wordpress"}),
        (cloudtrail("ecs", "UpdateService", {"service": "wordpress"}, errorCode="ServiceNotFoundException"),
         "ignored", set()),  # a call that failed changed nothing
        (cloudtrail("ecs", "DescribeServices", {"services": ["wordpress"]}), "ignored", set()),
        ({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}, "ignored", set()),
        ("not an event", "invalid", set()),
        ({"source": "aws.ecs", "detail-type": "AWS API Call via CloudTrail", "detail": "x"}, "invalid", set()),
        (cloudtrail("ecs", "UpdateService", {"cluster": ["odd"], "service": {"odd": 1}}), "unmatched", set()),
    ],
)  # fmt: skip
def test_an_event_names_the_declared_resources_it_is_about(
    event: object, result: str, keys: set[str]
) -> None:
    found = keys_of_event(event, DESIRED, ARN_KEYS, instance="default")
    assert found == (result, {ResourceKey(*k.split("/", 1)) for k in keys})


def test_every_named_key_is_declared() -> None:
    declared = {r.key for r in DESIRED}
    event = cloudtrail("ecs", "DeleteTaskDefinitions", {"taskDefinitions": ["wordpress:3", "gone:1"]})
    result, keys = keys_of_event(event, DESIRED, {}, instance="default")
    assert result == "matched" and keys == {ResourceKey("TaskDefinition", "wordpress")} and keys <= declared


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_an_ecs_arn_of_any_partition_names_its_resource(partition: str) -> None:
    arn = f"arn:{partition}:ecs:cn-north-1:123456789012:service/myapp-prod/wordpress"
    event = cloudtrail("ecs", "TagResource", {"resourceArn": arn})
    assert keys_of_event(event, DESIRED, {}, instance="default") == (
        "matched",
        {ResourceKey("Service", "wordpress")},
    )


ANSWER = {"service": {"serviceName": "wordpress", "currentServiceDeployment":
          "arn:aws:ecs:us-east-1:123456789012:service-deployment/myapp-prod/wordpress/NCWGC2ZRtaawPAYrIaU5",
          "deployments": [{"id": "ecs-svc/4980306466373577095", "status": "PRIMARY"},
                          {"id": "ecs-svc/1", "status": "ACTIVE"}]}}  # fmt: skip
ROLE = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:jane", "accountId": "123456789012",
        "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/jane"}  # fmt: skip


@pytest.mark.parametrize(
    ("event", "who", "named"),
    [
        (cloudtrail("ecs", "UpdateService", {"service": "wordpress"}, responseElements=ANSWER, userIdentity=ROLE),
         "arn:aws:sts::123456789012:assumed-role/Deployer/jane",
         [ANSWER["service"]["currentServiceDeployment"], "ecs-svc/4980306466373577095"]),
        (cloudtrail("ecs", "CreateService", {"serviceName": "wordpress"}, responseElements=ANSWER,
                    userIdentity={"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}),
         "service cloudformation.amazonaws.com", [ANSWER["service"]["currentServiceDeployment"], "ecs-svc/4980306466373577095"]),
        (cloudtrail("ecs", "UpdateService", {"service": "wordpress"}, responseElements=ANSWER,
                    userIdentity={"type": "IAMUser", "accountId": "123456789012"}),
         "user of account 123456789012", [ANSWER["service"]["currentServiceDeployment"], "ecs-svc/4980306466373577095"]),
        (cloudtrail("ecs", "UpdateService", {"service": "wordpress"}, responseElements=None, userIdentity=ROLE),
         "", []),  # CloudTrail left the answer out: nothing is named
        (cloudtrail("ecs", "UpdateService", {"service": "wordpress"}, responseElements=ANSWER, userIdentity=ROLE,
                    userAgent="aiobotocore/2.15 reconciler-instance/default"), "", []),  # our own
        (cloudtrail("ecs", "TagResource", {"resourceArn": SERVICE_ARN}, responseElements=ANSWER), "", []),
    ],
)  # fmt: skip
def test_who_started_a_deployment_an_event_names(event: dict[str, Any], who: str, named: list[str]) -> None:
    assert deployments_named(event, instance="default") == (who, named)
