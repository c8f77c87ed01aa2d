"""The emulator's CloudTrail events, over HTTP: a write made by hand reaches the events queue as AWS delivers it
("AWS API Call via CloudTrail" through the EventBridge rule), and nothing else does (see sandbox/cloudtrail.py).

Events are put on the bus while the write is answered, so a message is on the queue when the call returns: the
tests that expect none make a hand-made write after the call under test and find only that one's event.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from werkzeug.test import Client
from werkzeug.wrappers import Response

from reconciler.events.pattern import CLOUDTRAIL, event_pattern
from reconciler.sandbox import cloudtrail
from reconciler.sandbox.seed import EVENTS_QUEUE, EVENTS_RULE, create_events_queue
from tests.conftest import REGION, BotoFactory
from tests.sandbox.conftest import FargateEstate

ACCOUNT = "123456789012"
RECONCILER = Config(user_agent_extra="reconciler-instance/default")


@dataclass(frozen=True)
class EventsQueue:
    sqs: Any
    url: str

    def receive(self) -> list[dict[str, Any]]:
        """Every message on the queue (deleted once read), as parsed JSON bodies."""
        bodies: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            messages = answer.get("Messages", [])
            for message in messages:
                bodies.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if len(messages) < 10:
                return bodies

    def receive_one(self) -> dict[str, Any]:
        [event] = self.receive()
        return event


@pytest.fixture
def events(boto: BotoFactory, aws: str) -> EventsQueue:
    return EventsQueue(sqs=boto("sqs"), url=asyncio.run(create_events_queue(endpoint_url=aws, region=REGION)))


@dataclass(frozen=True)
class Balancing:
    elbv2: Any
    target_group: str
    other_target_group: str
    listener: str
    rule: str


@pytest.fixture
def balancing(boto: BotoFactory) -> Balancing:
    ec2, elbv2 = boto("ec2"), boto("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZone=f"us-east-1{zone}")[
            "Subnet"
        ]["SubnetId"]
        for index, zone in enumerate("ab")
    ]
    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    balancer = elbv2.create_load_balancer(Name="frontapp-alb", Subnets=subnets, SecurityGroups=[group])
    target_groups = [
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for name in ("frontapp-tg01", "frontapp-tg02")
    ]
    listener = elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_groups[0]}],
    )["Listeners"][0]["ListenerArn"]
    rule = elbv2.create_rule(
        ListenerArn=listener,
        Priority=5,
        Conditions=[{"Field": "path-pattern", "Values": ["/admin/*"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": target_groups[1]}],
    )["Rules"][0]["RuleArn"]
    return Balancing(elbv2, target_groups[0], target_groups[1], listener, rule)


def _assert_cloudtrail_event(
    event: dict[str, Any], *, source: str, event_source: str, name: str, parameters: dict[str, Any]
) -> None:
    assert (event["source"], event["detail-type"]) == (source, CLOUDTRAIL)
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)
    detail = event["detail"]
    assert detail["eventVersion"] == "1.08"
    assert (detail["eventSource"], detail["eventName"]) == (event_source, name)
    assert detail["awsRegion"] == REGION
    assert detail["requestParameters"] == parameters
    assert detail["responseElements"] is None
    assert (detail["readOnly"], detail["eventType"]) == (False, "AwsApiCall")
    assert detail["userIdentity"] == {"type": "IAMUser", "accountId": ACCOUNT}
    assert "Boto3/" in detail["userAgent"]
    assert "reconciler-instance/" not in detail["userAgent"]
    assert uuid.UUID(detail["eventID"]).version == 4
    event_time = datetime.datetime.strptime(detail["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.UTC
    )
    assert abs((datetime.datetime.now(datetime.UTC) - event_time).total_seconds()) < 60


# --- writes by hand reach the queue -----------------------------------------------------------------------


def test_update_service_by_hand(fargate: FargateEstate, events: EventsQueue) -> None:
    fargate.create_service("wordpress")
    events.receive()  # CreateService's event

    fargate.ecs.update_service(cluster="myapp-prod", service="wordpress", desiredCount=5)

    _assert_cloudtrail_event(
        events.receive_one(),
        source="aws.ecs",
        event_source="ecs.amazonaws.com",
        name="UpdateService",
        parameters={"cluster": "myapp-prod", "service": "wordpress", "desiredCount": 5},
    )


CONTAINER = {"name": "app", "image": "nginx", "memory": 512, "dockerLabels": {"Com.Example.Team": "web"}}


def test_ecs_map_keys_are_kept_as_sent(fargate: FargateEstate, events: EventsQueue) -> None:
    fargate.ecs.register_task_definition(
        family="frontapp",
        containerDefinitions=[CONTAINER],
    )

    event = events.receive_one()
    assert event["detail"]["eventName"] == "RegisterTaskDefinition"
    assert event["detail"]["requestParameters"] == {
        "family": "frontapp",
        "containerDefinitions": [CONTAINER],
    }


def test_modify_target_group_by_hand(balancing: Balancing, events: EventsQueue) -> None:
    balancing.elbv2.modify_target_group(
        TargetGroupArn=balancing.target_group, HealthCheckPath="/x", HealthCheckIntervalSeconds=15
    )

    _assert_cloudtrail_event(
        events.receive_one(),
        source="aws.elasticloadbalancing",
        event_source="elasticloadbalancing.amazonaws.com",
        name="ModifyTargetGroup",
        parameters={
            "targetGroupArn": balancing.target_group,
            "healthCheckPath": "/x",
            "healthCheckIntervalSeconds": 15,
        },
    )


def test_add_tags_by_hand_decodes_lists(balancing: Balancing, events: EventsQueue) -> None:
    balancing.elbv2.add_tags(
        ResourceArns=[balancing.target_group, balancing.other_target_group],
        Tags=[{"Key": "Team", "Value": "web"}, {"Key": "Env", "Value": "prod"}],
    )

    _assert_cloudtrail_event(
        events.receive_one(),
        source="aws.elasticloadbalancing",
        event_source="elasticloadbalancing.amazonaws.com",
        name="AddTags",
        parameters={
            "resourceArns": [balancing.target_group, balancing.other_target_group],
            "tags": [{"key": "Team", "value": "web"}, {"key": "Env", "value": "prod"}],
        },
    )


def test_set_rule_priorities_by_hand_decodes_nested_lists(balancing: Balancing, events: EventsQueue) -> None:
    balancing.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": balancing.rule, "Priority": 7}])

    _assert_cloudtrail_event(
        events.receive_one(),
        source="aws.elasticloadbalancing",
        event_source="elasticloadbalancing.amazonaws.com",
        name="SetRulePriorities",
        parameters={"rulePriorities": [{"ruleArn": balancing.rule, "priority": 7}]},
    )


def test_modify_rule_by_hand_decodes_deep_nesting(balancing: Balancing, events: EventsQueue) -> None:
    actions = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": balancing.target_group, "Weight": 1},
                    {"TargetGroupArn": balancing.other_target_group, "Weight": 3},
                ]
            },
        }
    ]
    balancing.elbv2.modify_rule(RuleArn=balancing.rule, Actions=actions)

    event = events.receive_one()
    assert event["detail"]["eventName"] == "ModifyRule"
    assert event["detail"]["requestParameters"] == {
        "ruleArn": balancing.rule,
        "actions": [
            {
                "type": "forward",
                "forwardConfig": {
                    "targetGroups": [
                        {"targetGroupArn": balancing.target_group, "weight": 1},
                        {"targetGroupArn": balancing.other_target_group, "weight": 3},
                    ]
                },
            }
        ],
    }


def test_register_scalable_target_by_hand(
    boto: BotoFactory, fargate: FargateEstate, events: EventsQueue
) -> None:
    fargate.create_service("wordpress")
    events.receive()

    boto("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/myapp-prod/wordpress",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
        Tags={"Team": "web"},
    )

    _assert_cloudtrail_event(
        events.receive_one(),
        source="aws.application-autoscaling",
        event_source="application-autoscaling.amazonaws.com",
        name="RegisterScalableTarget",
        parameters={
            "serviceNamespace": "ecs",
            "resourceId": "service/myapp-prod/wordpress",
            "scalableDimension": "ecs:service:DesiredCount",
            "minCapacity": 1,
            "maxCapacity": 4,
            "tags": {"Team": "web"},  # a map: its keys are the user's, as sent
        },
    )


# --- and nothing else does ---------------------------------------------------------------------------------


def test_the_reconcilers_own_writes_make_no_event(
    boto: BotoFactory, fargate: FargateEstate, balancing: Balancing, events: EventsQueue
) -> None:
    fargate.create_service("wordpress")
    events.receive()

    boto("ecs", config=RECONCILER).update_service(cluster="myapp-prod", service="wordpress", desiredCount=3)
    boto("elbv2", config=RECONCILER).modify_target_group(
        TargetGroupArn=balancing.target_group, HealthCheckPath="/r"
    )
    boto("application-autoscaling", config=RECONCILER).register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/myapp-prod/wordpress",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    fargate.ecs.update_service(cluster="myapp-prod", service="wordpress", desiredCount=4)  # by hand

    event = events.receive_one()
    assert event["detail"]["requestParameters"]["desiredCount"] == 4


def test_reads_make_no_event(fargate: FargateEstate, balancing: Balancing, events: EventsQueue) -> None:
    fargate.create_service("wordpress")
    events.receive()

    fargate.describe_service("wordpress")
    fargate.ecs.list_services(cluster="myapp-prod")
    balancing.elbv2.describe_target_groups(TargetGroupArns=[balancing.target_group])
    balancing.elbv2.describe_tags(ResourceArns=[balancing.target_group])
    fargate.ecs.update_service(cluster="myapp-prod", service="wordpress", desiredCount=4)

    assert [event["detail"]["eventName"] for event in events.receive()] == ["UpdateService"]


def test_failed_writes_make_no_event(
    fargate: FargateEstate, balancing: Balancing, events: EventsQueue
) -> None:
    fargate.create_service("wordpress")
    events.receive()

    with pytest.raises(ClientError):
        fargate.ecs.update_service(cluster="myapp-prod", service="missing", desiredCount=5)
    with pytest.raises(ClientError):
        balancing.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": balancing.rule + "x", "Priority": 9}])
    fargate.ecs.update_service(cluster="myapp-prod", service="wordpress", desiredCount=4)

    event = events.receive_one()
    assert event["detail"]["requestParameters"]["service"] == "wordpress"


def test_writes_to_other_services_make_no_event(boto: BotoFactory, events: EventsQueue) -> None:
    boto("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    boto("sqs").create_queue(QueueName="other")
    boto("ecs").create_cluster(clusterName="elsewhere")

    assert [event["detail"]["eventName"] for event in events.receive()] == ["CreateCluster"]


# --- the queue and its rule --------------------------------------------------------------------------------


def test_create_events_queue_is_idempotent(aws: str, boto: BotoFactory) -> None:
    first = asyncio.run(create_events_queue(endpoint_url=aws, region=REGION))
    second = asyncio.run(create_events_queue(endpoint_url=aws, region=REGION))

    assert first == second
    assert first.endswith(f"/{EVENTS_QUEUE}")
    eventbridge = boto("events")
    rule = eventbridge.describe_rule(Name=EVENTS_RULE)
    assert (rule["State"], rule["EventBusName"]) == ("ENABLED", "default")
    assert json.loads(rule["EventPattern"]) == event_pattern()
    [target] = eventbridge.list_targets_by_rule(Rule=EVENTS_RULE)["Targets"]
    attributes = boto("sqs").get_queue_attributes(QueueUrl=first, AttributeNames=["QueueArn", "Policy"])
    assert target["Arn"] == attributes["Attributes"]["QueueArn"]
    [statement] = json.loads(attributes["Attributes"]["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == rule["Arn"]


# --- emission never breaks a request (in process: no emulator) -----------------------------------------------


def _echo_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answers 200 with the body it was sent, as moto would read it."""
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    return Response(body, status=200)(environ, start_response)  # type: ignore[no-any-return]


