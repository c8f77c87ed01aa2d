"""A service that ECS deploys itself, blue/green, linear or canary (``deploymentConfiguration.strategy``), table-wise
on live snapshots in the shapes AWS returns: DescribeServices with ``advancedConfiguration`` and ``deployments``,
DescribeRules' weighted ``ForwardConfig``. Pure."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.apply.ecs import service_update_request
from reconciler.model.ecs import canonical_service, service_update_value
from reconciler.model.live import FailedRollout, LiveEntry, LiveState
from reconciler.model.ownership import DELETION_POLICY_TAG, INSTANCE_TAG, NAME_TAG, SPEC_HASH_TAG
from reconciler.model.references import resolve
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.model.strategies import with_role_arns
from reconciler.plan.entries import reference_arns
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.targets import ScopeIndex, subset
from reconciler.plan.types import Change, Plan
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
TG_SPEC: dict[str, Any] = {
    "Protocol": "HTTP",
    "Port": 80,
    "VpcId": "vpc-1",
    "TargetType": "ip",
    "HealthCheckPath": "/",
}


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
        spec = {**TG_SPEC, "TargetGroupArn": arn, "TargetGroupName": name}
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


# --- Who owns what --------------------------------------------------------------------------------------------

ECS_ROWS = {
    (
        "Service",
        "web",
        "loadBalancers[].targetGroupArn, loadBalancers[].advancedConfiguration.alternateTargetGroupArn",
    ),
    ("ListenerRule", "web-prod", "Actions[].ForwardConfig.TargetGroups[].Weight"),
    ("ListenerRule", "web-test", "Actions[].ForwardConfig.TargetGroups[].Weight"),
}


def changes(plan: Plan) -> list[tuple[str, str, str, str]]:
    return [(c.kind, c.name, c.action.value, c.cause.value) for c in plan.reported_changes]


def rule(plan: Plan, name: str = "web-prod") -> Change:
    return next(c for c in plan.changes if c.key == ResourceKey("ListenerRule", name))


def written_weights(change: Change, desired: DesiredState, live: LiveState) -> dict[str, int]:
    """The weights the writer sends for ``change``: the document's, names resolved, or the settled ones."""
    document = desired.get(change.kind, change.name)
    assert document is not None
    actions = {**resolve(document, reference_arns(desired, live)), **change.settled}["Actions"]
    return {g["TargetGroupArn"]: g["Weight"] for g in actions[0]["ForwardConfig"]["TargetGroups"]}


def hand_weights(live: LiveState, name: str, blue: int, green: int) -> None:
    groups = live.entries_of("ListenerRule")[name].spec["Actions"][0]["ForwardConfig"]["TargetGroups"]
    for group in groups:
        group["Weight"] = blue if group["TargetGroupArn"] == BLUE else green


@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
@pytest.mark.parametrize("primary", [BLUE, GREEN])
def test_either_orientation_of_the_pair_is_in_sync_and_left_to_ecs(strategy: str, primary: str) -> None:
    """After each deployment ECS serves from the other target group and moves both rules onto it: not drift (the
    reconciler used to plan Weight 0 → 100 back onto the drained group, and its own ModifyRule's event reverted
    ECS at once)."""
    desired = bg_desired(strategy)
    plan = plan_of(desired, bg_live(desired, primary=primary))
    assert changes(plan) == []
    assert {(o.kind, o.name, o.path) for o in plan.owned if o.owner == "ECS"} == ECS_ROWS


def test_a_rolling_service_leaves_nothing_to_ecs() -> None:
    desired = bg_desired("ROLLING")
    plan = plan_of(desired, bg_live(desired))
    assert not [o for o in plan.owned if o.owner == "ECS"]


# --- The production rule's settled weights ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("primary", "blue", "green"),
    [
        (BLUE, 50, 50),  # a hand edit that moves production traffic
        (BLUE, 0, 100),
        (GREEN, 100, 0),  # equal to the document as written, but onto the target group ECS drained
        (GREEN, 20, 80),
    ],
)
def test_production_traffic_moved_by_hand_goes_back_to_the_live_primary(
    primary: str, blue: int, green: int
) -> None:
    desired = bg_desired()
    live = bg_live(desired, primary=primary)
    hand_weights(live, "web-prod", blue, green)
    plan = plan_of(desired, live)
    assert changes(plan) == [("ListenerRule", "web-prod", "update", "drift")]
    corrected = rule(plan)
    assert written_weights(corrected, desired, live) == {
        primary: 100,
        (GREEN if primary == BLUE else BLUE): 0,
    }
    assert all(d.path.startswith("Actions[0].ForwardConfig.TargetGroups[") for d in corrected.diff)
    assert {d.desired for d in corrected.diff if d.path.endswith("Weight")} <= {0, 100}


