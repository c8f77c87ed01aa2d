"""Planning the ECS kinds: clusters, task definitions (immutable revisions) and services.

Task definitions are the delicate part: a revision can never change, so "in sync" means that
a known revision matches the document, and a new revision is registered only when none does. Services compare the
revision they run with the document of their family, and report its differences under ``taskDefinition.``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.model.autoscaling import FACT_PREFIX
from reconciler.model.canonical import stable_hash
from reconciler.model.ecs import (
    canonical_cluster,
    canonical_service,
    canonical_task_definition,
    cluster_name_of,
    tags_as_map,
    task_definition_label,
)
from reconciler.model.live import Described, LiveState
from reconciler.model.ownership import SPEC_HASH_TAG, owner_of
from reconciler.model.references import is_literal, resolve
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.assess import Sides, assess
from reconciler.plan.blue_green import BlueGreen, is_code_deploy, route_deployment
from reconciler.plan.diff import FieldDiff, scoped_diff
from reconciler.plan.owners import NO_OWNERS, OwnerContext, settle, unignored
from reconciler.plan.rollouts import DEFAULT_DEADLINE, rollout
from reconciler.plan.strategies import Deploying, held_while_deploying
from reconciler.plan.types import Action, Cause, Change, Conflict

Outcome = Change | Conflict | None


def spec_hash_of(canonical_spec: dict[str, Any], tags: dict[str, str], *extra: str) -> str:
    return stable_hash({"spec": canonical_spec, "tags": tags, "extra": list(extra)})


# --- Cluster -------------------------------------------------------------------------------------------------


def sides_of(
    resource: DesiredResource,
    entry: Described | None,
    canonical: Callable[[Mapping[str, Any]], dict[str, Any]],
    *,
    arn_field: str,
    hash_extra: tuple[str, ...] = (),
) -> Sides:
    """Both sides of an ECS resource whose tags are ``[{key, value}]`` and whose describe shape is request-like."""
    desired = canonical(resource.spec)
    tags = tags_as_map(resource.spec.get("tags"))
    return Sides(
        resource=resource,
        spec_hash=spec_hash_of(desired, tags, *hash_extra),
        desired=desired,
        desired_tags=tags,
        live=canonical(entry) if entry else None,
        live_tags=tags_as_map(entry.get("tags")) if entry else {},
        live_status=entry.get("status") if entry else None,
        live_arn=entry.get(arn_field, "") if entry else "",
    )


def plan_cluster(resource: DesiredResource, live: LiveState, *, instance: str) -> Outcome:
    entry = live.clusters.get(resource.name)
    sides = sides_of(resource, entry, canonical_cluster, arn_field="clusterArn")
    connect = sides.desired.get("serviceConnectDefaults") or {}
    if (named := connect.get("namespace")) in live.namespaces:  # AWS answers with the namespace's ARN
        resolved = {**connect, "namespace": live.namespaces[named]}
        sides = replace(sides, desired={**sides.desired, "serviceConnectDefaults": resolved})
    return assess(sides, instance=instance)


# --- TaskDefinition ------------------------------------------------------------------------------------------


@dataclass
class RevisionMemo:
    """What the planner works out about task definition revisions, kept by the engine from pass to pass (the
    planner writes nothing into ``LiveState``). A revision's content never changes (its ARN names it), so
    neither does its canonical form, nor whether it matches a document's canonical form, keyed by that form's hash
    and by the document the revision's tag says it was registered from (tags can change) and the paths that document
    ignores."""

    canonical: dict[str, dict[str, Any]] = field(default_factory=dict)  # revision ARN → canonical form
    # (revision ARN, document's revision hash, registered-from tag, document's ignored paths) → whether it matches
    matches: dict[tuple[str, str, str | None, tuple[str, ...]], bool] = field(default_factory=dict)

    def keep_documents(self, revision_hashes: set[str]) -> None:
        """Forget the answers about documents no longer declared: every commit to a family brings a new revision
        hash, and a daemon would otherwise keep the answers for all of them for its whole life. (Canonical forms
        go with the revisions the reader keeps.)"""
        self.matches = {key: found for key, found in self.matches.items() if key[1] in revision_hashes}


@dataclass
class FamilyPlan:
    """What the planner decided for one task definition family; services read it."""

    canonical: dict[str, Any]
    spec_hash: str  # "<revision hash>.<tags hash>", see plan_task_definition
    ignored: tuple[str, ...] = ()  # the document's metadata.ignoreDifferences: a revision may differ there

    @property
    def revision_hash(self) -> str:
        return self.spec_hash.split(".", 1)[0]

    arn: str = ""  # the ACTIVE revision that matches the document; "" when one must be registered
    needs_read: bool = False  # no known revision matches, and the family's recent revisions were not read yet
    outcome: Outcome = None


def plan_task_definition(
    resource: DesiredResource, live: LiveState, memo: RevisionMemo, *, instance: str
) -> FamilyPlan:
    """A revision's spec-hash tag is ``<revision hash>.<tags hash>``: the first part says which document the
    revision was registered from (it never changes), the second lets a tag change be told from tag drift."""
    canonical = canonical_task_definition(resource.spec)
    tags = tags_as_map(resource.spec.get("tags"))
    revision_hash = spec_hash_of(canonical, {})
    family = FamilyPlan(
        canonical=canonical,
        spec_hash=f"{revision_hash}.{spec_hash_of({}, tags)[:8]}",
        ignored=resource.ignore_differences,
    )
    revisions = [td for td in live.revisions_of(resource.name) if td.get("status") != "INACTIVE"]
    matches = [td for td in revisions if revision_matches(td, family, memo)]
    match = next((td for td in matches if _registered_from(td) is not None), matches[0] if matches else None)
    if match is not None:
        family.arn = match["taskDefinitionArn"]
        family.outcome = assess(_revision_sides(resource, match, family, memo), instance=instance)
    elif resource.name not in live.families_read:
        family.needs_read = True
    else:
        family.outcome = _register(resource, revisions, family, instance=instance)
    return family


def revision_matches(td: Described, family: FamilyPlan, memo: RevisionMemo) -> bool:
    """A revision matches when it has everything the document sets (and nothing more where the document lists
    a complete set) and was not registered from another document — or, registered from another document, is
    exactly this one: equal both ways, so nothing the document leaves out is set in it (a document rewritten
    with the same meaning, or imported from that very revision, reuses it instead of registering a copy)."""
    registered_from = _registered_from(td)
    key = (str(td.get("taskDefinitionArn", "")), family.revision_hash, registered_from, family.ignored)
    found = memo.matches.get(key)
    if found is None:
        live = _canonical_revision(td, memo)
        found = not unignored(scoped_diff(family.canonical, live), family.ignored) and (
            registered_from in (None, family.revision_hash)
            or not unignored(scoped_diff(live, family.canonical), family.ignored)
        )
        memo.matches[key] = found
    return found


def _canonical_revision(td: Described, memo: RevisionMemo) -> dict[str, Any]:
    """A live revision's canonical form, worked out once (see ``RevisionMemo``)."""
    arn = str(td.get("taskDefinitionArn", ""))
    if arn not in memo.canonical:
        memo.canonical[arn] = canonical_task_definition(td)
    return memo.canonical[arn]


