"""The events queue of the bootstrap stack (event-driven drift detection, ``--events-queue-url``): the EventBridge rule
of deploy/cloudformation/bootstrap.yaml matches what the daemon reads (``reconciler.events.pattern``), delivers to
the queue, only that rule may send to it, and the reconciler's task gets the queue's URL and may only receive and
delete on it.

deploy/cloudformation/target-events.yaml, in each account and Region a target of targets.yaml names, forwards the
same events to the default bus of the account and Region the reconciler runs in, where the rule above picks them
up: its pattern is the daemon's too, and its role may only put events on that bus.

The last test creates the queue, its policy and the rule in the emulator from the template's own properties and
puts a CloudTrail-shaped ECS ``UpdateService`` event on the default bus: it lands in the queue, and events the
pattern does not name do not. (AWS itself refuses ``PutEvents`` with an ``aws.*`` source: only the emulator can
stand in for CloudTrail and ECS this way.)
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from reconciler.events.pattern import CLOUDTRAIL, ECS_SERVICE_EVENTS, WRITE_CALLS, event_pattern
from tests.conftest import REGION, BotoFactory
from tests.deploy.test_bootstrap import ACCOUNT, DESIRED, REPO, Resolver
from tests.deploy.test_iam_policy import (
    POLICY,
    actions_of,
    load_template,
    statements,
    task_role_policy,
)

QUEUE_ACTIONS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
}  # DeleteMessageBatch is authorised by DeleteMessage
ENV = "RECONCILER_EVENTS_QUEUE_URL"
TARGET_EVENTS = REPO / "deploy" / "cloudformation" / "target-events.yaml"


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = load_template()["Resources"]
    return resources


def _one_of_type(type_name: str) -> tuple[str, dict[str, Any]]:
    """The logical name and properties of the template's only resource of this type."""
    found = [(name, r) for name, r in _resources().items() if r["Type"] == type_name]
    assert len(found) == 1, f"one {type_name} expected, found {[name for name, _ in found]}"
    ((name, resource),) = found
    return name, resource["Properties"]


def _queue() -> tuple[str, dict[str, Any]]:
    return _one_of_type("AWS::SQS::Queue")


def _rule() -> tuple[str, dict[str, Any]]:
    return _one_of_type("AWS::Events::Rule")


# --- the template, read as CloudFormation reads it ---------------------------------------------------------------


def test_the_rule_has_the_daemons_pattern_on_the_default_bus() -> None:
    _, rule = _rule()
    assert rule["EventPattern"] == event_pattern()
    assert (
        rule.get("EventBusName", "default") == "default"
    )  # where AWS services and CloudTrail put their events
    # ENABLED: write calls only. ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS would add every Describe/List/Get,
    # the reconciler's own reads among them.
    assert rule["State"] == "ENABLED"
    assert "ScheduleExpression" not in rule


def test_the_rule_targets_the_queue_and_gives_up_when_the_queue_would() -> None:
    queue_name, queue = _queue()
    _, rule = _rule()
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_name, "Arn"]}
    assert "RoleArn" not in target, "EventBridge sends to SQS under the queue's policy, not a role"
    assert "InputTransformer" not in target
    assert "Input" not in target
    assert "InputPath" not in target, "the daemon reads the whole event"
    retry = target.get("RetryPolicy", {})
    assert retry.get("MaximumEventAgeInSeconds", 86400) <= queue["MessageRetentionPeriod"]


def test_the_queue_is_encrypted_and_keeps_hints_only_briefly() -> None:
    _, queue = _queue()
    assert queue.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue
    assert 60 <= queue["MessageRetentionPeriod"] <= 900  # hints: the interval pass is the safety net
    assert not queue.get("FifoQueue", False)
    assert queue["QueueName"] == "reconciler-events"


