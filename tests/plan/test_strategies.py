"""A service that ECS deploys itself, blue/green, linear or canary (``deploymentConfiguration.strategy``), table-wise
on live snapshots in the shapes AWS returns: DescribeServices with ``advancedConfiguration`` and ``deployments``,
DescribeRules' weighted ``ForwardConfig``. Pure."""

from __future__ import annotations

import copy
from typing import Any

from reconciler.model.ecs import canonical_service, service_update_value
from reconciler.model.live import LiveEntry, LiveState
from reconciler.model.ownership import DELETION_POLICY_TAG, INSTANCE_TAG, NAME_TAG, SPEC_HASH_TAG
from reconciler.model.references import resolve
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.plan.entries import reference_arns
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.targets import ScopeIndex
from reconciler.plan.types import Plan
from tests.plan.test_planner import ACCOUNT, SERVICE_SPEC, TASK_SPEC, resource, tags

ELB = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
BLUE = f"{ELB}:targetgroup/web-tg/0a1b2c3d4e5f6a7b"
GREEN = f"{ELB}:targetgroup/web-tg-green/1b2c3d4e5f6a7b8c"
PROD_LISTENER = f"{ELB}:listener/app/web-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"
TEST_LISTENER = f"{ELB}:listener/app/web-alb/50dc6c495c0c9188/0e8f8ef37cf3b2a9"
PROD_RULE = f"{ELB}:listener-rule/app/web-alb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
TEST_RULE = f"{ELB}:listener-rule/app/web-alb/50dc6c495c0c9188/0e8f8ef37cf3b2a9/3d3e7d6bb1f7e3a4"
ROLE = "arn:aws:iam::123456789012:role/ecs-infrastructure"
TD_ARN = f"{ACCOUNT}:task-definition/web:1"

BALANCER = {
    "targetGroupArn": "web-tg",
    "containerName": "app",
    "containerPort": 80,
    "advancedConfiguration": {
        "alternateTargetGroupArn": "web-tg-green",
        "productionListenerRule": "web-prod",
        "testListenerRule": "web-test",
        "roleArn": "ecs-infrastructure",
    },
}
BG_SERVICE_SPEC: dict[str, Any] = {
    **SERVICE_SPEC,
    "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
    "loadBalancers": [BALANCER],
}
TG_SPEC: dict[str, Any] = {"Protocol": "HTTP", "Port": 80, "VpcId": "vpc-1", "TargetType": "ip"}


def rule_spec(listener: str, priority: int, blue: int = 100, green: int = 0) -> dict[str, Any]:
    return {
        "ListenerArn": listener,
        "Priority": priority,
        "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
        "Actions": [
            {"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "web-tg", "Weight": blue}, {"TargetGroupArn": "web-tg-green", "Weight": green},
            ]}}
        ],
    }  # fmt: skip


def bg_desired(strategy: str = "BLUE_GREEN", **service: Any) -> DesiredState:
    spec = copy.deepcopy(BG_SERVICE_SPEC)
    spec["deploymentConfiguration"]["strategy"] = strategy
    spec.update(service)
    return DesiredState(
        revision="r1",
        resources=(
            resource("Cluster", "demo", {}),
            resource("TaskDefinition", "web", TASK_SPEC),
            resource("TargetGroup", "web-tg", TG_SPEC),
            resource("TargetGroup", "web-tg-green", TG_SPEC),
            resource("ListenerRule", "web-prod", rule_spec(PROD_LISTENER, 10)),
            resource("ListenerRule", "web-test", rule_spec(TEST_LISTENER, 10)),
            resource("Service", "web", spec),
        ),
    )


def _hashes(desired: DesiredState) -> dict[ResourceKey, str]:
    plan = make_plan(desired, LiveState(families_read={"web"}), PlanOptions())
    return {change.key: change.spec_hash for change in plan.changes}


def _entry_tags(name: str, spec_hash: str) -> dict[str, str]:
    return {INSTANCE_TAG: "default", SPEC_HASH_TAG: spec_hash, DELETION_POLICY_TAG: "Retain", NAME_TAG: name}


def live_rule(arn: str, listener: str, primary: str, *, weight: int = 100) -> dict[str, Any]:
    """A rule as DescribeRules answers it (with the ``ListenerArn`` the reader adds): two weighted groups."""
    other = GREEN if primary == BLUE else BLUE
    return {
        "RuleArn": arn,
        "Priority": "10",
        "Conditions": [{"Field": "path-pattern", "Values": ["/*"], "PathPatternConfig": {"Values": ["/*"]}}],
        "Actions": [
            {"Type": "forward", "Order": 1, "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": primary, "Weight": weight},
                                 {"TargetGroupArn": other, "Weight": 100 - weight}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            }}
        ],
        "IsDefault": False,
        "ListenerArn": listener,
    }  # fmt: skip


def deployment(status: str, rollout: str, ident: str = "ecs-svc/1111111111111111111") -> dict[str, Any]:
    return {
        "id": ident, "status": status, "taskDefinition": TD_ARN, "desiredCount": 2, "pendingCount": 0,
        "runningCount": 2, "failedTasks": 0, "launchType": "FARGATE", "platformVersion": "1.4.0",
        "rolloutState": rollout,
    }  # fmt: skip


