"""How Application Auto Scaling names what it scales, and how an ECS service appears in those names.

AWS knows a scalable target only by the triple (``ServiceNamespace``, ``ResourceId``, ``ScalableDimension``);
policies and scheduled actions attach to a target by repeating that triple, and an ECS service is written
``service/<cluster>/<service>``. Validation (``desired``) and ownership of ``desiredCount`` (``plan``) must read
these the same way, so the parsing lives here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

ECS_NAMESPACE = "ecs"
ECS_SERVICE_PREFIX = "service"
ECS_DESIRED_COUNT = "ecs:service:DesiredCount"
_CLUSTER_ARN_MARKER = ":cluster/"


class ScalableTargetId(NamedTuple):
    """The identity of a scalable target, as every Application Auto Scaling call spells it."""

    namespace: str
    resource_id: str
    dimension: str

    def __str__(self) -> str:
        return f"{self.namespace} {self.resource_id} {self.dimension}"


class EcsServiceId(NamedTuple):
    """The ECS service an ``ecs`` ResourceId names: cluster and service names."""

    cluster: str
    service: str


def scalable_target_id(spec: Mapping[str, Any]) -> ScalableTargetId | None:
    """The triple a ScalableTarget, ScalingPolicy or ScheduledAction ``spec`` names, or None when any part
    is missing or not a string."""
    parts = (spec.get("ServiceNamespace"), spec.get("ResourceId"), spec.get("ScalableDimension"))
    if not all(isinstance(part, str) and part for part in parts):
        return None
    return ScalableTargetId(*parts)  # type: ignore[arg-type]


def ecs_resource_id(cluster: str, service: str) -> str:
    """``service/<cluster>/<service>``: the ResourceId of an ECS service."""
    return f"{ECS_SERVICE_PREFIX}/{cluster}/{service}"


def parse_ecs_resource_id(resource_id: str) -> EcsServiceId | None:
    """``service/prod/web`` → (prod, web); None for anything else."""
    parts = resource_id.split("/")
    if len(parts) != 3 or parts[0] != ECS_SERVICE_PREFIX or not all(parts[1:]):
        return None
    return EcsServiceId(parts[1], parts[2])


def cluster_name(value: str) -> str:
    """The cluster name of ``Service.spec.cluster``, which is a name or a cluster ARN."""
    if value.startswith("arn:") and _CLUSTER_ARN_MARKER in value:
        return value.rsplit(_CLUSTER_ARN_MARKER, 1)[1]
    return value