def test_only_the_rule_may_send_to_the_queue() -> None:
    queue_name, _ = _queue()
    rule_name, _ = _rule()
    (policy,) = [r["Properties"] for r in _resources().values() if r["Type"] == "AWS::SQS::QueuePolicy"]
    assert policy["Queues"] == [{"Ref": queue_name}]
    document = policy["PolicyDocument"]
    allowed = [s for s in statements(document) if s["Effect"] == "Allow"]
    (send,) = allowed
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert actions_of(send) == {"sqs:SendMessage"}
    assert send["Resource"] == {"Fn::GetAtt": [queue_name, "Arn"]}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_name, "Arn"]}}}
    for statement in statements(document):
        assert statement["Effect"] in {"Allow", "Deny"}
        if statement["Effect"] == "Deny":  # only ever narrows: nothing but the TLS-only guard
            assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_task_gets_the_queue_url_and_an_output_names_it() -> None:
    queue_name, _ = _queue()
    template = load_template()
    (container,) = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment[ENV] == {"Ref": queue_name}
    outputs = template["Outputs"]
    assert outputs["EventsQueueUrl"]["Value"] == {"Ref": queue_name}
    assert ENV in outputs["EventsQueueUrl"]["Description"]  # the variable of vars.yaml it fills in


def test_the_task_role_may_only_receive_and_delete_on_that_queue() -> None:
    _, queue = _queue()
    name = queue["QueueName"]
    for document, arn in (
        (
            task_role_policy(load_template()),
            {"Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{name}"},
        ),
        (json.loads(POLICY.read_text()), f"arn:aws:sqs:*:*:{name}"),
    ):
        queue_statements = [
            s for s in statements(document) if any(a.startswith("sqs:") for a in actions_of(s))
        ]
        (statement,) = queue_statements
        assert statement["Effect"] == "Allow"
        assert actions_of(statement) == QUEUE_ACTIONS
        assert statement["Resource"] == arn
        assert "Condition" not in statement


def test_the_desired_state_passes_the_queue_url_from_the_stack_output() -> None:
    documents = [d for d in yaml.safe_load_all((DESIRED / "reconciler.yaml").read_text()) if d]
    (task_definition,) = [d for d in documents if d["kind"] == "TaskDefinition"]
    (container,) = task_definition["spec"]["containerDefinitions"]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment[ENV] == "${" + ENV + "}"
    variables_text = (DESIRED / "vars.yaml").read_text()
    assert re.search(
        rf"^{ENV}: \S+/reconciler-events\s+# output EventsQueueUrl$", variables_text, re.MULTILINE
    )


# --- a target's rule, forwarding to the central bus --------------------------------------------------------------


