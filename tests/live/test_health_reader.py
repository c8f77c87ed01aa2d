"""What the health reader reads, and when: a service's history only when its deployments changed, an ended
deployment described once, target health by turns and at once for what is unsettled; failures kept to the
resource that failed. Against a stand-in for ECS and ELBv2 that counts the calls."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from reconciler.errors import Terminal, Throttled
from reconciler.live import health as health_module
from reconciler.live.health import HealthReader, code_deploy_record, ecs_record
from reconciler.model.history import RECONCILER
from reconciler.model.live import LiveEntry, LiveState
from reconciler.model.resource import DesiredResource, DesiredState

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ARN = "arn:aws:ecs:us-east-1:123456789012"


def sd_arn(service: str, number: int) -> str:
    return f"{ARN}:service-deployment/demo/{service}/sd{number}"


class FakeAws:
    """ECS's service deployments and ELBv2's target health, as the reader calls them; every call counted."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.deployments: dict[str, list[dict[str, Any]]] = {}  # service → newest first
        self.refuse: dict[str, Exception] = {}  # service → what ListServiceDeployments raises

    async def client(self, name: str) -> FakeAws:
        return self

    def deploy(self, service: str, status: str = "IN_PROGRESS", **fields: Any) -> str:
        number = sum(len(d) for d in self.deployments.values()) + 1
        arn = sd_arn(service, number)
        self.deployments.setdefault(service, []).insert(0, {
            "serviceDeploymentArn": arn, "status": status, "createdAt": T0 + timedelta(minutes=number),
            "startedAt": T0 + timedelta(minutes=number),
            "targetServiceRevision": {"arn": f"{ARN}:service-revision/demo/{service}/{number}"},
            "deploymentConfiguration": {"strategy": "ROLLING"}, **fields,
        })  # fmt: skip
        return arn

    async def list_service_deployments(
        self, *, cluster: str, service: str, maxResults: int
    ) -> dict[str, Any]:
        self.calls["ListServiceDeployments"] += 1
        if service in self.refuse:
            raise self.refuse[service]
        briefs = [
            {k: d[k] for k in ("serviceDeploymentArn", "status", "createdAt")}
            for d in self.deployments[service]
        ]
        return {"serviceDeployments": briefs[:maxResults]}

    async def describe_service_deployments(self, *, serviceDeploymentArns: list[str]) -> dict[str, Any]:
        self.calls["DescribeServiceDeployments"] += 1
        assert len(serviceDeploymentArns) <= 20
        every = {d["serviceDeploymentArn"]: d for ds in self.deployments.values() for d in ds}
        return {"serviceDeployments": [every[a] for a in serviceDeploymentArns if a in every]}

    async def describe_target_health(self, *, TargetGroupArn: str) -> dict[str, Any]:
        self.calls[f"DescribeTargetHealth {TargetGroupArn}"] += 1
        return {"TargetHealthDescriptions": [{"TargetHealth": {"State": "healthy"}}]}


def estate(services: list[str], groups: list[str] = ()) -> tuple[DesiredState, LiveState]:  # type: ignore[assignment]
    resources = [
        DesiredResource(
            kind="Service", name=name, spec={"cluster": "demo", "taskDefinition": name}, file="x", line=1
        )
        for name in services
    ] + [DesiredResource(kind="TargetGroup", name=g, spec={}, file="x", line=1) for g in groups]
    live = LiveState()
    for name in services:
        live.services[("demo", name)] = {"serviceName": name, "status": "ACTIVE", "deployments": []}
    for group in groups:
        live.entries_of("TargetGroup")[group] = LiveEntry(name=group, arn=f"arn:{group}", spec={}, tags={})
    return DesiredState(revision="r1", resources=tuple(resources)), live


def primary(live: LiveState, service: str, id: str, state: str, updated: datetime | None = None) -> None:
    deployment = {
        "id": id,
        "status": "PRIMARY",
        "rolloutState": state,
        **({"updatedAt": updated} if updated else {}),
    }
    live.services[("demo", service)]["deployments"] = [deployment]


def settled(aws: FakeAws, count: int) -> tuple[DesiredState, LiveState]:
    """``count`` services, each with one deployment, done."""
    desired, live = estate([f"svc-{i}" for i in range(count)])
    for i in range(count):
        aws.deploy(f"svc-{i}", "SUCCESSFUL")
        primary(live, f"svc-{i}", f"ecs-svc/{i}", "COMPLETED")
    return desired, live


