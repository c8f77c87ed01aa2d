"""ECS rolling deployments over time: what a service's ``deployments``, counts, ``events`` and service deployments
show while its tasks start, fail, drain and roll back (Amazon ECS Developer Guide: "Deploy Amazon ECS services by
replacing tasks", "How the Amazon ECS deployment circuit breaker detects failures", "View service history using
Amazon ECS service deployments"; ECS API Reference: Deployment, ServiceDeployment, DeleteService).

moto completed nothing and failed nothing: a deployment stayed IN_PROGRESS forever (no task ever ran), or, with the
sandbox's earlier patch, was COMPLETED inside the request that started it. Here each step is due at a time on the
``TIMELINE`` (``sandbox/timing.py``):

| moment | AWS (and now the sandbox) |
|---|---|
| CreateService, or an UpdateService that changes what tasks run (``DEPLOYMENT_FIELDS``, ``forceNewDeployment``) | a new PRIMARY deployment, rolloutState IN_PROGRESS, its tasks PENDING; the previous PRIMARY becomes ACTIVE and keeps its tasks running; a service deployment IN_PROGRESS (superseded ones STOPPED) |
| ``ecs_rollout`` later, healthy image | the new tasks RUNNING; rolloutState COMPLETED "ECS deployment <id> completed."; ACTIVE deployments drained and gone; events "(service s) (deployment <id>) deployment completed." and "(service s) has reached a steady state."; service deployment SUCCESSFUL |
| image with ``CRASHLOOP_MARKER`` | a task fails every ``ecs_task_failure``: ``failedTasks`` grows; circuit breaker off: IN_PROGRESS for ever |
| circuit breaker on, ``failedTasks`` reaches min(200, max(3, ⌈0.5 * desiredCount⌉)) | rolloutState FAILED "ECS deployment circuit breaker: tasks failed to start."; event "(service s) (deployment <id>) deployment failed: tasks failed to start."; no new tasks |
| … and ``rollback: true`` with a completed deployment to go back to | a new PRIMARY deployment (its own ID) of the last completed revision: the service's taskDefinition (and network configuration, load balancers, platform, registries) go back; the failed deployment is ACTIVE; the service deployment ROLLBACK_IN_PROGRESS with ``rollback``, then ROLLBACK_SUCCESSFUL |
| UpdateService of desiredCount only | no deployment: new tasks RUNNING after ``ecs_rollout``, stopped ones gone after ``ecs_drain`` |

Where AWS's documents say nothing, the sandbox chooses what is least kind and says so: a breaker without rollback
leaves the service deployment STOPPED (ServiceDeploymentStatus has no FAILED); a first deployment that fails has
nothing to roll back to and stays FAILED; a scale that is overtaken by another waits for the later one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.moto_api._internal import mock_random

from reconciler.sandbox.patches._wrapping import add_method
from reconciler.sandbox.patches.cloud_map import register_running_tasks
from reconciler.sandbox.patches.paging import paginate_request
from reconciler.sandbox.timing import TIMELINE

CRASHLOOP_MARKER = "crashloop"  # in a container image reference: its tasks exit before they are healthy
# UpdateService fields whose change starts a deployment (ECS API Reference: UpdateService) → the Service attribute.
DEPLOYMENT_FIELDS = (
    "task_definition",
    "network_configuration",
    "load_balancers",
    "platform_version",
    "service_registries",
    "capacity_provider_strategy",
    "launch_type",
)
BREAKER_MIN_THRESHOLD, BREAKER_MAX_THRESHOLD = 3, 200
EVENTS_KEPT = 100  # DescribeServices shows a service's 100 most recent events
REPEAT_FLOOR_SECONDS = 0.1  # a change that repeats (a crash loop) never repeats faster, even in instant mode
ROLLBACK_REASON = "Service deployment rolled back because the circuit breaker threshold was exceeded."
# service deployments still under way (ECS API Reference: ServiceDeploymentStatus)
UNFINISHED = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


@dataclass
class Rollout:
    """One ECS deployment of a service (``ecs-svc/…``) and what it deploys (its service revision)."""

    id: str
    created_at: datetime
    revision: dict[str, Any]  # the Service attributes in DEPLOYMENT_FIELDS when it started
    revision_arn: str
    healthy: bool
    desired: int
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    running: int = 0
    pending: int = 0
    failed_tasks: int = 0
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # the share of production and test traffic (percent) a traffic-shifting deployment has given it, if any
    production_weight: float | None = None
    test_weight: float | None = None


@dataclass
class ServiceDeployment:
    """What ListServiceDeployments and DescribeServiceDeployments return for one deployment of a service."""

    arn: str
    service_arn: str
    cluster_arn: str
    created_at: datetime
    target: Rollout
    sources: list[Rollout]
    deployment_configuration: dict[str, Any]
    status: str = "IN_PROGRESS"
    status_reason: str | None = None
    finished_at: datetime | None = None
    stopped_at: datetime | None = None
    updated_at: datetime | None = None
    rollback: dict[str, Any] | None = None
    lifecycle_stage: str | None = None  # blue/green, linear and canary deployments only
    hook_details: list[dict[str, Any]] = field(default_factory=list)

    def _shared(self) -> dict[str, Any]:
        return {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service_arn,
            "clusterArn": self.cluster_arn,
            "createdAt": self.created_at,
            "startedAt": self.created_at,
            "finishedAt": self.finished_at,
            "status": self.status,
            "statusReason": self.status_reason,
        }

    def brief(self) -> dict[str, Any]:
        """A ServiceDeploymentBrief (ListServiceDeployments)."""
        return present({**self._shared(), "targetServiceRevisionArn": self.target.revision_arn})

    def full(self) -> dict[str, Any]:
        """A ServiceDeployment (DescribeServiceDeployments)."""
        breaker = self.deployment_configuration.get("deploymentCircuitBreaker") or {}
        return present(
            {
                **self._shared(),
                "stoppedAt": self.stopped_at,
                "updatedAt": self.updated_at or self.created_at,
                "sourceServiceRevisions": [_revision_summary(source) for source in self.sources],
                "targetServiceRevision": _revision_summary(self.target),
                "deploymentConfiguration": self.deployment_configuration,
                "rollback": self.rollback,
                "lifecycleStage": self.lifecycle_stage,
                "lifecycleHookDetails": [present(hook) for hook in self.hook_details] or None,
                "deploymentCircuitBreaker": {
                    "status": "MONITORING" if breaker.get("enable") else "DISABLED",
                    "failureCount": self.target.failed_tasks,
                    "threshold": breaker_threshold(self.target.desired),
                },
            }
        )


def present(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value is not None}


def _revision_summary(rollout: Rollout) -> dict[str, Any]:
    return present(
        {
            "arn": rollout.revision_arn,
            "requestedTaskCount": rollout.desired,
            "runningTaskCount": rollout.running,
            "pendingTaskCount": rollout.pending,
            "requestedTestTrafficWeight": rollout.test_weight,
            "requestedProductionTrafficWeight": rollout.production_weight,
        }
    )


def breaker_threshold(desired_count: int) -> int:
    """Amazon ECS Developer Guide, "How the Amazon ECS deployment circuit breaker detects failures": 0.5 * the
    desired count, at least 3 and at most 200."""
    return min(BREAKER_MAX_THRESHOLD, max(BREAKER_MIN_THRESHOLD, math.ceil(0.5 * desired_count)))


# --- the service's state --------------------------------------------------------------------------------------


def init_service(service: Any) -> None:
    """A service as moto makes it, before its first deployment: no deployments, no tasks, no events."""
    service.rollouts = []
    service.service_deployments = []
    service.last_completed = None
    service.scale_generation = 0
    service.events = []
    render(service)


def render(service: Any) -> None:
    """Write the rollouts into the attributes moto serialises (``deployments``, ``runningCount``, …). Only the
    rolling update (ECS) deployment controller has deployments; the others run task sets."""
    if (service.deployment_controller or {}).get("type", "ECS") != "ECS":
        service.deployments = []
        return
    service.deployments = [_deployment(service, rollout) for rollout in service.rollouts]
    service.running_count = sum(rollout.running for rollout in service.rollouts)
    service.pending_count = sum(rollout.pending for rollout in service.rollouts)
    registries: dict[str, int] = {}
    for rollout in service.rollouts:
        for registry in rollout.revision["service_registries"] or []:
            registries[registry["registryArn"]] = registries.get(registry["registryArn"], 0) + rollout.running
    register_running_tasks(service, registries)


def _deployment(service: Any, rollout: Rollout) -> dict[str, Any]:
    revision = rollout.revision
    return present(
        {
            "id": rollout.id,
            "status": rollout.status,
            "taskDefinition": revision["task_definition"],
            "desiredCount": rollout.desired,
            "pendingCount": rollout.pending,
            "runningCount": rollout.running,
            "failedTasks": rollout.failed_tasks,
            "createdAt": rollout.created_at,
            "updatedAt": rollout.updated_at,
            "launchType": revision["launch_type"],
            "capacityProviderStrategy": revision["capacity_provider_strategy"] or None,
            "platformVersion": revision["platform_version"],
            "platformFamily": getattr(service, "platform_family", None),
            "networkConfiguration": revision["network_configuration"] or None,
            "rolloutState": rollout.rollout_state,
            "rolloutStateReason": rollout.rollout_state_reason,
        }
    )


def revision_of(service: Any) -> dict[str, Any]:
    return {name: copy_value(getattr(service, name, None)) for name in DEPLOYMENT_FIELDS}


def copy_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: copy_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_value(item) for item in value]
    return value


def add_event(service: Any, message: str, when: float | None = None) -> None:
    created = at_time(when)
    service.events.insert(0, {"id": str(mock_random.uuid4()), "createdAt": created, "message": message})
    del service.events[EVENTS_KEPT:]


def at_time(when: float | None) -> datetime:
    return datetime.fromtimestamp(TIMELINE.now() if when is None else when, UTC)


def arn_of(service: Any, kind: str, identifier: str) -> str:
    prefix = service.arn.split(":service/")[0]
    return f"{prefix}:{kind}/{service.cluster_name}/{service.name}/{identifier}"


# --- starting, completing, failing ----------------------------------------------------------------------------


def start_deployment(service: Any, *, rollback_of: ServiceDeployment | None = None) -> None:
    """A new PRIMARY deployment of what the service now says, rolling: its tasks run after ``ecs_rollout``."""
    rollout = begin_deployment(service, rollback_of=rollback_of)
    if rollout.healthy or rollout.desired == 0:
        TIMELINE.after(
            TIMELINE.timing.ecs_rollout, lambda when: _complete(service, rollout, rollback_of, when)
        )
    else:
        schedule_failure(service, rollout, start=TIMELINE.now())


def begin_deployment(service: Any, *, rollback_of: ServiceDeployment | None = None) -> Rollout:
    """A new PRIMARY deployment of what the service now says, and its service deployment (unless it is the
    rollback of one): the previous deployments become ACTIVE, service deployments in progress STOPPED."""
    now = TIMELINE.now()
    number = str(mock_random.randint(10**18, 10**19 - 1))
    rollout = Rollout(
        id=f"ecs-svc/{number}",
        created_at=at_time(now),
        revision=revision_of(service),
        revision_arn=arn_of(service, "service-revision", number),
        healthy=not service_crash_loops(service),
        desired=service.desired_count,
        pending=service.desired_count,
        rollout_state_reason=f"ECS deployment ecs-svc/{number} in progress.",
    )
    for previous in service.rollouts:
        previous.status, previous.pending = "ACTIVE", 0
    for history in service.service_deployments:
        if history is not rollback_of and history.status in UNFINISHED:
            end_record(history, "STOPPED", now, reason="A newer service deployment started.")
    if rollback_of is None:
        sources = [previous for previous in service.rollouts if previous.running]
        service.service_deployments.insert(
            0,
            ServiceDeployment(
                arn=arn_of(service, "service-deployment", number),
                service_arn=service.arn,
                cluster_arn=service.cluster_arn,
                created_at=rollout.created_at,
                target=rollout,
                sources=sources,
                deployment_configuration=copy_value(service.deployment_configuration),
            ),
        )
    else:
        rollout.revision_arn = service.last_completed.revision_arn
    service.rollouts.insert(0, rollout)
    render(service)
    return rollout


def service_crash_loops(service: Any) -> bool:
    try:
        task_definition = service._backend.describe_task_definition(service.task_definition)
    except Exception:  # a task definition AWS cannot find starts no task either
        return True
    return crash_loops(task_definition)


def crash_loops(task_definition: Any) -> bool:
    """Whether the tasks of this task definition never become healthy: one of its images names ``CRASHLOOP_MARKER``
    (the sandbox's stand-in for an application that exits at start or fails its health check)."""
    return any(CRASHLOOP_MARKER in str(c.get("image", "")) for c in task_definition.container_definitions)


def is_current(service: Any, rollout: Rollout) -> bool:
    return service.status == "ACTIVE" and bool(service.rollouts) and service.rollouts[0] is rollout


def _complete(service: Any, rollout: Rollout, rollback_of: ServiceDeployment | None, when: float) -> None:
    if not is_current(service, rollout) or rollout.rollout_state != "IN_PROGRESS":
        return
    rollout.rollout_state = "COMPLETED"
    rollout.rollout_state_reason = f"ECS deployment {rollout.id} completed."
    rollout.desired = service.desired_count
    rollout.running, rollout.pending, rollout.updated_at = rollout.desired, 0, at_time(when)
    service.rollouts = [rollout]  # the ACTIVE deployments' tasks have drained
    service.last_completed = rollout
    record = rollback_of or record_of(service, rollout)
    if record is not None:
        end_record(record, "ROLLBACK_SUCCESSFUL" if rollback_of else "SUCCESSFUL", when)
    add_event(service, f"(service {service.name}) (deployment {rollout.id}) deployment completed.", when)
    add_event(service, f"(service {service.name}) has reached a steady state.", when)
    render(service)


def record_of(service: Any, rollout: Rollout) -> ServiceDeployment | None:
    return next((record for record in service.service_deployments if record.target is rollout), None)


def end_record(record: ServiceDeployment, status: str, when: float, *, reason: str | None = None) -> None:
    record.status, record.updated_at = status, at_time(when)
    record.status_reason = reason or record.status_reason
    if status == "STOPPED":
        record.stopped_at = record.updated_at
    else:
        record.finished_at = record.updated_at


Trip = Callable[[Any, Rollout, bool, float], None]  # (service, rollout, rollback, when): the breaker tripped


def schedule_failure(service: Any, rollout: Rollout, *, start: float, trip: Trip | None = None) -> None:
    """A task of the deployment fails every ``ecs_task_failure`` while it is the service's current one; when the
    circuit breaker trips, ``trip`` (default: the rolling update's) decides what follows."""
    delay = max(TIMELINE.timing.ecs_task_failure, REPEAT_FLOOR_SECONDS)
    TIMELINE.after(delay, lambda when: _task_failed(service, rollout, when, trip or _fail), start=start)


def _task_failed(service: Any, rollout: Rollout, when: float, trip: Trip) -> None:
    """One more of the deployment's tasks stopped before it was healthy; the circuit breaker may trip."""
    if not is_current(service, rollout) or rollout.rollout_state != "IN_PROGRESS":
        return
    rollout.failed_tasks += 1
    rollout.updated_at = at_time(when)
    breaker = service.deployment_configuration.get("deploymentCircuitBreaker") or {}
    if breaker.get("enable") and rollout.failed_tasks >= breaker_threshold(service.desired_count):
        fail_rollout(service, rollout, BREAKER_REASON, when)
        trip(service, rollout, bool(breaker.get("rollback")), when)
    else:
        schedule_failure(service, rollout, start=when, trip=trip)
    render(service)


def fail_rollout(service: Any, rollout: Rollout, reason: str, when: float) -> None:
    """The deployment is FAILED (rolloutState and its reason) and starts no more tasks."""
    rollout.rollout_state, rollout.rollout_state_reason = "FAILED", reason
    rollout.pending, rollout.updated_at = 0, at_time(when)
    what = "tasks failed to start." if reason == BREAKER_REASON else reason
    add_event(service, f"(service {service.name}) (deployment {rollout.id}) deployment failed: {what}", when)


def _fail(service: Any, rollout: Rollout, rollback: bool, when: float) -> None:
    record = record_of(service, rollout)
    if not (rollback and service.last_completed is not None):
        if record is not None:
            end_record(record, "STOPPED", when, reason=rollout.rollout_state_reason)
        return
    roll_back(service, record, reason=ROLLBACK_REASON, when=when)


def roll_back(service: Any, record: ServiceDeployment | None, *, reason: str, when: float) -> None:
    """A rolling rollback: the service goes back to its last completed revision, which a new deployment (its own
    ID) deploys; the service deployment is ROLLBACK_IN_PROGRESS with ``rollback``, ROLLBACK_SUCCESSFUL once done."""
    target = service.last_completed
    for name, value in target.revision.items():
        setattr(service, name, copy_value(value))
    if record is not None:
        start_rollback(record, target, reason=reason, when=when)
    add_event(service, f"(service {service.name}) rolling back to deployment {target.id}.", when)
    start_deployment(service, rollback_of=record)


def start_rollback(record: ServiceDeployment, target: Rollout, *, reason: str, when: float) -> None:
    """The service deployment is ROLLBACK_IN_PROGRESS towards ``target``'s revision (its statusReason is the
    failure's, if one was recorded)."""
    record.status, record.updated_at = "ROLLBACK_IN_PROGRESS", at_time(when)
    record.status_reason = record.target.rollout_state_reason or reason
    record.rollback = {
        "reason": reason,
        "startedAt": at_time(when),
        "serviceRevisionArn": target.revision_arn,
    }


# --- scaling and deleting -------------------------------------------------------------------------------------


def scale(service: Any) -> None:
    """desiredCount changed without a new deployment: new tasks run after ``ecs_rollout``, stopped ones are gone
    after ``ecs_drain`` (the PRIMARY deployment's rolloutState does not change)."""
    if not service.rollouts:
        return
    primary = service.rollouts[0]
    primary.desired = service.desired_count
    service.scale_generation += 1
    generation = service.scale_generation
    if primary.rollout_state != "COMPLETED":
        if primary.rollout_state == "IN_PROGRESS":
            primary.pending = max(primary.desired - primary.running, 0)
        render(service)
        return
    growing = primary.desired > primary.running
    primary.pending = max(primary.desired - primary.running, 0)
    delay = TIMELINE.timing.ecs_rollout if growing else TIMELINE.timing.ecs_drain

    def settle(when: float) -> None:
        if is_current(service, primary) and service.scale_generation == generation:
            primary.running, primary.pending, primary.updated_at = primary.desired, 0, at_time(when)
            add_event(service, f"(service {service.name}) has reached a steady state.", when)
            render(service)

    TIMELINE.after(delay, settle)
    render(service)


def delete(service: Any) -> None:
    """DeleteService: DRAINING while its running or pending tasks stop (``ecs_drain``), then INACTIVE; INACTIVE at
    once if it has no task."""
    now = TIMELINE.now()
    for record in service.service_deployments:
        if record.status in UNFINISHED:
            end_record(record, "STOPPED", now, reason="The service was deleted.")
    # a PENDING task is stopped too (the rollouts keep their counts: moto's own DeleteService zeroed pendingCount)
    had_tasks = service.running_count > 0 or any(
        rollout.running + rollout.pending for rollout in service.rollouts
    )
    service.desired_count = service.pending_count = 0
    for rollout in service.rollouts:
        rollout.desired, rollout.pending = 0, 0
    render(service)
    if not had_tasks:
        _inactive(service)
        return
    service.status = "DRAINING"

    def drained(when: float) -> None:
        if service.status == "DRAINING":
            _inactive(service)

    TIMELINE.after(TIMELINE.timing.ecs_drain, drained, start=now)


def _inactive(service: Any) -> None:
    service.status = "INACTIVE"
    service.rollouts = []
    service.running_count = 0
    render(service)


# --- ListServiceDeployments, DescribeServiceDeployments -------------------------------------------------------

LIST_DEPLOYMENTS_DEFAULT_PAGE, LIST_DEPLOYMENTS_MAX_PAGE = 20, 100
DESCRIBE_DEPLOYMENTS_LIMIT = 20


def apply() -> None:
    add_method(EC2ContainerServiceResponse, "list_service_deployments", _list_service_deployments)
    add_method(EC2ContainerServiceResponse, "describe_service_deployments", _describe_service_deployments)
    add_method(EC2ContainerServiceResponse, "describe_service_revisions", _describe_service_revisions)


def _list_service_deployments(self: Any) -> ActionResult:
    """ECS API Reference, ListServiceDeployments: a service's deployments, newest first, filtered by ``status``
    and ``createdAt`` (before/after), 20 a page unless ``maxResults`` (≤ 100) says otherwise. moto lacked it."""
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
    statuses = self._get_param("status") or None
    created = self._get_param("createdAt") or {}
    records = [
        record.brief()
        for record in service.service_deployments
        if (statuses is None or record.status in statuses) and _created_within(record.created_at, created)
    ]
    page, next_token = paginate_request(
        self, records, default_page=LIST_DEPLOYMENTS_DEFAULT_PAGE, max_page=LIST_DEPLOYMENTS_MAX_PAGE
    )
    return ActionResult({"serviceDeployments": page, "nextToken": next_token})


def _created_within(created_at: datetime, window: dict[str, Any]) -> bool:
    before, after = (_as_datetime(window.get(name)) for name in ("before", "after"))
    return (before is None or created_at < before) and (after is None or created_at > after)


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


def _describe_service_deployments(self: Any) -> ActionResult:
    """ECS API Reference, DescribeServiceDeployments: at most 20 ARNs; each unknown one is a failure with reason
    MISSING. moto lacked it."""
    arns: list[str] = self._get_param("serviceDeploymentArns") or []
    if len(arns) > DESCRIBE_DEPLOYMENTS_LIMIT:
        raise InvalidParameterException(
            f"serviceDeploymentArns can have at most {DESCRIBE_DEPLOYMENTS_LIMIT} items (got {len(arns)})."
        )
    by_arn = {
        record.arn: record
        for service in self.ecs_backend.services.values()
        for record in service.service_deployments
    }
    found = [by_arn[arn].full() for arn in arns if arn in by_arn]
    failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in by_arn]
    return ActionResult({"serviceDeployments": found, "failures": failures})


