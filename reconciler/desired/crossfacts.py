"""What the checks across documents need to know of one file, gathered once when the file is checked.

The checks across documents (``crosscheck``, ``load_balancing``, ``autoscaling``, ``scope``) walk every document
of the desired state. A commit usually changes one file, and leaves every rule those checks enforce unbroken:
walking 18,000 documents to find nothing was most of a commit's cost at 3000 services. So each file's
``CrossFacts`` (names declared, names referred to, ports and priorities claimed, scalable targets...) are kept
with the file in the loader's cache, and ``surely_clean`` proves a desired state free of cross-document problems
by set arithmetic over its files' facts. Only when it cannot (a rule may be broken) do the checks themselves run,
to find and word each problem: the facts decide whether to look, never what is reported.

``surely_clean`` must never answer True for a desired state in which a check finds a problem; it may answer False
for one in which none does (the checks then run and find nothing).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.desired.crosscheck import Candidate
from reconciler.desired.load_balancing import IP_TARGET_TYPE
from reconciler.desired.scope import touched_clusters
from reconciler.desired.strategies import forwards_to_pair, on_two_load_balancers, rule_facts
from reconciler.model.autoscaling_ids import (
    ECS_NAMESPACE,
    EcsServiceId,
    ScalableTargetId,
    cluster_name,
    parse_ecs_resource_id,
    scalable_target_id,
)
from reconciler.model.kinds import (
    CLUSTER,
    LISTENER,
    LISTENER_RULE,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SCHEDULED_ACTION,
    SERVICE,
    TARGET_GROUP,
)
from reconciler.model.references import is_literal, iter_reference_values, reference_name
from reconciler.model.resource import ResourceKey
from reconciler.model.strategies import shifted_balancers

_ATTACHED_KINDS = frozenset({SCALING_POLICY.kind, SCHEDULED_ACTION.kind})
_UNIQUE_VALUES = {LISTENER.kind: ("LoadBalancerArn", "Port"), LISTENER_RULE.kind: ("ListenerArn", "Priority")}


@dataclass(frozen=True, slots=True)
class CrossFacts:
    """One file's part of every rule checked across documents. Tuples where a repeat is itself a problem
    (two documents with one key), sets where only membership matters."""

    keys: tuple[ResourceKey, ...]  # (kind, metadata.name): duplicates
    declared: frozenset[ResourceKey]  # (kind, the name references use)
    needed: frozenset[ResourceKey]  # references by name that must be declared somewhere
    external: frozenset[ResourceKey]  # references by name that may be to a resource outside the repository
    claimed: tuple[tuple[str, str, int], ...]  # (kind, listener or load balancer, priority or port)
    target_ids: tuple[ScalableTargetId, ...]  # of ScalableTargets
    attached_ids: frozenset[ScalableTargetId]  # that policies and scheduled actions name
    scaled: frozenset[EcsServiceId]  # ECS services that scalable targets scale
    clusters: frozenset[str]  # Cluster documents' names
    services: frozenset[EcsServiceId]  # (cluster, name) of Service documents
    not_ip_groups: frozenset[str]  # target groups whose TargetType is not ip
    grouped: frozenset[str]  # target groups that services register tasks in
    touched: frozenset[str]  # clusters the documents touch (--allowed-clusters)
    rules: frozenset[
        tuple[str, str, frozenset[str]]
    ]  # ListenerRules: (name, listener, groups it forwards to)
    shifts: frozenset[
        tuple[str, str, frozenset[str]]
    ]  # shifted load balancers: (production, test rule, pair)


def cross_facts(candidates: Iterable[Candidate]) -> CrossFacts:
    """The facts of one file's candidates (documents with a kind, a name and a spec, valid or not)."""
    found = _Gathering()
    for candidate in candidates:
        found.add(candidate)
    return found.facts()


