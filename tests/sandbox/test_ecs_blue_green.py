"""ECS blue/green, linear and canary deployments over HTTP (see patches/ecs_blue_green.py): the lifecycle stages,
the listener rules' weights at each step, the swap of the target group pair, hooks that fail, the circuit breaker,
StopServiceDeployment, and what CreateService/UpdateService refuse.

PAUSE hooks hold a deployment at a stage (until ContinueServiceDeployment), so that each stage's state is read
however slow the machine is; the stages without one are read by polling, with times long enough to be seen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.seed import create_events_queue
from tests.conftest import REGION, BotoFactory
from tests.sandbox.conftest import FargateEstate, poll
from tests.sandbox.test_cloudtrail import EventsQueue

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
HOOK_ROLE = "arn:aws:iam::123456789012:role/ecsLifecycleHooks"
PASSING = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test"
FAILING = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test-fail"
BREAKER_WITH_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}


@dataclass(frozen=True)
class Pair:
    """A service's ALB pieces for a blue/green deployment: two target groups, a production and a test rule."""

    fargate: FargateEstate
    elbv2: Any
    blue: str
    green: str
    production_rule: str
    test_rule: str

    def load_balancers(self, *, test_rule: bool = True) -> list[dict[str, Any]]:
        advanced = {
            "alternateTargetGroupArn": self.green,
            "productionListenerRule": self.production_rule,
            "roleArn": ROLE,
        }
        if test_rule:
            advanced["testListenerRule"] = self.test_rule
        return [
            {
                "targetGroupArn": self.blue,
                "containerName": "app",
                "containerPort": 8080,
                "advancedConfiguration": advanced,
            }
        ]

    def weights(self, rule: str | None = None) -> dict[str, int]:
        """The rule's forward weights by target group name (``blue``, ``green``); {} for a forward without them."""
        [found] = self.elbv2.describe_rules(RuleArns=[rule or self.production_rule])["Rules"]
        [action] = found["Actions"]
        groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
        return {group["TargetGroupArn"].split("/")[-2]: group["Weight"] for group in groups}

    def create(self, configuration: dict[str, Any], **request: Any) -> dict[str, Any]:
        return self.fargate.create_service(
            "frontapp", loadBalancers=self.load_balancers(), deploymentConfiguration=configuration, **request
        )

    def deploy(self, image: str = "nginx:2") -> str:
        """A new task definition revision for the service (UpdateService): the service deployment's ARN."""
        fargate = self.fargate
        fargate.ecs.update_service(
            cluster=fargate.cluster, service="frontapp", taskDefinition=fargate.register(image)
        )
        return self.latest()["serviceDeploymentArn"]

    def latest(self) -> dict[str, Any]:
        fargate = self.fargate
        answer = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")
        latest: dict[str, Any] = answer["serviceDeployments"][0]
        return latest

    def record(self, arn: str) -> dict[str, Any]:
        [found] = self.fargate.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ]
        return dict(found)

    def until(
        self, arn: str, check: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any]:
        return poll(lambda: self.record(arn), check, timeout=timeout, every=0.02)

    def paused(self, arn: str) -> tuple[str, str]:
        """Wait for the deployment to wait at a PAUSE hook: (its lifecycle stage, the hook's ID)."""
        record = self.until(
            arn,
            lambda r: (
                any(h["status"] == "AWAITING_ACTION" for h in r.get("lifecycleHookDetails", []))
                or r["status"] != "IN_PROGRESS"
            ),
        )
        assert record["status"] == "IN_PROGRESS", record
        [hook] = [h for h in record["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION"]
        assert hook["targetType"] == "PAUSE" and "targetArn" not in hook
        return record["lifecycleStage"], hook["hookId"]

    def go_on(self, arn: str, hook_id: str, action: str = "CONTINUE") -> None:
        self.fargate.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id, action=action)

    def finished(self, arn: str) -> dict[str, Any]:
        return self.until(
            arn, lambda r: r["status"] not in ("IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_REQUESTED")
        )


