"""ECS rolling deployments over time, shown over HTTP (see patches/ecs_deployments.py): they take time, a
crash-looping image never becomes healthy, the circuit breaker fails and rolls back, DeleteService drains."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox.emulator import EmulatorProcess
from tests.sandbox.conftest import FargateEstate

BREAKER_WITH_ROLLBACK = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}


@pytest.fixture
def times(emulator: EmulatorProcess, fargate: FargateEstate) -> Callable[..., dict[str, float]]:
    """``times(ecs_rollout=0.5)``: this test's emulator times (the next test's reset restores the session's)."""
    return emulator.set_timing


def register(fargate: FargateEstate, image: str) -> str:
    return fargate.register(image)


def primary(service: dict[str, Any]) -> dict[str, Any]:
    [first] = [d for d in service["deployments"] if d["status"] == "PRIMARY"]
    return first


def test_a_new_service_runs_its_tasks_after_the_rollout_time(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=1.5)  # long enough to see it in progress on a loaded machine
    started = time.monotonic()
    fargate.create_service("frontapp", desiredCount=2)
    service = fargate.describe_service("frontapp")
    assert (service["runningCount"], service["pendingCount"]) == (0, 2)
    assert primary(service)["rolloutState"] == "IN_PROGRESS"
    service = fargate.settled("frontapp")
    assert time.monotonic() - started >= 1.5
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    deployment = primary(service)
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    messages = [event["message"] for event in service["events"]]
    assert messages[0] == "(service frontapp) has reached a steady state."
    assert messages[1] == f"(service frontapp) (deployment {deployment['id']}) deployment completed."


