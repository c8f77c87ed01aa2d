"""The table of fields other actors own (``plan/owners.py``), and the document's own rows
(``metadata.ignoreDifferences``): what is left to whom, what the plan lists, and what is still corrected. Pure."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from reconciler.model.resource import DesiredState
from reconciler.plan.diff import FieldDiff
from reconciler.plan.owners import IGNORED_BY_DOCUMENT, OWNERS, OwnerContext, settle, unignored
from reconciler.plan.types import Action, Cause
from tests.plan.test_planner import ACCOUNT, TASK_SPEC, converged_live, desired_state, plan_of, resource

PAIR = frozenset({"blue", "green", "arn:tg/blue", "arn:tg/green"})


@pytest.mark.parametrize(
    ("kind", "live", "desired", "context", "seen"),
    [
        # CodeDeploy swapped the service onto the other target group of the pair: read as the declared one
        ("Service", {"loadBalancers": [{"targetGroupArn": "arn:tg/green"}]},
         {"loadBalancers": [{"targetGroupArn": "arn:tg/blue"}]}, OwnerContext(pair=PAIR),
         {"loadBalancers": [{"targetGroupArn": "arn:tg/blue"}]}),
        # ... but a target group outside the pair is drift
        ("Service", {"loadBalancers": [{"targetGroupArn": "arn:tg/other"}]},
         {"loadBalancers": [{"targetGroupArn": "arn:tg/blue"}]}, OwnerContext(pair=PAIR),
         {"loadBalancers": [{"targetGroupArn": "arn:tg/other"}]}),
        # a listener's forward moved by a deployment, at any weights
        ("Listener", {"DefaultActions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": "arn:tg/blue", "Weight": 0}, {"TargetGroupArn": "arn:tg/green", "Weight": 100}]}}]},
         {"DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg/blue"}]}, OwnerContext(pair=PAIR),
         {"DefaultActions": [{"Type": "forward", "TargetGroupArn": "arn:tg/blue"}]}),
        # a schedule's bounds are the schedule at work; other bounds are drift
        ("ScalableTarget", {"MinCapacity": 0, "MaxCapacity": 0}, {"MinCapacity": 2, "MaxCapacity": 4},
         OwnerContext(schedule_bounds=frozenset({(0, 0)})), {"MinCapacity": 2, "MaxCapacity": 4}),
        ("ScalableTarget", {"MinCapacity": 1, "MaxCapacity": 9}, {"MinCapacity": 2, "MaxCapacity": 4},
         OwnerContext(schedule_bounds=frozenset({(0, 0)})), {"MinCapacity": 1, "MaxCapacity": 9}),
        # no owner: the live side as AWS answers it
        ("Service", {"loadBalancers": [{"targetGroupArn": "arn:tg/green"}]},
         {"loadBalancers": [{"targetGroupArn": "arn:tg/blue"}]}, OwnerContext(),
         {"loadBalancers": [{"targetGroupArn": "arn:tg/green"}]}),
    ],
)  # fmt: skip
def test_what_an_owner_sets_is_read_as_declared_only_where_it_counts(
    kind: str, live: dict[str, Any], desired: dict[str, Any], context: OwnerContext, seen: dict[str, Any]
) -> None:
    assert settle(kind, live, desired, context).live == seen


def test_a_scaled_services_desired_count_is_neither_compared_nor_hashed() -> None:
    settled = settle("Service", {"desiredCount": 7}, {"desiredCount": 1}, OwnerContext(scaled=True))
    assert settled.unowned == {"desiredCount"}
    assert settled.live == {}


def test_every_row_names_its_kind_field_and_owner() -> None:
    assert {(row.kind, row.owner) for row in OWNERS} == {
        ("Service", "Application Auto Scaling"), ("Service", "CodeDeploy"), ("Listener", "CodeDeploy"),
        ("ScalableTarget", "ScheduledAction"), ("Service", "ECS"), ("ListenerRule", "ECS"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("desiredCount", True),
        ("deploymentConfiguration.alarms", True),
        ("deploymentConfiguration.alarms.enable", True),
        ("deploymentConfiguration", False),  # only what is under the ignored path
        ("deploymentConfigurationX", False),
        ("containerDefinitions[app].image", True),
        ("containerDefinitions[app]", False),
    ],
)
def test_ignored_paths_cover_what_is_under_them(path: str, ignored: bool) -> None:
    diff = [FieldDiff(path=path, desired=1, live=2)]
    paths = ("desiredCount", "deploymentConfiguration.alarms", "containerDefinitions[app].image")
    assert (unignored(diff, paths) == []) is ignored


def test_a_hand_made_desired_count_is_not_drift_where_the_document_ignores_it() -> None:
    desired = desired_state(ignore_differences=("desiredCount",))
    live = converged_live(desired)
    live.services[("demo", "web")]["desiredCount"] = 9
    plan = plan_of(desired, live)
    assert plan.changes == []
    assert [(o.kind, o.name, o.path, o.owner) for o in plan.owned] == [
        ("Service", "web", "desiredCount", IGNORED_BY_DOCUMENT)
    ]


def test_other_drift_of_that_service_is_still_corrected() -> None:
    desired = desired_state(ignore_differences=("desiredCount",))
    live = converged_live(desired)
    service = live.services[("demo", "web")]
    service["desiredCount"] = 9
    service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] = ["subnet-b"]
    [change] = plan_of(desired, live).changes
    assert (change.action, change.cause) == (Action.UPDATE, Cause.DRIFT)
    assert [d.path for d in change.diff] == ["networkConfiguration.awsvpcConfiguration.subnets"]


def test_an_image_set_by_ci_reuses_its_revision_where_the_document_ignores_the_image() -> None:
    """ecspresso's users' case: CI registers revisions with new images; Git keeps the rest."""
    spec = copy.deepcopy(TASK_SPEC)
    base = desired_state()
    live = converged_live(base)
    revision = live.task_definitions[f"{ACCOUNT}:task-definition/web:1"]
    revision["containerDefinitions"][0]["image"] = "web:ci-1234"
    live.families_read = {"web"}
    assert any(c.kind == "TaskDefinition" for c in plan_of(base, live).changes)  # without it: a new revision
    task = resource("TaskDefinition", "web", spec, ignore_differences=("containerDefinitions[app].image",))
    ignoring = DesiredState(
        revision="r1", resources=tuple(task if r.kind == "TaskDefinition" else r for r in base)
    )
    assert [c.kind for c in plan_of(ignoring, live).changes if not c.restamp] == []


def test_ecs_s_orientation_of_a_pair_is_declared_and_written_as_ecs_holds_it() -> None:
    declared = {
        "loadBalancers": [
            {
                "targetGroupArn": "arn:tg/blue",
                "advancedConfiguration": {"alternateTargetGroupArn": "arn:tg/green"},
            }
        ]
    }
    live = {"loadBalancers": [{"targetGroupArn": "arn:tg/green",
                               "advancedConfiguration": {"alternateTargetGroupArn": "arn:tg/blue"}}]}  # fmt: skip
    settled = settle("Service", live, declared, OwnerContext(strategy="BLUE_GREEN"))
    assert settled.desired == live and settled.declared == live
    assert settle("Service", live, declared, OwnerContext()).declared == {}  # a rolling service: as written
