"""What the EventBridge rule delivers to the events queue, in one place: ``deploy/`` (the rule), the sandbox (which
emits the same events for writes that do not come from the reconciler) and the daemon (which reads them) all use it.

EventBridge delivers CloudTrail management events for write calls only ("AWS API Call via CloudTrail"), and ECS
sends its own service events. The rule matches by source and detail type; the daemon then keeps the write calls in
``WRITE_CALLS`` (the calls that can make a resource drift) and the ECS service events.
"""

from __future__ import annotations

from typing import Any

from reconciler.model.ownership import USER_AGENT_MARK

__all__ = ["CLOUDTRAIL", "ECS_SERVICE_EVENTS", "USER_AGENT_MARK", "WRITE_CALLS", "event_pattern"]

CLOUDTRAIL = "AWS API Call via CloudTrail"
ECS_SERVICE_EVENTS = ("ECS Service Action", "ECS Deployment State Change")

# EventBridge source → CloudTrail eventSource, and the write calls that may change what a document declares
WRITE_CALLS: dict[str, tuple[str, frozenset[str]]] = {
    "aws.ecs": (
        "ecs.amazonaws.com",
        frozenset({
            "CreateCluster", "UpdateCluster", "UpdateClusterSettings", "PutClusterCapacityProviders",
            "DeleteCluster", "CreateService", "UpdateService", "DeleteService", "RegisterTaskDefinition",
            "DeregisterTaskDefinition", "DeleteTaskDefinitions", "TagResource", "UntagResource",
        }),
    ),
    "aws.elasticloadbalancing": (
        "elasticloadbalancing.amazonaws.com",
        frozenset({
            "CreateLoadBalancer", "DeleteLoadBalancer", "ModifyLoadBalancerAttributes", "SetSecurityGroups",
            "SetSubnets", "SetIpAddressType", "CreateTargetGroup", "DeleteTargetGroup", "ModifyTargetGroup",
            "ModifyTargetGroupAttributes", "CreateListener", "DeleteListener", "ModifyListener", "CreateRule",
            "DeleteRule", "ModifyRule", "SetRulePriorities", "AddTags", "RemoveTags",
        }),
    ),
    "aws.application-autoscaling": (
        "application-autoscaling.amazonaws.com",
        frozenset({
            "RegisterScalableTarget", "DeregisterScalableTarget", "PutScalingPolicy", "DeleteScalingPolicy",
            "PutScheduledAction", "DeleteScheduledAction",
        }),
    ),
}  # fmt: skip


def event_pattern() -> dict[str, Any]:
    """The EventBridge rule's pattern (``deploy/cloudformation/bootstrap.yaml`` holds the same, tested)."""
    return {"source": sorted(WRITE_CALLS), "detail-type": [CLOUDTRAIL, *ECS_SERVICE_EVENTS]}
