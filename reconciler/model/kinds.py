"""The resource kinds the reconciler knows: which AWS request each ``spec`` is, how kinds refer to each other, and
how a kind's values are made comparable.

Everything kind-specific that is pure lives here, so that adding a kind means adding one entry: validation
(``desired``), planning and ordering (``plan``) and the readers and writers look their facts up in ``KINDS``.
The functions an entry names (canonical forms, tags) live with the kind's AWS service, in ``model/<service>.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.model import autoscaling, codedeploy, ecs, elbv2, servicediscovery
from reconciler.model.canonical import Spec, key_value_tags


@dataclass(frozen=True)
class Reference:
    """A field whose value may name another declared resource instead of giving its ARN.

    ``path`` is dotted, with ``[]`` for "every element of this list": ``loadBalancers[].targetGroupArn``.
    """

    path: str
    target_kind: str
    external_allowed: bool = False  # may name something the repo does not declare (e.g. an existing cluster)
    # False: the field takes the name itself (CodeDeploy takes target group names): ordering only, never resolved
    resolved: bool = True


def nothing_unread(spec: Spec) -> None:
    """For a kind whose every setting can be read back."""


@dataclass(frozen=True)
class KindInfo:
    kind: str
    aws_service: str  # botocore's service name
    create_operation: str  # the request whose input ``spec`` is
    name_field: str  # the request field that ``metadata.name`` fills; not allowed in ``spec``
    # Creation order: what others refer to is created first, and deleted last (``plan/order.py``). None (Cloud Map
    # services and CodeDeploy groups, as yet): ordered after every ranked kind, and its deletions wait for those
    # of the other kinds but clusters (``plan/prune.py``); what each waits for is still its references.
    rank: int | None
    # applied to a document's spec and to its live counterpart alike, so that equal things compare equal
    canonical: Callable[[Spec], dict[str, Any]]
    tags: Callable[[Spec], dict[str, str]]  # the user tags a document asks for, compared with live tags
    required_fields: frozenset[str] = frozenset()  # required by us although AWS makes them optional
    extra_fields: frozenset[str] = frozenset()  # ours, beyond the AWS request (e.g. ``Attributes``)
    references: tuple[Reference, ...] = ()
    # Fields the update calls cannot change: a difference there means delete and create again.
    replace_fields: frozenset[str] = frozenset()
    # Fields of the request that are not part of the resource's state (idempotency tokens and the like).
    request_only_fields: frozenset[str] = field(default_factory=frozenset)
    # what else the spec hash covers: settings that are written but cannot be read back cheaply
    unread: Callable[[Spec], object] = nothing_unread
    # Its reader puts it into ``LiveState.entries`` in request shape, and ``plan/entries.py`` plans it. False: an
    # ECS kind, kept as ECS describes it (``clusters``, ``services``, ``task_definitions``), planned by
    # ``plan/ecs.py``.
    read_as_entry: bool = True


CLUSTER = KindInfo(
    kind="Cluster",
    rank=0,
    aws_service="ecs",
    create_operation="CreateCluster",
    name_field="clusterName",
    canonical=ecs.canonical_cluster,
    tags=ecs.spec_tags,
    read_as_entry=False,
)

TASK_DEFINITION = KindInfo(
    kind="TaskDefinition",
    rank=1,
    aws_service="ecs",
    create_operation="RegisterTaskDefinition",
    name_field="family",
    canonical=ecs.canonical_task_definition,
    tags=ecs.spec_tags,
    read_as_entry=False,
)

SERVICE = KindInfo(
    kind="Service",
    rank=6,
    aws_service="ecs",
    create_operation="CreateService",
    name_field="serviceName",
    canonical=ecs.canonical_service,
    tags=ecs.spec_tags,
    required_fields=frozenset({"cluster", "taskDefinition"}),
    references=(
        Reference("cluster", "Cluster", external_allowed=True),
        Reference("taskDefinition", "TaskDefinition"),
        Reference("loadBalancers[].targetGroupArn", "TargetGroup"),
        # ECS's own blue/green, linear and canary deployments: the other target group of the pair, and the rules
        # whose forward weights ECS moves between the two
        Reference("loadBalancers[].advancedConfiguration.alternateTargetGroupArn", "TargetGroup"),
        Reference("loadBalancers[].advancedConfiguration.productionListenerRule", "ListenerRule"),
        Reference("loadBalancers[].advancedConfiguration.testListenerRule", "ListenerRule"),
        Reference("serviceRegistries[].registryArn", "DiscoveryService"),
    ),
    # CreateService fields that UpdateService lacks (checked against botocore by a test).
    replace_fields=frozenset({"launchType", "role", "schedulingStrategy"}),
    request_only_fields=frozenset({"clientToken"}),
    read_as_entry=False,
)

_TARGET_GROUP_REFERENCES = (
    "TargetGroupArn",
    "ForwardConfig.TargetGroups[].TargetGroupArn",
)

LOAD_BALANCER = KindInfo(
    kind="LoadBalancer",
    rank=3,
    aws_service="elbv2",
    create_operation="CreateLoadBalancer",
    name_field="Name",
    canonical=elbv2.canonical_load_balancer,
    tags=key_value_tags,
    extra_fields=frozenset({"Attributes"}),
    replace_fields=frozenset({"Scheme", "Type", "CustomerOwnedIpv4Pool"}),
)

TARGET_GROUP = KindInfo(
    kind="TargetGroup",
    rank=2,
    aws_service="elbv2",
    create_operation="CreateTargetGroup",
    name_field="Name",
    canonical=elbv2.canonical_target_group,
    tags=key_value_tags,
    extra_fields=frozenset({"Attributes"}),
    replace_fields=frozenset({"Protocol", "ProtocolVersion", "Port", "VpcId", "TargetType", "IpAddressType"}),
)

LISTENER = KindInfo(
    kind="Listener",
    rank=4,
    aws_service="elbv2",
    create_operation="CreateListener",
    name_field="",  # local to the repo; AWS knows a listener by its load balancer and port
    canonical=elbv2.canonical_listener,
    tags=key_value_tags,
    replace_fields=frozenset({"LoadBalancerArn"}),
    references=(
        Reference("LoadBalancerArn", "LoadBalancer"),
        *(Reference(f"DefaultActions[].{path}", "TargetGroup") for path in _TARGET_GROUP_REFERENCES),
    ),
)

LISTENER_RULE = KindInfo(
    kind="ListenerRule",
    rank=5,
    aws_service="elbv2",
    create_operation="CreateRule",
    name_field="",  # local; AWS knows a rule by its listener and priority
    canonical=elbv2.canonical_rule,
    tags=key_value_tags,
    replace_fields=frozenset({"ListenerArn"}),
    references=(
        Reference("ListenerArn", "Listener"),  # written "load-balancer-name:port"
        *(Reference(f"Actions[].{path}", "TargetGroup") for path in _TARGET_GROUP_REFERENCES),
    ),
)

# Moving a scaling resource to another target is a new resource in AWS: the old one is removed first.
SCALING_IDENTITY = frozenset({"ServiceNamespace", "ResourceId", "ScalableDimension"})

SCALABLE_TARGET = KindInfo(
    kind="ScalableTarget",
    rank=7,
    aws_service="application-autoscaling",
    create_operation="RegisterScalableTarget",
    name_field="",  # local; AWS knows it by ResourceId and ScalableDimension
    canonical=autoscaling.canonical_scalable_target,
    tags=autoscaling.no_tags,
    replace_fields=SCALING_IDENTITY,
    unread=key_value_tags,
)

SCALING_POLICY = KindInfo(
    kind="ScalingPolicy",
    rank=8,
    aws_service="application-autoscaling",
    create_operation="PutScalingPolicy",
    name_field="PolicyName",
    canonical=autoscaling.canonical_scaling_policy,
    tags=autoscaling.no_tags,
    replace_fields=SCALING_IDENTITY,
)

SCHEDULED_ACTION = KindInfo(
    kind="ScheduledAction",
    rank=8,
    aws_service="application-autoscaling",
    create_operation="PutScheduledAction",
    name_field="ScheduledActionName",
    canonical=autoscaling.canonical_scheduled_action,
    tags=autoscaling.no_tags,
    replace_fields=SCALING_IDENTITY,
)

# Cloud Map. The namespace is not a kind: namespaces are long-lived and shared, so a document names an existing
# one by its DNS name or ID. UpdateService can change only Description, DnsRecords and HealthCheckConfig.
DISCOVERY_SERVICE = KindInfo(
    kind="DiscoveryService",
    rank=None,
    aws_service="servicediscovery",
    create_operation="CreateService",
    name_field="Name",
    canonical=servicediscovery.canonical_discovery_service,
    tags=key_value_tags,
    references=(
        Reference("NamespaceId", "Namespace", external_allowed=True),
        Reference("DnsConfig.NamespaceId", "Namespace", external_allowed=True),
    ),
    replace_fields=frozenset({"NamespaceId", "RoutingPolicy", "HealthCheckCustomConfig", "Type"}),
    request_only_fields=frozenset({"CreatorRequestId"}),
)

# CodeDeploy blue/green for ECS: the deployment group names the service, the target group pair and the listeners.
_PAIRS = "loadBalancerInfo.targetGroupPairInfoList[]"
DEPLOYMENT_GROUP = KindInfo(
    kind="DeploymentGroup",
    rank=None,
    aws_service="codedeploy",
    create_operation="CreateDeploymentGroup",
    name_field="deploymentGroupName",
    canonical=codedeploy.canonical_deployment_group,
    tags=codedeploy.lowercase_tags,
    required_fields=frozenset({"applicationName", "ecsServices", "loadBalancerInfo"}),
    references=(
        Reference(f"{_PAIRS}.prodTrafficRoute.listenerArns[]", "Listener"),
        Reference(f"{_PAIRS}.testTrafficRoute.listenerArns[]", "Listener"),
        Reference(f"{_PAIRS}.targetGroups[].name", "TargetGroup", resolved=False),
        Reference("ecsServices[].serviceName", "Service", resolved=False),
        Reference("ecsServices[].clusterName", "Cluster", external_allowed=True, resolved=False),
    ),
    replace_fields=frozenset({"applicationName"}),
)

KINDS: Mapping[str, KindInfo] = {
    k.kind: k
    for k in (
        CLUSTER, TASK_DEFINITION, TARGET_GROUP, LOAD_BALANCER, LISTENER, LISTENER_RULE, SERVICE,
        SCALABLE_TARGET, SCALING_POLICY, SCHEDULED_ACTION, DISCOVERY_SERVICE, DEPLOYMENT_GROUP,
    )
}  # fmt: skip