def _describe_service_revisions(self: Any) -> ActionResult:
    """ECS API Reference, DescribeServiceRevisions: what each service revision deployed (its task definition,
    launch type, platform, network configuration, load balancers, registries), at most 20 ARNs; each unknown one
    is a failure with reason MISSING. moto lacked it. The sandbox knows the revisions its service deployments
    name, as AWS keeps every revision a deployment made."""
    arns: list[str] = self._get_param("serviceRevisionArns") or []
    if len(arns) > DESCRIBE_DEPLOYMENTS_LIMIT:
        raise InvalidParameterException(
            f"serviceRevisionArns can have at most {DESCRIBE_DEPLOYMENTS_LIMIT} items (got {len(arns)})."
        )
    by_arn: dict[str, tuple[Any, Rollout]] = {}
    for service in self.ecs_backend.services.values():
        for record in service.service_deployments:
            for rollout in (record.target, *record.sources):
                by_arn[rollout.revision_arn] = (service, rollout)
    found = [_service_revision(*by_arn[arn]) for arn in arns if arn in by_arn]
    failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in by_arn]
    return ActionResult({"serviceRevisions": found, "failures": failures})


def _service_revision(service: Any, rollout: Rollout) -> dict[str, Any]:
    revision = rollout.revision
    return present(
        {
            "serviceRevisionArn": rollout.revision_arn,
            "serviceArn": service.arn,
            "clusterArn": service.arn.split(":service/")[0] + f":cluster/{service.cluster_name}",
            "taskDefinition": revision["task_definition"],
            "capacityProviderStrategy": revision["capacity_provider_strategy"] or None,
            "launchType": revision["launch_type"],
            "platformVersion": revision["platform_version"],
            "loadBalancers": revision["load_balancers"] or None,
            "serviceRegistries": revision["service_registries"] or None,
            "networkConfiguration": revision["network_configuration"] or None,
            "createdAt": rollout.created_at,
        }
    )
