"""A resource's health apart from its sync: how it is doing in AWS, decided from what a pass read (and what
``live/health.py`` read besides), as a ``Verdict`` (a ``Health`` and why). Pure, and table-tested
(``tests/plan/test_health.py``).

| kind | decided from |
|---|---|
| Service | DescribeServices: its ``PRIMARY`` deployment (rolloutState, failedTasks, how long it has rolled out against ``--deployment-deadline``), runningCount against desiredCount and pendingCount; the plan (a deployment of the desired revision that failed or was rolled back, and is not retried until Git changes); the newest deployment of its history (a rollback, the lifecycleStage of an ECS blue/green, linear or canary deployment); for a CODE_DEPLOY service, its deployment group's running deployment; its target groups' health |
| TargetGroup | DescribeTargetHealth (``TargetHealthRead``) |
| ScalableTarget | DescribeScalableTargets: ``SuspendedState``, ``MaxCapacity`` |
| Cluster, LoadBalancer | their status, their ``State`` |
| TaskDefinition | whether its family has an ACTIVE revision |
| the other kinds | whether they exist |

A deployment of the revision Git wants that failed keeps its service Degraded until Git changes, unless ECS rolled it
back and the old revision runs again (the newest service deployment ROLLBACK_SUCCESSFUL): the service then works, so
it is as healthy as its tasks, and its health's reason still says what failed (``reconciler_deployment_failed`` says
it too, and alerts on it).

A service is Degraded when "tasks keep failing": its deployment in progress has had as many tasks fail to start as
would make ECS's circuit breaker fail it (half the desired count, at least 3 and at most 200: Amazon ECS Developer
Guide, "How the Amazon ECS deployment circuit breaker detects failures"), whether the breaker is on or not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.model.ecs import cluster_name_of, task_definition_label
from reconciler.model.health import NOT_READ, Health, TargetHealthRead, Verdict
from reconciler.model.history import DeploymentRecord
from reconciler.model.live import Described, LiveEntry, LiveState
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.blue_green import is_code_deploy
from reconciler.plan.rollouts import DEFAULT_DEADLINE, overdue, primary_deployment
from reconciler.plan.types import Plan

BREAKER_MIN, BREAKER_MAX = 3, 200  # ECS's circuit breaker threshold: 0.5 * desiredCount within these
CREATED = Verdict(Health.UNKNOWN, "created by this pass: read by the next", read=False)
ROLLING_BACK = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})
ROLLED_BACK = "ROLLBACK_SUCCESSFUL"
UNSETTLED = frozenset({Health.PROGRESSING, Health.DEGRADED})


@dataclass(frozen=True)
class HealthInputs:
    """What a pass read, and what it planned: everything the health of its resources is decided from."""

    desired: DesiredState
    live: LiveState
    plan: Plan
    deadline: float = DEFAULT_DEADLINE  # --deployment-deadline, seconds
    histories: Mapping[str, Sequence[DeploymentRecord]] = field(
        default_factory=dict
    )  # Service → newest first
    targets: Mapping[str, TargetHealthRead] = field(default_factory=dict)  # TargetGroup → its last read
    created: frozenset[ResourceKey] = frozenset()  # created (or replaced) by this pass


def assess(inputs: HealthInputs) -> dict[ResourceKey, Verdict]:
    """The health of every resource of ``inputs.desired``."""
    facts = _Facts(inputs)
    verdicts = {resource.key: facts.verdict(resource) for resource in inputs.desired}
    for key in inputs.created:  # read missing, made since: read by the next pass
        if key in verdicts and verdicts[key].health is Health.MISSING:
            verdicts[key] = CREATED
    return verdicts


def unsettled_target_groups(inputs: HealthInputs) -> set[str]:
    """The target groups whose health is read in this pass whatever its turn: those of services that are
    Progressing or Degraded (judged without them), and those whose last read was not healthy."""
    facts = _Facts(inputs)
    found = {
        name for name, read in inputs.targets.items() if target_health(read).health is not Health.HEALTHY
    }
    for resource in inputs.desired.of_kind("Service"):
        if facts.service(resource, with_targets=False).health in UNSETTLED:
            found.update(target_groups_of(resource, inputs.desired))
    return found


def target_groups_of(service: DesiredResource, desired: DesiredState) -> list[str]:
    """The declared target groups a service document registers its tasks with."""
    names = [str(lb.get("targetGroupArn", "")) for lb in service.spec.get("loadBalancers") or ()]
    return [name for name in names if desired.get("TargetGroup", name) is not None]


class _Facts:
    """``inputs`` indexed for the verdicts: the failures the plan holds, each service's deployment group."""

    def __init__(self, inputs: HealthInputs) -> None:
        self.inputs = inputs
        self.failed = {
            change.name: change.held
            for change in inputs.plan.changes
            if change.kind == "Service" and change.deployment_failed
        }
        self.groups = {
            str(service.get("serviceName")): group.name
            for group in inputs.desired.of_kind("DeploymentGroup")
            for service in group.spec.get("ecsServices") or ()
        }

    def verdict(self, resource: DesiredResource) -> Verdict:
        judge = KIND_HEALTH.get(resource.kind)
        if judge is None:
            return entry_health(self.entry(resource))
        return judge(self, resource)

    def entry(self, resource: DesiredResource) -> LiveEntry | None:
        return self.inputs.live.entries_of(resource.kind).get(resource.name)

    def service(self, resource: DesiredResource, *, with_targets: bool) -> Verdict:
        inputs = self.inputs
        cluster = cluster_name_of(str(resource.spec.get("cluster", "")))
        group = self.groups.get(resource.name, "") if is_code_deploy(resource.spec) else ""
        targets = (
            [(name, self.target_group(name)) for name in target_groups_of(resource, inputs.desired)]
            if with_targets
            else []
        )
        return service_health(
            inputs.live.services.get((cluster, resource.name)), now=inputs.live.read_at,
            deadline=inputs.deadline, failed=self.failed.get(resource.name, ""),
            newest=next(iter(inputs.histories.get(resource.name, ())), None),
            code_deploy_running=inputs.live.deployments_running.get(group, ()) if group else (),
            targets=targets,
        )  # fmt: skip

    def target_group(self, name: str) -> Verdict:
        entry = self.inputs.live.entries_of("TargetGroup").get(name)
        return target_group_health(entry, self.inputs.targets.get(name))


