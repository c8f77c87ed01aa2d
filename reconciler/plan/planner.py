"""From a desired state and a live snapshot to a plan: every kind planned, orphans found, guards applied.

The planner is pure and cheap, so the runtime may call it twice in a pass: when a task definition family has no
known matching revision, the plan asks for the family's recent revisions (``families_to_read``), the runtime reads
them, and plans again. In steady state every service runs a matching revision and no such read happens.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.ecs import tags_as_map
from reconciler.model.live import Described, LiveState
from reconciler.model.ownership import may_prune, owner_of
from reconciler.model.references import declared_by_reference, dependencies
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.plan.ecs import FamilyPlan, Outcome, plan_cluster, plan_service, plan_task_definition
from reconciler.plan.order import order_changes
from reconciler.plan.types import Action, Cause, Change, Conflict, Orphan, Plan


@dataclass(frozen=True)
class PlanOptions:
    instance: str = "default"
    max_deletions: int = 5
    allowed_clusters: frozenset[str] = frozenset()  # empty: any cluster


def make_plan(desired: DesiredState, live: LiveState, options: PlanOptions) -> Plan:
    plan = Plan(revision=desired.revision)
    families = {
        r.name: plan_task_definition(r, live, instance=options.instance)
        for r in desired.of_kind("TaskDefinition")
    }
    plan.families_to_read = sorted(name for name, family in families.items() if family.needs_read)
    declared = declared_by_reference(desired)
    for resource in desired:
        outcome = _plan_one(resource.kind, resource.name, desired, live, families, options)
        _record(plan, resource.key, outcome, deps=dependencies(resource, declared))
    if not desired.is_empty:  # an empty desired state never prunes (SPEC §1)
        _plan_orphans(plan, desired, live, options)
    _guard_deletions(plan.changes, options.max_deletions)
    _guard_clusters(plan.changes, options.allowed_clusters)
    plan.changes = order_changes(plan.changes)
    return plan


def _plan_one(
    kind: str,
    name: str,
    desired: DesiredState,
    live: LiveState,
    families: dict[str, FamilyPlan],
    options: PlanOptions,
) -> Outcome:
    resource = desired.get(kind, name)
    assert resource is not None
    if kind == "Cluster":
        return plan_cluster(resource, live, instance=options.instance)
    if kind == "TaskDefinition":
        return families[name].outcome
    return plan_service(resource, live, families, instance=options.instance)


def _record(plan: Plan, key: ResourceKey, outcome: Outcome, *, deps: set[ResourceKey]) -> None:
    if isinstance(outcome, Conflict):
        plan.conflicts.append(outcome)
    elif isinstance(outcome, Change):
        outcome.depends_on = sorted(deps)
        plan.changes.append(outcome)
    else:
        plan.in_sync.append(key)


def _plan_orphans(plan: Plan, desired: DesiredState, live: LiveState, options: PlanOptions) -> None:
    wanted_services = {
        (str(r.spec.get("cluster", "")).rsplit("/", 1)[-1], r.name) for r in desired.of_kind("Service")
    }
    wanted_clusters = {r.name for r in desired.of_kind("Cluster")}
    found: list[tuple[str, str, Described]] = [
        ("Service", name, entry)
        for (cluster, name), entry in sorted(live.services.items())
        if (cluster, name) not in wanted_services
    ]
    found += [
        ("Cluster", name, entry)
        for name, entry in sorted(live.clusters.items())
        if name not in wanted_clusters
    ]
    deletions: list[Change] = []
    for kind, name, entry in found:
        tags = tags_as_map(entry.get("tags"))
        if entry.get("status") != "ACTIVE" or owner_of(tags) != options.instance:
            continue
        arn = entry.get("serviceArn") or entry.get("clusterArn") or ""
        if may_prune(tags):
            deletions.append(_deletion(kind, name, entry, arn))
        else:
            plan.orphans.append(Orphan(kind=kind, name=name, arn=arn))
    _order_deletions(deletions)
    plan.changes.extend(deletions)


def _deletion(kind: str, name: str, entry: Described, arn: str) -> Change:
    cluster = str(entry.get("clusterArn", "")).rsplit("/", 1)[-1] if kind == "Service" else ""
    return Change(
        kind=kind,
        name=name,
        action=Action.DELETE,
        cause=Cause.ORPHAN,
        reason="its document is gone and its last document said deletionPolicy: Delete",
        live_arn=arn,
        cluster=cluster,
    )


def _order_deletions(deletions: list[Change]) -> None:
    """A cluster is deleted after the services in it (AWS refuses to delete a cluster with active services)."""
    services = [c for c in deletions if c.kind == "Service"]
    for change in deletions:
        if change.kind == "Cluster":
            change.depends_on = [s.key for s in services if s.cluster == change.name]


def _guard_clusters(changes: list[Change], allowed: frozenset[str]) -> None:
    """``--allowed-clusters`` bounds what may be written, whatever a document names."""
    if not allowed:
        return
    for change in changes:
        cluster = change.name if change.kind == "Cluster" else change.cluster
        if cluster and cluster not in allowed:
            change.held = f"cluster {cluster!r} is not in --allowed-clusters"


def _guard_deletions(changes: list[Change], limit: int) -> None:
    """A revision that would delete (or delete and re-create) more than ``limit`` resources does neither."""
    deleting = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    if len(deleting) <= limit:
        return
    for change in deleting:
        change.held = (
            f"this revision would delete {len(deleting)} resources (deletions and replacements), "
            f"more than --max-deletions {limit}"
        )
