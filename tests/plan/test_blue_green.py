"""Routing a change of a CODE_DEPLOY service (pure, table-wise): a deployment for what only CodeDeploy may change,
held while a deployment runs, held when this very document's last deployment failed, UpdateService otherwise."""

from __future__ import annotations

import pytest

from reconciler.model.live import FailedDeployment
from reconciler.plan.blue_green import BlueGreen, route_deployment
from reconciler.plan.deployments import description
from reconciler.plan.types import Action, Cause, Change, FieldDiff

GROUP = BlueGreen(application="bg", group="bg", pair=frozenset({"bg-tg01", "bg-tg02"}))
FAILED = FailedDeployment("d-FAILED", "Failed", description("abc", "hash-1"), "rolled back")


def change(*paths: str) -> Change:
    diff = [FieldDiff(path=p, desired=1, live=2) for p in paths]
    return Change(
        kind="Service", name="bg", action=Action.UPDATE, cause=Cause.DESIRED, diff=diff, spec_hash="hash-1"
    )


@pytest.mark.parametrize(
    ("paths", "group", "running", "failed", "deployed", "held"),
    [
        (["taskDefinition"], GROUP, {}, {}, True, ""),
        (["desiredCount"], GROUP, {}, {}, False, ""),
        (["networkConfiguration.awsvpcConfiguration.subnets"], GROUP, {}, {}, True, ""),
        (["taskDefinition"], GROUP, {"bg": ["d-RUN"]}, {}, False, "d-RUN is in progress"),
        (["desiredCount"], GROUP, {"bg": ["d-RUN"]}, {}, False, "d-RUN is in progress"),
        (["taskDefinition"], GROUP, {}, {"bg": FAILED}, False, "d-FAILED of this revision ended Failed"),
        (["taskDefinition"], None, {}, {}, False, "declare a DeploymentGroup"),
    ],
)  # fmt: skip
def test_route_deployment(
    paths: list[str], group: BlueGreen | None, running: dict[str, list[str]],
    failed: dict[str, FailedDeployment], deployed: bool, held: str,
) -> None:  # fmt: skip
    planned = change(*paths)
    planned = route_deployment(planned, group, running, failed)
    assert bool(planned.deployment_group) is deployed
    assert held in planned.held if held else planned.held == ""


def test_a_failed_deployment_of_another_document_does_not_hold_a_new_one() -> None:
    planned = change("taskDefinition").model_copy(update={"spec_hash": "hash-2"})
    planned = route_deployment(planned, GROUP, {}, {"bg": FAILED})
    assert planned.deployment_group == "bg" and planned.held == ""


@pytest.mark.parametrize(
    ("paths", "action"),
    [
        (["enableExecuteCommand"], Action.REPLACE),  # UpdateService refuses it on a CODE_DEPLOY service
        (["serviceRegistries"], Action.REPLACE),
        (["capacityProviderStrategy", "taskDefinition"], Action.REPLACE),  # a new service carries both
        (["desiredCount", "propagateTags", "placementStrategy", "tags.team"], Action.UPDATE),
        (
            ["taskDefinition", "healthCheckGracePeriodSeconds"],
            Action.UPDATE,
        ),  # a deployment, and UpdateService
    ],
)
def test_what_neither_updateservice_nor_codedeploy_can_change_is_a_replace(
    paths: list[str], action: Action
) -> None:
    planned = change(*paths)
    planned = route_deployment(planned, GROUP, {}, {})
    assert planned.action is action
    if action is Action.REPLACE:
        assert "CODE_DEPLOY service" in planned.reason and not planned.deployment_group and not planned.held


def test_a_replace_waits_for_a_running_deployment() -> None:
    planned = change("enableExecuteCommand")
    planned = route_deployment(planned, GROUP, {"bg": ["d-RUN"]}, {})
    assert planned.action is Action.UPDATE and "d-RUN is in progress" in planned.held
