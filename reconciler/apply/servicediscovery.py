"""Writing Cloud Map services (``DiscoveryService``): create, update in place what UpdateService can change
(description, DNS records, health check config), tag, and delete.

The namespace and routing policy cannot change in place: the planner makes those a replace. Within a namespace it
deletes, then creates (a namespace holds one service of a name); into another it creates first and tags the old
one as replaced, for a later pass to delete once no task is registered in it (``plan/discovery.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

from reconciler.apply.context import ApplyContext
from reconciler.apply.executor import Actions
from reconciler.live.clients import AwsClients
from reconciler.model.ownership import REPLACED_BY_TAG
from reconciler.model.references import reference_name, resolve
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.model.servicediscovery import namespace_id, namespace_of
from reconciler.plan.types import Action, Change


class ServiceDiscoveryWriter:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self.actions = ACTIONS

    async def apply(self, change: Change, resource: DesiredResource | None, context: ApplyContext) -> None:
        client = await self._clients.client("servicediscovery")
        await self.actions[change.kind][change.action](client, change, resource, context)


async def _apply_create(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = resolve(resource, context.arns)
    tags = context.key_value_tags(change, resource)
    request = {k: v for k, v in spec.items() if k != "Tags"}
    request.setdefault("CreatorRequestId", uuid.uuid4().hex)  # retries after a lost answer: no twin
    created = await client.create_service(Name=resource.name, Tags=tags, **request)
    context.arns[ResourceKey(resource.kind, reference_name(resource))] = created["Service"]["Arn"]


async def _apply_replace(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    if change.create_first:
        await client.tag_resource(ResourceARN=change.live_arn, Tags=[_replaced_by(resource, context)])
    else:
        await client.delete_service(Id=service_id(change.live_arn))
    await _apply_create(client, change, resource, context)


async def _apply_update(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = resolve(resource, context.arns)
    tags = context.key_value_tags(change, resource)
    if change.changed_fields - {"tags"}:
        await client.update_service(Id=service_id(change.live_arn), Service=service_change(spec))
    await client.tag_resource(ResourceARN=change.live_arn, Tags=tags)


async def _apply_delete(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    await client.delete_service(Id=service_id(change.live_arn))


ACTIONS: Actions = {
    "DiscoveryService": {
        Action.CREATE: _apply_create,
        Action.UPDATE: _apply_update,
        Action.ADOPT: _apply_update,
        Action.REPLACE: _apply_replace,
        Action.DELETE: _apply_delete,
    }
}


def _replaced_by(resource: DesiredResource | None, context: ApplyContext) -> dict[str, str]:
    """The tag that marks the old service of a create-first replace (before the new one exists: a failure between
    the two leaves the old one marked, and the next pass creates the new one)."""
    assert resource is not None
    namespace = str(namespace_of(resolve(resource, context.arns)) or "")
    return {"Key": REPLACED_BY_TAG, "Value": namespace_id(namespace)}


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
