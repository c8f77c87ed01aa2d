"""ECS clusters: UpdateClusterSettings, what DescribeClusters includes, its counters, and DeleteCluster.

The reconciler turns Container Insights on and off with UpdateClusterSettings and reads settings and tags back
with ``include=["SETTINGS", "TAGS"]``; moto lacked the call and always sent settings, so a reader that forgot
``SETTINGS`` would work against moto and fail against AWS.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse

from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method

DESCRIBE_CLUSTERS_SETTINGS = "DescribeClustersResponse.clusters.Cluster.settings"


class ClusterContainsServicesException(ServiceException):
    code = "ClusterContainsServicesException"
    message = "The Cluster cannot be deleted while Services are active."


def apply() -> None:
    add_method(EC2ContainerServiceResponse, "update_cluster_settings", _update_cluster_settings)
    replace_method(EC2ContainerServiceResponse, "describe_clusters", _settings_only_when_included)
    replace_method(EC2ContainerServiceBackend, "describe_clusters", _counters_from_services)
    replace_method(EC2ContainerServiceBackend, "delete_cluster", _refuse_delete_with_services)


def _update_cluster_settings(self: Any) -> ActionResult:
    """AWS has UpdateClusterSettings: it sets each named setting (``containerInsights``) and keeps the others.
    moto answered 500 "not implemented" (only UpdateCluster(settings=...) worked)."""
    cluster = self.ecs_backend._get_cluster(self._get_param("cluster"))
    cluster.settings = merge_settings(cluster.settings or [], self._get_param("settings") or [])
    return ActionResult({"cluster": cluster})


def merge_settings(current: list[dict[str, str]], given: list[dict[str, str]]) -> list[dict[str, str]]:
    by_name = {setting["name"]: setting for setting in current}
    by_name.update({setting["name"]: setting for setting in given})
    return list(by_name.values())


def _settings_only_when_included(original: Method) -> Method:
    """AWS's DescribeClusters returns ``settings`` only with ``include=["SETTINGS"]`` (as ``tags`` only with
    ``TAGS``); moto always returned settings."""

    def describe_clusters(self: Any) -> ActionResult:
        if "SETTINGS" in (self._get_param("include") or []):
            self._include_in_response(DESCRIBE_CLUSTERS_SETTINGS)
        else:
            self._exclude_from_response(DESCRIBE_CLUSTERS_SETTINGS)
        result: ActionResult = original(self)
        return result

    return describe_clusters


def _counters_from_services(original: Method) -> Method:
    """AWS counts a cluster's ACTIVE services and their running and pending tasks. moto never counted services
    (activeServicesCount stayed 0) and kept task counters that drift with every update and deletion."""

    def describe_clusters(self: Any, cluster_names: list[str]) -> Any:
        clusters, failures = original(self, cluster_names)
        for cluster in clusters:
            services = [
                s for s in self.services.values() if s.cluster_name == cluster.name and s.status == "ACTIVE"
            ]
            cluster.active_services_count = len(services)
            cluster.running_tasks_count = sum(s.running_count for s in services)
            cluster.pending_tasks_count = sum(s.pending_count for s in services)
        return clusters, failures

    return describe_clusters


def _refuse_delete_with_services(original: Method) -> Method:
    """AWS refuses DeleteCluster while the cluster has ACTIVE (or DRAINING) services
    (ClusterContainsServicesException); moto marked the cluster INACTIVE under its running services."""

    def delete_cluster(self: Any, cluster_str: str) -> Any:
        cluster = self._get_cluster(cluster_str)
        if any(s.cluster_name == cluster.name and s.status != "INACTIVE" for s in self.services.values()):
            raise ClusterContainsServicesException()
        return original(self, cluster_str)

    return delete_cluster