@pytest.fixture
def pair(fargate: FargateEstate, boto: BotoFactory, emulator: EmulatorProcess) -> Pair:
    emulator.set_timing(
        ecs_rollout=0.2,
        ecs_drain=0.2,
        ecs_task_failure=0.05,
        ecs_lifecycle_stage=0.1,
        ecs_deployment_minute=0.1,
    )
    ec2, elbv2 = boto("ec2"), boto("elbv2")
    vpc = ec2.describe_subnets(SubnetIds=[fargate.subnet])["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    balancer = elbv2.create_load_balancer(Name="frontapp", Subnets=[fargate.subnet, other["SubnetId"]])
    balancer_arn = balancer["LoadBalancers"][0]["LoadBalancerArn"]
    groups = [
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for name in ("blue", "green")
    ]
    not_found = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    rules = []
    for port in (80, 8080):
        listener = elbv2.create_listener(
            LoadBalancerArn=balancer_arn, Protocol="HTTP", Port=port, DefaultActions=not_found
        )["Listeners"][0]["ListenerArn"]
        forward = {
            "TargetGroups": [
                {"TargetGroupArn": groups[0], "Weight": 100},
                {"TargetGroupArn": groups[1], "Weight": 0},
            ]
        }
        rule = elbv2.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[{"Type": "forward", "ForwardConfig": forward}],
        )
        rules.append(rule["Rules"][0]["RuleArn"])
    return Pair(fargate, elbv2, groups[0], groups[1], rules[0], rules[1])


def pause_at(*stages: str) -> list[dict[str, Any]]:
    return [{"targetType": "PAUSE", "lifecycleStages": list(stages)}]


def deployments(pair: Pair) -> list[tuple[str, str, int]]:
    service = pair.fargate.describe_service("frontapp")
    return [(d["status"], d["rolloutState"], d["runningCount"]) for d in service["deployments"]]


def _error(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


# --- BLUE_GREEN -------------------------------------------------------------------------------------------------


def test_blue_green_goes_through_its_stages_and_swaps_the_pair(pair: Pair) -> None:
    stages = ["PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"]
    configuration = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "lifecycleHooks": pause_at(*stages)}
    pair.create(configuration)
    first = pair.latest()["serviceDeploymentArn"]
    for _ in stages:  # the first deployment, from the service's group (no tasks) to its alternate
        pair.go_on(first, pair.paused(first)[1])
    pair.finished(first)
    service = pair.fargate.settled("frontapp")
    [balancer] = service["loadBalancers"]
    assert balancer["targetGroupArn"] == pair.green
    assert balancer["advancedConfiguration"]["alternateTargetGroupArn"] == pair.blue
    assert pair.weights() == {"blue": 0, "green": 100}

    arn = pair.deploy()  # the second: from green (now primary) back to blue
    stage, hook = pair.paused(arn)
    assert stage == "PRE_SCALE_UP"
    assert deployments(pair) == [("PRIMARY", "IN_PROGRESS", 0), ("ACTIVE", "COMPLETED", 2)]
    pair.go_on(arn, hook)
    stage, hook = pair.paused(arn)
    assert stage == "POST_SCALE_UP"
    assert deployments(pair) == [("PRIMARY", "IN_PROGRESS", 2), ("ACTIVE", "COMPLETED", 2)]
    assert pair.weights(pair.test_rule) == {"blue": 0, "green": 100}  # as the first deployment left it
    pair.go_on(arn, hook)
    stage, hook = pair.paused(arn)
    assert stage == "POST_TEST_TRAFFIC_SHIFT"
    assert pair.weights(pair.test_rule) == {"green": 0, "blue": 100}  # [blue of this deployment, green]
    assert pair.weights() == {"green": 100, "blue": 0}
    record = pair.record(arn)
    assert record["targetServiceRevision"]["requestedTestTrafficWeight"] == 100.0
    assert record["targetServiceRevision"]["requestedProductionTrafficWeight"] == 0.0
    pair.go_on(arn, hook)
    stage, hook = pair.paused(arn)
    assert stage == "PRE_PRODUCTION_TRAFFIC_SHIFT"
    pair.go_on(arn, hook)
    baking = pair.until(arn, lambda r: r.get("lifecycleStage") == "BAKE_TIME")
    assert baking["status"] == "IN_PROGRESS"
    assert pair.weights() == {"green": 0, "blue": 100}
    assert deployments(pair) == [("PRIMARY", "IN_PROGRESS", 2), ("ACTIVE", "COMPLETED", 2)]
    assert baking["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert baking["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 0.0
    done = pair.finished(arn)
    assert (done["status"], done["lifecycleStage"]) == ("SUCCESSFUL", "CLEAN_UP")
    service = pair.fargate.settled("frontapp")
    assert [(d["status"], d["runningCount"]) for d in service["deployments"]] == [("PRIMARY", 2)]
    [balancer] = service["loadBalancers"]
    assert balancer["targetGroupArn"] == pair.blue
    assert balancer["advancedConfiguration"]["alternateTargetGroupArn"] == pair.green
    assert balancer["advancedConfiguration"]["productionListenerRule"] == pair.production_rule
    listed = pair.fargate.ecs.list_service_deployments(cluster=pair.fargate.cluster, service="frontapp")
    assert [d["status"] for d in listed["serviceDeployments"]] == ["SUCCESSFUL", "SUCCESSFUL"]


def test_the_bake_time_keeps_both_revisions_running(pair: Pair, emulator: EmulatorProcess) -> None:
    emulator.set_timing(ecs_deployment_minute=0.3)
    pair.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.finished(pair.latest()["serviceDeploymentArn"])
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster, service="frontapp", deploymentConfiguration={"bakeTimeInMinutes": 4}
    )
    arn = pair.deploy()
    pair.until(arn, lambda r: r.get("lifecycleStage") == "BAKE_TIME")
    started = time.monotonic()
    service = pair.fargate.describe_service("frontapp")
    assert [d["rolloutState"] for d in service["deployments"]] == ["IN_PROGRESS", "COMPLETED"]
    assert service["runningCount"] == 4
    pair.finished(arn)
    assert time.monotonic() - started >= 0.8  # 4 minutes of 0.3 s, less the time it took to see the stage