def test_an_update_of_the_task_definition_rolls_out_beside_the_old_deployment(
    fargate: FargateEstate, times: Any
) -> None:
    times(ecs_rollout=1.5)
    first = fargate.create_service("frontapp", desiredCount=2)["deployments"][0]["id"]
    fargate.settled("frontapp")
    new = register(fargate, "nginx:2")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", taskDefinition=new)
    service = fargate.describe_service("frontapp")
    [new_deployment, old_deployment] = service["deployments"]
    assert (new_deployment["status"], new_deployment["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    assert (new_deployment["taskDefinition"], new_deployment["pendingCount"]) == (new, 2)
    assert (old_deployment["id"], old_deployment["status"], old_deployment["runningCount"]) == (
        first,
        "ACTIVE",
        2,
    )
    assert (service["runningCount"], service["pendingCount"]) == (2, 2)
    service = fargate.until("frontapp", lambda s: len(s["deployments"]) == 1)
    assert primary(service)["id"] == new_deployment["id"]
    assert (primary(service)["rolloutState"], service["runningCount"]) == ("COMPLETED", 2)


@pytest.mark.parametrize(
    "change",
    [
        {"desiredCount": 3},
        {"deploymentConfiguration": {"maximumPercent": 150}},
        {"healthCheckGracePeriodSeconds": 30},
    ],
)
def test_an_update_that_changes_no_task_starts_no_deployment(
    fargate: FargateEstate, times: Any, change: dict[str, Any]
) -> None:
    times(ecs_rollout=0.3)
    fargate.create_service("frontapp", desiredCount=2)
    before = fargate.settled("frontapp")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", **change)
    after = fargate.describe_service("frontapp")
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in before["deployments"]]
    assert primary(after)["rolloutState"] == "COMPLETED"


def test_a_scale_out_runs_the_new_tasks_after_the_rollout_time(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=1.5)
    fargate.create_service("frontapp", desiredCount=1)
    fargate.until("frontapp", lambda s: s["runningCount"] == 1)
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", desiredCount=3)
    service = fargate.describe_service("frontapp")
    assert (service["desiredCount"], service["runningCount"], service["pendingCount"]) == (3, 1, 2)
    service = fargate.until("frontapp", lambda s: s["runningCount"] == 3)
    assert service["pendingCount"] == 0


def test_force_new_deployment_starts_one(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=1.5)
    created = fargate.create_service("frontapp")["deployments"][0]["id"]
    fargate.settled("frontapp")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", forceNewDeployment=True)
    service = fargate.describe_service("frontapp")
    assert primary(service)["id"] != created
    assert primary(service)["rolloutState"] == "IN_PROGRESS"


def test_a_crash_looping_image_stays_in_progress_without_the_circuit_breaker(
    fargate: FargateEstate, times: Any
) -> None:
    times(ecs_rollout=0.2, ecs_task_failure=0.1)
    fargate.create_service("frontapp", desiredCount=2)
    fargate.settled("frontapp")
    fargate.ecs.update_service(
        cluster=fargate.cluster, service="frontapp", taskDefinition=register(fargate, "example/crashloop:1")
    )
    service = fargate.until("frontapp", lambda s: primary(s)["failedTasks"] >= 6)
    assert primary(service)["rolloutState"] == "IN_PROGRESS"
    assert service["runningCount"] == 2  # the old tasks, still serving
    assert len(service["deployments"]) == 2


def test_the_circuit_breaker_fails_and_rolls_back_to_the_last_completed_revision(
    fargate: FargateEstate, times: Any
) -> None:
    times(ecs_rollout=0.2, ecs_task_failure=0.1)
    fargate.create_service("frontapp", desiredCount=2, deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    good = fargate.settled("frontapp")
    bad = register(fargate, "example/crashloop:1")
    updated = fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", taskDefinition=bad)
    failing = primary(updated["service"])
    service = fargate.until("frontapp", lambda s: s["taskDefinition"] == good["taskDefinition"])
    [record, _] = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")[
        "serviceDeployments"
    ]
    assert record["status"] in (
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
    )  # never STOPPED by its own rollback
    rollback = primary(service)
    assert rollback["id"] not in (failing["id"], primary(good)["id"])
    assert rollback["taskDefinition"] == good["taskDefinition"]
    [failed] = [d for d in service["deployments"] if d["id"] == failing["id"]]
    assert (failed["status"], failed["rolloutState"]) == ("ACTIVE", "FAILED")
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert failed["failedTasks"] == 3  # the threshold: min 3, 0.5 x desiredCount below that
    messages = [event["message"] for event in service["events"]]
    assert (
        f"(service frontapp) (deployment {failing['id']}) deployment failed: tasks failed to start."
        in messages
    )
    service = fargate.settled("frontapp")
    assert [d["id"] for d in service["deployments"]] == [rollback["id"]]


def test_the_circuit_breaker_without_rollback_leaves_the_failed_deployment(
    fargate: FargateEstate, times: Any
) -> None:
    times(ecs_rollout=0.2, ecs_task_failure=0.1)
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    fargate.create_service("frontapp", desiredCount=8, deploymentConfiguration=breaker)
    fargate.settled("frontapp")
    bad = register(fargate, "example/crashloop:1")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", taskDefinition=bad)
    service = fargate.until("frontapp", lambda s: primary(s)["rolloutState"] == "FAILED")
    assert primary(service)["failedTasks"] == 4  # 0.5 x 8
    assert (service["taskDefinition"], primary(service)["taskDefinition"]) == (bad, bad)
    time.sleep(0.3)
    assert primary(fargate.describe_service("frontapp"))["failedTasks"] == 4  # no new task after FAILED


def test_service_deployments_tell_the_story_of_a_rollback(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=0.2, ecs_task_failure=0.1)
    service_arn = fargate.create_service("frontapp", deploymentConfiguration=BREAKER_WITH_ROLLBACK)[
        "serviceArn"
    ]
    good = fargate.settled("frontapp")["taskDefinition"]
    fargate.ecs.update_service(
        cluster=fargate.cluster, service="frontapp", taskDefinition=register(fargate, "example/crashloop:1")
    )
    fargate.until("frontapp", lambda s: s["taskDefinition"] == good)  # the rollback started
    rolling_back = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")
    assert [b["status"] for b in rolling_back["serviceDeployments"]] == ["ROLLBACK_IN_PROGRESS", "SUCCESSFUL"]
    fargate.until(
        "frontapp", lambda s: s["taskDefinition"] == good and primary(s)["rolloutState"] == "COMPLETED"
    )
    listed = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")[
        "serviceDeployments"
    ]
    assert [brief["status"] for brief in listed] == ["ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]
    assert all(brief["serviceArn"] == service_arn for brief in listed)
    [rolled_back] = fargate.ecs.describe_service_deployments(
        serviceDeploymentArns=[listed[0]["serviceDeploymentArn"]]
    )["serviceDeployments"]
    [first] = fargate.ecs.describe_service_deployments(
        serviceDeploymentArns=[listed[1]["serviceDeploymentArn"]]
    )["serviceDeployments"]
    assert rolled_back["rollback"]["serviceRevisionArn"] == first["targetServiceRevision"]["arn"]
    assert rolled_back["deploymentCircuitBreaker"]["threshold"] == 3
    assert rolled_back["sourceServiceRevisions"][0]["arn"] == first["targetServiceRevision"]["arn"]
    only_successful = fargate.ecs.list_service_deployments(
        cluster=fargate.cluster, service="frontapp", status=["SUCCESSFUL"]
    )["serviceDeployments"]
    assert [brief["serviceDeploymentArn"] for brief in only_successful] == [listed[1]["serviceDeploymentArn"]]
    missing = fargate.ecs.describe_service_deployments(serviceDeploymentArns=[service_arn + "/nope"])
    assert missing["failures"] == [{"arn": service_arn + "/nope", "reason": "MISSING"}]


def test_a_deployment_overtaken_by_another_is_stopped(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=5)
    fargate.create_service("frontapp")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", forceNewDeployment=True)
    listed = fargate.ecs.list_service_deployments(cluster=fargate.cluster, service="frontapp")[
        "serviceDeployments"
    ]
    assert [brief["status"] for brief in listed] == ["IN_PROGRESS", "STOPPED"]


def test_delete_drains_then_the_service_is_inactive(fargate: FargateEstate, times: Any) -> None:
    times(ecs_rollout=0.1, ecs_drain=3)
    fargate.create_service("frontapp", desiredCount=2)
    fargate.until("frontapp", lambda s: s["runningCount"] == 2)
    deleted = fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)["service"]
    assert (deleted["status"], deleted["desiredCount"]) == ("DRAINING", 0)
    assert fargate.ecs.list_services(cluster=fargate.cluster)["serviceArns"] == []
    with pytest.raises(ClientError) as refused:
        fargate.create_service("frontapp")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert refused.value.response["Error"]["Message"] == "Creation of service was not idempotent."
    for call in (
        lambda: fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", desiredCount=1),
        lambda: fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True),
    ):
        with pytest.raises(ClientError) as not_active:
            call()
        assert not_active.value.response["Error"]["Code"] == "ServiceNotActiveException"
    service = fargate.inactive("frontapp")
    assert (service["runningCount"], service["deployments"]) == (0, [])
    assert fargate.create_service("frontapp")["status"] == "ACTIVE"