# How each kind's health is decided; the kinds not in it by whether they exist (``entry_health``).
KIND_HEALTH: Mapping[str, Callable[[_Facts, DesiredResource], Verdict]] = {
    "Service": lambda facts, r: facts.service(r, with_targets=True),
    "TargetGroup": lambda facts, r: facts.target_group(r.name),
    "ScalableTarget": lambda facts, r: scalable_target_health(facts.entry(r)),
    "Cluster": lambda facts, r: cluster_health(facts.inputs.live.clusters.get(r.name)),
    "LoadBalancer": lambda facts, r: load_balancer_health(facts.entry(r)),
    "TaskDefinition": lambda facts, r: task_definition_health(facts.inputs.live.revisions_of(r.name)),
}


# --- Service ---------------------------------------------------------------------------------------------------


def service_health(
    service: Described | None,
    *,
    now: datetime,
    deadline: float = DEFAULT_DEADLINE,
    failed: str = "",
    newest: DeploymentRecord | None = None,
    code_deploy_running: Iterable[str] = (),
    targets: Sequence[tuple[str, Verdict]] = (),
) -> Verdict:
    """``service``: its DescribeServices entry (None: not found); ``failed``: why the newest deployment of the
    revision Git wants failed, when the plan holds it for that; ``newest``: the newest deployment its history shows;
    ``code_deploy_running``: the CodeDeploy deployments of its group in progress; ``targets``: its target groups'
    verdicts."""
    if service is None or service.get("status") in ("INACTIVE", "DRAINING"):
        return _absent(service)
    settled_back = bool(failed) and newest is not None and newest.status == ROLLED_BACK
    deployments = _deployments("" if settled_back else failed, newest, list(code_deploy_running))
    deployments = deployments or _deployment(service, now=now, deadline=deadline, newest=newest)
    if deployments is not None:
        return deployments
    counted = _counts(service)
    if (
        settled_back
    ):  # ECS put the old revision back and it runs: healthy, the failure said (and alerted on apart)
        return Verdict(counted.health, f"{counted.reason}; {failed}")
    if counted.health is Health.HEALTHY:
        for name, verdict in targets:
            if verdict.health is Health.DEGRADED:
                return Verdict(Health.DEGRADED, f"target group {name}: {verdict.reason}")
    return counted