def _registered_from(td: Described) -> str | None:
    spec_hash = _tags(td).get(SPEC_HASH_TAG)
    return spec_hash.split(".", 1)[0] if spec_hash else None


def _revision_sides(
    resource: DesiredResource, td: Described, family: FamilyPlan, memo: RevisionMemo
) -> Sides:
    """The matching revision against the document: only its tags can still differ (or be missing: adopt)."""
    return Sides(
        resource=resource,
        spec_hash=family.spec_hash,
        desired=family.canonical,
        desired_tags=tags_as_map(resource.spec.get("tags")),
        live=_canonical_revision(td, memo),
        live_tags=_tags(td),
        live_status=td.get("status"),
        live_arn=td["taskDefinitionArn"],
    )


def _register(
    resource: DesiredResource, revisions: list[Described], family: FamilyPlan, *, instance: str
) -> Change:
    latest = next((td for td in revisions if td.get("status") != "INACTIVE"), None)
    ours = any(owner_of(_tags(td)) == instance for td in revisions)
    diff = [
        FieldDiff(
            path="revision",
            desired="(new)",
            live=task_definition_label(latest["taskDefinitionArn"]) if latest else None,
        )
    ]
    if latest is not None:
        diff += scoped_diff(family.canonical, canonical_task_definition(latest))
    return Change(
        kind=resource.kind,
        name=resource.name,
        action=Action.CREATE,
        cause=Cause.DESIRED if ours else Cause.MISSING,
        diff=diff,
        mode=resource.mode,
        reason="task definitions are immutable: a new revision is registered",
        spec_hash=family.spec_hash,
    )


def _tags(described: Described) -> dict[str, str]:
    return tags_as_map(described.get("tags"))


# --- Service -------------------------------------------------------------------------------------------------


