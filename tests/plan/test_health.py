"""The health of a resource apart from its sync, decided from what was read: table by table, kind by kind."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.model.health import NOT_READ, Health, TargetHealthRead, Verdict
from reconciler.model.history import DeploymentRecord
from reconciler.model.live import FailedRollout, LiveEntry
from reconciler.model.resource import ResourceKey
from reconciler.plan.health import (
    CREATED,
    HealthInputs,
    assess,
    breaker_threshold,
    cluster_health,
    entry_health,
    load_balancer_health,
    scalable_target_health,
    service_health,
    target_group_health,
    task_definition_health,
    unsettled_target_groups,
)
from tests.plan.test_planner import ACCOUNT, converged_live, desired_state, plan_of, resource

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
WEB_1, WEB_2 = f"{ACCOUNT}:task-definition/web:1", f"{ACCOUNT}:task-definition/web:2"


def deployment(rollout: str, *, minutes_ago: float = 1, failed: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "id": "ecs-svc/42", "status": "PRIMARY", "taskDefinition": WEB_2, "rolloutState": rollout,
        "createdAt": NOW - timedelta(minutes=minutes_ago), "failedTasks": failed, "desiredCount": 2,
        "runningCount": 1, **fields,
    }  # fmt: skip


def service(*deployments: dict[str, Any], desired: int = 2, running: int = 2, pending: int = 0,
            status: str = "ACTIVE") -> dict[str, Any]:  # fmt: skip
    return {
        "serviceName": "web", "status": status, "desiredCount": desired, "runningCount": running,
        "pendingCount": pending, "deployments": list(deployments),
    }  # fmt: skip


def record(status: str, *, stage: str = "", strategy: str = "ROLLING", reason: str = "") -> DeploymentRecord:
    return DeploymentRecord(
        id="sd-1",
        strategy=strategy,
        status=status,
        reason=reason,
        lifecycle_stage=stage,
        started_at=NOW.timestamp(),
    )


SETTLED = deployment("COMPLETED", runningCount=2)
UNHEALTHY_TG = ("web-tg", Verdict(Health.DEGRADED, "1 of 2 targets unhealthy"))
SERVICES: list[tuple[str, dict[str, Any] | None, dict[str, Any], Health, str]] = [
    # (case, DescribeServices entry, what else is known, health, in the reason)
    ("not found", None, {}, Health.MISSING, "not found"),
    ("deleted", service(status="INACTIVE"), {}, Health.MISSING, "INACTIVE"),
    ("being deleted", service(status="DRAINING"), {}, Health.MISSING, "DRAINING"),
    ("settled", service(SETTLED), {}, Health.HEALTHY, "2 of 2 tasks running"),
    ("no deployments listed (CODE_DEPLOY)", service(), {}, Health.HEALTHY, "2 of 2"),
    ("rolling out", service(deployment("IN_PROGRESS"), running=1, pending=1), {}, Health.PROGRESSING,
     "ECS deployment ecs-svc/42 of web:2 is rolling out: 1 of 2 tasks running"),
    ("rolling out, a task failed", service(deployment("IN_PROGRESS", failed=2)), {}, Health.PROGRESSING,
     "2 failed to start"),
    ("rolling out, tasks keep failing (breaker off)", service(deployment("IN_PROGRESS", failed=3)), {},
     Health.DEGRADED, "3 tasks failed to start"),
    ("rolling out past the deadline", service(deployment("IN_PROGRESS", minutes_ago=31)), {}, Health.DEGRADED,
     "past the 30 min deadline"),
    ("rolling out under a shorter deadline", service(deployment("IN_PROGRESS", minutes_ago=11)),
     {"deadline": 600}, Health.DEGRADED, "past the 10 min deadline"),
    ("the circuit breaker failed it", service(deployment("FAILED", rolloutStateReason="tasks failed to start.")),
     {}, Health.DEGRADED, "ECS deployment ecs-svc/42 of web:2 failed: tasks failed to start."),
    ("its desired revision failed and is held", service(SETTLED),
     {"failed": "ECS rolled back deployment 9 of web:2"}, Health.DEGRADED, "rolled back deployment 9"),
    ("its desired revision was rolled back, and the old one runs", service(SETTLED),
     {"failed": "ECS rolled back deployment 9 of web:2", "newest": record("ROLLBACK_SUCCESSFUL")}, Health.HEALTHY,
     "2 of 2 tasks running; ECS rolled back deployment 9 of web:2"),
    ("rolling back", service(deployment("IN_PROGRESS")), {"newest": record("ROLLBACK_IN_PROGRESS",
     reason="circuit breaker")}, Health.DEGRADED, "deployment sd-1 is rolling back: circuit breaker"),
    ("rollback requested", service(SETTLED), {"newest": record("ROLLBACK_REQUESTED")}, Health.DEGRADED,
     "rolling back"),
    ("the rollback failed", service(SETTLED), {"newest": record("ROLLBACK_FAILED")}, Health.DEGRADED,
     "the rollback of deployment sd-1 failed"),
    ("someone else's revision rolled back, settled", service(SETTLED), {"newest": record("ROLLBACK_SUCCESSFUL")},
     Health.HEALTHY, "2 of 2"),
    ("blue/green in its bake time", service(deployment("IN_PROGRESS")),
     {"newest": record("IN_PROGRESS", stage="BAKE_TIME", strategy="BLUE_GREEN")}, Health.PROGRESSING,
     "BLUE_GREEN stage BAKE_TIME"),
    ("a CodeDeploy deployment in progress", service(), {"code_deploy_running": ["d-1"]}, Health.PROGRESSING,
     "CodeDeploy deployment d-1 is in progress"),
    ("tasks starting", service(SETTLED, running=1, pending=1), {}, Health.PROGRESSING, "1 of 2 tasks running, 1 starting"),
    ("tasks missing, none starting", service(SETTLED, running=1), {}, Health.DEGRADED, "1 of 2 tasks running, none starting"),
    ("scaling in", service(SETTLED, running=3), {}, Health.PROGRESSING, "stopping"),
    ("scaled to zero", service(SETTLED, desired=0, running=0), {}, Health.SUSPENDED, "desiredCount is 0"),
    ("stopping its last tasks", service(SETTLED, desired=0, running=1), {}, Health.PROGRESSING, "stopping"),
    ("settled, a target group unhealthy", service(SETTLED), {"targets": [UNHEALTHY_TG]}, Health.DEGRADED,
     "target group web-tg: 1 of 2 targets unhealthy"),
    ("rolling out, a target group unhealthy", service(deployment("IN_PROGRESS")), {"targets": [UNHEALTHY_TG]},
     Health.PROGRESSING, "rolling out"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "entry", "known", "health", "reason"), SERVICES, ids=[c[0] for c in SERVICES]
)
def test_service_health(case: str, entry: dict[str, Any] | None, known: dict[str, Any], health: Health,
                        reason: str) -> None:  # fmt: skip
    verdict = service_health(entry, now=NOW, **known)
    assert verdict.health is health, verdict
    assert reason in verdict.reason, verdict


@pytest.mark.parametrize(
    ("desired", "threshold"), [(0, 3), (1, 3), (6, 3), (7, 4), (10, 5), (399, 200), (1000, 200)]
)
def test_tasks_keep_failing_at_the_circuit_breakers_threshold(desired: int, threshold: int) -> None:
    assert breaker_threshold(desired) == threshold
    below = service(deployment("IN_PROGRESS", failed=threshold - 1, desiredCount=desired))
    at = service(deployment("IN_PROGRESS", failed=threshold, desiredCount=desired))
    assert service_health(below, now=NOW).health is Health.PROGRESSING
    assert service_health(at, now=NOW).health is Health.DEGRADED


def targets(**states: int) -> TargetHealthRead:
    return TargetHealthRead(
        states=tuple(sorted(states.items())), reason="Health checks failed" if states else ""
    )


TG = LiveEntry(name="web-tg", arn="arn:tg", spec={}, tags={})
TARGET_GROUPS = [
    ("not found", None, targets(healthy=1), Health.MISSING, "not found"),
    ("not read yet", TG, None, Health.UNKNOWN, "not read yet"),
    ("cannot be read", TG, TargetHealthRead(error="AccessDenied: no"), Health.UNKNOWN, "AccessDenied"),
    ("all healthy", TG, targets(healthy=2), Health.HEALTHY, "2 of 2 targets healthy"),
    ("none registered", TG, targets(), Health.HEALTHY, "no targets registered"),
    ("one unhealthy", TG, targets(healthy=1, unhealthy=1), Health.DEGRADED, "1 of 2 targets unhealthy (Health"),
    ("registering", TG, targets(healthy=1, initial=1), Health.PROGRESSING, "1 of 2 targets registering"),
    ("draining", TG, targets(healthy=1, draining=1), Health.PROGRESSING, "registering or draining"),
    ("not in use by a listener", TG, targets(unused=2), Health.HEALTHY, "0 of 2"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "entry", "read", "health", "reason"), TARGET_GROUPS, ids=[c[0] for c in TARGET_GROUPS]
)
def test_target_group_health(case: str, entry: LiveEntry | None, read: TargetHealthRead | None, health: Health,
                             reason: str) -> None:  # fmt: skip
    verdict = target_group_health(entry, read)
    assert (verdict.health, reason in verdict.reason) == (health, True), verdict


def scalable(**spec: Any) -> LiveEntry:
    return LiveEntry(name="web", arn="", spec={"MinCapacity": 1, "MaxCapacity": 4, **spec}, tags={})


SCALABLE_TARGETS = [
    ("not found", None, Health.MISSING, "not found"),
    ("scaling", scalable(), Health.HEALTHY, "capacity 1-4"),
    ("scaling suspended", scalable(SuspendedState={"DynamicScalingInSuspended": True,
     "DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": False}), Health.SUSPENDED,
     "scaling suspended: DynamicScalingIn, DynamicScalingOut"),
    ("nothing suspended", scalable(SuspendedState={"DynamicScalingInSuspended": False}), Health.HEALTHY, "1-4"),
    ("stopped through Git", scalable(MinCapacity=0, MaxCapacity=0), Health.SUSPENDED, "MaxCapacity is 0"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "entry", "health", "reason"), SCALABLE_TARGETS, ids=[c[0] for c in SCALABLE_TARGETS]
)
def test_scalable_target_health(case: str, entry: LiveEntry | None, health: Health, reason: str) -> None:
    verdict = scalable_target_health(entry)
    assert (verdict.health, reason in verdict.reason) == (health, True), verdict


def balancer(code: str, reason: str = "") -> LiveEntry:
    return LiveEntry(name="alb", arn="", spec={"State": {"Code": code, "Reason": reason}}, tags={})


OTHERS: list[tuple[str, Verdict, Health, str]] = [
    ("cluster active", cluster_health({"status": "ACTIVE"}), Health.HEALTHY, "ACTIVE"),
    ("cluster provisioning", cluster_health({"status": "PROVISIONING"}), Health.PROGRESSING, "PROVISIONING"),
    ("cluster failed", cluster_health({"status": "FAILED"}), Health.DEGRADED, "FAILED"),
    ("cluster deleted", cluster_health({"status": "INACTIVE"}), Health.MISSING, "INACTIVE"),
    ("cluster not found", cluster_health(None), Health.MISSING, "not found"),
    ("load balancer active", load_balancer_health(balancer("active")), Health.HEALTHY, "active"),
    ("load balancer provisioning", load_balancer_health(balancer("provisioning")), Health.PROGRESSING, ""),
    ("load balancer impaired", load_balancer_health(balancer("active_impaired", "a zone is down")),
     Health.DEGRADED, "active_impaired: a zone is down"),
    ("load balancer failed", load_balancer_health(balancer("failed")), Health.DEGRADED, "failed"),
    ("load balancer not found", load_balancer_health(None), Health.MISSING, ""),
    ("a family with an ACTIVE revision", task_definition_health([{"status": "ACTIVE"}]), Health.HEALTHY, ""),
    ("a family with none", task_definition_health([{"status": "INACTIVE"}]), Health.MISSING, "no ACTIVE"),
    ("a listener", entry_health(balancer("active")), Health.HEALTHY, "exists"),
    ("a rule not found", entry_health(None), Health.MISSING, "not found"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "verdict", "health", "reason"), OTHERS, ids=[c[0] for c in OTHERS])
def test_the_health_of_the_other_kinds(case: str, verdict: Verdict, health: Health, reason: str) -> None:
    assert (verdict.health, reason in verdict.reason) == (health, True), verdict


# --- every resource of a pass ----------------------------------------------------------------------------------


def test_a_pass_judges_every_resource_from_what_it_read_and_planned() -> None:
    desired = desired_state()
    live = converged_live(desired)
    live.read_at = NOW
    live.services[("demo", "web")].update(runningCount=2, pendingCount=0, deployments=[SETTLED])
    verdicts = assess(HealthInputs(desired=desired, live=live, plan=plan_of(desired, live)))
    assert {key: v.health for key, v in verdicts.items()} == {
        ResourceKey("Cluster", "demo"): Health.HEALTHY,
        ResourceKey("TaskDefinition", "web"): Health.HEALTHY,
        ResourceKey("Service", "web"): Health.HEALTHY,
    }


def test_a_revision_ecs_rolled_back_degrades_the_service_with_the_plans_reason() -> None:
    """ECS rolled the service's revision back: the plan holds putting it back, and the service is Degraded for as
    long (not retried until Git changes), whatever it now runs."""
    desired = desired_state()
    live = converged_live(desired)
    live.read_at = NOW
    entry = live.services[("demo", "web")]
    entry.update(taskDefinition=WEB_2, runningCount=2, pendingCount=0, deployments=[SETTLED])
    rolled_back = FailedRollout(
        "arn:aws:ecs:::service-deployment/demo/web/sd-9", "ROLLBACK_SUCCESSFUL", WEB_1, ""
    )
    live.failed_rollouts[("demo", "web")] = [rolled_back]
    older = copy.deepcopy(live.task_definitions[WEB_1])
    older.update(taskDefinitionArn=WEB_2, revision=2, tags=[])
    older["containerDefinitions"][0]["image"] = "web:0"
    live.task_definitions[WEB_2] = older
    verdict = assess(HealthInputs(desired=desired, live=live, plan=plan_of(desired, live)))[
        ResourceKey("Service", "web")
    ]
    assert verdict.health is Health.DEGRADED
    assert verdict.reason.startswith("ECS rolled back deployment sd-9 of web:1"), verdict


def test_what_this_pass_created_is_read_by_the_next() -> None:
    desired = desired_state()
    live = converged_live(desired)
    del live.services[("demo", "web")]
    key = ResourceKey("Service", "web")
    plan = plan_of(desired, live)
    assert assess(HealthInputs(desired=desired, live=live, plan=plan))[key].health is Health.MISSING
    family = ResourceKey("TaskDefinition", "web")  # a new revision is created too: the family was there
    verdicts = assess(HealthInputs(desired=desired, live=live, plan=plan, created=frozenset({key, family})))
    assert verdicts[key] == CREATED and not verdicts[key].read
    assert verdicts[family].health is Health.HEALTHY


def with_target_group(**service: Any) -> tuple[HealthInputs, dict[str, Any]]:
    desired = desired_state()
    web = next(r for r in desired if r.kind == "Service")
    web.spec["loadBalancers"] = [{"targetGroupArn": "web-tg", "containerName": "app", "containerPort": 80}]
    tg = resource(
        "TargetGroup", "web-tg", {"Protocol": "HTTP", "Port": 80, "VpcId": "vpc-1", "TargetType": "ip"}
    )
    desired = desired.model_copy(update={"resources": (*desired.resources, tg)})
    live = converged_live(desired)
    live.read_at = NOW
    live.entries_of("TargetGroup")["web-tg"] = LiveEntry(name="web-tg", arn="arn:tg", spec={}, tags={})
    entry = live.services[("demo", "web")]
    entry.update(runningCount=2, pendingCount=0, deployments=[SETTLED], **service)
    return HealthInputs(desired=desired, live=live, plan=plan_of(desired, live)), entry


def test_the_target_groups_of_a_service_in_progress_are_read_whatever_their_turn() -> None:
    inputs, entry = with_target_group()
    assert unsettled_target_groups(inputs) == set()
    entry["deployments"] = [deployment("IN_PROGRESS")]
    assert unsettled_target_groups(inputs) == {"web-tg"}


def test_a_target_group_read_unhealthy_is_read_again_until_it_is_not() -> None:
    inputs, _ = with_target_group()
    unhealthy = HealthInputs(**{**inputs.__dict__, "targets": {"web-tg": targets(healthy=1, unhealthy=1)}})
    assert unsettled_target_groups(unhealthy) == {"web-tg"}
    verdicts = assess(unhealthy)
    assert (
        verdicts[ResourceKey("Service", "web")].reason
        == "target group web-tg: 1 of 2 targets unhealthy (Health checks failed)"
    )
    assert verdicts[ResourceKey("TargetGroup", "web-tg")].health is Health.DEGRADED
    healthy = HealthInputs(**{**inputs.__dict__, "targets": {"web-tg": targets(healthy=2)}})
    assert unsettled_target_groups(healthy) == set()
    assert assess(healthy)[ResourceKey("TargetGroup", "web-tg")].health is Health.HEALTHY
    assert assess(inputs)[ResourceKey("TargetGroup", "web-tg")] == NOT_READ