def breaker_threshold(desired_count: int) -> int:
    """How many tasks of a deployment must fail to start for ECS's circuit breaker to fail it."""
    return min(BREAKER_MAX, max(BREAKER_MIN, math.ceil(0.5 * desired_count)))


def _absent(service: Described | None) -> Verdict:
    if service is None:
        return Verdict(Health.MISSING, "not found in AWS")
    if service.get("status") == "DRAINING":
        return Verdict(Health.MISSING, "DRAINING: being deleted")
    return Verdict(Health.MISSING, "INACTIVE: deleted")


def _deployments(
    failed: str, newest: DeploymentRecord | None, code_deploy_running: list[str]
) -> Verdict | None:
    """What the plan, the history and CodeDeploy say of the service's deployments, if anything."""
    if failed:
        return Verdict(Health.DEGRADED, failed)
    if newest is not None and (rollback := _rollback(newest)):
        return Verdict(Health.DEGRADED, rollback)
    if code_deploy_running:
        return Verdict(
            Health.PROGRESSING, f"CodeDeploy deployment {', '.join(code_deploy_running)} is in progress"
        )
    return None


def _rollback(newest: DeploymentRecord) -> str:
    why = f": {newest.reason}" if newest.reason else ""
    if newest.status in ROLLING_BACK:
        return f"deployment {newest.id} is rolling back{why}"
    if newest.status == "ROLLBACK_FAILED":
        return f"the rollback of deployment {newest.id} failed{why}"
    return ""


def _deployment(
    service: Described, *, now: datetime, deadline: float, newest: DeploymentRecord | None
) -> Verdict | None:
    """What the ``PRIMARY`` deployment says, when it is not settled (None when it is, or there is none)."""
    primary = primary_deployment(service)
    if primary is None:
        return None
    state = primary.get("rolloutState")
    what = f"ECS deployment {primary.get('id', '')} of {task_definition_label(str(primary.get('taskDefinition', '')))}"
    if state == "FAILED":
        return Verdict(
            Health.DEGRADED, f"{what} failed: {primary.get('rolloutStateReason') or 'no reason given'}"
        )
    if state != "IN_PROGRESS":
        return None
    if late := overdue(service, now=now, deadline=deadline):
        return Verdict(Health.DEGRADED, late)
    wanted, failed_tasks = int(primary.get("desiredCount", 0)), int(primary.get("failedTasks", 0))
    if failed_tasks >= breaker_threshold(wanted):
        return Verdict(
            Health.DEGRADED,
            f"{what}: {failed_tasks} tasks failed to start (ECS's circuit breaker fails a deployment at"
            f" {breaker_threshold(wanted)})",
        )
    stage = ""
    if newest is not None and not newest.ended and newest.lifecycle_stage:
        stage = f", {newest.strategy} stage {newest.lifecycle_stage}"
    failures = f", {failed_tasks} failed to start" if failed_tasks else ""
    return Verdict(
        Health.PROGRESSING,
        f"{what} is rolling out: {primary.get('runningCount', 0)} of {wanted} tasks running{failures}{stage}",
    )


def _counts(service: Described) -> Verdict:
    desired, running, pending = (
        int(service.get(f, 0)) for f in ("desiredCount", "runningCount", "pendingCount")
    )
    tasks = f"{running} of {desired} tasks running"
    if desired == 0 and running == 0 and pending == 0:
        return Verdict(Health.SUSPENDED, "desiredCount is 0")
    if running < desired and not pending:
        return Verdict(Health.DEGRADED, f"{tasks}, none starting")
    if running != desired or pending:
        return Verdict(
            Health.PROGRESSING, f"{tasks}, {pending} starting" if pending else f"{tasks}, stopping"
        )
    return Verdict(Health.HEALTHY, tasks)


