"""ECS clusters: the Cloud Map namespace of their Service Connect defaults.

| AWS does | moto 5.2 did |
|---|---|
| CreateCluster and UpdateCluster take ``serviceConnectDefaults.namespace`` as a namespace's name or ARN: an existing name or ARN is that namespace, a new name creates an HTTP namespace of that name, and on UpdateCluster an empty string removes the defaults (ECS API Reference: ClusterServiceConnectDefaultsRequest); DescribeClusters answers the namespace's ARN | kept and answered the string sent |
"""

from __future__ import annotations

from typing import Any

from moto.ecs.models import EC2ContainerServiceBackend
from moto.servicediscovery.models import servicediscovery_backends

from reconciler.sandbox.patches._wrapping import Method, replace_method


def apply() -> None:
    replace_method(EC2ContainerServiceBackend, "create_cluster", _create_with_namespace_arn)
    replace_method(EC2ContainerServiceBackend, "update_cluster", _update_with_namespace_arn)


def _create_with_namespace_arn(original: Method) -> Method:
    def create_cluster(self: Any, *args: Any, **kwargs: Any) -> Any:
        cluster = original(self, *args, **kwargs)
        cluster.service_connect_defaults = _resolved(self, cluster.service_connect_defaults)
        return cluster

    return create_cluster


def _update_with_namespace_arn(original: Method) -> Method:
    def update_cluster(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("service_connect_defaults")
        cluster = original(self, *args, **kwargs)
        if given is not None:
            cluster.service_connect_defaults = _resolved(self, given)
        return cluster

    return update_cluster


def _resolved(backend: Any, defaults: dict[str, str] | None) -> dict[str, str] | None:
    """The defaults with their namespace as an ARN (None when the namespace is empty: no defaults)."""
    namespace = (defaults or {}).get("namespace")
    if not namespace:
        return None
    if namespace.startswith("arn:"):
        return {**(defaults or {}), "namespace": namespace}
    cloud_map = servicediscovery_backends[backend.account_id][backend.region_name]
    found = [ns for ns in cloud_map.namespaces.values() if ns.name == namespace]
    if not found:
        cloud_map.create_http_namespace(namespace, creator_request_id="", description="", tags=[])
        found = [ns for ns in cloud_map.namespaces.values() if ns.name == namespace]
    return {**(defaults or {}), "namespace": found[0].arn}
