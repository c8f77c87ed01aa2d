"""From a desired state and a live snapshot to a plan: every kind planned, orphans found, guards applied.

The planner is pure and cheap, so the runtime may call it again in a pass: when a task definition family has no
known matching revision, the plan asks for the family's recent revisions (``families_to_read``); when drift moved a
service off the revision the document runs, it asks for that service's failed deployments (``rollouts_to_read``:
ECS may have rolled that revision back). The runtime reads them, and plans again. In steady state every service
runs a matching revision and no such read happens.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.desired.scope import cluster_scope_problems, refused_clusters
from reconciler.errors import InvalidDesiredState
from reconciler.model.autoscaling import scaled_services
from reconciler.model.ecs import cluster_name_of
from reconciler.model.live import LiveState
from reconciler.model.references import (
    Attachments,
    declared_by_reference,
    dependencies,
    iter_reference_values,
    reference_name,
)
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.model.strategies import shifts_traffic, strategy_of
from reconciler.plan.blue_green import blue_green_of, hold_during_deployment, is_code_deploy, listener_pairs
from reconciler.plan.discovery import plan_discovery_replacements, renewed_references
from reconciler.plan.ecs import (
    FamilyPlan,
    Outcome,
    RevisionMemo,
    plan_cluster,
    plan_service,
    plan_task_definition,
)
from reconciler.plan.entries import plan_entry, reference_arns
from reconciler.plan.listener_rules import batch_rule_priorities, plan_listener_rules
from reconciler.plan.order import order_changes
from reconciler.plan.owners import OwnerContext, owned
from reconciler.plan.prune import guard_deletions, order_deletions, plan_orphans
from reconciler.plan.rollouts import DEFAULT_DEADLINE, failed_in_place, needs_history, overdue
from reconciler.plan.strategies import NOTHING_SHIFTED, Shifting, held_while_deploying, shifting_of
from reconciler.plan.types import Action, Change, Conflict, Plan


@dataclass(frozen=True)
class PlanOptions:
    instance: str = "default"
    max_deletions: int = 5
    allowed_clusters: frozenset[str] = frozenset()  # empty: any cluster
    deployment_deadline: float = (
        DEFAULT_DEADLINE  # seconds drift waits for the reconciler's own ECS deployment
    )


def make_plan(
    desired: DesiredState,
    live: LiveState,
    options: PlanOptions,
    *,
    targeted: bool = False,
    memo: RevisionMemo | None = None,
) -> Plan:
    """Raises ``InvalidDesiredState`` when a document touches a cluster outside ``--allowed-clusters`` (the
    loader refuses those already when it is given the option; this holds whatever loaded the state).
    ``targeted``: ``desired`` is the scope of a targeted pass (``targets.py``), not the whole estate, so nothing
    is judged by its absence from it: no orphans, no rules added by hand. ``memo``: what earlier plans worked out
    about task definition revisions (the engine keeps one; without it, this plan works it out afresh)."""
    scoped = ((resource, resource.line) for resource in desired)
    if problems := cluster_scope_problems(scoped, options.allowed_clusters):
        raise InvalidDesiredState(problems, revision=desired.revision)
    plan = Plan(revision=desired.revision, target=desired.target)
    memo = memo if memo is not None else RevisionMemo()
    families = {
        r.name: plan_task_definition(r, live, memo, instance=options.instance)
        for r in desired.of_kind("TaskDefinition")
    }
    if not targeted:  # the whole desired state: the memo keeps what it declares, and forgets the rest
        memo.keep_documents({family.revision_hash for family in families.values()})
    plan.families_to_read = sorted(name for name, family in families.items() if family.needs_read)
    declared = declared_by_reference(desired)
    attachments = Attachments(desired)
    arns = reference_arns(desired, live)
    scaled = scaled_services(desired)

    inputs = Inputs(
        desired=desired, live=live, families=families, arns=arns, options=options, scaled=scaled, memo=memo,
        shifting=shifting_of(desired, live, arns),
    )  # fmt: skip

    def plan_one(resource: DesiredResource, inputs: Inputs) -> None:
        planning = PLANNING.get(resource.kind, ENTRY)
        context = planning.context(resource, inputs)
        outcome = planning.plan(resource, inputs, context)
        _record(plan, resource.key, outcome, deps=dependencies(resource, declared) | attachments.of(resource))
        plan.owned.extend(owned(resource.kind, resource.name, context))

    for resource in desired:
        plan_one(resource, inputs)
    if not desired.is_empty and not targeted:  # an empty desired state never prunes
        plan_orphans(plan, desired, live, instance=options.instance)
    if targeted:
        batch_rule_priorities(plan, desired, live)
    else:
        plan_listener_rules(plan, desired, live)
    plan.rollouts_to_read = _rollouts_to_read(plan.changes, live)
    plan.deployments_overdue = _overdue(desired, live, options.deployment_deadline)
    plan.deployments_failed = _failed_in_place(desired, live, families)
    plan.changes = order_deletions(plan.changes)  # orphans and unmanaged rules alike
    plan.changes = _hold_replacing_used_target_groups(plan.changes, desired)
    plan.changes = plan_discovery_replacements(plan.changes)
    plan.changes, plan.deletions_blocked = guard_deletions(plan.changes, options.max_deletions)
    if renewed := renewed_references(
        plan.changes
    ):  # their users are planned again, to the ARN the apply makes
        unknown = {k: v for k, v in arns.items() if k not in renewed}
        for resource in desired:
            if any(
                ResourceKey(v.reference.target_kind, v.value) in renewed
                for v in iter_reference_values(resource)
            ):
                _forget(plan, resource.key)
                plan_one(resource, replace(inputs, arns=unknown))
    plan.changes = order_changes(_guard_clusters(plan.changes, options.allowed_clusters))
    return plan


@dataclass(frozen=True)
class Inputs:
    """What planning one document may read besides the document."""

    desired: DesiredState
    live: LiveState
    families: dict[str, FamilyPlan]  # what was decided for each task definition family
    arns: dict[ResourceKey, str]  # (kind, reference name) → ARN, to resolve the names documents use
    options: PlanOptions
    scaled: set[tuple[str, str]]  # (cluster, service) of the services a ScalableTarget scales
    memo: RevisionMemo  # what plans worked out about task definition revisions
    # the rules, target groups and services of services ECS deploys blue/green, linear or canary (``strategies``)
    shifting: Shifting = NOTHING_SHIFTED


# --- Planning each kind --------------------------------------------------------------------------------------


def _entry(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    return plan_entry(resource, inputs.live, inputs.arns, instance=inputs.options.instance, context=context)


def _cluster(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    return plan_cluster(resource, inputs.live, instance=inputs.options.instance)


def _task_definition(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    return inputs.families[resource.name].outcome  # decided before any document, for services to read


def _service(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    desired, arns, options = inputs.desired, inputs.arns, inputs.options
    blue_green = blue_green_of(resource, desired, arns) if is_code_deploy(resource.spec) else None
    return plan_service(
        resource, inputs.live, inputs.families, arns, instance=options.instance, context=context,
        blue_green=blue_green, deployment_deadline=options.deployment_deadline, memo=inputs.memo,
        deploying=inputs.shifting.deploying.get(resource.key),
    )  # fmt: skip


def _target_group(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    """The pair of a service ECS is deploying blue/green, linear or canary is not corrected meanwhile."""
    outcome = _entry(resource, inputs, context)
    if not isinstance(outcome, Change):
        return outcome
    return held_while_deploying(outcome, inputs.shifting.deploying.get(resource.key))


def _listener_rule(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    """A rule whose weights ECS shifts is not corrected while ECS deploys its service, nor are its actions
    rewritten."""
    outcome = _entry(resource, inputs, context)
    if not isinstance(outcome, Change) or context.shift is None or not context.shift.deployment:
        return outcome
    deploying = inputs.shifting.deploying.get(ResourceKey("Service", context.shift.service))
    return held_while_deploying(outcome, deploying, rewrites_traffic="Actions" in outcome.changed_fields)


def _listener(resource: DesiredResource, inputs: Inputs, context: OwnerContext) -> Outcome:
    outcome = _entry(resource, inputs, context)
    if context.pair and isinstance(outcome, Change):
        return hold_during_deployment(
            outcome, inputs.desired, inputs.live.deployments_running, reference_name(resource)
        )
    return outcome


def _document_context(resource: DesiredResource, inputs: Inputs) -> OwnerContext:
    return OwnerContext(ignored=resource.ignore_differences)


def _service_context(resource: DesiredResource, inputs: Inputs) -> OwnerContext:
    ignored = resource.ignore_differences
    is_scaled = (cluster_name_of(str(resource.spec.get("cluster", ""))), resource.name) in inputs.scaled
    code_deploy = is_code_deploy(resource.spec)
    blue_green = blue_green_of(resource, inputs.desired, inputs.arns) if code_deploy else None
    pair = blue_green.pair if blue_green is not None else frozenset()
    strategy = strategy_of(resource.spec) if shifts_traffic(resource.spec) else ""
    return OwnerContext(scaled=is_scaled, pair=pair, ignored=ignored, strategy=strategy)


def _listener_rule_context(resource: DesiredResource, inputs: Inputs) -> OwnerContext:
    return OwnerContext(shift=inputs.shifting.rules.get(resource.name), ignored=resource.ignore_differences)


def _listener_context(resource: DesiredResource, inputs: Inputs) -> OwnerContext:
    pair = listener_pairs(inputs.desired, inputs.arns).get(reference_name(resource), frozenset())
    return OwnerContext(pair=pair, ignored=resource.ignore_differences)


def _scalable_target_context(resource: DesiredResource, inputs: Inputs) -> OwnerContext:
    bounds = schedule_bounds(resource, inputs.desired)
    return OwnerContext(schedule_bounds=bounds, ignored=resource.ignore_differences)


@dataclass(frozen=True)
class KindPlanning:
    """How the planner plans a document of one kind: ``plan`` decides its outcome, given what ``context`` found
    that the table of fields other actors own (``owners``) needs to know of it."""

    plan: Callable[[DesiredResource, Inputs, OwnerContext], Outcome] = _entry
    context: Callable[[DesiredResource, Inputs], OwnerContext] = _document_context


# From the kind's canonical form and tags (``plan/entries.py``): most kinds need no more.
ENTRY = KindPlanning()
# The kinds that need more: the ECS kinds (``KindInfo.read_as_entry`` False) have planning of their own; a
# listener is held while a CodeDeploy deployment moves its traffic, a listener rule and a target group while ECS
# deploys a service blue/green, linear or canary through them; another actor may own fields of a service
# (Application Auto Scaling, CodeDeploy, ECS), of a listener rule (ECS) or of a scalable target (its scheduled
# actions).
PLANNING: Mapping[str, KindPlanning] = {
    "Cluster": KindPlanning(plan=_cluster),
    "TaskDefinition": KindPlanning(plan=_task_definition),
    "Service": KindPlanning(plan=_service, context=_service_context),
    "Listener": KindPlanning(plan=_listener, context=_listener_context),
    "ListenerRule": KindPlanning(plan=_listener_rule, context=_listener_rule_context),
    "TargetGroup": KindPlanning(plan=_target_group),
    "ScalableTarget": KindPlanning(context=_scalable_target_context),
}


def schedule_bounds(target: DesiredResource, desired: DesiredState) -> frozenset[tuple[Any, Any]]:
    """(MinCapacity, MaxCapacity) of every declared scheduled action of ``target``."""
    identity = ("ServiceNamespace", "ResourceId", "ScalableDimension")
    return frozenset(
        (action.get("MinCapacity"), action.get("MaxCapacity"))
        for schedule in desired.of_kind("ScheduledAction")
        if all(schedule.spec.get(f) == target.spec.get(f) for f in identity)
        for action in [schedule.spec.get("ScalableTargetAction") or {}]
    )


def _rollouts_to_read(changes: list[Change], live: LiveState) -> list[tuple[str, str]]:
    """Services whose failed deployments the plan must know before it puts back their task definition."""
    return sorted(
        (change.cluster, change.name)
        for change in changes
        if change.kind == "Service"
        and (change.cluster, change.name) not in live.failed_rollouts
        and (change.cluster, change.name) not in live.rollout_read_errors
        and needs_history(
            change, live.services.get((change.cluster, change.name)), change.task_definition_arn
        )
    )


def _record(plan: Plan, key: ResourceKey, outcome: Outcome, *, deps: set[ResourceKey]) -> None:
    if isinstance(outcome, Conflict):
        plan.conflicts.append(outcome)
    elif isinstance(outcome, Change):
        plan.changes.append(outcome.model_copy(update={"depends_on": sorted(deps)}))
    else:
        plan.in_sync.append(key)


def _overdue(desired: DesiredState, live: LiveState, deadline: float) -> dict[str, str]:
    found = (
        (r.name, overdue(live.services.get((cluster_name_of(str(r.spec.get("cluster", ""))), r.name)),
                         now=live.read_at, deadline=deadline))
        for r in desired.of_kind("Service")
    )  # fmt: skip
    return {name: note for name, note in found if note}


def _failed_in_place(
    desired: DesiredState, live: LiveState, families: dict[str, FamilyPlan]
) -> dict[str, str]:
    """Services that ECS left on a failed deployment of the revision their document runs."""
    found = {}
    for resource in desired.of_kind("Service"):
        reference = str(resource.spec.get("taskDefinition", ""))
        wanted = families[reference].arn if reference in families else reference
        service = live.services.get((cluster_name_of(str(resource.spec.get("cluster", ""))), resource.name))
        if deployment := failed_in_place(service, wanted):
            found[resource.name] = deployment
    return found


def _forget(plan: Plan, key: ResourceKey) -> None:
    plan.changes = [c for c in plan.changes if c.key != key]
    plan.in_sync = [k for k in plan.in_sync if k != key]
    plan.conflicts = [c for c in plan.conflicts if ResourceKey(c.kind, c.name) != key]
    plan.owned = [o for o in plan.owned if ResourceKey(o.kind, o.name) != key]


def _hold_replacing_used_target_groups(changes: list[Change], desired: DesiredState) -> list[Change]:
    """AWS refuses to delete a target group that a listener, rule or service uses, so replacing it in place
    would fail on every pass. Say what to do instead."""

    def held(change: Change) -> Change:
        if change.kind != "TargetGroup" or change.action is not Action.REPLACE:
            return change
        users = sorted(
            str(r.key)
            for r in desired
            if any(
                v.value == change.name and v.reference.target_kind == "TargetGroup"
                for v in iter_reference_values(r)
            )
        )
        if not users:
            return change
        why = (
            f"in use by {', '.join(users)}: AWS cannot delete it to re-create it; declare a target group with a "
            "new name, point them at it, then remove this one"
        )
        return change.model_copy(update={"held": why})

    return [held(c) for c in changes]


def _guard_clusters(changes: list[Change], allowed: frozenset[str]) -> list[Change]:
    """``--allowed-clusters`` bounds what may be written, whatever a document names or AWS holds: documents
    outside it were refused above, and this holds the rest (an orphan of ours in another cluster)."""
    if not allowed:
        return changes

    def guarded(change: Change) -> Change:
        refused = refused_clusters(change.kind, change.name, change.live_spec, allowed)
        if change.cluster and change.cluster not in allowed:
            refused.insert(0, change.cluster)
        if not refused:
            return change
        return change.model_copy(update={"held": f"cluster {refused[0]!r} is not in --allowed-clusters"})

    return [guarded(c) for c in changes]
