"""Writing Cloud Map services (``DiscoveryService``): create, update in place what UpdateService can change
(description, DNS records, health check config), tag, and delete.

The namespace and routing policy cannot change in place: the planner makes those a replace (delete, then create).
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.apply.context import ApplyContext
from reconciler.live.clients import AwsClients
from reconciler.model.references import reference_name, resolve
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.types import Action, Change


class ServiceDiscoveryWriter:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    async def apply(self, change: Change, resource: DesiredResource | None, context: ApplyContext) -> None:
        client = await self._clients.client("servicediscovery")
        if change.action in (Action.DELETE, Action.REPLACE):
            await client.delete_service(Id=service_id(change.live_arn))
        if change.action is Action.DELETE:
            return
        assert resource is not None
        spec = resolve(resource, context.arns)
        tags = context.key_value_tags(change, resource)
        if change.action in (Action.CREATE, Action.REPLACE):
            request = {k: v for k, v in spec.items() if k != "Tags"}
            request.setdefault("CreatorRequestId", uuid.uuid4().hex)  # retries after a lost answer: no twin
            created = await client.create_service(Name=resource.name, Tags=tags, **request)
            context.arns[ResourceKey(resource.kind, reference_name(resource))] = created["Service"]["Arn"]
            return
        if change.changed_fields - {"tags"}:
            await client.update_service(Id=service_id(change.live_arn), Service=service_change(spec))
        await client.tag_resource(ResourceARN=change.live_arn, Tags=tags)


def service_id(arn: str) -> str:
    """``arn:aws:servicediscovery:…:service/srv-…`` → ``srv-…``."""
    return arn.rsplit("/", 1)[-1]


def service_change(spec: dict[str, Any]) -> dict[str, Any]:
    """UpdateService's ``Service``: what it can change. AWS removes what is left out (records, health check)."""
    change: dict[str, Any] = {"Description": spec.get("Description", "")}
    records = (spec.get("DnsConfig") or {}).get("DnsRecords")
    if records:
        change["DnsConfig"] = {"DnsRecords": records}
    if spec.get("HealthCheckConfig"):
        change["HealthCheckConfig"] = spec["HealthCheckConfig"]
    return change