def test_a_production_rule_forwarding_elsewhere_keeps_the_documents_target() -> None:
    """Only weights across the pair are ECS's: a forward moved out of the pair is drift to the document."""
    desired = bg_desired()
    live = bg_live(desired)
    live.entries_of("ListenerRule")["web-prod"].spec["Actions"] = [
        {"Type": "fixed-response", "Order": 1, "FixedResponseConfig": {"StatusCode": "503"}}
    ]
    corrected = rule(plan_of(desired, live))
    assert corrected.cause.value == "drift"
    assert written_weights(corrected, desired, live) == {BLUE: 100, GREEN: 0}


@pytest.mark.parametrize(("blue", "green"), [(0, 100), (30, 70), (100, 0)])
def test_the_test_rule_weights_are_ecs_s_at_any_value_across_the_pair(blue: int, green: int) -> None:
    desired = bg_desired()
    live = bg_live(desired)
    hand_weights(live, "web-test", blue, green)
    assert changes(plan_of(desired, live)) == []


def test_a_new_production_rule_is_created_at_the_settled_weights() -> None:
    desired = bg_desired()
    live = bg_live(desired, primary=GREEN)
    del live.entries_of("ListenerRule")["web-prod"]  # deleted by hand: AWS keeps no trace
    created = rule(plan_of(desired, live))
    assert created.action.value == "create"
    assert written_weights(created, desired, live) == {GREEN: 100, BLUE: 0}


# --- Deployments ------------------------------------------------------------------------------------------------

IN_PROGRESS = [deployment("PRIMARY", "IN_PROGRESS", "ecs-svc/2222222222222222222")]
BAKING = [
    deployment("PRIMARY", "COMPLETED", "ecs-svc/2222222222222222222"),
    deployment("ACTIVE", "COMPLETED"),
]
NOT_REPORTED = [{**deployment("PRIMARY", "COMPLETED"), "rolloutState": None}]


def deploying(deployments: list[dict[str, Any]], *, primary: str = BLUE) -> tuple[DesiredState, LiveState]:
    desired = bg_desired()
    live = bg_live(desired, primary=primary)
    live.services[("demo", "web")]["deployments"] = copy.deepcopy(deployments)
    return desired, live


@pytest.mark.parametrize(
    "deployments", [IN_PROGRESS, BAKING, NOT_REPORTED], ids=["rolling", "baking", "unknown"]
)
def test_nothing_of_the_service_its_rules_or_its_pair_is_corrected_while_ecs_deploys(
    deployments: list[dict[str, Any]],
) -> None:
    desired, live = deploying(deployments)
    hand_weights(live, "web-prod", 40, 60)  # ECS shifting: not even drift
    hand_weights(live, "web-test", 0, 100)
    assert changes(plan_of(desired, live)) == []
    live.services[("demo", "web")]["desiredCount"] = 5  # drift of each: held, and the plan says why
    live.entries_of("ListenerRule")["web-prod"].spec["Conditions"][0]["Values"] = ["/other/*"]
    live.entries_of("TargetGroup")["web-tg-green"].spec["HealthCheckPath"] = "/nowhere"
    plan = plan_of(desired, live)
    assert {c.key.kind for c in plan.changes} == {"Service", "ListenerRule", "TargetGroup"}
    for change in plan.changes:
        assert "is in progress" in change.held and "nothing of it is corrected until it ends" in change.held
    assert not [c for c in plan.changes if c.writes]


def test_a_git_change_during_a_deployment_is_one_updateservice() -> None:
    desired, live = deploying(IN_PROGRESS, primary=GREEN)
    spec = copy.deepcopy(BG_SERVICE_SPEC)
    spec["desiredCount"] = 4
    changed = DesiredState(
        revision="r2",
        resources=tuple(resource("Service", "web", spec) if r.kind == "Service" else r for r in desired),
    )
    plan = plan_of(changed, live)
    assert changes(plan) == [("Service", "web", "update", "desired")]
    [service] = plan.changes
    assert service.writes and service.changed_fields == {"desiredCount"}


def test_a_git_change_to_a_rule_s_actions_waits_for_the_deployment_and_other_fields_do_not() -> None:
    desired, live = deploying(IN_PROGRESS)
    prod = desired.get("ListenerRule", "web-prod")
    assert prod is not None
    actions = copy.deepcopy(prod.spec["Actions"])
    actions[0]["ForwardConfig"]["TargetGroupStickinessConfig"] = {"Enabled": True, "DurationSeconds": 60}
    for update, held in (({"Actions": actions}, True), ({"Priority": 11}, False)):
        edited = resource("ListenerRule", "web-prod", {**prod.spec, **update})
        changed = DesiredState(
            revision="r2", resources=tuple(edited if r.key == prod.key else r for r in desired)
        )
        planned = rule(plan_of(changed, live))
        assert planned.cause.value == "desired"
        assert ("ECS is moving traffic on this rule" in planned.held) is held


