"""The pull-request comment over several targets: the applications grouped by target under a heading each, a
summary over all of them, and the size budget kept across targets."""

from __future__ import annotations

import pytest

from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.targets import Target
from reconciler.plan.markdown import COMMENT_LIMIT, plan_as_markdown, plans_as_markdown
from reconciler.plan.types import Action, Cause, Plan
from tests.plan.test_markdown import ALLOWED_TAGS, HOSTILE, change, rendered, thousands

PROD = Target("prod-eu", account="111111111111", region="eu-west-1")
STAGING = Target("staging", account="222222222222", region="us-east-1")


def services(target: str, *names: str) -> DesiredState:
    resources = tuple(
        DesiredResource(kind="Service", name=n, spec={"cluster": "main"}, file=f"{target}/{n}.yaml", line=1)
        for n in names
    )
    return DesiredState(resources=resources, revision="r1", target=target)


def estate(*parts: DesiredState, targets: tuple[Target, ...] = (PROD, STAGING)) -> DesiredState:
    return DesiredState(
        resources=tuple(r for p in parts for r in p.resources), revision="r1", targets=targets, parts=parts
    )


def test_applications_are_grouped_under_a_heading_per_target() -> None:
    desired = estate(services("prod-eu", "web", "api"), services("staging", "web"))
    prod = Plan(
        revision="r1",
        target="prod-eu",
        changes=[change("Service", "web", ("desiredCount", 1, 2)), change("Cluster", "main", ("x", 1, 2))],
        deletions_blocked=7,
    )
    staging = Plan(revision="r1", target="staging", changes=[change("Service", "web", cause=Cause.DESIRED)])
    quiet = Plan(revision="r1", target="dr")
    comment = plans_as_markdown([prod, staging, quiet], desired)
    html = rendered(comment)
    assert set(html.tags) <= ALLOWED_TAGS | {"h4"}
    lines = comment.split("\n")
    assert lines[3].startswith("**Plan:** 0 to create, 3 to update, 0 to replace, 0 to delete, 0 to adopt")
    assert lines[3].endswith(" · 3 targets · revision ` r1 `")
    headings = [line for line in lines if line.startswith("#### ")]
    assert headings == [
        "#### target ` prod-eu ` · ` 111111111111 ` ` eu-west-1 ` · 2 to update, 2 drifted",
        "#### target ` staging ` · ` 222222222222 ` ` us-east-1 ` · 1 to update",
        "#### target ` dr ` · no changes",
    ]
    # each target's sections under its heading, its applications found in its own documents
    order = [line for line in lines if line.startswith(("#### ", "<details>"))]
    assert [o.split(" · ")[0] for o in order] == [
        "#### target ` prod-eu `",
        "<details><summary><b><code>web</code></b>",
        "<details><summary><b>shared resources</b>",
        "#### target ` staging `",
        "<details><summary><b><code>web</code></b>",
        "#### target ` dr `",
    ]
    prod_part = comment.split("#### target ` staging `")[0]
    assert (
        "> **7 deletions held**: more than `--max-deletions`; nothing of this target is deleted." in prod_part
    )


def test_one_target_prints_the_comment_of_one_plan() -> None:
    plan, desired = thousands(5, 2)
    assert plans_as_markdown([plan], desired) == plan_as_markdown(plan, desired)
    assert plans_as_markdown([plan], desired, limit=1_500) == plan_as_markdown(plan, desired, limit=1_500)


def test_with_targets_yaml_even_one_target_planned_has_its_heading() -> None:
    desired = estate(services("prod-eu", "web"), services("staging", "web"))
    plan = Plan(
        revision="r1", target="staging", changes=[change("Service", "web")]
    )  # --allowed-targets staging
    lines = plans_as_markdown([plan], desired).split("\n")
    assert lines[3].endswith(" · 1 target · revision ` r1 `")
    assert [line for line in lines if line.startswith("#### ")] == [
        "#### target ` staging ` · ` 222222222222 ` ` us-east-1 ` · 1 to update, 1 drifted"
    ]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_target_name_account_or_region_stays_text(value: str) -> None:
    target = Target(value, account=value, region=value)
    desired = estate(services(value, "web"), services("staging", "web"), targets=(target, STAGING))
    plans = [
        Plan(revision="r1", target=value, changes=[change("Service", "web", action=Action.CREATE)]),
        Plan(revision="r1", target="staging"),
    ]
    html = rendered(plans_as_markdown(plans, desired))
    assert set(html.tags) <= ALLOWED_TAGS | {"h4"}
    assert html.tags["details"] == 1 and html.tags["h4"] == 2
    assert all(value not in text for text in html.outside_code)


@pytest.mark.parametrize(("services_each", "limit"), [(1500, COMMENT_LIMIT), (20, 6_000)])
def test_the_budget_holds_across_targets_and_keeps_every_heading(services_each: int, limit: int) -> None:
    plans, parts = [], []
    for target in (PROD, STAGING):
        plan, part = thousands(services_each, 4)
        plans.append(plan.model_copy(update={"target": target.name}))
        parts.append(part.model_copy(update={"target": target.name}))
    desired = estate(*parts)
    whole = plans_as_markdown(plans, desired, limit=10**9)
    comment = plans_as_markdown(plans, desired, limit=limit)
    assert len(whole.encode()) > limit >= len(comment.encode()) > limit - 1_000
    html = rendered(comment)
    kept, total = html.tags["details"], 2 * services_each
    assert 0 < kept < total and html.tags["h4"] == 2
    assert f"{total - kept} of {total} applications left out ({total - kept} of {total} changes)" in comment
    assert comment.split("\n")[3] == whole.split("\n")[3]
