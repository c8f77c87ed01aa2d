"""The resource kinds the reconciler knows: which AWS request each ``spec`` is, and how kinds refer to each other.

Everything kind-specific that is *data* lives here, so that adding a kind means adding one entry: validation
(``desired``), ordering (``plan``) and the readers and writers look their facts up in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reference:
    """A field whose value may name another declared resource instead of giving its ARN.

    ``path`` is dotted, with ``[]`` for "every element of this list": ``loadBalancers[].targetGroupArn``.
    """

    path: str
    target_kind: str
    external_allowed: bool = False  # may name something the repo does not declare (e.g. an existing cluster)


@dataclass(frozen=True)
class KindInfo:
    kind: str
    aws_service: str  # botocore's service name
    create_operation: str  # the request whose input ``spec`` is
    name_field: str  # the request field that ``metadata.name`` fills; not allowed in ``spec``
    required_fields: frozenset[str] = frozenset()  # required by us although AWS makes them optional
    extra_fields: frozenset[str] = frozenset()  # ours, beyond the AWS request (e.g. ``Attributes``)
    references: tuple[Reference, ...] = ()
    # Fields the update calls cannot change: a difference there means delete and create again.
    replace_fields: frozenset[str] = frozenset()
    # Fields of the request that are not part of the resource's state (idempotency tokens and the like).
    request_only_fields: frozenset[str] = field(default_factory=frozenset)


CLUSTER = KindInfo(
    kind="Cluster",
    aws_service="ecs",
    create_operation="CreateCluster",
    name_field="clusterName",
)

TASK_DEFINITION = KindInfo(
    kind="TaskDefinition",
    aws_service="ecs",
    create_operation="RegisterTaskDefinition",
    name_field="family",
)

SERVICE = KindInfo(
    kind="Service",
    aws_service="ecs",
    create_operation="CreateService",
    name_field="serviceName",
    required_fields=frozenset({"cluster", "taskDefinition"}),
    references=(
        Reference("cluster", "Cluster", external_allowed=True),
        Reference("taskDefinition", "TaskDefinition"),
    ),
    # CreateService fields that UpdateService lacks (checked against botocore by a test).
    replace_fields=frozenset({"launchType", "role", "schedulingStrategy"}),
    request_only_fields=frozenset({"clientToken"}),
)

KINDS: Mapping[str, KindInfo] = {k.kind: k for k in (CLUSTER, TASK_DEFINITION, SERVICE)}