def test_a_deployment_that_failed_without_a_rollback_is_reported_and_holds() -> None:
    desired, live = deploying([deployment("PRIMARY", "FAILED", "ecs-svc/3333333333333333333")])
    live.services[("demo", "web")]["desiredCount"] = 5
    [service] = plan_of(desired, live).changes
    assert service.deployment_failed == "ecs-svc/3333333333333333333"
    assert "failed and was not rolled back" in service.held


def test_a_revision_ecs_rolled_back_is_reported_and_not_deployed_again() -> None:
    """Alarms, a failed hook, StopServiceDeployment: ECS rolls back, the service runs the old revision again, and
    ListServiceDeployments says so. Held as any rolled-back deployment, until Git changes."""
    desired = bg_desired()
    live = bg_live(desired)
    new = f"{ACCOUNT}:task-definition/web:2"
    live.services[("demo", "web")]["taskDefinition"] = new  # the document's revision is 2...
    live.task_definitions[new] = {**live.task_definitions[TD_ARN], "taskDefinitionArn": new, "revision": 2}
    live.task_definitions[TD_ARN]["containerDefinitions"] = [{"name": "app", "image": "web:0"}]
    live.services[("demo", "web")]["taskDefinition"] = TD_ARN  # ... but ECS rolled back to 1
    plan = plan_of(desired, live)
    assert plan.rollouts_to_read == [("demo", "web")]  # the history is read first
    live.failed_rollouts[("demo", "web")] = [
        FailedRollout(
            f"{ACCOUNT}:service-deployment/demo/web/ecs-svc-9", "ROLLBACK_SUCCESSFUL", new, "hook failed"
        )
    ]
    service = next(c for c in plan_of(desired, live).changes if c.kind == "Service")
    assert service.deployment_failed == "ecs-svc-9" and "not deployed again until Git changes" in service.held


# --- What is written ----------------------------------------------------------------------------------------------


def test_a_git_change_to_the_load_balancers_sends_the_pair_as_ecs_serves_it() -> None:
    desired, live = bg_desired(), None
    live = bg_live(desired, primary=GREEN)
    spec = copy.deepcopy(BG_SERVICE_SPEC)
    spec["loadBalancers"][0]["containerPort"] = 8080
    changed = DesiredState(
        revision="r2",
        resources=tuple(resource("Service", "web", spec) if r.kind == "Service" else r for r in desired),
    )
    [service] = plan_of(changed, live).changes
    assert service.changed_fields == {"loadBalancers"}
    [sent] = service_update_request(service, {**spec, **service.settled})["loadBalancers"]
    assert sent["targetGroupArn"] == GREEN and sent["containerPort"] == 8080
    assert sent["advancedConfiguration"]["alternateTargetGroupArn"] == BLUE


def test_a_targeted_pass_on_an_event_of_ecs_s_own_modifyrule_changes_nothing() -> None:
    desired = bg_desired()
    live = bg_live(desired, primary=GREEN)
    scope = ScopeIndex(desired).scope({ResourceKey("ListenerRule", "web-prod")})
    assert scope is not None
    assert changes(plan_of(subset(desired, scope), live, targeted=True)) == []


TG_ARN = "arn:aws-cn:elasticloadbalancing:cn-north-1:210987654321:targetgroup/green/0123456789abcdef"
HOOK_ARN = "arn:aws:lambda:us-east-1:123456789012:function:check-green"


@pytest.mark.parametrize(
    ("role", "sibling", "expected"),
    [
        ("ecs-traffic", TG_ARN, "arn:aws-cn:iam::210987654321:role/ecs-traffic"),
        ("arn:aws:iam::111122223333:role/x/ecs", TG_ARN, "arn:aws:iam::111122223333:role/x/ecs"),
        ("ecs-traffic", "green", "ecs-traffic"),  # no ARN to take the account from: as written
    ],
)
def test_a_role_named_by_name_is_sent_as_an_arn_of_its_siblings_account(
    role: str, sibling: str, expected: str
) -> None:
    spec = {
        "loadBalancers": [
            {
                "targetGroupArn": "blue",
                "advancedConfiguration": {"alternateTargetGroupArn": sibling, "roleArn": role},
            }
        ],
        "deploymentConfiguration": {
            "strategy": "BLUE_GREEN",
            "lifecycleHooks": [
                {"hookTargetArn": HOOK_ARN, "roleArn": "hook-role", "lifecycleStages": ["POST_SCALE_UP"]}
            ],
        },
    }
    sent = with_role_arns(spec)
    assert sent["loadBalancers"][0]["advancedConfiguration"]["roleArn"] == expected
    assert (
        sent["deploymentConfiguration"]["lifecycleHooks"][0]["roleArn"]
        == "arn:aws:iam::123456789012:role/hook-role"
    )
    assert (
        spec["loadBalancers"][0]["advancedConfiguration"]["roleArn"] == role
    )  # the document is left as it was