class _Gathering:
    def __init__(self) -> None:
        self.keys: list[ResourceKey] = []
        self.declared: set[ResourceKey] = set()
        self.needed: set[ResourceKey] = set()
        self.external: set[ResourceKey] = set()
        self.claimed: list[tuple[str, str, int]] = []
        self.target_ids: list[ScalableTargetId] = []
        self.attached_ids: set[ScalableTargetId] = set()
        self.scaled: set[EcsServiceId] = set()
        self.clusters: set[str] = set()
        self.services: set[EcsServiceId] = set()
        self.not_ip_groups: set[str] = set()
        self.grouped: set[str] = set()
        self.touched: set[str] = set()
        self.rules: set[tuple[str, str, frozenset[str]]] = set()
        self.shifts: set[tuple[str, str, frozenset[str]]] = set()

    def add(self, candidate: Candidate) -> None:
        resource = candidate.resource
        kind, spec = resource.kind, resource.spec
        self.keys.append(resource.key)
        self.declared.add(ResourceKey(kind, reference_name(resource)))
        self._add_references(candidate)
        self.touched.update(cluster for _, cluster in touched_clusters(kind, resource.name, spec))
        if kind == LISTENER_RULE.kind:
            self.rules.add((resource.name, *rule_facts(spec)))
        if kind in _UNIQUE_VALUES:
            self._add_claim(kind, spec)
        elif kind == SCALABLE_TARGET.kind:
            self._add_scalable_target(spec)
        elif kind in _ATTACHED_KINDS and (identity := scalable_target_id(spec)) is not None:
            self.attached_ids.add(identity)
        elif kind == CLUSTER.kind:
            self.clusters.add(resource.name)
        elif kind == SERVICE.kind:
            if isinstance(spec.get("cluster"), str):
                self.services.add(EcsServiceId(cluster_name(spec["cluster"]), resource.name))
            self.shifts.update((b.production_rule, b.test_rule, b.pair) for b in shifted_balancers(spec))
        elif kind == TARGET_GROUP.kind and _not_ip(spec.get("TargetType")):
            self.not_ip_groups.add(resource.name)

    def _add_references(self, candidate: Candidate) -> None:
        for found in iter_reference_values(candidate.resource):
            target_kind = found.reference.target_kind
            if is_literal(found.value, target_kind):
                continue
            if candidate.resource.kind == SERVICE.kind and target_kind == TARGET_GROUP.kind:
                self.grouped.add(found.value)
            key = ResourceKey(target_kind, found.value)
            (self.external if found.reference.external_allowed else self.needed).add(key)

    def _add_claim(self, kind: str, spec: dict[str, Any]) -> None:
        scope, value = _UNIQUE_VALUES[kind]
        owner, number = spec.get(scope), spec.get(value)
        if isinstance(owner, str) and isinstance(number, int) and not isinstance(number, bool):
            self.claimed.append((kind, owner, number))

    def _add_scalable_target(self, spec: dict[str, Any]) -> None:
        identity = scalable_target_id(spec)
        if identity is not None:
            self.target_ids.append(identity)
        resource_id = spec.get("ResourceId")
        if spec.get("ServiceNamespace") != ECS_NAMESPACE or not isinstance(resource_id, str):
            return
        if (service := parse_ecs_resource_id(resource_id)) is not None:
            self.scaled.add(service)

    def facts(self) -> CrossFacts:
        return CrossFacts(
            keys=tuple(self.keys),
            declared=frozenset(self.declared),
            needed=frozenset(self.needed),
            external=frozenset(self.external),
            claimed=tuple(self.claimed),
            target_ids=tuple(self.target_ids),
            attached_ids=frozenset(self.attached_ids),
            scaled=frozenset(self.scaled),
            clusters=frozenset(self.clusters),
            services=frozenset(self.services),
            not_ip_groups=frozenset(self.not_ip_groups),
            grouped=frozenset(self.grouped),
            touched=frozenset(self.touched),
            rules=frozenset(self.rules),
            shifts=frozenset(self.shifts),
        )


def _not_ip(target_type: object) -> bool:
    """What ``load_balancing`` refuses for a target group a Fargate service uses: unset, or a string not ip."""
    return target_type is None or (isinstance(target_type, str) and target_type != IP_TARGET_TYPE)


def surely_clean(files: Sequence[CrossFacts], allowed_clusters: Collection[str]) -> bool:
    """True only when no check across documents can find a problem in the documents of ``files``."""
    return not unclean_targets({"": files}, allowed_clusters)


def unclean_targets(
    files: Mapping[str, Sequence[CrossFacts]], allowed_clusters: Collection[str]
) -> list[str]:
    """The targets whose documents (``files``: each target's facts, of each file with documents for it) the
    checks across documents must look at: every target but those proven clean. A target's documents are checked
    among themselves, and may not refer to what only another target declares."""
    merged = {target: _Merged(facts) for target, facts in files.items()}
    return [
        target
        for target, its in merged.items()
        if not _clean(its, allowed_clusters)
        or _refers_elsewhere(its, [m for t, m in merged.items() if t != target])
    ]


def _refers_elsewhere(merged: _Merged, others: Sequence[_Merged]) -> bool:
    """Whether a reference that may name a resource outside the repository names one another target declares."""
    outside = merged.union("external") - merged.union("declared")
    return bool(outside) and any(outside & other.union("declared") for other in others)


def _clean(merged: _Merged, allowed_clusters: Collection[str]) -> bool:
    return (
        merged.all_unique("keys")
        and merged.all_unique("claimed")
        and merged.all_unique("target_ids")
        and merged.union("needed") <= merged.union("declared")
        and merged.union("attached_ids") <= merged.union("target_ids")
        and not (merged.union("not_ip_groups") & merged.union("grouped"))
        and _scaled_services_declared(merged)
        and _shifts_clean(merged)
        and (not allowed_clusters or merged.union("touched") <= set(allowed_clusters))
    )


def _scaled_services_declared(merged: _Merged) -> bool:
    """Every ECS service a scalable target scales in a declared cluster is a declared service of it."""
    clusters = merged.union("clusters")
    unknown = merged.union("scaled") - merged.union("services")
    return not any(service.cluster in clusters for service in unknown)


def _shifts_clean(merged: _Merged) -> bool:
    """Every shifted load balancer's rules forward to its pair, on listeners of one load balancer (the rules of
    ``strategies.across_documents``)."""
    rules = {name: (listener, groups) for name, listener, groups in merged.union("rules")}
    for production, test, pair in merged.union("shifts"):
        named = [rules[name] for name in (production, test) if name in rules]
        if any(not forwards_to_pair(groups, pair) for _, groups in named):
            return False
        if len(named) == 2 and on_two_load_balancers(named[0][0], named[1][0]):
            return False
    return True


class _Merged:
    """The union of one field over every file, worked out when first asked for."""

    def __init__(self, files: Sequence[CrossFacts]) -> None:
        self._files = files
        self._unions: dict[str, set[Any]] = {}

    def union(self, field: str) -> set[Any]:
        if field not in self._unions:
            merged: set[Any] = set()
            for facts in self._files:
                merged.update(getattr(facts, field))
            self._unions[field] = merged
        return self._unions[field]

    def all_unique(self, field: str) -> bool:
        return len(self.union(field)) == sum(len(getattr(facts, field)) for facts in self._files)
