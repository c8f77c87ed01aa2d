"""Drift during ECS rolling deployments, planner-wise: what waits for a deployment, what is corrected at once, and
a revision ECS rolled back that is not deployed again."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.model.live import FailedRollout, LiveState
from reconciler.plan.types import Cause, Change
from tests.plan.test_planner import ACCOUNT, converged_live, desired_state, plan_of, service_change

OURS = f"{ACCOUNT}:task-definition/web:1"
ROGUE = f"{ACCOUNT}:task-definition/web:2"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def deployment(status: str, task_definition: str, rollout: str, *, minutes_ago: float = 1) -> dict[str, Any]:
    return {
        "id": f"ecs-svc/{abs(hash((status, task_definition, rollout))) % 10**8}",
        "status": status,
        "taskDefinition": task_definition,
        "rolloutState": rollout,
        "createdAt": NOW - timedelta(minutes=minutes_ago),
    }


def live_with(running: str, deployments: list[dict[str, Any]], **service: Any) -> LiveState:
    """The converged estate, its service now running ``running`` (a hand-made revision, web:2, when not ours)
    with ``deployments``, and a desiredCount someone changed by hand (drift that waits or not)."""
    live = converged_live(desired_state())
    live.read_at = NOW
    rogue = copy.deepcopy(live.task_definitions[OURS])
    rogue.update(revision=2, taskDefinitionArn=ROGUE, tags=[])
    rogue["containerDefinitions"][0]["image"] = "web:crashloop"
    live.task_definitions[ROGUE] = rogue
    entry = live.services[("demo", "web")]
    entry.update(taskDefinition=running, deployments=deployments, desiredCount=5, **service)
    live.failed_rollouts[("demo", "web")] = []  # read: nothing rolled back
    return live


def planned(live: LiveState, **options: Any) -> Change:
    change = service_change(plan_of(desired_state(), live, **options))
    assert change.cause is Cause.DRIFT
    return change


CASES = [
    # (what the service shows, running, deployments, held?)
    ("settled", OURS, [deployment("PRIMARY", OURS, "COMPLETED")], False),
    ("our rollout in progress", OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS")], True),
    (
        "our rollout beside the one it replaces",
        OURS,
        [deployment("PRIMARY", OURS, "IN_PROGRESS"), deployment("ACTIVE", ROGUE, "COMPLETED")],
        True,
    ),
    ("a hand-made rollout in progress", ROGUE, [deployment("PRIMARY", ROGUE, "IN_PROGRESS")], False),
    (
        "a hand-made rollout that replaces ours",
        ROGUE,
        [deployment("PRIMARY", ROGUE, "IN_PROGRESS"), deployment("ACTIVE", OURS, "COMPLETED")],
        False,
    ),
    ("our rollout that failed", OURS, [deployment("PRIMARY", OURS, "FAILED")], False),
    (
        "only an old ACTIVE deployment in progress",
        OURS,
        [deployment("PRIMARY", OURS, "COMPLETED"), deployment("ACTIVE", ROGUE, "IN_PROGRESS")],
        False,
    ),
    (
        "our rollout past the deadline",
        OURS,
        [deployment("PRIMARY", OURS, "IN_PROGRESS", minutes_ago=31)],
        False,
    ),
    ("no deployments listed", OURS, [], False),
]


@pytest.mark.parametrize(("case", "running", "deployments", "held"), CASES, ids=[c[0] for c in CASES])
def test_what_waits_for_a_deployment(case: str, running: str, deployments: list[Any], held: bool) -> None:
    change = planned(live_with(running, deployments))
    assert bool(change.held) is held, change.held
    assert change.writes is not held
    assert not change.deployment_failed


def test_a_hand_made_rollout_is_overridden_and_the_plan_says_so() -> None:
    change = planned(live_with(ROGUE, [deployment("PRIMARY", ROGUE, "IN_PROGRESS")]))
    assert change.task_definition_arn == OURS
    assert "taskDefinition" in change.changed_fields and "desiredCount" in change.changed_fields
    assert "overrides ECS deployment" in change.deployment_note and "web:2" in change.deployment_note


def test_our_rollout_past_the_deadline_is_corrected_and_said_to_be_late() -> None:
    live = live_with(OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS", minutes_ago=12)])
    assert planned(live).held  # the default deadline is 30 minutes
    change = planned(live, deployment_deadline=600)
    assert not change.held
    assert "past the 10 min deadline" in change.deployment_note


@pytest.mark.parametrize(
    ("deployments", "deadline", "overdue"),
    [
        ([deployment("PRIMARY", OURS, "IN_PROGRESS", minutes_ago=12)], 600, True),
        ([deployment("PRIMARY", OURS, "IN_PROGRESS", minutes_ago=12)], 1800, False),
        ([deployment("PRIMARY", ROGUE, "IN_PROGRESS", minutes_ago=40)], 1800, True),  # whoever started it
        ([deployment("PRIMARY", OURS, "COMPLETED", minutes_ago=40)], 1800, False),
        ([deployment("PRIMARY", OURS, "FAILED", minutes_ago=40)], 1800, False),  # reported as failed instead
        ([deployment("ACTIVE", OURS, "IN_PROGRESS", minutes_ago=40)], 1800, False),  # only PRIMARY counts
    ],
)  # fmt: skip
def test_a_deployment_past_the_deadline_is_overdue_drift_or_not(
    deployments: list[dict[str, Any]], deadline: float, overdue: bool
) -> None:
    live = live_with(OURS, deployments)
    live.services[("demo", "web")]["desiredCount"] = 1  # no drift: the service is in sync
    plan = plan_of(desired_state(), live, deployment_deadline=deadline)
    assert ("web" in plan.deployments_overdue) is overdue
    if overdue:
        assert "past the" in plan.deployments_overdue["web"] and "deadline" in plan.deployments_overdue["web"]


def test_a_deleted_service_is_never_held_by_its_deployments() -> None:
    live = live_with(OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS")], status="INACTIVE")
    change = service_change(plan_of(desired_state(), live))
    assert change.action.value == "create"
    assert not change.held


def test_a_draining_service_is_created_again_once_it_has_drained() -> None:
    """ECS refuses CreateService while a service of that name drains: the create waits, however long."""
    live = live_with(OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS")], status="DRAINING")
    change = service_change(plan_of(desired_state(), live))
    assert change.action.value == "create"
    assert "still draining" in change.held
    live.services[("demo", "web")]["status"] = "INACTIVE"
    assert not service_change(plan_of(desired_state(), live)).held


def test_a_revision_ecs_rolled_back_is_not_deployed_again() -> None:
    """ECS's circuit breaker rolled the reconciler's web:1 back to web:2: the plan reports it and holds."""
    live = live_with(ROGUE, [deployment("PRIMARY", ROGUE, "COMPLETED")])
    arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/web/abc123"
    live.failed_rollouts[("demo", "web")] = [
        FailedRollout(arn, "ROLLBACK_SUCCESSFUL", OURS, "tasks failed to start")
    ]
    change = planned(live)
    assert change.held.startswith("ECS rolled back deployment abc123 of web:1 (ROLLBACK_SUCCESSFUL")
    assert "until Git changes" in change.held
    assert change.deployment_failed == "abc123"


def test_a_rollback_of_another_revision_does_not_hold() -> None:
    live = live_with(ROGUE, [deployment("PRIMARY", ROGUE, "COMPLETED")])
    other = f"{ACCOUNT}:task-definition/web:7"
    live.failed_rollouts[("demo", "web")] = [FailedRollout("arn/x", "ROLLBACK_SUCCESSFUL", other, "")]
    assert not planned(live).held


def test_the_history_is_asked_for_only_when_a_revision_would_be_put_back() -> None:
    live = live_with(ROGUE, [deployment("PRIMARY", ROGUE, "COMPLETED")])
    del live.failed_rollouts[("demo", "web")]
    plan = plan_of(desired_state(), live)
    assert plan.rollouts_to_read == [("demo", "web")]
    # only desiredCount drifted: no revision to put back, nothing to read
    live = live_with(OURS, [deployment("PRIMARY", OURS, "COMPLETED")])
    del live.failed_rollouts[("demo", "web")]
    assert plan_of(desired_state(), live).rollouts_to_read == []


def test_a_git_change_is_never_held_by_a_deployment() -> None:
    live = live_with(OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS")])
    desired = desired_state()
    service = next(r for r in desired if r.kind == "Service")
    service.spec["desiredCount"] = 3
    change = service_change(plan_of(desired, live))
    assert change.cause is Cause.DESIRED
    assert not change.held


def test_a_history_that_cannot_be_read_holds_only_putting_the_revision_back() -> None:
    live = live_with(ROGUE, [deployment("PRIMARY", ROGUE, "COMPLETED")])
    del live.failed_rollouts[("demo", "web")]
    live.rollout_read_errors[("demo", "web")] = "AccessDeniedException: not authorized"
    plan = plan_of(desired_state(), live)
    assert plan.rollouts_to_read == []  # read once, not asked for again
    change = service_change(plan)
    assert "cannot be read (AccessDeniedException" in change.held


@pytest.mark.parametrize(
    ("running", "deployments", "failed"),
    [
        (OURS, [deployment("PRIMARY", OURS, "FAILED")], True),  # the breaker without rollback: left on it
        (OURS, [deployment("PRIMARY", OURS, "IN_PROGRESS")], False),
        (OURS, [deployment("PRIMARY", OURS, "COMPLETED"), deployment("ACTIVE", ROGUE, "FAILED")], False),
        (ROGUE, [deployment("PRIMARY", ROGUE, "FAILED")], False),  # someone else's revision: drift, put back
    ],
)  # fmt: skip
def test_a_service_left_on_a_failed_deployment_of_its_revision_is_reported_failed(
    running: str, deployments: list[dict[str, Any]], failed: bool
) -> None:
    live = live_with(running, deployments)
    live.services[("demo", "web")]["desiredCount"] = 1
    plan = plan_of(desired_state(), live)
    primary = deployments[0]["id"]
    assert plan.deployments_failed == ({"web": primary} if failed else {})
