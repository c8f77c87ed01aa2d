"""``--allowed-clusters``: the ECS clusters this reconciler may touch, whatever a document names.

With the option set, a document that touches any other cluster is a validation problem (``FILE:LINE``), so the
whole desired state is invalid and nothing of it is written, exactly as for any other invalid document. What a
document touches:

- ``Cluster``: the cluster it names (``metadata.name``);
- ``Service``: ``spec.cluster`` (a name or a cluster ARN);
- ``ScalableTarget``, ``ScalingPolicy``, ``ScheduledAction``: the cluster of an ECS ``ResourceId``
  (``service/<cluster>/<service>``);
- ``DeploymentGroup``: every ``ecsServices[].clusterName``.

Task definitions, load balancers, target groups, listeners, rules and Cloud Map services belong to no cluster
(the same task definition may run in any cluster), so they are not refused by themselves: a task definition that
only a refused service uses is never registered anyway, because the refused service makes the whole desired state
invalid. The planner applies the same rule to what it finds live (an orphan in another cluster is held, never
deleted), as defence in depth.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from reconciler.errors import Problem, echoed
from reconciler.model.autoscaling_ids import ECS_NAMESPACE, cluster_name, parse_ecs_resource_id
from reconciler.model.kinds import (
    CLUSTER,
    DEPLOYMENT_GROUP,
    SCALABLE_TARGET,
    SCALING_POLICY,
    SCHEDULED_ACTION,
    SERVICE,
)
from reconciler.model.resource import DesiredResource

_SCALING_KINDS = frozenset({SCALABLE_TARGET.kind, SCALING_POLICY.kind, SCHEDULED_ACTION.kind})
NAME = ""  # the path of a cluster named by ``metadata.name``


def touched_clusters(kind: str, name: str, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(spec path, cluster name)`` of every cluster a resource of ``kind`` touches (path ``""``: its
    ``metadata.name``). Values of the wrong type are skipped: the shape checker reports them."""
    if kind == CLUSTER.kind:
        return [(NAME, name)]
    if kind == SERVICE.kind:
        cluster = spec.get("cluster")
        return [("cluster", cluster_name(cluster))] if isinstance(cluster, str) and cluster else []
    if kind in _SCALING_KINDS:
        resource_id = spec.get("ResourceId")
        if spec.get("ServiceNamespace") != ECS_NAMESPACE or not isinstance(resource_id, str):
            return []
        service = parse_ecs_resource_id(resource_id)
        return [("ResourceId", service.cluster)] if service else []
    if kind == DEPLOYMENT_GROUP.kind:
        services = spec.get("ecsServices")
        return [
            (f"ecsServices[{index}].clusterName", cluster_name(item["clusterName"]))
            for index, item in enumerate(services if isinstance(services, list) else [])
            if isinstance(item, Mapping) and isinstance(item.get("clusterName"), str) and item["clusterName"]
        ]
    return []


def refused_clusters(kind: str, name: str, spec: Mapping[str, Any], allowed: Collection[str]) -> list[str]:
    """The clusters outside ``allowed`` that a resource touches (none when ``allowed`` is empty: any cluster)."""
    if not allowed:
        return []
    return [cluster for _, cluster in touched_clusters(kind, name, spec) if cluster not in allowed]


def cluster_scope_problems(
    resources: Iterable[tuple[DesiredResource, int]], allowed: Collection[str]
) -> list[Problem]:
    """A problem per cluster outside ``allowed`` that a document touches. ``resources`` pairs each resource with
    the line of its ``metadata.name`` (where a Cluster's problem points)."""
    if not allowed:
        return []
    listed = ", ".join(sorted(allowed))
    problems = []
    for resource, name_line in resources:
        for path, cluster in touched_clusters(resource.kind, resource.name, resource.spec):
            if cluster in allowed:
                continue
            where = f"spec.{path}" if path else "metadata.name"
            line = resource.line_of(path) if path else name_line
            message = (
                f"{where}: cluster '{echoed(cluster)}' is not in --allowed-clusters ({listed}); "
                "this reconciler may not touch it"
            )
            problems.append(Problem(resource.file, line, message))
    return problems
