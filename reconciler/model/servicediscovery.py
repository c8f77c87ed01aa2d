"""The canonical form of a Cloud Map service (``DiscoveryService``), the same for a document and for GetService.

The namespace may be given at the top (``NamespaceId``) or, as older templates do, in ``DnsConfig``; both become
the top-level ``NamespaceId`` (an ARN as the namespace's ID). ``RoutingPolicy`` is lifted out of ``DnsConfig`` too:
AWS cannot change it (nor the namespace) in place, so those are replace fields, while ``DnsConfig.DnsRecords``
(type and TTL) is updatable. ``HealthCheckCustomConfig.FailureThreshold`` is read as AWS keeps it, 1, whatever is
sent.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.canonical import Spec, drop_keys, list_to_map, prune_empty

NAMESPACE_ARN_MARKER = ":namespace/"
READ_ONLY = frozenset(
    {"Id", "Arn", "Name", "CreateDate", "CreatorRequestId", "InstanceCount", "ResourceOwner",
     "CreatedByAccount", "Tags"}
)  # fmt: skip


def canonical_discovery_service(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, READ_ONLY)
    dns = dict(spec.get("DnsConfig") or {})
    namespace = spec.get("NamespaceId") or dns.pop("NamespaceId", None)
    dns.pop("NamespaceId", None)
    if namespace:
        result["NamespaceId"] = namespace_id(namespace)
    if "RoutingPolicy" in dns:
        result["RoutingPolicy"] = dns.pop("RoutingPolicy")
    if "DnsRecords" in dns:
        dns["DnsRecords"] = list_to_map(dns["DnsRecords"], key="Type")  # one record per type
    result["DnsConfig"] = dns
    if "HealthCheckCustomConfig" in spec:
        # AWS no longer supports FailureThreshold: whatever a request sends, GetService answers 1 (Cloud Map API
        # Reference, HealthCheckCustomConfig). Compared as sent, any other value would replace the service every
        # pass; whether the service has a custom health check at all still counts (a replace field).
        result["HealthCheckCustomConfig"] = {**(spec["HealthCheckCustomConfig"] or {}), "FailureThreshold": 1}
    return prune_empty(result)


def namespace_id(namespace: str) -> str:
    """A namespace's ARN (``arn:aws:servicediscovery:…:namespace/ns-…``, which a service in a namespace shared
    with the account is created with) names the namespace whose ID is its last part: GetService answers the ID.
    A DNS name or an ID is returned as it is."""
    if namespace.startswith("arn:") and NAMESPACE_ARN_MARKER in namespace:
        return namespace.rsplit("/", 1)[-1]
    return namespace


def namespace_of(spec: Spec) -> str | None:
    """The namespace (name or ID) a document or GetService names."""
    value = spec.get("NamespaceId") or (spec.get("DnsConfig") or {}).get("NamespaceId")
    return str(value) if value else None


def replaced_name(name: str, service_id: str) -> str:
    """The name under which one of ours that a replace left behind is read: no document can have it (parentheses
    are not allowed in a document's name), and the service's own ID keeps two such apart."""
    return f"{name} (replaced: {service_id})"


def registered_instances(spec: Spec) -> int:
    """How many instances GetService or ListServices says are registered (0 when it does not say). AWS warns that
    the count "might not reflect pending registrations and deregistrations": a hint to hold on, not a promise."""
    return int(spec.get("InstanceCount") or 0)
