"""Finding the values of reference fields in a ``spec`` and telling names from ARNs.

A reference value is a *name* (resolved against the desired state) unless it is already an ARN, or, for task
definitions, a pinned ``family:revision``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model.kinds import KINDS, Reference
from reconciler.model.memo import per_document
from reconciler.model.resource import DesiredResource, ResourceKey


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    reference: Reference
    path: str  # concrete path, e.g. ``loadBalancers[0].targetGroupArn``
    value: str


def is_literal(value: str, target_kind: str = "TaskDefinition") -> bool:
    """True when ``value`` is not a name to resolve: an ARN, or a pinned ``family:revision``.

    A listener is referred to as ``load-balancer-name:port``, so for listeners a colon is part of the name."""
    if value.startswith("arn:"):
        return True
    if target_kind == "Namespace":  # a Cloud Map namespace ID (ns-…) rather than its DNS name
        return value.startswith("ns-") and "." not in value
    return target_kind == "TaskDefinition" and ":" in value


def reference_name(resource: DesiredResource) -> str:
    """The name other documents use for ``resource``: ``metadata.name``, except for a listener, which is
    ``<LoadBalancerArn as written>:<Port>``."""
    if resource.kind == "Listener":
        return f"{resource.spec.get('LoadBalancerArn', '')}:{resource.spec.get('Port', '')}"
    return resource.name


def resolve(resource: DesiredResource, arns: Mapping[ResourceKey, str]) -> dict[str, Any]:
    """A copy of ``resource.spec`` with every reference by name replaced by the ARN in ``arns`` (keyed by
    target kind and reference name), where one is known; unknown names stay as written."""
    spec: dict[str, Any] = copied(resource.spec)
    for found in iter_reference_values(resource):
        arn = arns.get(ResourceKey(found.reference.target_kind, found.value))
        if arn and found.reference.resolved and not is_literal(found.value, found.reference.target_kind):
            _set_path(spec, found.path, arn)
    return spec


def copied(node: Any) -> Any:
    """A deep copy of a document's data (mappings, lists and scalars, as YAML gives them): ``copy.deepcopy``
    without its memo and dispatch, which cost a planner pass over thousands of documents a tenth of a second."""
    if isinstance(node, dict):
        return {key: copied(value) for key, value in node.items()}
    if isinstance(node, list):
        return [copied(value) for value in node]
    return node


def _set_path(spec: dict[str, Any], path: str, value: str) -> None:
    node: Any = spec
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node[part]
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value


@per_document
def iter_reference_values(resource: DesiredResource) -> tuple[ReferenceValue, ...]:
    """Every reference field that ``resource.spec`` sets, with its concrete path and string value."""
    if not KINDS[resource.kind].references:
        return ()
    return tuple(_reference_values(resource))


def _reference_values(resource: DesiredResource) -> Iterator[ReferenceValue]:
    for reference in KINDS[resource.kind].references:
        for path, value in _walk(resource.spec, reference.path.split("."), ""):
            if isinstance(value, str):
                yield ReferenceValue(reference, sys.intern(path), value)


def _walk(node: Any, parts: list[str], prefix: str) -> Iterator[tuple[str, Any]]:
    if not parts:
        yield prefix, node
        return
    head, rest = parts[0], parts[1:]
    is_list = head.endswith("[]")
    key = head.removesuffix("[]")
    if not isinstance(node, Mapping) or key not in node:
        return
    here = f"{prefix}.{key}" if prefix else key
    if not is_list:
        yield from _walk(node[key], rest, here)
        return
    items = node[key] if isinstance(node[key], list) else []
    for index, item in enumerate(items):
        yield from _walk(item, rest, f"{here}[{index}]")


def declared_by_reference(resources: Iterable[DesiredResource]) -> dict[ResourceKey, ResourceKey]:
    """(kind, the name references use) → the resource's key (kind, ``metadata.name``)."""
    return {ResourceKey(r.kind, reference_name(r)): r.key for r in resources}


def dependencies(resource: DesiredResource, declared: Mapping[ResourceKey, ResourceKey]) -> set[ResourceKey]:
    """The declared resources that ``resource`` refers to by name (what must exist before it).
    ``declared`` is ``declared_by_reference`` of the whole desired state."""
    found = set()
    for ref in iter_reference_values(resource):
        key = ResourceKey(ref.reference.target_kind, ref.value)
        if not is_literal(ref.value, ref.reference.target_kind) and key in declared:
            found.add(declared[key])
    return found


def attachment_dependencies(
    resource: DesiredResource, desired: Iterable[DesiredResource]
) -> set[ResourceKey]:
    """Order that no name reference expresses: a service waits for the listeners and rules that forward to its
    target groups (ECS refuses a target group no load balancer uses); a scalable target waits for the service
    it scales, and policies and scheduled actions for their scalable target. For one resource; for many, build
    ``Attachments`` once."""
    return Attachments(desired).of(resource)


class Attachments:
    """``attachment_dependencies`` of every resource of a desired state, indexed once: O(N) for the whole state
    rather than O(N) per resource (a plan at 3000 services spent seconds in that scan)."""

    def __init__(self, desired: Iterable[DesiredResource]) -> None:
        self._forwarders: dict[str, set[ResourceKey]] = {}  # target group name → listeners and rules using it
        self._targets: dict[tuple[Any, ...], set[ResourceKey]] = {}  # (namespace, id, dimension) → targets
        self._services: dict[tuple[str, str], set[ResourceKey]] = {}  # (cluster, service) → Service keys
        for other in desired:
            if other.kind in {"Listener", "ListenerRule"}:
                for group in _target_groups(other):
                    self._forwarders.setdefault(group, set()).add(other.key)
            elif other.kind == "ScalableTarget":
                self._targets.setdefault(_target_of(other.spec), set()).add(other.key)
            elif other.kind == "Service":
                cluster = str(other.spec.get("cluster", "")).rsplit("/", 1)[-1]
                self._services.setdefault((cluster, other.name), set()).add(other.key)

    def of(self, resource: DesiredResource) -> set[ResourceKey]:
        if resource.kind in {"ScalingPolicy", "ScheduledAction"}:
            return set(self._targets.get(_target_of(resource.spec), ()))
        if resource.kind == "ScalableTarget":
            parts = str(resource.spec.get("ResourceId", "")).split("/")
            if resource.spec.get("ServiceNamespace") != "ecs" or len(parts) != 3:
                return set()
            return set(self._services.get((parts[1], parts[2]), ()))
        if resource.kind != "Service":
            return set()
        return {key for group in _target_groups(resource) for key in self._forwarders.get(group, ())}


def _target_groups(resource: DesiredResource) -> set[str]:
    return {v.value for v in iter_reference_values(resource) if v.reference.target_kind == "TargetGroup"}


def _target_of(spec: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(spec.get(f) for f in ("ServiceNamespace", "ResourceId", "ScalableDimension"))
