"""The links between the documents of a desired state, kept up to date from one revision to the next.

A document needs another when it refers to it by name, or when AWS ties them with no name written (the same
attachments as ``references.Attachments``: a service needs the listeners and rules forwarding to its target
groups, a scalable target the service it scales, a policy or scheduled action its scalable target). Targeted
passes (``targets.ScopeIndex``) follow these links. Working them out for the whole estate is O(N), a large part of
a one-service commit's latency at 3000 services; so ``Links`` also answers the converse, whose links a document's
arrival or departure can change (``neighbours``), and a new revision costs its changed documents and their
neighbours, not the estate.

Where two documents declare one reference name (never in a valid desired state: names are unique per kind, and so
is a listener's ``load-balancer:port``), both are linked: a scope may be larger for it, never smaller.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.model.references import is_literal, iter_reference_values, reference_name
from reconciler.model.resource import DesiredResource, ResourceKey

_FORWARDING_KINDS = frozenset({"Listener", "ListenerRule"})
_SCALING_KINDS = frozenset({"ScalableTarget", "ScalingPolicy", "ScheduledAction"})


@dataclass(frozen=True, slots=True)
class Ends:
    """Everything by which one document links to others, read from its spec."""

    declares: ResourceKey  # (kind, the name references use)
    refers: tuple[ResourceKey, ...]  # (target kind, name) of every reference by name
    groups: tuple[
        str, ...
    ]  # target groups it forwards to (listeners, rules) or registers tasks in (services)
    triple: tuple[Any, ...] | None  # (namespace, resource id, dimension) of a scaling document
    ecs_service: tuple[str, str] | None  # (cluster, service): a service's own, or the one a target scales


def _ends(resource: DesiredResource) -> Ends:
    references = iter_reference_values(resource)
    spec = resource.spec
    triple = None
    if resource.kind in _SCALING_KINDS:
        triple = (spec.get("ServiceNamespace"), spec.get("ResourceId"), spec.get("ScalableDimension"))
    return Ends(
        declares=ResourceKey(resource.kind, reference_name(resource)),
        refers=tuple(
            ResourceKey(found.reference.target_kind, found.value)
            for found in references
            if not is_literal(found.value, found.reference.target_kind)
        ),
        groups=tuple(found.value for found in references if found.reference.target_kind == "TargetGroup"),
        triple=triple,
        ecs_service=_ecs_service(resource),
    )


def _ecs_service(resource: DesiredResource) -> tuple[str, str] | None:
    if resource.kind == "Service":
        return str(resource.spec.get("cluster", "")).rsplit("/", 1)[-1], resource.name
    if resource.kind != "ScalableTarget" or resource.spec.get("ServiceNamespace") != "ecs":
        return None
    parts = str(resource.spec.get("ResourceId", "")).split("/")
    return (parts[1], parts[2]) if len(parts) == 3 else None


class MultiMap:
    """key → the keys of the documents filed under it. Most hold one, kept bare rather than in a set of its own
    (a set is ~200 bytes, and there are tens of thousands of entries at 3000 services)."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, ResourceKey | set[ResourceKey]] = {}

    def add(self, key: Hashable, value: ResourceKey) -> None:
        held = self._entries.get(key)
        if held is None:
            self._entries[key] = value
        elif isinstance(held, set):
            held.add(value)
        elif held != value:
            self._entries[key] = {held, value}

    def remove(self, key: Hashable, value: ResourceKey) -> None:
        held = self._entries.get(key)
        if isinstance(held, set):
            held.discard(value)
            if len(held) == 1:
                self._entries[key] = next(iter(held))
        elif held == value:
            del self._entries[key]

    def get(self, key: Hashable) -> Iterable[ResourceKey]:
        held = self._entries.get(key)
        if held is None:
            return ()
        return held if isinstance(held, set) else (held,)


class Links:
    """The documents of one desired state, filed by every end that links them. ``add`` and ``remove`` one
    document at a time."""

    def __init__(self) -> None:
        self._declared = MultiMap()  # (kind, reference name) → the document declaring it
        self._referrers = MultiMap()  # (kind, reference name) → documents referring to it
        self._forwarders = MultiMap()  # target group name → listeners and rules forwarding to it
        self._group_users = MultiMap()  # target group name → services registering in it
        self._targets = MultiMap()  # triple → scalable targets
        self._attached = MultiMap()  # triple → policies and scheduled actions
        self._services = MultiMap()  # (cluster, service) → services
        self._scalers = MultiMap()  # (cluster, service) → scalable targets scaling it

    def add(self, resource: DesiredResource) -> Ends:
        """File ``resource`` under its ends, and return them (for ``needs``)."""
        ends, key = _ends(resource), resource.key
        for index, under in self._filed_under(resource.kind, ends):
            index.add(under, key)
        return ends

    def remove(self, resource: DesiredResource) -> None:
        key = resource.key
        for index, under in self._filed_under(resource.kind, _ends(resource)):
            index.remove(under, key)

    def needs(self, resource: DesiredResource, ends: Ends | None = None) -> tuple[ResourceKey, ...]:
        """The documents ``resource`` needs (``references.dependencies`` and ``Attachments.of``); ``ends``: its
        own, when ``add`` just returned them."""
        ends = ends or _ends(resource)
        found = {key for target in ends.refers for key in self._declared.get(target)}
        if resource.kind == "ScalableTarget":
            found.update(self._services.get(ends.ecs_service) if ends.ecs_service is not None else ())
        elif resource.kind in _SCALING_KINDS:
            found.update(self._targets.get(ends.triple))
        elif resource.kind == "Service":
            found.update(key for group in ends.groups for key in self._forwarders.get(group))
        return tuple(found)

    def neighbours(self, resource: DesiredResource) -> set[ResourceKey]:
        """The documents whose ``needs`` may change when ``resource`` is added or removed."""
        ends = _ends(resource)
        found = set(self._referrers.get(ends.declares))
        if resource.kind in _FORWARDING_KINDS:
            found.update(key for group in ends.groups for key in self._group_users.get(group))
        elif resource.kind == "ScalableTarget":
            found.update(self._attached.get(ends.triple))
        elif resource.kind == "Service" and ends.ecs_service is not None:
            found.update(self._scalers.get(ends.ecs_service))
        return found

    def _filed_under(self, kind: str, ends: Ends) -> Iterable[tuple[MultiMap, Hashable]]:
        yield self._declared, ends.declares
        yield from ((self._referrers, target) for target in ends.refers)
        if kind in _FORWARDING_KINDS:
            yield from ((self._forwarders, group) for group in ends.groups)
        elif kind == "Service":
            yield from ((self._group_users, group) for group in ends.groups)
            yield self._services, ends.ecs_service
        elif kind == "ScalableTarget":
            yield self._targets, ends.triple
            if ends.ecs_service is not None:
                yield self._scalers, ends.ecs_service
        elif kind in _SCALING_KINDS:
            yield self._attached, ends.triple
