"""A service's deployment history as ``GET /status`` shows it: who started each deployment, and with what."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.model.history import (
    HISTORY_LENGTH,
    OUTSIDE,
    RECONCILER,
    DeploymentRecord,
    Starters,
    deployment_key,
    history_entries,
)

STARTED = datetime(2026, 12, 5, 12, 0, tzinfo=UTC).timestamp()
FINISHED = datetime(2026, 12, 5, 12, 4, 30, tzinfo=UTC).timestamp()


def ecs(id: str, target: str = "", status: str = "SUCCESSFUL") -> DeploymentRecord:
    return DeploymentRecord(
        id=id, strategy="ROLLING", status=status, target=target, started_at=STARTED, finished_at=FINISHED
    )


def test_deployments_are_known_by_their_ids_and_arns() -> None:
    assert deployment_key("ecs-svc/4980306466373577095") == "4980306466373577095"
    arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/demo/web/ejGvqq2ilnbKT9qj0vLJe"
    assert deployment_key(arn) == "ejGvqq2ilnbKT9qj0vLJe"
    assert deployment_key("d-A1B2C3D4E") == "d-A1B2C3D4E"


def test_who_started_each_deployment() -> None:
    """Ours by the service deployment ARN UpdateService answered with, or by the ECS deployment ID (which names its
    target service revision); someone else's by the principal an event named; anything else outside."""
    starters = Starters()
    starters.started(["arn:aws:ecs:us-east-1:1:service-deployment/demo/web/sd-ours", "ecs-svc/111"], "abc123")
    starters.started(["", "ecs-svc/222"], "def456")
    starters.named(["ecs-svc/333"], "arn:aws:sts::1:assumed-role/Deployer/jane")
    records = [
        ecs("sd-ours"),
        ecs("sd-x", target="222"),
        ecs("sd-y", target="333", status="ROLLBACK_SUCCESSFUL"),
        ecs("sd-z", target="444"),
        DeploymentRecord(id="d-1", strategy="CodeDeployDefault.ECSAllAtOnce", status="Succeeded",
                         revision="feed01", started_by=RECONCILER),
        DeploymentRecord(id="d-2", strategy="CodeDeployDefault.ECSAllAtOnce", status="Succeeded",
                         started_by="CodeDeploy (codeDeployRollback)"),
    ]  # fmt: skip
    entries = history_entries(records, starters)
    assert [(e["id"], e["startedBy"], e["revision"]) for e in entries] == [
        ("sd-ours", RECONCILER, "abc123"),
        ("sd-x", RECONCILER, "def456"),
        ("sd-y", "arn:aws:sts::1:assumed-role/Deployer/jane", None),
        ("sd-z", OUTSIDE, None),
        ("d-1", RECONCILER, "feed01"),
        ("d-2", "CodeDeploy (codeDeployRollback)", None),
    ]
    assert entries[0] == {
        "id": "sd-ours", "revision": "abc123", "startedBy": RECONCILER, "strategy": "ROLLING",
        "status": "SUCCESSFUL", "reason": "", "startedAt": "2026-12-05T12:00:00+00:00",
        "finishedAt": "2026-12-05T12:04:30+00:00",
    }  # fmt: skip


def test_at_most_ten_newest_first() -> None:
    records = [ecs(f"sd-{i}") for i in range(15)]
    assert [e["id"] for e in history_entries(records, Starters())] == [
        f"sd-{i}" for i in range(HISTORY_LENGTH)
    ]


def test_what_no_history_shows_is_forgotten_but_not_what_was_just_started() -> None:
    starters = Starters()
    starters.started(["ecs-svc/1"], "r1")
    starters.named(["ecs-svc/2"], "jane")
    starters.keep(set())  # learnt since the last keep: kept, a history may not show them yet
    assert starters.ours == {"1": "r1"} and starters.principals == {"2": "jane"}
    starters.keep({"1"})
    assert starters.ours == {"1": "r1"} and starters.principals == {}
