"""Deploying a CODE_DEPLOY service: a CodeDeploy deployment whose AppSpec names the revision to run, its container
and port, and its network configuration and platform version (what UpdateService may not change for such a
service). CodeDeploy then moves traffic to the other target group of the pair.

The deployment's description carries the revision and the service's spec hash: the reader finds the group's last
attempted deployment by it, so a failed or rolled-back deployment is not tried again until Git changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.plan.deployments import description
from reconciler.plan.types import Change


def app_spec(task_definition_arn: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The ECS AppSpec (``version: 0.0``) for the service document ``spec`` (names resolved) and a revision."""
    balancer = (spec.get("loadBalancers") or [{}])[0]
    properties: dict[str, Any] = {
        "TaskDefinition": task_definition_arn,
        "LoadBalancerInfo": {"ContainerName": balancer.get("containerName"), "ContainerPort": balancer.get("containerPort")},
    }  # fmt: skip
    if spec.get("platformVersion"):
        properties["PlatformVersion"] = spec["platformVersion"]
    network = (spec.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if network:
        properties["NetworkConfiguration"] = {"AwsvpcConfiguration": {
            "Subnets": network.get("subnets", []), "SecurityGroups": network.get("securityGroups", []),
            "AssignPublicIp": network.get("assignPublicIp", "DISABLED")}}  # fmt: skip
    return {
        "version": 0.0,
        "Resources": [{"TargetService": {"Type": "AWS::ECS::Service", "Properties": properties}}],
    }


async def create_deployment(
    codedeploy: Any, change: Change, *, task_definition_arn: str, spec: dict[str, Any], revision: str
) -> str:
    """Start the deployment; returns its ID."""
    content = json.dumps(app_spec(task_definition_arn, spec), sort_keys=True)
    response = await codedeploy.create_deployment(
        applicationName=change.deployment_application,
        deploymentGroupName=change.deployment_group,
        description=description(revision, change.spec_hash),
        revision={"revisionType": "AppSpecContent", "appSpecContent": {
            "content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()}},
    )  # fmt: skip
    return str(response["deploymentId"])
