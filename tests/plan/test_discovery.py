"""Replacing and deleting a Cloud Map service around the tasks registered in it (``plan/discovery.py``). Pure."""

from __future__ import annotations

import pytest

from reconciler.plan.diff import FieldDiff
from reconciler.plan.discovery import plan_discovery_replacements, renewed_references
from reconciler.plan.types import Action, Cause, Change

NAMESPACE = FieldDiff(path="NamespaceId", desired="ns-new", live="ns-old")
ROUTING = FieldDiff(path="RoutingPolicy", desired="WEIGHTED", live="MULTIVALUE")
TTL = FieldDiff(path="DnsConfig.DnsRecords[A].TTL", desired=60, live=300)


def change(
    action: Action, diff: list[FieldDiff], registered: int | None, kind: str = "DiscoveryService"
) -> Change:
    live = {} if registered is None else {"InstanceCount": registered}
    return Change(kind=kind, name="api", action=action, cause=Cause.DESIRED, diff=diff, live_spec=live)


@pytest.mark.parametrize(
    ("given", "create_first", "held"),
    [
        # into another namespace: create first, whatever is registered
        (change(Action.REPLACE, [NAMESPACE], 3), True, ""),
        (change(Action.REPLACE, [NAMESPACE, ROUTING], 0), True, ""),
        # within its namespace: delete first, which AWS allows only without instances
        (change(Action.REPLACE, [ROUTING], 0), False, ""),
        (change(Action.REPLACE, [ROUTING], None), False, ""),  # count unknown: tried, refused if in use
        (change(Action.REPLACE, [ROUTING], 2), False, "2 tasks are registered in it: AWS can neither delete"),
        # deletions (a replaced one, an orphan) wait for the tasks
        (change(Action.DELETE, [], 1), False, "1 task is still registered in it"),
        (change(Action.DELETE, [], 0), False, ""),
        # updates in place, and other kinds, are left as they are
        (change(Action.UPDATE, [TTL], 5), False, ""),
        (change(Action.REPLACE, [NAMESPACE], 3, kind="TargetGroup"), False, ""),
    ],
)  # fmt: skip
def test_replacements_and_deletions(given: Change, create_first: bool, held: str) -> None:
    [decided] = plan_discovery_replacements([given])
    assert decided.create_first is create_first
    assert decided.held.startswith(held) and bool(decided.held) is bool(held)
    assert given.held == "" and given.create_first is False  # a new value: the plan handed in is unchanged


def test_a_create_first_replace_says_how_it_goes() -> None:
    [decided] = plan_discovery_replacements([change(Action.REPLACE, [NAMESPACE], 1)])
    assert "created in its namespace first" in decided.reason


def test_users_are_pointed_at_a_service_the_apply_recreates_and_not_at_one_it_holds() -> None:
    moving, held = change(Action.REPLACE, [NAMESPACE], 1), change(Action.REPLACE, [ROUTING], 1)
    held = held.model_copy(update={"name": "web"})
    decided = plan_discovery_replacements([moving, held])
    assert renewed_references(decided) == {moving.key}