def test_a_first_blue_green_deployment_needs_a_bake_time(pair: Pair) -> None:
    with pytest.raises(ClientError) as raised:
        pair.create({"strategy": "BLUE_GREEN"})
    assert _error(raised) == "InvalidParameterException"


# --- LINEAR and CANARY -------------------------------------------------------------------------------------------


def test_linear_shifts_production_traffic_step_by_step(pair: Pair) -> None:
    configuration = {
        "strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 1},
        "lifecycleHooks": pause_at("PRE_PRODUCTION_TRAFFIC_SHIFT"),
    }
    pair.create(configuration)
    arn = pair.latest()["serviceDeploymentArn"]
    seen = []
    for _ in range(4):
        stage, hook = pair.paused(arn)
        assert stage == "PRE_PRODUCTION_TRAFFIC_SHIFT"
        seen.append(pair.weights())
        pair.go_on(arn, hook)
    assert pair.finished(arn)["status"] == "SUCCESSFUL"
    assert seen == [
        {"blue": 100, "green": 0},
        {"blue": 75, "green": 25},
        {"blue": 50, "green": 50},
        {"blue": 25, "green": 75},
    ]
    assert pair.weights() == {"blue": 0, "green": 100}


def test_canary_shifts_its_percentage_then_the_rest(pair: Pair, emulator: EmulatorProcess) -> None:
    emulator.set_timing(ecs_deployment_minute=0.2)
    configuration = {
        "strategy": "CANARY",
        "canaryConfiguration": {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 3},
        "lifecycleHooks": pause_at("PRE_PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"),
    }
    pair.create(configuration)
    arn = pair.latest()["serviceDeploymentArn"]
    stage, hook = pair.paused(arn)
    assert (stage, pair.weights()) == ("PRE_PRODUCTION_TRAFFIC_SHIFT", {"blue": 100, "green": 0})
    pair.go_on(arn, hook)
    started = time.monotonic()
    stage, hook = pair.paused(arn)
    assert time.monotonic() - started >= 0.5  # the canary bakes 3 minutes of 0.2 s
    assert (stage, pair.weights()) == ("PRE_PRODUCTION_TRAFFIC_SHIFT", {"blue": 875, "green": 125})
    assert pair.record(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 12.5
    pair.go_on(arn, hook)
    stage, hook = pair.paused(arn)
    assert (stage, pair.weights()) == ("POST_PRODUCTION_TRAFFIC_SHIFT", {"blue": 0, "green": 100})
    pair.go_on(arn, hook)
    assert pair.finished(arn)["status"] == "SUCCESSFUL"


# --- rolling back -------------------------------------------------------------------------------------------------


def settled_on(pair: Pair, configuration: dict[str, Any]) -> str:
    """The service created and its first deployment over; the service's task definition then."""
    pair.create(configuration)
    pair.finished(pair.latest()["serviceDeploymentArn"])
    task_definition: str = pair.fargate.settled("frontapp")["taskDefinition"]
    return task_definition


def test_a_failing_hook_rolls_back_to_blue(pair: Pair) -> None:
    hooks = [
        {"hookTargetArn": FAILING, "roleArn": HOOK_ROLE, "lifecycleStages": ["POST_PRODUCTION_TRAFFIC_SHIFT"]}
    ]
    first = settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster, service="frontapp", deploymentConfiguration={"lifecycleHooks": hooks}
    )
    arn = pair.deploy()
    rolling_back = pair.until(arn, lambda r: r["status"] != "IN_PROGRESS")
    assert rolling_back["status"] == "ROLLBACK_IN_PROGRESS"
    assert rolling_back["lifecycleStage"] == "POST_PRODUCTION_TRAFFIC_SHIFT"
    assert [h["status"] for h in rolling_back["lifecycleHookDetails"]] == ["FAILED"]
    assert (
        rolling_back["rollback"]["reason"]
        == "Service deployment rolled back because a lifecycle hook failed."
    )
    service = pair.fargate.describe_service("frontapp")
    assert service["taskDefinition"] == first
    [blue, green] = service["deployments"]
    assert (blue["status"], blue["rolloutState"], blue["taskDefinition"]) == ("PRIMARY", "COMPLETED", first)
    assert (green["status"], green["rolloutState"]) == ("ACTIVE", "FAILED")
    assert "lifecycle hook" in green["rolloutStateReason"]
    done = pair.finished(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert pair.weights() == {"green": 100, "blue": 0}  # production back on this deployment's blue: "green"
    assert pair.weights(pair.test_rule) == {"green": 100, "blue": 0}
    service = pair.fargate.describe_service("frontapp")
    assert [(d["status"], d["taskDefinition"]) for d in service["deployments"]] == [("PRIMARY", first)]
    assert service["loadBalancers"][0]["targetGroupArn"] == pair.green  # no swap
    messages = [event["message"] for event in service["events"]]
    assert any("rolling back to deployment" in message for message in messages)


def test_a_crash_looping_green_revision_trips_the_breaker_and_rolls_back(pair: Pair) -> None:
    first = settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0, **BREAKER_WITH_ROLLBACK})
    arn = pair.deploy(image="crashloop:1")
    done = pair.finished(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert done["lifecycleStage"] == "SCALE_UP"
    assert done["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert pair.weights() == {"green": 100, "blue": 0}  # production never moved
    service = pair.fargate.describe_service("frontapp")
    assert service["taskDefinition"] == first
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]


def test_a_crash_looping_green_revision_without_the_breaker_stays_in_scale_up(pair: Pair) -> None:
    settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    arn = pair.deploy(image="crashloop:1")
    record = pair.until(arn, lambda r: r["deploymentCircuitBreaker"]["failureCount"] >= 4)
    assert (record["status"], record["lifecycleStage"]) == ("IN_PROGRESS", "SCALE_UP")
    assert deployments(pair) == [("PRIMARY", "IN_PROGRESS", 0), ("ACTIVE", "COMPLETED", 2)]


def test_stop_service_deployment_rolls_back_the_traffic_it_moved(
    pair: Pair, emulator: EmulatorProcess
) -> None:
    first = settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster,
        service="frontapp",
        deploymentConfiguration={"lifecycleHooks": pause_at("POST_TEST_TRAFFIC_SHIFT")},
    )
    arn = pair.deploy()
    pair.paused(arn)
    assert pair.weights(pair.test_rule) == {"green": 0, "blue": 100}
    # the rollback's first step waits a lifecycle stage: long enough that a loaded machine still reads the request
    emulator.set_timing(ecs_lifecycle_stage=2.0)
    answer = pair.fargate.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert answer["serviceDeploymentArn"] == arn
    assert pair.record(arn)["status"] == "ROLLBACK_REQUESTED"
    again = pair.fargate.ecs.stop_service_deployment(serviceDeploymentArn=arn)  # goes on rolling back
    assert again["serviceDeploymentArn"] == arn
    assert pair.finished(arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert pair.weights(pair.test_rule) == {"green": 100, "blue": 0}
    assert pair.fargate.describe_service("frontapp")["taskDefinition"] == first
    with pytest.raises(ClientError) as raised:
        pair.fargate.ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert _error(raised) == "ConflictException"


def test_a_pause_hook_told_to_roll_back_rolls_back(pair: Pair) -> None:
    settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster,
        service="frontapp",
        deploymentConfiguration={"lifecycleHooks": pause_at("POST_PRODUCTION_TRAFFIC_SHIFT")},
    )
    arn = pair.deploy()
    _, hook = pair.paused(arn)
    assert pair.weights() == {"green": 0, "blue": 100}
    pair.go_on(arn, hook, action="ROLLBACK")
    assert pair.finished(arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert pair.weights() == {"green": 100, "blue": 0}
    with pytest.raises(ClientError) as raised:
        pair.go_on(arn, hook)
    assert _error(raised) == "InvalidParameterException"


def test_a_pause_hook_times_out_into_a_rollback(pair: Pair) -> None:
    settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    hooks = [
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["PRE_SCALE_UP"],
            "timeoutConfiguration": {"timeoutInMinutes": 2},
        }
    ]
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster, service="frontapp", deploymentConfiguration={"lifecycleHooks": hooks}
    )
    arn = pair.deploy()
    done = pair.finished(arn)
    assert done["status"] == "ROLLBACK_SUCCESSFUL"
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["TIMED_OUT"]


