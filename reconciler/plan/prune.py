"""Pruning: resources tagged as ours whose document is gone, and the guards around deleting anything.

A resource is deleted only when its last document said ``deletionPolicy: Delete`` (remembered in its
``reconciler:deletion-policy`` tag); otherwise it is reported as an orphan. Deletions run in the reverse of the
creation order (a listener rule before its listener, a service before its cluster), and a revision that would
delete (or replace) more than ``--max-deletions`` resources deletes none of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.model.ecs import cluster_name_of, tags_as_map
from reconciler.model.live import LiveState
from reconciler.model.ownership import REPLACED_BY_TAG, may_prune, owner_of
from reconciler.model.resource import DesiredState
from reconciler.plan.order import KIND_RANK
from reconciler.plan.types import Action, Cause, Change, Orphan, Plan, ServiceDetail

REASON = "its document is gone and its last document said deletionPolicy: Delete"
REPLACED = "replaced by a new one in another namespace: the old one goes, whatever its deletionPolicy"


def plan_orphans(plan: Plan, desired: DesiredState, live: LiveState, *, instance: str) -> None:
    deletions: list[Change] = []
    for candidate in _candidates(desired, live):
        if candidate.status != "ACTIVE" or owner_of(candidate.tags) != instance:
            continue
        if REPLACED_BY_TAG in candidate.tags:
            deletions.append(candidate.deletion(REPLACED))
        elif may_prune(candidate.tags):
            deletions.append(candidate.deletion(REASON))
        else:
            plan.orphans.append(Orphan(kind=candidate.kind, name=candidate.name, arn=candidate.arn))
    plan.changes.extend(deletions)


class _Candidate:
    def __init__(
        self,
        kind: str,
        name: str,
        arn: str,
        tags: Mapping[str, str],
        status: str,
        *,
        cluster: str = "",
        parent: str = "",
    ) -> None:
        self.kind, self.name, self.arn, self.tags, self.status = kind, name, arn, tags, status
        self.cluster, self.parent = cluster, parent
        self.live_spec: dict[str, Any] = {}

    def deletion(self, reason: str) -> Change:
        return Change(
            kind=self.kind,
            name=self.name,
            action=Action.DELETE,
            cause=Cause.ORPHAN,
            reason=reason,
            live_arn=self.arn,
            service=ServiceDetail(cluster=self.cluster) if self.cluster else None,
            parent_arn=self.parent,
            live_spec=self.live_spec,
        )


def _candidates(desired: DesiredState, live: LiveState) -> Iterator[_Candidate]:
    declared = {r.key for r in desired}
    wanted_services = {
        (cluster_name_of(str(r.spec.get("cluster", ""))), r.name) for r in desired.of_kind("Service")
    }
    for (cluster, name), service in sorted(live.services.items()):
        if (cluster, name) not in wanted_services:
            tags = tags_as_map(service.get("tags"))
            yield _Candidate(
                "Service",
                name,
                service.get("serviceArn", ""),
                tags,
                service.get("status", ""),
                cluster=cluster,
            )
    for name, cluster_entry in sorted(live.clusters.items()):
        if ("Cluster", name) not in declared:
            tags = tags_as_map(cluster_entry.get("tags"))
            yield _Candidate(
                "Cluster", name, cluster_entry.get("clusterArn", ""), tags, cluster_entry.get("status", "")
            )
    for kind, entries in sorted(live.entries.items()):
        for name, entry in sorted(entries.items()):
            if (kind, name) not in declared:
                candidate = _Candidate(kind, name, entry.arn, entry.tags, entry.status, parent=entry.parent)
                candidate.live_spec = entry.spec
                yield candidate


def order_deletions(changes: list[Change]) -> list[Change]:
    """``changes`` with each deletion waiting for the deletions of the kinds created after its kind (which may
    refer to it)."""
    deletions = [c for c in changes if c.action is Action.DELETE]

    def ordered(change: Change) -> Change:
        rank = KIND_RANK.get(change.kind, 0)
        after = [d.key for d in deletions if KIND_RANK.get(d.kind, 0) > rank]
        return change.model_copy(update={"depends_on": after})

    return [ordered(c) if c.action is Action.DELETE else c for c in changes]


def guard_deletions(changes: list[Change], limit: int) -> tuple[list[Change], int]:
    """A revision that would delete (or delete and re-create) more than ``limit`` resources does neither:
    ``changes`` with those held, and how many."""
    deleting = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
    if len(deleting) <= limit:
        return changes, 0
    held = (
        f"this revision would delete {len(deleting)} resources (deletions and replacements), "
        f"more than --max-deletions {limit}"
    )
    guarded = [
        c.model_copy(update={"held": held}) if c.action in (Action.DELETE, Action.REPLACE) else c
        for c in changes
    ]
    return guarded, len(deleting)
