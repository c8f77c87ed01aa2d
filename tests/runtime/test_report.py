"""What the report keeps across passes, table by table: the deployments that failed, the health of each resource and
its metric series, the deployment history ``GET /status`` shows."""

from __future__ import annotations

from reconciler.apply.executor import ApplyResult
from reconciler.metrics import REGISTRY
from reconciler.model.resource import ResourceKey
from reconciler.plan.types import Action, Cause, Change, Plan
from reconciler.runtime.engine import PassOutcome
from reconciler.runtime.report import Tracker


def sample(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


def outcome(plan: Plan, *, scope: frozenset[ResourceKey] | None = None) -> PassOutcome:
    return PassOutcome(plan=plan, result=ApplyResult(), scope=scope)


def test_a_service_left_on_a_failed_deployment_is_failed_until_git_changes() -> None:
    """ECS's circuit breaker failed the deployment of the revision Git wants and did not roll it back: the service
    is in sync, and failed, pass after pass; once a commit deploys something else, it is not."""
    tracker, key = Tracker(), ResourceKey("Service", "report-failed-in-place")
    failed = Plan(revision="r1", in_sync=[key], deployments_failed={key.name: "ecs-svc/7"})
    for _ in range(2):
        tracker.record(outcome(failed))
        assert sample("reconciler_deployment_failed", kind="Service", name=key.name) == 1
        assert tracker.statuses[key].deployment == "ecs-svc/7 failed"
    tracker.record(outcome(Plan(revision="r2", in_sync=[key])))
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name) == 0
    assert tracker.statuses[key].deployment == ""


def test_git_back_on_what_the_service_runs_clears_its_failed_deployment() -> None:
    """ECS rolled the revision Git wanted back; Git is changed back to the revision the service runs: AWS is as Git
    says (only the service's spec-hash tag is rewritten), and the deployment is no longer one of Git's revision."""
    tracker, key = Tracker(), ResourceKey("Service", "report-restamp")
    held = Change(kind="Service", name=key.name, action=Action.UPDATE, cause=Cause.DRIFT, held="rolled back")
    held = held.with_service(deployment_failed="sd-9")
    tracker.record(
        PassOutcome(plan=Plan(revision="r1", changes=[held]), result=ApplyResult(skipped=[(held, "x")]))
    )
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name) == 1
    restamp = Change(kind="Service", name=key.name, action=Action.UPDATE, cause=Cause.DESIRED, restamp=True)
    tracker.record(
        PassOutcome(plan=Plan(revision="r2", changes=[restamp]), result=ApplyResult(applied=[restamp]))
    )
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name) == 0
    assert tracker.statuses[key].deployment == ""