def plan_service(
    resource: DesiredResource,
    live: LiveState,
    families: dict[str, FamilyPlan],
    arns: Mapping[ResourceKey, str],
    *,
    instance: str,
    context: OwnerContext = NO_OWNERS,
    blue_green: BlueGreen | None = None,
    deployment_deadline: float = DEFAULT_DEADLINE,
    memo: RevisionMemo | None = None,
    deploying: Deploying | None = None,
) -> Outcome:
    """``context``: what the table of fields other actors own (``owners``) needs to know of the service.
    ``blue_green``: the deployment group of a CODE_DEPLOY service (see ``blue_green``).
    ``deployment_deadline``: how long drift waits for the reconciler's own ECS deployment (see ``rollouts``).
    ``deploying``: the blue/green, linear or canary deployment ECS is running for it (see ``strategies``)."""
    cluster = cluster_name_of(str(resource.spec["cluster"]))
    entry = live.services.get((cluster, resource.name))
    settled = settle(resource.kind, entry, resolve(resource, arns), context)  # names → ARNs
    resolved = dict(settled.desired)  # the owners' values declared (the pair as ECS serves it)
    if (
        settled.unowned
    ):  # left to their owner: neither compared nor hashed (Git's value only seeds a new service)
        spec = {k: v for k, v in resource.spec.items() if k not in settled.unowned}
        resource = replace(resource, spec=spec)
        resolved = {k: v for k, v in resolved.items() if k not in settled.unowned}
    reference = str(resource.spec["taskDefinition"])
    family = None if is_literal(reference) else families.get(reference)
    hash_extra = (family.revision_hash if family else reference,)  # a new revision is a desired change
    sides = sides_of(resource, settled.live, canonical_service, arn_field="serviceArn", hash_extra=hash_extra)
    sides = replace(sides, desired=canonical_service(resolved))
    running = str(entry.get("taskDefinition", "")) if entry else ""
    memo = memo if memo is not None else RevisionMemo()
    outcome = assess(
        sides, instance=instance, extra_diff=_task_definition_diff(reference, running, family, live, memo)
    )
    if isinstance(outcome, Change):
        outcome = outcome.model_copy(update={"settled": dict(settled.declared)})
        outcome = _finish_service_change(
            outcome, cluster=cluster, reference=reference, family=family, entry=entry, live=live,
            deadline=deployment_deadline, deploying=deploying,
        )  # fmt: skip
        if is_code_deploy(resource.spec):
            outcome = route_deployment(outcome, blue_green, live.deployments_running, live.deployments_failed)
    return outcome


def _task_definition_diff(
    reference: str, running_arn: str, family: FamilyPlan | None, live: LiveState, memo: RevisionMemo
) -> list[FieldDiff]:
    if family is None:  # a pinned revision or a full ARN, used as written
        same = task_definition_label(reference) == task_definition_label(running_arn)
        return (
            []
            if same
            else [
                FieldDiff(path="taskDefinition", desired=reference, live=task_definition_label(running_arn))
            ]
        )
    running = live.task_definitions.get(running_arn)
    if running is not None and revision_matches(running, family, memo):
        return []
    wanted = task_definition_label(family.arn) if family.arn else f"{reference}:(new revision)"
    diff = [FieldDiff(path="taskDefinition", desired=wanted, live=task_definition_label(running_arn) or None)]
    if running is not None:
        details = scoped_diff(family.canonical, _canonical_revision(running, memo), "taskDefinition")
        diff += details
    return diff


# ECS refuses to create a service while one of that name drains (its tasks stopping), however long that takes.
DRAINING_HOLD = (
    "the deleted service of this name is still draining; it is created again once ECS has removed it"
)


def _finish_service_change(
    change: Change,
    *,
    cluster: str,
    reference: str,
    family: FamilyPlan | None,
    entry: Described | None,
    live: LiveState,
    deadline: float,
    deploying: Deploying | None = None,
) -> Change:
    """``change`` with what a service's change carries: its cluster, the revision to run, the scaling facts a
    re-created service keeps, and what the service's deployments mean for it (``rollouts``)."""
    detail: dict[str, Any] = {
        "cluster": cluster,
        "task_definition_arn": reference if family is None else family.arn,
    }
    if change.action is Action.CREATE and entry is not None:  # re-created: keep the scaling facts it carried
        tags = tags_as_map(entry.get("tags"))
        detail["carried_tags"] = {k: v for k, v in tags.items() if k.startswith(FACT_PREFIX)}
        if entry.get("status") == "DRAINING":
            return change.with_service(**detail).model_copy(update={"held": DRAINING_HOLD})
    change = change.with_service(**detail)
    if deploying is not None and change.cause is not Cause.DESIRED:  # ECS's blue/green: however long it takes
        return held_while_deploying(change, deploying)
    decided = rollout(
        change, entry, change.task_definition_arn, live.failed_rollouts.get((cluster, change.name), ()),
        now=live.read_at, deadline=deadline, unreadable=live.rollout_read_errors.get((cluster, change.name), ""),
    )  # fmt: skip
    change = change.with_service(deployment_note=decided.note)
    if decided.held:
        return change.with_service(deployment_failed=decided.failed).model_copy(update={"held": decided.held})
    return change
