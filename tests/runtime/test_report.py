"""What the report keeps across passes, table by table: the deployments that failed, the health of each resource and
its metric series, the deployment history ``GET /status`` shows."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from reconciler.apply.executor import ApplyResult
from reconciler.metrics import REGISTRY
from reconciler.model.health import NOT_READ, Health, Verdict
from reconciler.model.history import DeploymentRecord, Starters
from reconciler.model.principal import Principal, PrincipalType
from reconciler.model.resource import ResourceKey
from reconciler.model.secrets import mask_at
from reconciler.plan.diff import FieldDiff
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
        assert sample("reconciler_deployment_failed", kind="Service", name=key.name, target="default") == 1
        assert tracker.statuses[key].deployment == "ecs-svc/7 failed"
    tracker.record(outcome(Plan(revision="r2", in_sync=[key])))
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name, target="default") == 0
    assert tracker.statuses[key].deployment == ""


HEALTHY = Verdict(Health.HEALTHY, "2 of 2 tasks running")
PROGRESSING = Verdict(Health.PROGRESSING, "ECS deployment ecs-svc/1 of web:2 is rolling out")


def assessed(key: ResourceKey, verdict: Verdict) -> PassOutcome:
    return PassOutcome(plan=Plan(revision="r1", in_sync=[key]), result=ApplyResult(), health={key: verdict})


def health_series(key: ResourceKey) -> dict[str, float]:
    found = {}
    for health in Health:
        value = sample(
            "reconciler_resource_health", kind=key.kind, name=key.name, health=health.value, target="default"
        )
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
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name, target="default") == 1
    restamp = Change(kind="Service", name=key.name, action=Action.UPDATE, cause=Cause.DESIRED, restamp=True)
    tracker.record(
        PassOutcome(plan=Plan(revision="r2", changes=[restamp]), result=ApplyResult(applied=[restamp]))
    )
    assert sample("reconciler_deployment_failed", kind="Service", name=key.name, target="default") == 0
    assert tracker.statuses[key].deployment == ""


SCALED = FieldDiff(path="desiredCount", live=5, desired=1)
SECRET_ENV = FieldDiff(
    path="containerDefinitions[app].environment.API_TOKEN", live="hunter2-live", desired="s3cr3t"
)


def drift(key: ResourceKey, *diff: FieldDiff) -> Change:
    return Change(kind=key.kind, name=key.name, action=Action.UPDATE, cause=Cause.DRIFT, diff=list(diff))


def corrected(change: Change, *, scope: frozenset[ResourceKey] | None = None) -> PassOutcome:
    return PassOutcome(
        plan=Plan(revision="r1", changes=[change]), result=ApplyResult(applied=[change]), scope=scope
    )


def held(change: Change) -> PassOutcome:
    return PassOutcome(
        plan=Plan(revision="r1", changes=[change]), result=ApplyResult(skipped=[(change, "detect")])
    )


JANE = Principal(PrincipalType.ROLE, "Deployer/jane", "arn:aws:sts::123456789012:assumed-role/Deployer/jane")


def test_a_drift_an_event_revealed_is_put_down_to_its_principal() -> None:
    tracker, key = Tracker(), ResourceKey("Service", "report-drift-by-event")
    before = sample("reconciler_drift_by_principal_total", principal_type="role") or 0
    tracker.revealed([key], JANE, "2026-12-05T12:00:00Z")
    tracker.record(corrected(drift(key, SCALED), scope=frozenset({key})))
    body = tracker.statuses[key].as_json()
    assert body["lastDriftBy"] == JANE.as_json() | {"foundBy": "event", "at": "2026-12-05T12:00:00+00:00"}
    assert sample("reconciler_drift_by_principal_total", principal_type="role") == before + 1
    [episode] = body["driftEpisodes"]  # type: ignore[misc]
    assert (episode["by"]["name"], episode["paths"], episode["correctedAt"] is not None) == (
        "Deployer/jane",
        ["desiredCount"],
        True,
    )
    [change] = body["changes"]  # type: ignore[misc]
    assert (change["cause"], change["action"], change["revision"], change["paths"]) == (
        "drift",
        "update",
        "r1",
        ["desiredCount"],
    )
    assert "diff" not in body  # corrected: nothing pending


def test_a_drift_no_event_named_says_a_periodic_pass_found_it() -> None:
    tracker, key = Tracker(), ResourceKey("Service", "report-drift-by-pass")
    before = sample("reconciler_drift_by_principal_total", principal_type="unknown") or 0
    tracker.record(held(drift(key, SCALED, SECRET_ENV)))
    body = tracker.statuses[key].as_json()
    assert body["lastDriftBy"]["foundBy"] == "periodic pass"  # type: ignore[index]
    assert body["lastDriftBy"]["type"] == "unknown"  # type: ignore[index]
    assert sample("reconciler_drift_by_principal_total", principal_type="unknown") == before + 1
    assert [d["path"] for d in body["diff"]] == ["desiredCount", SECRET_ENV.path]  # type: ignore[union-attr]
    assert "hunter2-live" not in str(body) and "s3cr3t" not in str(body)  # masked, live and desired
    tracker.record(held(drift(key, SCALED)))  # the same episode: counted once
    assert sample("reconciler_drift_by_principal_total", principal_type="unknown") == before + 1
    assert len(body["driftEpisodes"]) == 1  # type: ignore[arg-type]
    tracker.record(outcome(Plan(revision="r1", in_sync=[key])))  # someone put it back
    body = tracker.statuses[key].as_json()
    assert "diff" not in body
    assert body["driftEpisodes"][0]["correctedAt"] is not None  # type: ignore[index]


def test_an_event_that_came_during_a_pass_that_saw_the_resource_in_sync_still_counts() -> None:
    """The pass read AWS before the hand-made write its event names: the drift the next pass finds is still put
    down to that event's principal. An event older than a pass that saw the resource in sync is forgotten: its
    write was no drift (an owned field, or put back)."""
    tracker, key = Tracker(), ResourceKey("Service", "report-drift-race")
    began = time.monotonic()
    tracker.revealed([key], JANE)
    tracker.record(outcome(Plan(revision="r1", in_sync=[key])), started=began)
    tracker.record(corrected(drift(key, SCALED)))
    assert tracker.statuses[key].as_json()["lastDriftBy"]["foundBy"] == "event"  # type: ignore[index]

    other = ResourceKey("Service", "report-drift-stale")
    tracker.revealed([other], JANE)
    tracker.record(outcome(Plan(revision="r1", in_sync=[other])), started=time.monotonic())
    tracker.record(corrected(drift(other, SCALED)))
    assert tracker.statuses[other].as_json()["lastDriftBy"]["foundBy"] == "periodic pass"  # type: ignore[index]


def test_a_resource_keeps_its_last_ten_changes_and_episodes_newest_first() -> None:
    tracker, key = Tracker(), ResourceKey("Service", "report-history")
    for n in range(12):
        tracker.record(corrected(drift(key, FieldDiff(path="desiredCount", live=n, desired=1))))
    body = tracker.statuses[key].as_json()
    assert len(body["changes"]) == len(body["driftEpisodes"]) == 10  # type: ignore[arg-type]
    assert all(e["correctedAt"] for e in body["driftEpisodes"])  # type: ignore[union-attr]


def test_a_created_resource_s_change_names_no_paths() -> None:
    tracker, key = Tracker(), ResourceKey("Service", "report-created")
    created = Change(kind=key.kind, name=key.name, action=Action.CREATE, cause=Cause.MISSING,
                     diff=[FieldDiff(path="status", live="absent", desired="present")])  # fmt: skip
    tracker.record(corrected(created))
    assert tracker.statuses[key].as_json()["changes"] == [
        {
            "at": tracker.statuses[key].lastChange,
            "action": "create",
            "cause": "missing",
            "revision": "r1",
            "paths": [],
        }
    ]


def test_an_event_whose_resource_a_later_pass_changed_for_git_is_no_suspect() -> None:
    """Alice's event names the service; the next pass applies a change Git asked for there and finds no drift; a
    drift a periodic pass finds later is not hers."""
    tracker, key = Tracker(), ResourceKey("Service", "report-drift-acquitted")
    tracker.revealed([key], Principal(PrincipalType.USER, "alice"))
    deploy = Change(kind=key.kind, name=key.name, action=Action.UPDATE, cause=Cause.DESIRED, diff=[SCALED])
    tracker.record(corrected(deploy), started=time.monotonic())
    tracker.record(held(drift(key, SCALED)))
    assert tracker.statuses[key].as_json()["lastDriftBy"]["foundBy"] == "periodic pass"  # type: ignore[index]


def test_a_pending_diff_masks_a_secret_learnt_after_it_was_recorded() -> None:
    """A value in clear under a name that does not look secret is shown as it is, until the same value is seen
    under a secret name: from then on /status masks it in the diff recorded before too."""
    tracker, key = Tracker(), ResourceKey("Service", "report-secret-later")
    value = "zq-report-later-known-8812"
    tracker.record(held(drift(key, FieldDiff(path="containerDefinitions[app].environment.SETTING", live=value,
                                             desired="x"))))  # fmt: skip
    assert value in str(tracker.statuses[key].as_json()["diff"])
    mask_at("containerDefinitions[app].environment.API_TOKEN", value)  # another diff shows it as a secret
    assert value not in str(tracker.statuses[key].as_json()["diff"])


def test_the_same_service_in_two_targets_has_a_series_in_each() -> None:
    """Names are unique per target only: the service of both targets fights, fails its deployment and is overdue;
    then staging's recovers, and its series go to 0 while prod-eu's of the same name stay at 1."""
    key = ResourceKey("Service", "report-two-targets")
    prod, staging = Tracker(target="prod-eu"), Tracker(target="staging")
    fixed = Change(kind="Service", name=key.name, action=Action.UPDATE, cause=Cause.DRIFT)
    troubled = PassOutcome(
        plan=Plan(revision="r1", changes=[fixed], deployments_failed={key.name: "ecs-svc/7"},
                  deployments_overdue={key.name: "ecs-svc/8 overdue"}),
        result=ApplyResult(applied=[fixed]),
    )  # fmt: skip
    for _ in range(2):  # corrected twice in a row: something else keeps changing it
        prod.record(troubled)
        staging.record(troubled)
    for _ in range(3):
        staging.record(outcome(Plan(revision="r1", in_sync=[key])))
    for metric in (
        "reconciler_resource_fighting",
        "reconciler_deployment_failed",
        "reconciler_deployment_overdue",
    ):
        assert sample(metric, kind="Service", name=key.name, target="prod-eu") == 1, metric
        assert sample(metric, kind="Service", name=key.name, target="staging") == 0, metric
    assert sample("reconciler_codedeploy_deployment_failed", name=key.name, target="prod-eu") == 1
    assert sample("reconciler_codedeploy_deployment_failed", name=key.name, target="staging") == 0
