"""The Application Auto Scaling rules that no single AWS request shape can express.

AWS ties policies and scheduled actions to a scalable target only through the repeated triple
(``ServiceNamespace``, ``ResourceId``, ``ScalableDimension``): a typo there is not a reference error but a
``ValidationException`` at apply time ("No scalable target registered"), after other changes went out. So the
triples are matched offline, and an ECS target is checked against the services its cluster declares. Values of
the wrong type are skipped: the shape checker reports those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.desired.crosscheck import Candidate
from reconciler.desired.spec_checker import SpecProblem
from reconciler.errors import Problem, echoed
from reconciler.model.autoscaling_ids import (
    ECS_NAMESPACE,
    ScalableTargetId,
    cluster_name,
    parse_ecs_resource_id,
    scalable_target_id,
)
from reconciler.model.kinds import CLUSTER, SCALABLE_TARGET, SCALING_POLICY, SCHEDULED_ACTION, SERVICE

_SCALING_KINDS = frozenset({SCALABLE_TARGET.kind, SCALING_POLICY.kind, SCHEDULED_ACTION.kind})
_ATTACHED_KINDS = (SCALING_POLICY.kind, SCHEDULED_ACTION.kind)


def capacity_problems(*, kind: str, spec: Mapping[str, Any]) -> list[SpecProblem]:
    """Per document: MinCapacity above MaxCapacity, and an ECS ResourceId that is not
    ``service/<cluster>/<service>``."""
    problems = _resource_id_problems(spec) if kind in _SCALING_KINDS else []
    if kind == SCALABLE_TARGET.kind:
        problems.extend(_min_max_problems(spec, prefix=""))
    if kind == SCHEDULED_ACTION.kind and isinstance(spec.get("ScalableTargetAction"), Mapping):
        problems.extend(_min_max_problems(spec["ScalableTargetAction"], prefix="ScalableTargetAction."))
    return problems


def _min_max_problems(capacities: Mapping[str, Any], *, prefix: str) -> list[SpecProblem]:
    low, high = capacities.get("MinCapacity"), capacities.get("MaxCapacity")
    if not isinstance(low, int) or not isinstance(high, int) or low <= high:
        return []
    return [SpecProblem(f"{prefix}MinCapacity", f"MinCapacity ({low}) is greater than MaxCapacity ({high})")]


def _resource_id_problems(spec: Mapping[str, Any]) -> list[SpecProblem]:
    resource_id = spec.get("ResourceId")
    if spec.get("ServiceNamespace") != ECS_NAMESPACE or not isinstance(resource_id, str):
        return []
    if parse_ecs_resource_id(resource_id) is not None:
        return []
    message = f"an ecs ResourceId is written service/<cluster>/<service>, not '{echoed(resource_id)}'"
    return [SpecProblem("ResourceId", message)]


def autoscaling_problems(candidates: Sequence[Candidate]) -> list[Problem]:
    """Every cross-document Application Auto Scaling rule that the desired state breaks."""
    targets = [c for c in candidates if c.resource.kind == SCALABLE_TARGET.kind]
    return [
        *_duplicate_target_problems(targets),
        *_unattached_problems(candidates, targets=targets),
        *_undeclared_service_problems(candidates, targets=targets),
    ]


def _duplicate_target_problems(targets: Sequence[Candidate]) -> list[Problem]:
    """Two documents for one AWS scalable target would undo each other's capacities every pass."""
    first_seen: dict[ScalableTargetId, Candidate] = {}
    problems = []
    for target in targets:
        identity = scalable_target_id(target.resource.spec)
        if identity is None:
            continue
        first = first_seen.setdefault(identity, target)
        if first is not target:
            message = f"{echoed(identity)} is already declared by ScalableTarget '{echoed(first.resource.name)}' ({first.where})"
            problems.append(target.problem("ResourceId", message))
    return problems


def _unattached_problems(candidates: Sequence[Candidate], *, targets: Sequence[Candidate]) -> list[Problem]:
    """A policy or scheduled action must repeat the triple of a declared ScalableTarget."""
    declared = {scalable_target_id(target.resource.spec) for target in targets}
    problems = []
    for candidate in candidates:
        if candidate.resource.kind not in _ATTACHED_KINDS:
            continue
        identity = scalable_target_id(candidate.resource.spec)
        if identity is None or identity in declared:
            continue
        message = (
            f"no ScalableTarget is declared for {echoed(identity)} (declare one with the same "
            "ServiceNamespace, ResourceId and ScalableDimension)"
        )
        problems.append(candidate.problem("ResourceId", message))
    return problems


def _undeclared_service_problems(
    candidates: Sequence[Candidate], *, targets: Sequence[Candidate]
) -> list[Problem]:
    """An ECS target in a declared cluster must scale a declared service of that cluster. A cluster the repo
    does not declare may be an existing one, and its services are not checked."""
    clusters = {c.resource.name for c in candidates if c.resource.kind == CLUSTER.kind}
    services = {
        (cluster_name(c.resource.spec["cluster"]), c.resource.name)
        for c in candidates
        if c.resource.kind == SERVICE.kind and isinstance(c.resource.spec.get("cluster"), str)
    }
    problems = []
    for target in targets:
        spec = target.resource.spec
        resource_id = spec.get("ResourceId")
        if spec.get("ServiceNamespace") != ECS_NAMESPACE or not isinstance(resource_id, str):
            continue
        ecs_service = parse_ecs_resource_id(resource_id)
        if ecs_service is None or ecs_service.cluster not in clusters or ecs_service in services:
            continue
        message = (
            f"no Service named '{echoed(ecs_service.service)}' is declared in cluster '{echoed(ecs_service.cluster)}' "
            "(declare the Service, or correct the ResourceId)"
        )
        problems.append(target.problem("ResourceId", message))
    return problems
