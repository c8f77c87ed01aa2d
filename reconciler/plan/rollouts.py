"""ECS rolling deployments as the plan sees them: when a service's drift waits for a deployment, and when it must not.

ECS replaces a service's tasks over minutes, and a deployment whose tasks never become healthy stays
``IN_PROGRESS`` for as long as the circuit breaker is off (Amazon ECS Developer Guide: "Deploy Amazon ECS services
by replacing tasks", "How the Amazon ECS deployment circuit breaker detects failures"). ``DescribeServices`` lists
the ``PRIMARY`` deployment, the one the service is moving to, beside the ``ACTIVE`` ones it is draining. What the
plan decides from that, for a service whose drift would be corrected:

| what the service shows | what happens to its drift |
|---|---|
| no ``PRIMARY`` deployment rolling out (completed, failed, or none) | corrected |
| ``PRIMARY`` rolling out a revision other than the one the reconciler wants (someone's ``UpdateService``) | corrected at once: waiting would keep the hand-made change for as long as its rollout takes, forever if it never becomes healthy |
| ``PRIMARY`` rolling out the revision the reconciler wants (its own deployment) | held while younger than ``--deployment-deadline``; past it, corrected and reported |
| the service is ``DRAINING`` or ``INACTIVE`` | never held by its deployments: it is created again (once it has drained) |
| ECS rolled back a deployment of the revision the reconciler wants (circuit breaker) | held, reported as a failed deployment: that revision is not deployed again until Git changes |

Whatever its drift, a service whose ``PRIMARY`` deployment has rolled out for longer than the deadline is reported
as overdue (``overdue``): a rollout that never ends is a failure ECS does not report when its circuit breaker is off.
A service whose circuit breaker failed the deployment of the wanted revision without rolling it back stays on it, in
sync with Git and never deployed again until Git changes: it is reported as failed (``failed_in_place``).

Only drift waits: a change that Git made goes out at once, as ECS supersedes a deployment in progress with a new
one. Pure: reads ``DescribeServices`` entries and the deployment history ``live`` read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reconciler.model.ecs import task_definition_label
from reconciler.model.live import Described, FailedRollout
from reconciler.plan.types import Cause, Change

DEFAULT_DEADLINE = 1800.0  # seconds: ECS's own deployments of a large service rarely take longer


@dataclass(frozen=True)
class Rollout:
    """What the service's deployments mean for one planned change: ``held`` (why it waits), ``failed`` (the ID
    of a deployment of the wanted revision that ECS rolled back), ``note`` (said in the plan, not holding it)."""

    held: str = ""
    failed: str = ""
    note: str = ""


NOTHING = Rollout()


def needs_history(change: Change, service: Described | None, wanted: str) -> bool:
    """Whether the plan must know the service's failed deployments before it decides: only when it would put back
    a task definition revision that drift moved away from."""
    return (
        change.cause is Cause.DRIFT
        and "taskDefinition" in change.changed_fields
        and bool(wanted)
        and service is not None
        and service.get("status") == "ACTIVE"
    )


def primary_deployment(service: Described) -> Described | None:
    return next((d for d in service.get("deployments") or () if d.get("status") == "PRIMARY"), None)


def rollout(
    change: Change,
    service: Described | None,
    wanted: str,
    failed: Sequence[FailedRollout],
    *,
    now: datetime,
    deadline: float,
    unreadable: str = "",
) -> Rollout:
    """``wanted``: the ARN of the revision the document runs ("" when it is still to be registered);
    ``failed``: the service's recent deployments that ECS rolled back; ``unreadable``: why they could not be
    read, if they could not."""
    if change.cause is not Cause.DRIFT or service is None or service.get("status") != "ACTIVE":
        return NOTHING
    if "taskDefinition" in change.changed_fields and (held := _history_hold(wanted, failed, unreadable)):
        return held
    primary = primary_deployment(service)
    if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
        return NOTHING
    running = str(primary.get("taskDefinition", ""))
    label = task_definition_label(running)
    if not _same_revision(running, wanted):
        return Rollout(
            note=f"overrides ECS deployment {primary.get('id', '')} of {label}, not the reconciler's"
        )
    if late := overdue(service, now=now, deadline=deadline):
        return Rollout(note=f"{late}: drift is corrected without waiting for it")
    age = _age(primary, now)
    return Rollout(
        held=f"ECS deployment {primary.get('id', '')} of {label} is rolling out"
        f"{f' ({_duration(age)})' if age is not None else ''}; drift is corrected once it has finished"
    )


def overdue(service: Described | None, *, now: datetime, deadline: float) -> str:
    """What to say of ``service`` when its ``PRIMARY`` deployment has been rolling out for longer than ``deadline``
    seconds (whoever started it), else ""."""
    if service is None or service.get("status") != "ACTIVE":
        return ""
    primary = primary_deployment(service)
    if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
        return ""
    age = _age(primary, now)
    if age is None or age < deadline:
        return ""
    label = task_definition_label(str(primary.get("taskDefinition", "")))
    return (
        f"ECS deployment {primary.get('id', '')} of {label} has been rolling out for {_duration(age)},"
        f" past the {_duration(deadline)} deadline"
    )


def failed_in_place(service: Described | None, wanted: str) -> str:
    """The ID of ``service``'s ``PRIMARY`` deployment when ECS failed it (its circuit breaker, without rollback)
    while it deployed ``wanted``, else "". ECS leaves the service on that deployment, running what tasks it can."""
    if service is None or service.get("status") != "ACTIVE":
        return ""
    primary = primary_deployment(service)
    if primary is None or primary.get("rolloutState") != "FAILED":
        return ""
    return (
        str(primary.get("id", "")) if _same_revision(str(primary.get("taskDefinition", "")), wanted) else ""
    )


def _history_hold(wanted: str, failed: Sequence[FailedRollout], unreadable: str) -> Rollout | None:
    """Putting ``wanted`` back waits when ECS rolled it back, or when nobody can say whether it did."""
    if unreadable:
        return Rollout(
            held=f"its deployment history cannot be read ({unreadable}): {task_definition_label(wanted)} is not"
            " put back without knowing whether ECS rolled it back"
        )
    rolled_back = next((f for f in failed if _same_revision(f.task_definition, wanted)), None)
    if rolled_back is None:
        return None
    return Rollout(
        held=f"ECS rolled back deployment {rolled_back.deployment_id} of {task_definition_label(wanted)}"
        f" ({rolled_back.status}{': ' + rolled_back.reason if rolled_back.reason else ''});"
        " not deployed again until Git changes",
        failed=rolled_back.deployment_id,
    )


def _same_revision(one: str, other: str) -> bool:
    """An ARN and ``family:revision`` name the same revision."""
    return bool(one) and bool(other) and task_definition_label(one) == task_definition_label(other)


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _age(deployment: Described, now: datetime) -> float | None:
    created = deployment.get("createdAt")
    if not isinstance(created, datetime):
        return None
    return (now - created).total_seconds()