def _update_service_request(client: Client) -> Any:
    return client.post(
        "/",
        data=json.dumps({"cluster": "c", "service": "s", "desiredCount": 1}),
        headers={
            "X-Amz-Target": "AmazonEC2ContainerServiceV20141113.UpdateService",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/ecs/aws4_request, ...",
            "User-Agent": "aws-cli/2",
        },
    )


def test_a_failing_emission_leaves_the_response_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    put: list[dict[str, Any]] = []

    def refuse(detail: dict[str, Any], **_: Any) -> None:
        put.append(detail)
        raise RuntimeError("the bus is down")

    monkeypatch.setattr(cloudtrail, "put_cloudtrail_event", refuse)

    response = _update_service_request(Client(cloudtrail.CloudTrailEvents(_echo_app)))

    assert response.status_code == 200
    assert json.loads(response.get_data()) == {"cluster": "c", "service": "s", "desiredCount": 1}
    assert [detail["requestParameters"] for detail in put] == [
        {"cluster": "c", "service": "s", "desiredCount": 1}
    ]
    assert "the bus is down" in caplog.text  # with its traceback (stderr, in the emulator's process)


def test_an_unreadable_request_is_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(environ: dict[str, Any]) -> bytes:
        raise OSError("connection reset")

    put: list[dict[str, Any]] = []
    monkeypatch.setattr(cloudtrail, "_read_body", broken)
    monkeypatch.setattr(cloudtrail, "put_cloudtrail_event", lambda detail, **_: put.append(detail))

    response = _update_service_request(Client(cloudtrail.CloudTrailEvents(_echo_app)))

    assert (response.status_code, put) == (200, [])
