"""Reading Cloud Map: the namespaces documents name, and the services (``DiscoveryService``) in request shape.

A steady-state pass costs ListServices (pages of 100), GetService for each declared service (ListServices' summary
leaves out the namespace, and a service is known by its namespace and name), ListNamespaces only when a document
names a namespace by its DNS name, and the tags of new or due services (``TagCache``: ListTagsForResource takes one
ARN). Every service is listed, declared or not, so that one of ours whose document is gone is found and pruned.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.live.clients import AwsClients
from reconciler.live.paging import bounded_gather, paginate
from reconciler.live.tag_cache import REFRESH_PASSES, TagCache, Tags, tags_one_arn_a_call
from reconciler.model.live import Described, LiveEntry, LiveState
from reconciler.model.ownership import NAME_TAG, REPLACED_BY_TAG, owner_of
from reconciler.model.references import is_literal
from reconciler.model.resource import DesiredState
from reconciler.model.servicediscovery import namespace_id, namespace_of, replaced_name

KIND = "DiscoveryService"
PAGE_SIZE = 100


class ServiceDiscoveryReader:
    kinds = (KIND,)
    after_others = False

    def __init__(
        self, clients: AwsClients, *, instance: str, tag_refresh_passes: int = REFRESH_PASSES
    ) -> None:
        self._clients = clients
        self._instance = instance
        self.tags = TagCache(refresh_passes=tag_refresh_passes)

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """Nothing read ahead: this reader does not wait for the others (``Reader.fetch``)."""

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        """A targeted pass reads Cloud Map only when its documents declare a Cloud Map service or name a namespace
        for Service Connect; it then reads as a full pass does."""
        if targeted and not desired.of_kind(KIND) and not service_connect_namespaces(desired):
            return
        client = await self._clients.client("servicediscovery")
        self.tags.begin_pass()
        declared = desired.of_kind(KIND)
        named = {ns for r in declared if (ns := namespace_of(r.spec)) and not is_literal(ns, "Namespace")}
        named |= service_connect_namespaces(desired)
        if named:
            namespaces = await paginate(client, "list_namespaces", "Namespaces", MaxResults=PAGE_SIZE)
            live.namespaces.update({ns["Name"]: ns["Id"] for ns in namespaces})
        summaries = await paginate(client, "list_services", "Services", MaxResults=PAGE_SIZE)
        names = {r.name for r in declared}
        described = await bounded_gather(
            client.get_service(Id=s["Id"]) for s in summaries if s["Name"] in names
        )
        full = {d["Service"]["Id"]: d["Service"] for d in described}
        tags = await self.tags.read(
            partial(tags_one_arn_a_call, client.list_tags_for_resource, "ResourceARN"),
            [s["Arn"] for s in summaries],
        )
        wanted = wanted_services(desired, live)
        for summary in summaries:
            spec = full.get(summary["Id"], summary)
            entry = service_entry(spec, tags.get(summary["Arn"], {}), wanted, instance=self._instance)
            if entry is not None:
                live.entries_of(KIND)[entry.name] = entry


def wanted_services(desired: DesiredState, live: LiveState) -> set[tuple[str, str | None]]:
    """(name, namespace ID) of every declared Cloud Map service: how one to adopt is recognised."""
    return {(r.name, _namespace_id(r.spec, live)) for r in desired.of_kind(KIND)}


def service_entry(
    spec: Described, tags: Tags, wanted: set[tuple[str, str | None]], *, instance: str
) -> LiveEntry | None:
    """A GetService answer's ``Service`` under its document's name: ours by our name tag; else a declared service
    in the declared namespace (to adopt); else None. One of ours that a replace has left behind (``replaced_name``)
    is under a name no document can have, so it is pruned as soon as AWS lets it be deleted."""
    ours = tags.get(NAME_TAG) if owner_of(tags) == instance else None
    if ours is not None and REPLACED_BY_TAG in tags:
        ours = replaced_name(ours, spec["Id"])
    natural = (spec["Name"], namespace_of(spec))
    name = ours or (spec["Name"] if natural in wanted else None)
    if name is None:
        return None
    return LiveEntry(name=name, arn=spec["Arn"], spec=dict(spec), tags=tags, parent=spec["Id"])


def service_connect_namespaces(desired: DesiredState) -> set[str]:
    """Namespaces that clusters name by name as their Service Connect default: AWS answers with the ARN, so the
    plan needs their IDs to compare."""
    found = (
        (r.spec.get("serviceConnectDefaults") or {}).get("namespace") for r in desired.of_kind("Cluster")
    )
    return {str(ns) for ns in found if ns and not is_literal(str(ns), "Namespace")}


def _namespace_id(spec: dict[str, Any], live: LiveState) -> str | None:
    namespace = namespace_of(spec)
    return live.namespaces.get(namespace, namespace_id(namespace)) if namespace else None
