"""Listener rules as a set: rules added by hand on a managed listener, and priority moves that must happen together.

A rule on a declared listener that no document declares and no instance owns is *unmanaged* (a rule added
by hand on a managed listener): the plan reports it, and deletes it only when the listener's document
sets ``metadata.pruneUnmanagedRules: true``; such a deletion is an ``orphan`` change and counts against
``--max-deletions`` like any other (``guard_deletions`` runs after this).

Rules of one listener that change priority in one revision (a swap of 10 and 20) would clash if moved one at a
time: every such change carries the listener's whole set of moves, which the writer sends in one
SetRulePriorities call (AWS applies the set together). A rule created on the listener carries the set too, so a
priority that another rule leaves is free before the create; and the moves and creates wait for the deletion of
a rule (orphan or unmanaged) whose priority they take.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reconciler.model.live import LiveEntry, LiveState
from reconciler.model.references import is_literal, reference_name
from reconciler.model.resource import DesiredResource, DesiredState, Mode, ResourceKey
from reconciler.plan.types import Action, Cause, Change, Plan, RuleDetail, Unmanaged

RULE = "ListenerRule"


def plan_listener_rules(plan: Plan, desired: DesiredState, live: LiveState) -> None:
    """Report or delete unmanaged rules, then group priority moves per listener. Call after ``plan_orphans``
    and before ``guard_deletions``."""
    plan_unmanaged(plan, desired, live)
    batch_rule_priorities(plan, desired, live)


def plan_unmanaged(plan: Plan, desired: DesiredState, live: LiveState) -> None:
    listener_names = {entry.arn: name for name, entry in live.entries_of("Listener").items()}
    taken = {c.key for c in plan.changes} | {r.key for r in desired}
    for entry in sorted(live.unmanaged.get(RULE, []), key=lambda e: (e.name, e.arn)):
        listener = desired.get("Listener", listener_names.get(entry.parent, ""))
        if listener is None:
            continue
        if not listener.prune_unmanaged_rules:
            plan.unmanaged.append(_report(entry, listener))
            continue
        name = entry.name if ResourceKey(RULE, entry.name) not in taken else entry.arn
        taken.add(ResourceKey(RULE, name))
        plan.changes.append(
            Change(
                kind=RULE,
                name=name,
                action=Action.DELETE,
                cause=Cause.ORPHAN,
                reason=f"unmanaged rule on listener {listener.name}, whose document sets pruneUnmanagedRules",
                mode=listener.mode,
                live_arn=entry.arn,
                parent_arn=entry.parent,
            )
        )


def _report(entry: LiveEntry, listener: DesiredResource) -> Unmanaged:
    return Unmanaged(
        kind=RULE,
        name=entry.name,
        arn=entry.arn,
        parent=listener.name,
        reason=(
            f"no document declares this rule on listener {listener.name}: left in place "
            "(set metadata.pruneUnmanagedRules: true on the listener's document to delete it)"
        ),
    )


def batch_rule_priorities(plan: Plan, desired: DesiredState, live: LiveState) -> None:
    moves: dict[str, list[tuple[Change, dict[str, Any]]]] = defaultdict(list)  # listener ARN → moves
    creates: dict[str, list[Change]] = defaultdict(list)  # listener ARN → rules created on it
    for change in plan.changes:
        resource = desired.get(change.kind, change.name)
        if change.kind != RULE or resource is None or change.mode is not Mode.ENFORCE:
            continue
        priority = _priority(resource.spec.get("Priority"))
        if change.action in (Action.UPDATE, Action.ADOPT) and "Priority" in change.changed_fields:
            if change.parent_arn and change.live_arn and priority is not None:
                moves[change.parent_arn].append((change, {"RuleArn": change.live_arn, "Priority": priority}))
        elif change.action is Action.CREATE:
            listener = _listener_arn(resource, desired, live)
            if listener:
                creates[listener].append(change)
    deletions = _rule_deletions(plan, live)
    updates: dict[ResourceKey, dict[str, Any]] = {}
    for listener in moves.keys() | creates.keys():
        batch = sorted((move for _, move in moves.get(listener, [])), key=lambda move: str(move["RuleArn"]))
        created = creates.get(listener, [])
        targets: set[int | None] = {move["Priority"] for move in batch}
        targets |= {_priority(_spec_of(desired, change).get("Priority")) for change in created}
        targets.discard(None)
        freeing = {
            key for key, (parent, freed) in deletions.items() if parent == listener and freed in targets
        }
        for change in [change for change, _ in moves.get(listener, [])] + created:
            updates[change.key] = {
                "rule": RuleDetail(priorities=batch), "depends_on": sorted(set(change.depends_on) | freeing)
            }  # fmt: skip
    plan.changes = [c.model_copy(update=updates[c.key]) if c.key in updates else c for c in plan.changes]


def _rule_deletions(plan: Plan, live: LiveState) -> dict[ResourceKey, tuple[str, int | None]]:
    """Each rule deletion in the plan → (its listener ARN, the priority it frees)."""
    priorities = {
        entry.arn: _priority(entry.spec.get("Priority"))
        for entry in [*live.entries_of(RULE).values(), *live.unmanaged.get(RULE, [])]
    }
    return {
        change.key: (change.parent_arn, priorities.get(change.live_arn))
        for change in plan.changes
        if change.kind == RULE and change.action is Action.DELETE
    }


def _listener_arn(rule: DesiredResource, desired: DesiredState, live: LiveState) -> str:
    """The ARN of the live listener a rule document names (as an ARN, or as ``load-balancer:port``)."""
    written = str(rule.spec.get("ListenerArn", ""))
    if is_literal(written, "Listener"):
        return written
    listener = next((r for r in desired.of_kind("Listener") if reference_name(r) == written), None)
    entry = live.entries_of("Listener").get(listener.name) if listener else None
    return entry.arn if entry else ""


def _spec_of(desired: DesiredState, change: Change) -> dict[str, Any]:
    resource = desired.get(change.kind, change.name)
    return resource.spec if resource else {}


def _priority(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