# --- the other kinds -------------------------------------------------------------------------------------------


def target_group_health(entry: LiveEntry | None, read: TargetHealthRead | None) -> Verdict:
    if entry is None:
        return Verdict(Health.MISSING, "not found in AWS")
    if read is None:
        return NOT_READ
    return target_health(read)


def target_health(read: TargetHealthRead) -> Verdict:
    """The health of a target group from its targets' states (Elastic Load Balancing API Reference,
    TargetHealth): unhealthy ones degrade it, initial and draining ones are on their way."""
    if read.error:
        return Verdict(Health.UNKNOWN, f"its target health cannot be read: {read.error}")
    total, unhealthy, moving = read.total, read.count("unhealthy"), read.count("initial", "draining")
    why = f" ({read.reason})" if read.reason else ""
    if unhealthy:
        return Verdict(Health.DEGRADED, f"{unhealthy} of {total} targets unhealthy{why}")
    if moving:
        return Verdict(Health.PROGRESSING, f"{moving} of {total} targets registering or draining{why}")
    if not total:
        return Verdict(Health.HEALTHY, "no targets registered")
    return Verdict(Health.HEALTHY, f"{read.count('healthy')} of {total} targets healthy")


def scalable_target_health(entry: LiveEntry | None) -> Verdict:
    if entry is None:
        return Verdict(Health.MISSING, "not found in AWS")
    suspended = entry.spec.get("SuspendedState") or {}
    paused = [name.removesuffix("Suspended") for name, on in sorted(suspended.items()) if on is True]
    if paused:
        return Verdict(Health.SUSPENDED, f"scaling suspended: {', '.join(paused)}")
    if entry.spec.get("MaxCapacity") == 0:
        return Verdict(Health.SUSPENDED, "MaxCapacity is 0: the service is stopped")
    return Verdict(
        Health.HEALTHY, f"capacity {entry.spec.get('MinCapacity')}-{entry.spec.get('MaxCapacity')}"
    )


def cluster_health(cluster: Described | None) -> Verdict:
    return _by_status(
        None if cluster is None else str(cluster.get("status", "")),
        healthy={"ACTIVE"}, progressing={"PROVISIONING", "DEPROVISIONING"}, missing={"INACTIVE"},
    )  # fmt: skip


def load_balancer_health(entry: LiveEntry | None) -> Verdict:
    state: dict[str, Any] = (entry.spec.get("State") or {}) if entry is not None else {}
    verdict = _by_status(
        None if entry is None else str(state.get("Code", "active")),
        healthy={"active"}, progressing={"provisioning"}, missing=set(),
    )  # fmt: skip
    if verdict.health is Health.DEGRADED and state.get("Reason"):
        return Verdict(Health.DEGRADED, f"{verdict.reason}: {state['Reason']}")
    return verdict


def task_definition_health(revisions: Sequence[Described]) -> Verdict:
    active = [td for td in revisions if td.get("status") != "INACTIVE"]
    if not active:
        return Verdict(Health.MISSING, "no ACTIVE revision")
    return Verdict(Health.HEALTHY, f"{len(active)} ACTIVE revisions known" if len(active) > 1 else "ACTIVE")


def entry_health(entry: LiveEntry | None) -> Verdict:
    return Verdict(Health.MISSING, "not found in AWS") if entry is None else Verdict(Health.HEALTHY, "exists")


def _by_status(status: str | None, *, healthy: set[str], progressing: set[str], missing: set[str]) -> Verdict:
    if status is None:
        return Verdict(Health.MISSING, "not found in AWS")
    if status in healthy:
        return Verdict(Health.HEALTHY, status)
    if status in progressing:
        return Verdict(Health.PROGRESSING, status)
    if status in missing:
        return Verdict(Health.MISSING, status)
    return Verdict(Health.DEGRADED, status)
