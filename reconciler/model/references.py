"""Finding the values of reference fields in a ``spec`` and telling names from ARNs.

A reference value is a *name* (resolved against the desired state) unless it is already an ARN, or, for task
definitions, a pinned ``family:revision``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model.kinds import KINDS, Reference
from reconciler.model.resource import DesiredResource, ResourceKey


@dataclass(frozen=True)
class ReferenceValue:
    reference: Reference
    path: str  # concrete path, e.g. ``loadBalancers[0].targetGroupArn``
    value: str


def is_literal(value: str) -> bool:
    """True when ``value`` is not a name to resolve: an ARN, or a pinned ``family:revision``."""
    return value.startswith("arn:") or ":" in value


def iter_reference_values(resource: DesiredResource) -> Iterator[ReferenceValue]:
    """Every reference field that ``resource.spec`` sets, with its concrete path and string value."""
    for reference in KINDS[resource.kind].references:
        for path, value in _walk(resource.spec, reference.path.split("."), ""):
            if isinstance(value, str):
                yield ReferenceValue(reference, path, value)


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


def dependencies(resource: DesiredResource, declared: set[ResourceKey]) -> set[ResourceKey]:
    """The declared resources that ``resource`` refers to by name (what must exist before it)."""
    found = set()
    for ref in iter_reference_values(resource):
        key = ResourceKey(ref.reference.target_kind, ref.value)
        if not is_literal(ref.value) and key in declared:
            found.add(key)
    return found