async def test_a_history_is_read_when_the_services_deployments_change_and_not_otherwise() -> None:
    aws = FakeAws()
    desired, live = settled(aws, 25)
    reader = HealthReader(aws)  # type: ignore[arg-type]
    await reader.read_histories(desired, live, targeted=False)
    assert aws.calls == {"ListServiceDeployments": 25, "DescribeServiceDeployments": 2}  # 25 ARNs, 20 a call
    await reader.read_histories(desired, live, targeted=False)
    assert aws.calls == {"ListServiceDeployments": 25, "DescribeServiceDeployments": 2}  # nothing changed

    new = aws.deploy("svc-3")  # a new deployment of svc-3: listed, only it described (the other ended)
    primary(live, "svc-3", "ecs-svc/99", "IN_PROGRESS", updated=T0)
    aws.calls.clear()
    await reader.read_histories(desired, live, targeted=True)
    assert aws.calls == {"ListServiceDeployments": 1, "DescribeServiceDeployments": 1}
    assert [r.status for r in reader.histories["svc-3"]] == ["IN_PROGRESS", "SUCCESSFUL"]

    aws.deployments["svc-3"][0].update(status="SUCCESSFUL", finishedAt=T0 + timedelta(hours=1))
    primary(
        live, "svc-3", "ecs-svc/99", "COMPLETED"
    )  # it moved on, the same deployment: described, not listed
    aws.calls.clear()
    await reader.read_histories(desired, live, targeted=False)
    assert aws.calls == {"DescribeServiceDeployments": 1}
    newest = reader.histories["svc-3"][0]
    assert (newest.id, newest.status, newest.arn) == (new.rsplit("/", 1)[-1], "SUCCESSFUL", "")  # ended


async def test_a_refused_history_is_tried_again_when_it_changes_a_failing_one_next_pass() -> None:
    aws = FakeAws()
    desired, live = estate(["refused", "throttled"])
    for name in ("refused", "throttled"):
        aws.deploy(name, "SUCCESSFUL")
        primary(live, name, f"ecs-svc/{name}", "COMPLETED")
    aws.refuse = {
        "refused": Terminal(
            "ecs", "ListServiceDeployments", "AccessDeniedException", "not authorized to perform this"
        ),
        "throttled": Throttled("ecs", "ListServiceDeployments", "ThrottlingException", "Rate exceeded"),
    }
    reader = HealthReader(aws)  # type: ignore[arg-type]
    for _ in range(2):
        await reader.read_histories(desired, live, targeted=False)
    assert aws.calls["ListServiceDeployments"] == 3  # refused once; throttled, tried again
    assert reader.errors["refused"].startswith("AccessDeniedException")
    aws.refuse = {}
    await reader.read_histories(desired, live, targeted=False)
    assert "refused" not in reader.histories and "throttled" in reader.histories
    primary(live, "refused", "ecs-svc/new", "IN_PROGRESS")
    await reader.read_histories(desired, live, targeted=False)
    assert "refused" in reader.histories and "refused" not in reader.errors


async def test_at_most_so_many_services_are_listed_a_pass_the_others_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(health_module, "HISTORIES_PER_PASS", 4)
    aws = FakeAws()
    desired, live = settled(aws, 10)
    reader = HealthReader(aws)  # type: ignore[arg-type]
    listed = []
    for _ in range(3):
        aws.calls.clear()
        await reader.read_histories(desired, live, targeted=False)
        listed.append(aws.calls["ListServiceDeployments"])
    assert listed == [4, 4, 2] and len(reader.histories) == 10


async def test_target_health_by_turns_and_at_once_for_the_unsettled() -> None:
    aws = FakeAws()
    desired, live = estate([], [f"tg-{i}" for i in range(6)])
    reader = HealthReader(aws, target_health_every=3)  # type: ignore[arg-type]
    read = []
    for _ in range(3):
        aws.calls.clear()
        await reader.read_targets(desired, live, set(), targeted=False)
        read.append(sorted(c.removeprefix("DescribeTargetHealth arn:") for c in aws.calls))
    assert read == [["tg-1", "tg-4"], ["tg-2", "tg-5"], ["tg-0", "tg-3"]]  # each once in 3 full passes
    assert set(reader.targets) == {f"tg-{i}" for i in range(6)}
    aws.calls.clear()
    await reader.read_targets(desired, live, {"tg-0"}, targeted=True)  # a targeted pass: only the unsettled
    assert list(aws.calls) == ["DescribeTargetHealth arn:tg-0"]


