"""What the report keeps across passes, table by table: the deployments that failed, the health of each resource and
its metric series, the deployment history ``GET /status`` shows."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.apply.executor import ApplyResult
from reconciler.metrics import REGISTRY
from reconciler.model.health import NOT_READ, Health, Verdict
from reconciler.model.history import DeploymentRecord, Starters
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


HEALTHY = Verdict(Health.HEALTHY, "2 of 2 tasks running")
PROGRESSING = Verdict(Health.PROGRESSING, "ECS deployment ecs-svc/1 of web:2 is rolling out")


def assessed(key: ResourceKey, verdict: Verdict) -> PassOutcome:
    return PassOutcome(plan=Plan(revision="r1", in_sync=[key]), result=ApplyResult(), health={key: verdict})


def health_series(key: ResourceKey) -> dict[str, float]:
    found = {}
    for health in Health:
        value = sample("reconciler_resource_health", kind=key.kind, name=key.name, health=health.value)
        if value is not None:
            found[health.value] = value
    return found


def test_a_resource_has_health_series_from_its_first_health_other_than_healthy() -> None:
    """Thousands of resources that stay healthy cost no series; one that has been anything else has one per health
    it has had, 1 on the current one."""
    tracker, key = Tracker(), ResourceKey("Service", "report-health")
    tracker.record(assessed(key, NOT_READ))
    tracker.record(assessed(key, HEALTHY))
    assert health_series(key) == {}
    tracker.record(assessed(key, PROGRESSING))
    assert health_series(key) == {"Progressing": 1}
    tracker.record(assessed(key, HEALTHY))
    assert health_series(key) == {"Progressing": 0, "Healthy": 1}
    tracker.record(PassOutcome(plan=Plan(revision="r2"), result=ApplyResult()))  # its document is gone
    assert health_series(key) == {}
    assert key not in tracker.statuses


def test_an_unknown_of_a_resource_not_read_yet_makes_no_series_but_one_that_failed_does() -> None:
    tracker, key = Tracker(), ResourceKey("TargetGroup", "report-unknown")
    tracker.record(assessed(key, NOT_READ))
    assert health_series(key) == {}
    tracker.record(assessed(key, Verdict(Health.UNKNOWN, "its target health cannot be read: AccessDenied")))
    assert health_series(key) == {"Unknown": 1}


def test_status_says_each_resources_health_and_each_services_deployments() -> None:
    """A service's history is kept as read, and said with who started each deployment when /status is asked."""
    tracker, service, group = Tracker(), ResourceKey("Service", "web"), ResourceKey("TargetGroup", "web-tg")
    started = datetime(2026, 12, 5, 12, 0, tzinfo=UTC).timestamp()
    record = DeploymentRecord(id="sd-1", strategy="ROLLING", status="IN_PROGRESS", started_at=started)
    starters = Starters()
    tracker.record(
        PassOutcome(
            plan=Plan(revision="r1", in_sync=[service, group]), result=ApplyResult(),
            health={service: PROGRESSING, group: NOT_READ}, deployments={"web": (record,)}, starters=starters,
        )
    )  # fmt: skip
    starters.started(["sd-1"], "r1")  # learnt after the pass: said at once
    by_kind = {body["kind"]: body for body in tracker.as_json()}
    assert by_kind["Service"]["health"] == "Progressing"
    assert by_kind["Service"]["healthReason"] == PROGRESSING.reason
    assert by_kind["Service"]["deployments"] == [
        {"id": "sd-1", "revision": "r1", "startedBy": "reconciler", "strategy": "ROLLING", "status": "IN_PROGRESS",
         "reason": "", "startedAt": "2026-12-05T12:00:00+00:00", "finishedAt": None}
    ]  # fmt: skip
    assert (by_kind["TargetGroup"]["health"], by_kind["TargetGroup"]["healthReason"]) == (
        "Unknown",
        "not read yet",
    )
    assert "deployments" not in by_kind["TargetGroup"]


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