def _forwarding() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The target events template, its rule and the role the rule sends with."""
    template = load_template(TARGET_EVENTS)
    resources = template["Resources"]
    (rule,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Events::Rule"]
    (target,) = rule["Targets"]
    role_name, attribute = target["RoleArn"]["Fn::GetAtt"]
    assert attribute == "Arn"
    return template, rule, resources[role_name]["Properties"]


def test_a_targets_rule_forwards_the_daemons_pattern_to_the_central_bus() -> None:
    template, rule, _ = _forwarding()
    assert rule["EventPattern"] == event_pattern()
    assert rule["EventBusName"] == "default"  # where ECS and CloudTrail put the target account's events
    assert rule["State"] == "ENABLED"  # write calls only, as the central rule
    # Not the central rule's name: the bootstrap stack's rule and this one may meet in the reconciler's own account
    assert rule["Name"] != _rule()[1]["Name"]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Ref": "CentralEventBusArn"}
    assert not {"Input", "InputPath", "InputTransformer"} & set(target), (
        "the central rule reads the whole event"
    )
    assert set(template["Parameters"]) == {"CentralEventBusArn"}  # for StackSets: nothing account-specific
    assert not re.search(r"\b\d{12}\b", json.dumps(template))


def test_a_targets_rule_sends_with_a_role_that_may_only_put_events_on_the_central_bus() -> None:
    _, rule, role = _forwarding()
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert actions_of(trust) == {"sts:AssumeRole"}
    assert trust["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
                + rule["Name"]
            }
        },
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
    }
    (policy,) = role["Policies"]
    (send,) = statements(policy["PolicyDocument"])
    assert send["Effect"] == "Allow"
    assert actions_of(send) == {"events:PutEvents"}
    assert send["Resource"] == {"Ref": "CentralEventBusArn"}
    assert "Condition" not in send
    assert "ManagedPolicyArns" not in role


# --- the rule and queue in the emulator -------------------------------------------------------------------------


def _queue_attributes(properties: dict[str, Any]) -> dict[str, str]:
    """An ``AWS::SQS::Queue``'s properties as CreateQueue's attributes (same names, values as strings)."""
    return {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in properties.items()
        if key not in {"QueueName", "Tags"}
    }


def _create_rule_and_queue(boto: BotoFactory) -> str:
    """The template's queue, queue policy, rule and target through the APIs; returns the queue's URL."""
    template = load_template()
    resolve = Resolver(template, {})
    queue_name, queue = _queue()
    rule_name, rule = _rule()
    sqs = boto("sqs")
    url: str = sqs.create_queue(QueueName=queue["QueueName"], Attributes=_queue_attributes(queue))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue['QueueName']}"
    resolve.attributes[f"{queue_name}.Arn"] = arn

    events = boto("events")
    rule_arn = events.put_rule(
        Name=rule["Name"],
        EventPattern=json.dumps(rule["EventPattern"]),
        State=rule["State"],
        Description=rule["Description"],
        EventBusName=rule["EventBusName"],
    )["RuleArn"]
    resolve.attributes[f"{rule_name}.Arn"] = rule_arn
    failed = events.put_targets(
        Rule=rule["Name"], EventBusName=rule["EventBusName"], Targets=resolve(rule["Targets"])
    )
    assert failed["FailedEntryCount"] == 0, failed

    (policy,) = [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::SQS::QueuePolicy"
    ]
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps(resolve(policy["PolicyDocument"]))}
    )
    return url


def _cloudtrail_update_service() -> dict[str, Any]:
    """What CloudTrail puts on the default bus for ``aws ecs update-service --desired-count 0`` by a person."""
    source = "aws.ecs"
    event_source, calls = WRITE_CALLS[source]
    assert "UpdateService" in calls
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/alice"},
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": event_source,
        "eventName": "UpdateService",
        "awsRegion": REGION,
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"cluster": "apps", "service": "frontapp", "desiredCount": 0},
        "responseElements": None,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
    }
    return {"Source": source, "DetailType": CLOUDTRAIL, "Detail": json.dumps(detail)}


def _drain(boto: BotoFactory, url: str) -> list[dict[str, Any]]:
    sqs = boto("sqs")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
        "Messages", []
    )
    if received:
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)],
        )
    return [json.loads(m["Body"]) for m in received]


def test_a_cloudtrail_update_service_event_lands_in_the_queue(aws: str, boto: BotoFactory) -> None:
    url = _create_rule_and_queue(boto)
    events = boto("events")

    put = events.put_events(Entries=[_cloudtrail_update_service()])
    assert put["FailedEntryCount"] == 0, put
    (event,) = _drain(boto, url)
    assert (event["source"], event["detail-type"]) == ("aws.ecs", CLOUDTRAIL)
    assert event["detail"]["eventName"] == "UpdateService"
    assert event["detail"]["requestParameters"]["service"] == "frontapp"

    service_action = {
        "Source": "aws.ecs",
        "DetailType": ECS_SERVICE_EVENTS[0],
        "Detail": json.dumps({"eventType": "INFO", "eventName": "SERVICE_STEADY_STATE", "clusterArn": "x"}),
    }
    assert events.put_events(Entries=[service_action])["FailedEntryCount"] == 0
    (event,) = _drain(boto, url)
    assert event["detail-type"] == ECS_SERVICE_EVENTS[0]

    not_named = [
        {
            "Source": "aws.ecs",
            "DetailType": "ECS Task State Change",
            "Detail": json.dumps({"lastStatus": "STOPPED"}),
        },
        {
            "Source": "aws.s3",
            "DetailType": CLOUDTRAIL,
            "Detail": json.dumps({"eventName": "PutBucketPolicy"}),
        },
    ]
    assert events.put_events(Entries=not_named)["FailedEntryCount"] == 0
    assert _drain(boto, url) == []