def test_instant_mode_completes_on_the_next_request(fargate: FargateEstate, times: Any) -> None:
    times(instant=True)
    created = fargate.create_service("frontapp", desiredCount=2)
    assert (
        created["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    )  # never inside the request that started it
    assert primary(fargate.describe_service("frontapp"))["rolloutState"] == "COMPLETED"


def test_unknown_times_are_refused(emulator: EmulatorProcess) -> None:
    with pytest.raises(Exception, match="400"):
        emulator.set_timing(ecs_rolout=1)


def test_a_rolled_back_deployment_names_the_revision_it_was_deploying(
    fargate: FargateEstate, times: Any
) -> None:
    """DescribeServiceRevisions: the task definition each service revision of a deployment ran."""
    times(ecs_rollout=0.2, ecs_task_failure=0.1)
    fargate.create_service("frontapp", deploymentConfiguration=BREAKER_WITH_ROLLBACK)
    good = fargate.settled("frontapp")["taskDefinition"]
    bad = register(fargate, "example/crashloop:1")
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", taskDefinition=bad)
    fargate.until(
        "frontapp", lambda s: s["taskDefinition"] == good and primary(s)["rolloutState"] == "COMPLETED"
    )
    [brief] = fargate.ecs.list_service_deployments(
        cluster=fargate.cluster, service="frontapp", status=["ROLLBACK_SUCCESSFUL"]
    )["serviceDeployments"]
    answer = fargate.ecs.describe_service_revisions(
        serviceRevisionArns=[brief["targetServiceRevisionArn"], brief["targetServiceRevisionArn"] + "x"]
    )
    [revision] = answer["serviceRevisions"]
    assert (revision["serviceRevisionArn"], revision["taskDefinition"]) == (
        brief["targetServiceRevisionArn"],
        bad,
    )
    assert answer["failures"] == [{"arn": brief["targetServiceRevisionArn"] + "x", "reason": "MISSING"}]
    with pytest.raises(ClientError, match="at most 20"):
        fargate.ecs.describe_service_revisions(serviceRevisionArns=[f"arn:{n}" for n in range(21)])
