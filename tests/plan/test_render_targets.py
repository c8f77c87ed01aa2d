"""Plan text and JSON over several targets: a header per target, a summary over all, ``target`` on every entry;
with one target, exactly the output of a desired state without targets.yaml."""

from __future__ import annotations

import json

from reconciler.model.resource import DesiredState
from reconciler.model.targets import Target
from reconciler.plan.diff import FieldDiff
from reconciler.plan.render import plan_as_json, plan_as_text, plans_as_json, plans_as_text
from reconciler.plan.types import Action, Cause, Change, Conflict, Orphan, Plan
from tests.plan.test_render_secrets import drift_plan, secret, task_definition

PROD = Target("prod-eu", account="111111111111", region="eu-west-1")
STAGING = Target("staging", account="222222222222", region="us-east-1")
DESIRED = DesiredState(resources=(), revision="r1", targets=(PROD, STAGING))


def update(name: str, cause: Cause = Cause.DESIRED) -> Change:
    diff = [FieldDiff(path="desiredCount", desired=2, live=1)]
    return Change(kind="Service", name=name, action=Action.UPDATE, cause=cause, diff=diff)


def plans() -> list[Plan]:
    prod = Plan(revision="r1", target="prod-eu", changes=[update("web", Cause.DRIFT)], deletions_blocked=6)
    prod.orphans = [Orphan(kind="TargetGroup", name="old-tg", arn="arn:tg")]
    staging = Plan(revision="r1", target="staging", changes=[update("web"), update("api")])
    staging.conflicts = [Conflict(kind="Cluster", name="shared", owner="team-b")]
    return [prod, staging]


def test_every_change_names_its_target_in_json_even_without_targets_yaml() -> None:
    plan = Plan(revision="r1", changes=[update("web")])
    [change] = json.loads(plan_as_json(plan))["changes"]
    assert change["target"] == "default"
    staging = plan.model_copy(update={"target": "staging"})
    assert [c["target"] for c in json.loads(plan_as_json(staging))["changes"]] == ["staging"]


def test_one_target_prints_exactly_what_one_plan_prints() -> None:
    desired = DesiredState(resources=(task_definition(DB_PASSWORD="hunter2-x"),), revision="r1")
    plan = drift_plan("a", "b")
    assert plans_as_text([plan], desired) == plan_as_text(plan, desired)
    assert plans_as_json([plan], desired) == plan_as_json(plan, desired)


def test_with_targets_yaml_even_one_target_planned_is_named() -> None:
    plan = Plan(revision="r1", target="staging", changes=[update("web")])  # --allowed-targets staging
    assert plans_as_text([plan], DESIRED).splitlines() == [
        "Revision r1",
        "",
        "target staging (222222222222 us-east-1)",
        "",
        "  ~ Service web (update, cause: desired)",
        "      desiredCount: 1 → 2",
        "",
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to adopt. 0 drifted from the desired state.",
        "",
        "Plan over 1 target: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to adopt. "
        "0 drifted from the desired state.",
    ]
    body = json.loads(plans_as_json([plan], DESIRED))
    assert body["targets"] == [{"name": "staging", "account": "222222222222", "region": "us-east-1"}]


def test_text_groups_the_changes_under_a_header_per_target_and_sums_them_up() -> None:
    assert plans_as_text(plans(), DESIRED).splitlines() == [
        "Revision r1",
        "",
        "target prod-eu (111111111111 eu-west-1)",
        "",
        "  ! 6 deletions held: more than --max-deletions; nothing is deleted",
        "",
        "  ~ Service web (update, cause: drift)",
        "      desiredCount: 1 → 2",
        "",
        "  ? TargetGroup old-tg: orphaned (deletionPolicy Retain), left in place",
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 0 to adopt. 1 drifted from the desired state.",
        "",
        "target staging (222222222222 us-east-1)",
        "",
        "  ~ Service web (update, cause: desired)",
        "      desiredCount: 1 → 2",
        "",
        "  ~ Service api (update, cause: desired)",
        "      desiredCount: 1 → 2",
        "",
        "  ! Cluster shared: owned by reconciler instance 'team-b', left alone",
        "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete, 0 to adopt. 0 drifted from the desired state.",
        "",
        "Plan over 2 targets: 0 to create, 3 to update, 0 to replace, 0 to delete, 0 to adopt. "
        "1 drifted from the desired state.",
    ]


def test_a_target_with_nothing_to_do_says_so_under_its_header() -> None:
    quiet = [Plan(revision="r1", target="prod-eu"), Plan(revision="r1", target="staging")]
    assert plans_as_text(quiet, DESIRED).splitlines()[-5:] == [
        "target staging (222222222222 us-east-1)",
        "",
        "No changes. Live AWS matches the desired state.",
        "",
        "No changes over 2 targets. Live AWS matches the desired state.",
    ]


def test_json_lists_every_target_s_entries_each_with_its_target() -> None:
    body = json.loads(plans_as_json(plans(), DESIRED))
    assert [(c["target"], c["name"], c["cause"]) for c in body["changes"]] == [
        ("prod-eu", "web", "drift"),
        ("staging", "web", "desired"),
        ("staging", "api", "desired"),
    ]
    assert body["orphans"] == [
        {"kind": "TargetGroup", "name": "old-tg", "arn": "arn:tg", "target": "prod-eu"}
    ]
    assert body["conflicts"] == [
        {"kind": "Cluster", "name": "shared", "owner": "team-b", "target": "staging"}
    ]
    assert body["targets"] == [
        {"name": "prod-eu", "account": "111111111111", "region": "eu-west-1", "deletionsBlocked": 6},
        {"name": "staging", "account": "222222222222", "region": "us-east-1"},
    ]
    assert body["deletionsBlocked"] == 6
    assert (body["revision"], body["owned"], body["unmanaged"]) == ("r1", [], [])


def test_a_secret_seen_in_one_target_s_diff_is_masked_in_every_target_s_text() -> None:
    value = secret()
    prod = Plan(
        revision="r1", target="prod-eu", changes=[update("web").model_copy(update={"reason": f"was {value}"})]
    )
    staging = drift_plan("x", value).model_copy(update={"target": "staging"})
    for output in (plans_as_text([prod, staging], DESIRED), plans_as_json([prod, staging], DESIRED)):
        assert value not in output
        assert "(masked sha256:" in output