def test_stop_service_deployment_of_a_rolling_deployment_rolls_it_back(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    first = fargate.settled("frontapp")["taskDefinition"]
    fargate.ecs.update_service(
        cluster=fargate.cluster, service="frontapp", taskDefinition=fargate.register("crashloop:1")
    )
    listed = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")
    arn = listed["serviceDeployments"][0]["serviceDeploymentArn"]
    fargate.ecs.stop_service_deployment(serviceDeploymentArn=arn)
    service = fargate.settled("frontapp")
    assert service["taskDefinition"] == first
    [record] = fargate.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    assert record["status"] == "ROLLBACK_SUCCESSFUL"
    assert record["rollback"]["reason"] == "Service deployment rolled back because a rollback was requested."


def test_stop_service_deployment_of_an_unknown_deployment_fails(fargate: FargateEstate) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/myapp-prod/frontapp/nope"
    with pytest.raises(ClientError) as raised:
        fargate.ecs.stop_service_deployment(serviceDeploymentArn=arn)
    assert _error(raised) == "ServiceDeploymentNotFoundException"


# --- CloudTrail ---------------------------------------------------------------------------------------------------


def test_ecs_rule_writes_are_cloudtrail_events_of_ecs_with_the_infrastructure_role(
    pair: Pair, boto: BotoFactory, aws: str
) -> None:
    events = EventsQueue(
        sqs=boto("sqs"), url=asyncio.run(create_events_queue(endpoint_url=aws, region=REGION))
    )
    events.receive()
    pair.create({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.finished(pair.latest()["serviceDeploymentArn"])
    modified = [e["detail"] for e in events.receive() if e["detail"]["eventName"] == "ModifyRule"]
    assert [d["requestParameters"]["ruleArn"] for d in modified] == [pair.test_rule, pair.production_rule]
    detail = modified[-1]
    identity = detail["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["invokedBy"] == "ecs.amazonaws.com"
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == ROLE
    assert detail["userAgent"] == detail["sourceIPAddress"] == "ecs.amazonaws.com"
    [action] = detail["requestParameters"]["actions"]
    weights = [group["weight"] for group in action["forwardConfig"]["targetGroups"]]
    assert (action["type"], weights) == ("forward", [0, 100])


# --- what CreateService and UpdateService refuse ------------------------------------------------------------------


@pytest.mark.parametrize(
    "configuration",
    [
        {"strategy": "PURPLE"},
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441},
        {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5, "linearConfiguration": {"stepPercent": 10.0}},
        {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}},
        {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.05}},
        {"strategy": "LINEAR", "linearConfiguration": {"stepBakeTimeInMinutes": 1441}},
        {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.0}},
        {"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 101.0}},
        {
            "strategy": "LINEAR",
            "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}],
        },
        {"strategy": "LINEAR", "lifecycleHooks": [{"lifecycleStages": ["POST_SCALE_UP"]}]},
        {
            "strategy": "LINEAR",
            "lifecycleHooks": [{"hookTargetArn": PASSING, "lifecycleStages": ["SCALE_UP"]}],
        },
        {"strategy": "LINEAR", "lifecycleHooks": [{"hookTargetArn": PASSING, "lifecycleStages": []}]},
        {
            "strategy": "LINEAR",
            "lifecycleHooks": [
                {
                    "targetType": "PAUSE",
                    "lifecycleStages": ["PRE_SCALE_UP"],
                    "timeoutConfiguration": {"timeoutInMinutes": 20161},
                }
            ],
        },
    ],
)
def test_create_service_refuses_what_aws_refuses(pair: Pair, configuration: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as raised:
        pair.create(configuration)
    assert _error(raised) == "InvalidParameterException"


def test_traffic_shifting_needs_the_ecs_deployment_controller(pair: Pair) -> None:
    with pytest.raises(ClientError) as raised:
        pair.fargate.create_service(
            "frontapp",
            deploymentController={"type": "CODE_DEPLOY"},
            deploymentConfiguration={"strategy": "CANARY"},
        )
    assert _error(raised) == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        pair.fargate.create_service(
            "frontapp", deploymentController={"type": "EXTERNAL"}, loadBalancers=pair.load_balancers()
        )
    assert _error(raised) == "InvalidParameterException"


@pytest.mark.parametrize("missing", ["alternateTargetGroupArn", "productionListenerRule", "roleArn"])
def test_an_advanced_configuration_needs_its_pair_rule_and_role(pair: Pair, missing: str) -> None:
    [balancer] = pair.load_balancers()
    del balancer["advancedConfiguration"][missing]
    with pytest.raises(ClientError) as raised:
        pair.fargate.create_service("frontapp", loadBalancers=[balancer])
    assert _error(raised) == "InvalidParameterException"


def test_update_service_checks_the_configuration_it_makes(pair: Pair) -> None:
    pair.create({"strategy": "LINEAR"})
    with pytest.raises(ClientError) as raised:
        pair.fargate.ecs.update_service(
            cluster=pair.fargate.cluster,
            service="frontapp",
            deploymentConfiguration={"canaryConfiguration": {"canaryPercent": 5.0}},
        )
    assert _error(raised) == "InvalidParameterException"
    with pytest.raises(ClientError) as raised:
        pair.fargate.ecs.update_service(
            cluster=pair.fargate.cluster,
            service="frontapp",
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
        )
    assert _error(raised) == "InvalidParameterException"


def test_describe_services_keeps_the_configuration_as_sent(pair: Pair) -> None:
    hooks = [
        {
            "hookTargetArn": PASSING,
            "roleArn": HOOK_ROLE,
            "lifecycleStages": ["POST_SCALE_UP"],
            "hookDetails": {"a": 1},
        }
    ]
    configuration = {
        "strategy": "LINEAR",
        "bakeTimeInMinutes": 3,
        "linearConfiguration": {"stepPercent": 20.0, "stepBakeTimeInMinutes": 2},
        "lifecycleHooks": hooks,
    }
    service = pair.create(configuration)
    kept = service["deploymentConfiguration"]
    assert {key: kept[key] for key in configuration} == configuration
    assert service["loadBalancers"] == pair.load_balancers()
    record = pair.record(pair.latest()["serviceDeploymentArn"])
    assert record["deploymentConfiguration"]["strategy"] == "LINEAR"


def test_a_deployment_started_during_another_reconciles_first(pair: Pair) -> None:
    settled_on(pair, {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    pair.fargate.ecs.update_service(
        cluster=pair.fargate.cluster,
        service="frontapp",
        deploymentConfiguration={"lifecycleHooks": pause_at("POST_TEST_TRAFFIC_SHIFT", "RECONCILE_SERVICE")},
    )
    superseded = pair.deploy()
    pair.paused(superseded)
    assert pair.weights(pair.test_rule) == {"green": 0, "blue": 100}
    arn = pair.deploy(image="nginx:3")
    assert pair.record(superseded)["status"] == "STOPPED"
    stage, hook = pair.paused(arn)
    assert stage == "RECONCILE_SERVICE"
    assert pair.weights(pair.test_rule) == {"green": 100, "blue": 0}  # back on the last completed revision
    pair.go_on(arn, hook)
    stage, hook = pair.paused(arn)
    assert stage == "POST_TEST_TRAFFIC_SHIFT"
    assert [d["status"] for d in pair.fargate.describe_service("frontapp")["deployments"]] == [
        "PRIMARY",
        "ACTIVE",
    ]
    pair.go_on(arn, hook)
    assert pair.finished(arn)["status"] == "SUCCESSFUL"
    assert pair.weights() == {"green": 0, "blue": 100}