def bg_live(desired: DesiredState, *, primary: str = BLUE, test_primary: str | None = None) -> LiveState:
    """What AWS holds once ECS has settled a blue/green service whose live primary target group is ``primary``."""
    h = _hashes(desired)
    alternate = GREEN if primary == BLUE else BLUE
    service_doc = desired.get("Service", "web")
    assert service_doc is not None
    service: dict[str, Any] = {
        **copy.deepcopy(SERVICE_SPEC),
        "serviceName": "web",
        "serviceArn": f"{ACCOUNT}:service/demo/web",
        "status": "ACTIVE",
        "taskDefinition": TD_ARN,
        "platformVersion": "LATEST",
        "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": False, "rollback": False},
            "maximumPercent": 200, "minimumHealthyPercent": 100,
            **copy.deepcopy(service_doc.spec["deploymentConfiguration"]),
        },
        "loadBalancers": [{
            "targetGroupArn": primary, "containerName": "app", "containerPort": 80,
            "advancedConfiguration": {"alternateTargetGroupArn": alternate, "productionListenerRule": PROD_RULE,
                                      "testListenerRule": TEST_RULE, "roleArn": ROLE},
        }],
        "deployments": [deployment("PRIMARY", "COMPLETED")],
        "tags": tags("default", h[ResourceKey("Service", "web")]),
    }  # fmt: skip
    task = {
        **copy.deepcopy(TASK_SPEC),
        "family": "web",
        "revision": 1,
        "status": "ACTIVE",
        "taskDefinitionArn": TD_ARN,
    }
    task["tags"] = tags("default", h[ResourceKey("TaskDefinition", "web")])
    cluster = {"clusterName": "demo", "status": "ACTIVE", "clusterArn": f"{ACCOUNT}:cluster/demo"}
    cluster["tags"] = tags("default", h[ResourceKey("Cluster", "demo")])
    live = LiveState(
        clusters={"demo": cluster}, services={("demo", "web"): service}, task_definitions={TD_ARN: task}
    )
    for name, arn in (("web-tg", BLUE), ("web-tg-green", GREEN)):
        spec = {**TG_SPEC, "TargetGroupArn": arn, "TargetGroupName": name, "HealthCheckPath": "/"}
        key = ResourceKey("TargetGroup", name)
        live.entries_of("TargetGroup")[name] = LiveEntry(name, arn, spec, _entry_tags(name, h[key]))
    for name, arn, listener, serving in (
        ("web-prod", PROD_RULE, PROD_LISTENER, primary),
        ("web-test", TEST_RULE, TEST_LISTENER, test_primary or primary),
    ):
        entry = LiveEntry(
            name,
            arn,
            live_rule(arn, listener, serving),
            _entry_tags(name, h[ResourceKey("ListenerRule", name)]),
            parent=listener,
        )
        live.entries_of("ListenerRule")[name] = entry
    return live


def plan_of(desired: DesiredState, live: LiveState, *, targeted: bool = False) -> Plan:
    return make_plan(desired, live, PlanOptions(), targeted=targeted)


# --- References --------------------------------------------------------------------------------------------


def test_the_pair_and_the_rules_resolve_to_the_arns_aws_holds() -> None:
    desired = bg_desired()
    service = desired.get("Service", "web")
    assert service is not None
    [balancer] = resolve(service, reference_arns(desired, bg_live(desired)))["loadBalancers"]
    assert balancer["targetGroupArn"] == BLUE
    assert balancer["advancedConfiguration"] == {
        "alternateTargetGroupArn": GREEN, "productionListenerRule": PROD_RULE, "testListenerRule": TEST_RULE,
        "roleArn": "ecs-infrastructure",  # a role is sent as written, as every role field
    }  # fmt: skip


def test_a_new_service_is_created_after_its_rules_and_its_alternate_target_group() -> None:
    plan = plan_of(bg_desired(), LiveState(families_read={"web"}))
    service = next(change for change in plan.changes if change.kind == "Service")
    assert {
        ResourceKey("TargetGroup", "web-tg-green"), ResourceKey("ListenerRule", "web-prod"),
        ResourceKey("ListenerRule", "web-test"),
    } <= set(service.depends_on)  # fmt: skip
    order = [change.key for change in plan.changes]
    assert order.index(ResourceKey("Service", "web")) > order.index(ResourceKey("ListenerRule", "web-test"))


def test_a_targeted_pass_on_a_rule_finds_the_service_and_the_other_way_round() -> None:
    index = ScopeIndex(bg_desired())
    from_rule = index.scope({ResourceKey("ListenerRule", "web-test")})
    from_service = index.scope({ResourceKey("Service", "web")})
    assert from_rule is not None and from_service is not None
    assert ResourceKey("Service", "web") in from_rule
    assert {
        ResourceKey("ListenerRule", "web-test"),
        ResourceKey("TargetGroup", "web-tg-green"),
    } <= from_service


def test_a_role_by_name_and_by_arn_compare_equal_and_the_document_s_is_sent() -> None:
    hook = {
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
        "lifecycleStages": ["PRE_SCALE_UP"],
    }
    written = {
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN",
            "lifecycleHooks": [{**hook, "roleArn": "hooks"}],
        },
        "loadBalancers": [
            {"targetGroupArn": BLUE, "advancedConfiguration": {"roleArn": "ecs-infrastructure"}}
        ],
    }
    described = {
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN", "lifecycleHooks": [{**hook, "roleArn": "arn:aws:iam::123456789012:role/hooks"}]
        },
        "loadBalancers": [{"targetGroupArn": BLUE, "advancedConfiguration": {"roleArn": ROLE}}],
    }  # fmt: skip
    assert canonical_service(written) == canonical_service(described)
    sent = service_update_value(written, "deploymentConfiguration")
    assert sent["lifecycleHooks"][0]["roleArn"] == "hooks"
