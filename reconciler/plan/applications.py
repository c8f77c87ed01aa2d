"""Applications: each service with everything it uses, and the rest, shared.

People read an estate by service: ``frontapp`` is its task definition, target groups, the listener and rules that
forward to them, its scaling, Cloud Map service and CodeDeploy group. That grouping is the unit of sharding and
of targeted passes (``shards.unit_of``, joined through the references between documents and the attachments no
name expresses), so it is taken from there, and what a plan comment or a page shows of an application is what
one change of it can touch. Pure: reads documents only.

- A unit with a service is an application, named after its service. Services that share a task definition or a
  target group are one unit, so one application, named after the first of them by name; the others are among
  its resources.
- Everything else is *shared*: clusters, load balancers, a listener that forwards to no service's target group,
  and documents no service uses (a task definition no service runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.plan.shards import unit_of


@dataclass(frozen=True, slots=True)
class Applications:
    """The applications of one desired state (``applications``)."""

    # the application's name (its service's metadata.name) → its resources: its services first, then the others
    # in document order; applications in name order
    by_name: Mapping[str, tuple[ResourceKey, ...]]
    shared: tuple[ResourceKey, ...]  # of no single application, in document order
    _owner: Mapping[ResourceKey, str] = field(repr=False, default_factory=dict)

    def of(self, key: ResourceKey) -> str | None:
        """The application ``key`` belongs to; None when it is shared or not in the desired state."""
        return self._owner.get(key)

    def as_json(self) -> dict[str, object]:
        """As ``GET /status`` shows them (``applications``, ``shared``): keys as ``Kind/name``."""
        return {
            "applications": [
                {"name": name, "resources": [str(key) for key in keys]} for name, keys in self.by_name.items()
            ],
            "shared": [str(key) for key in self.shared],
        }


def applications(desired: DesiredState) -> Applications:
    """Group ``desired`` into applications (module docstring)."""
    units = unit_of(desired)
    members: dict[str, list[ResourceKey]] = {}
    for resource in desired:  # document order
        members.setdefault(units[resource.key], []).append(resource.key)
    named: dict[str, str] = {}  # unit → its application's name
    for unit, keys in members.items():
        services = sorted(key.name for key in keys if key.kind == "Service")
        if services:
            named[unit] = services[0]
    by_name = {
        named[unit]: tuple(_services_first(keys))
        for unit, keys in sorted(members.items(), key=lambda item: named.get(item[0], ""))
        if unit in named
    }
    shared = tuple(resource.key for resource in desired if units[resource.key] not in named)
    owner = {key: name for name, keys in by_name.items() for key in keys}
    return Applications(by_name=by_name, shared=shared, _owner=owner)


def _services_first(keys: list[ResourceKey]) -> list[ResourceKey]:
    services = sorted((key for key in keys if key.kind == "Service"), key=lambda key: key.name)
    return services + [key for key in keys if key.kind != "Service"]