def test_a_service_deployment_as_a_history_keeps_it() -> None:
    """DescribeServiceDeployments' fields (Amazon ECS API Reference, ServiceDeployment)."""
    rolled_back = ecs_record({
        "serviceDeploymentArn": sd_arn("web", 7), "status": "ROLLBACK_SUCCESSFUL",
        "statusReason": "ECS deployment circuit breaker: tasks failed to start.", "startedAt": T0,
        "finishedAt": T0 + timedelta(minutes=4), "targetServiceRevision": {"arn": f"{ARN}:service-revision/demo/web/42"},
        "deploymentConfiguration": {"strategy": "ROLLING"},
        "rollback": {"reason": "Service deployment rolled back because the circuit breaker threshold was exceeded.",
                     "startedAt": T0, "serviceRevisionArn": f"{ARN}:service-revision/demo/web/41"},
    })  # fmt: skip
    assert (rolled_back.id, rolled_back.target, rolled_back.arn, rolled_back.ended) == ("sd7", "42", "", True)
    assert rolled_back.reason == (
        "ECS deployment circuit breaker: tasks failed to start.; Service deployment rolled back because the circuit"
        " breaker threshold was exceeded."
    )
    baking = ecs_record({
        "serviceDeploymentArn": sd_arn("web", 8), "status": "IN_PROGRESS", "lifecycleStage": "BAKE_TIME",
        "createdAt": T0, "deploymentConfiguration": {"strategy": "BLUE_GREEN"},
    })  # fmt: skip
    assert (baking.strategy, baking.lifecycle_stage, baking.arn, baking.started_at) == (
        "BLUE_GREEN",
        "BAKE_TIME",
        sd_arn("web", 8),
        T0.timestamp(),
    )


def test_a_codedeploy_deployment_as_a_history_keeps_it() -> None:
    """BatchGetDeployments' fields (AWS CodeDeploy API Reference, DeploymentInfo); ours say so in their description."""
    ours = code_deploy_record({
        "deploymentId": "d-A1", "status": "Failed", "deploymentConfigName": "CodeDeployDefault.ECSAllAtOnce",
        "description": "reconciler revision 0123abcd spec-hash 9f8e", "creator": "user", "createTime": T0,
        "completeTime": T0 + timedelta(minutes=2), "errorInformation": {"message": "the new tasks failed"},
    })  # fmt: skip
    assert (ours.started_by, ours.revision, ours.reason, ours.ended) == (
        RECONCILER,
        "0123abcd",
        "the new tasks failed",
        True,
    )
    rollback = code_deploy_record(
        {"deploymentId": "d-B2", "status": "Succeeded", "creator": "codeDeployRollback"}
    )
    assert rollback.started_by == "CodeDeploy (codeDeployRollback)"
    by_hand = code_deploy_record({"deploymentId": "d-C3", "status": "InProgress", "creator": "user"})
    assert (by_hand.started_by, by_hand.ended) == ("", False)


async def test_a_deployment_going_through_its_lifecycle_stages_is_described_each_pass_until_it_ends() -> None:
    """ECS moves a canary deployment from stage to stage without DescribeServices showing it."""
    aws = FakeAws()
    desired, live = estate(["catalog"])
    aws.deploy(
        "catalog", "IN_PROGRESS", lifecycleStage="SCALE_UP", deploymentConfiguration={"strategy": "CANARY"}
    )
    primary(live, "catalog", "ecs-svc/1", "IN_PROGRESS")
    reader = HealthReader(aws)  # type: ignore[arg-type]
    await reader.read_histories(desired, live, targeted=False)
    stages = []
    for stage in ("PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"):
        aws.deployments["catalog"][0]["lifecycleStage"] = stage
        aws.calls.clear()
        await reader.read_histories(desired, live, targeted=False)  # DescribeServices shows nothing new
        assert aws.calls == {"DescribeServiceDeployments": 1}
        stages.append(reader.histories["catalog"][0].lifecycle_stage)
    assert stages == ["PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"]
    aws.deployments["catalog"][0].update(status="SUCCESSFUL", lifecycleStage="CLEAN_UP")
    primary(live, "catalog", "ecs-svc/1", "COMPLETED")
    await reader.read_histories(desired, live, targeted=False)
    aws.calls.clear()
    await reader.read_histories(desired, live, targeted=False)
    assert aws.calls == {}
