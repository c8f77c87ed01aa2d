"""Canonical forms of the ELBv2 kinds: LoadBalancer, TargetGroup, Listener, ListenerRule
(docs/desired-state.md, "How drift is decided").

Health check settings and attributes have defaults that vary with protocol and target type, so only what the
document writes is compared (the diff is desired-scoped). A forward to one target group comes back from AWS both
as ``TargetGroupArn`` and as a one-entry ``ForwardConfig`` with weight 1: both forms become the ``ForwardConfig``
form here. A rule's ``Priority`` is a string in AWS; conditions come back in the legacy ``Values`` and the
``*Config`` form, and the desired-scoped diff compares the form the user wrote.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.model.canonical import Spec, drop_keys, pairs_to_map, prune_empty, sort_key, sorted_by

TARGET_GROUP_READ_ONLY = frozenset({"TargetGroupArn", "TargetGroupName", "Name", "LoadBalancerArns", "Tags"})
LOAD_BALANCER_READ_ONLY = frozenset(
    {"LoadBalancerArn", "LoadBalancerName", "Name", "DNSName", "CanonicalHostedZoneId", "CreatedTime", "VpcId",
     "State", "AvailabilityZones", "Tags", "SubnetMappings"}
)  # fmt: skip


def attributes_as_map(spec: Spec) -> dict[str, str]:
    return {str(k): str(v) for k, v in pairs_to_map(spec.get("Attributes"), key="Key", value="Value").items()}


def canonical_target_group(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, TARGET_GROUP_READ_ONLY)
    result["Attributes"] = attributes_as_map(spec)
    return prune_empty(result)


def canonical_load_balancer(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, LOAD_BALANCER_READ_ONLY)
    result["Subnets"] = sorted(
        spec.get("Subnets") or [m["SubnetId"] for m in spec.get("SubnetMappings") or ()]
    )
    result["SecurityGroups"] = sorted(spec.get("SecurityGroups") or ())
    result["Attributes"] = attributes_as_map(spec)
    return prune_empty(result)


def canonical_actions(actions: Any) -> list[dict[str, Any]]:
    """Actions in order, each forward in its ``ForwardConfig`` form with AWS's default weight."""
    ordered = sorted(enumerate(actions or ()), key=lambda pair: (pair[1].get("Order", pair[0] + 1), pair[0]))
    return [_canonical_action(action) for _, action in ordered]


def _canonical_action(action: Spec) -> dict[str, Any]:
    result = drop_keys(action, ["Order"])
    if action.get("Type") == "forward":
        forward = dict(action.get("ForwardConfig") or {})
        groups = forward.get("TargetGroups") or [{"TargetGroupArn": action.get("TargetGroupArn")}]
        forward["TargetGroups"] = sorted_by(
            [{"Weight": 1, **group} for group in groups], sort_key("TargetGroupArn")
        )
        result = {**drop_keys(result, ["TargetGroupArn"]), "ForwardConfig": forward}
    return prune_empty(result)


def canonical_listener(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, ["ListenerArn", "Tags"])
    result["DefaultActions"] = canonical_actions(spec.get("DefaultActions"))
    certificates = [drop_keys(c, ["IsDefault"]) for c in spec.get("Certificates") or ()]
    result["Certificates"] = sorted_by(certificates, sort_key("CertificateArn"))
    return prune_empty(result)


def _condition_key(condition: Spec) -> str:
    """Conditions sort by field, then by content: two http-header conditions must not swap places."""
    return json.dumps(condition, sort_keys=True, default=str)


def canonical_rule(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, ["RuleArn", "IsDefault", "Tags"])
    result["Actions"] = canonical_actions(spec.get("Actions"))
    result["Conditions"] = sorted_by(spec.get("Conditions"), _condition_key)
    if spec.get("Priority") is not None:
        result["Priority"] = str(spec["Priority"])
    return prune_empty(result)
