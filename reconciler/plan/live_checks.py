"""Validation that needs live AWS: the validation rules that no document can be checked against offline.

An application load balancer needs subnets in at least two Availability Zones, and every subnet it names must
exist; a Cloud Map namespace that a ``DiscoveryService`` names by its DNS name must exist. AWS says so only when the load balancer is created, after its target groups; checked here, right after
the read, the problem is a ``FILE:LINE`` problem of the desired state and the revision writes nothing.
Pure: the readers put the zone of every subnet a load balancer document names in ``LiveState.subnet_zones``
(a subnet that does not exist is absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.errors import Problem, echoed
from reconciler.model.live import LiveState
from reconciler.model.references import is_literal
from reconciler.model.resource import DesiredResource, DesiredState

APPLICATION = "application"  # CreateLoadBalancer's default Type
MIN_ZONES = 2


def live_problems(desired: DesiredState, live: LiveState) -> list[Problem]:
    """Every problem of ``desired`` that only live AWS reveals, as ``FILE:LINE: spec.<path>: message``."""
    subnets = [p for resource in desired.of_kind("LoadBalancer") for p in _subnet_problems(resource, live)]
    return subnets + [p for r in desired.of_kind("DiscoveryService") for p in _namespace_problems(r, live)]


def _namespace_problems(resource: DesiredResource, live: LiveState) -> list[Problem]:
    for path in ("NamespaceId", "DnsConfig.NamespaceId"):
        value = (
            resource.spec.get(path)
            if "." not in path
            else (resource.spec.get("DnsConfig") or {}).get("NamespaceId")
        )
        if isinstance(value, str) and not is_literal(value, "Namespace") and value not in live.namespaces:
            message = (
                f"spec.{path}: Cloud Map namespace '{echoed(value)}' does not exist (or is not visible here)"
            )
            return [Problem(resource.file, resource.line_of(path), message)]
    return []


def _subnet_problems(resource: DesiredResource, live: LiveState) -> list[Problem]:
    spec = resource.spec
    if spec.get("Type", APPLICATION) != APPLICATION:
        return []  # network and gateway load balancers may live in one zone
    field, subnets = _subnets(spec)
    missing = [
        Problem(
            resource.file,
            resource.line_of(path),
            f"spec.{path}: subnet '{echoed(subnet)}' does not exist (or is not visible in this account and region)",
        )
        for path, subnet in subnets
        if subnet not in live.subnet_zones
    ]
    if missing:
        return missing
    zones = sorted({live.subnet_zones[subnet] for _, subnet in subnets})
    if len(zones) >= MIN_ZONES:
        return []
    if not subnets:
        message = "an application load balancer needs Subnets (or SubnetMappings) in at least two Availability Zones"
        return [Problem(resource.file, resource.line_of(field), f"spec: {message}")]
    placed = ", ".join(f"{subnet} ({live.subnet_zones[subnet]})" for _, subnet in subnets)
    message = (
        f"an application load balancer needs subnets in at least two Availability Zones; "
        f"{placed} {'is' if len(subnets) == 1 else 'are all'} in {zones[0]}"
    )
    return [Problem(resource.file, resource.line_of(field), f"spec.{field}: {message}")]


def _subnets(spec: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """The field that names the subnets, and each subnet ID with its path (non-strings are the shape check's)."""
    mappings = spec.get("SubnetMappings")
    if mappings and not spec.get("Subnets"):
        return "SubnetMappings", [
            (f"SubnetMappings[{index}].SubnetId", mapping["SubnetId"])
            for index, mapping in enumerate(mappings if isinstance(mappings, list) else [])
            if isinstance(mapping, Mapping) and isinstance(mapping.get("SubnetId"), str)
        ]
    subnets = spec.get("Subnets")
    return "Subnets", [
        (f"Subnets[{index}]", subnet)
        for index, subnet in enumerate(subnets if isinstance(subnets, list) else [])
        if isinstance(subnet, str)
    ]
