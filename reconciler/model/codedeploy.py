"""The canonical form of a CodeDeploy deployment group (``DeploymentGroup``) for ECS blue/green, the same for a
document and for GetDeploymentGroup.

The document's ``applicationName`` names the CodeDeploy application (created when missing). Target groups are
named as CodeDeploy takes them; listeners are ARNs once resolved. Read-only fields (IDs, the last deployments,
the compute platform) are dropped, and lists whose order AWS does not keep are sorted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.canonical import Spec, drop_keys, prune_empty, sort_key, sorted_by

READ_ONLY = frozenset(
    {"deploymentGroupId", "deploymentGroupName", "targetRevision", "lastSuccessfulDeployment",
     "lastAttemptedDeployment", "computePlatform", "tags"}
)  # fmt: skip
ECS_COMPUTE_PLATFORM = "ECS"


def canonical_deployment_group(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, READ_ONLY)
    result["ecsServices"] = sorted_by(spec.get("ecsServices"), sort_key("clusterName", "serviceName"))
    pairs = (spec.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList")
    if pairs:
        result["loadBalancerInfo"] = {
            **spec["loadBalancerInfo"],
            "targetGroupPairInfoList": [_pair(p) for p in pairs],
        }
    return prune_empty(result)


def _pair(pair: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(pair)
    for route in ("prodTrafficRoute", "testTrafficRoute"):
        if route in pair:
            result[route] = {**pair[route], "listenerArns": sorted(pair[route].get("listenerArns") or ())}
    return result


def lowercase_tags(spec: Spec) -> dict[str, str]:
    """CodeDeploy's ``tags: [{Key, Value}]``."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in spec.get("tags") or () if "Key" in t}


def target_group_pair(spec: Spec) -> list[str]:
    """The names of the blue/green target group pair a deployment group document or answer names."""
    pairs = (spec.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}]
    return [str(group.get("name")) for group in pairs[0].get("targetGroups") or () if group.get("name")]
