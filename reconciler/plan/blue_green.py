"""Services deployed blue/green through CodeDeploy (``deploymentController: CODE_DEPLOY``), as the plan sees them.

Such a service serves from one target group of its deployment group's pair, and each deployment swaps which:
either one is correct (a row of the table in ``owners``). UpdateService cannot change its task definition, load balancers, network
configuration or platform version: a difference there is a CodeDeploy deployment
(``Change.deployment_group``), not an UpdateService. While a deployment of the group is running, nothing of
the service is corrected. Pure: reads documents and ``LiveState``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.model.codedeploy import target_group_pair
from reconciler.model.live import FailedDeployment
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.deployments import spec_hash_of_description
from reconciler.plan.types import Action, Change

CODE_DEPLOY = "CODE_DEPLOY"
DEPLOYED_FIELDS = frozenset({"taskDefinition", "loadBalancers", "networkConfiguration", "platformVersion"})
# What UpdateService may change on a CODE_DEPLOY service (ECS API Reference, UpdateService: "only the desired count,
# deployment configuration, health check grace period, task placement constraints and strategies, enable ECS
# managed tags option, and propagate tags"); tags go through TagResource. Anything else cannot change in place.
UPDATABLE_FIELDS = frozenset({
    "desiredCount", "deploymentConfiguration", "healthCheckGracePeriodSeconds", "placementConstraints",
    "placementStrategy", "enableECSManagedTags", "propagateTags", "tags",
})  # fmt: skip


@dataclass(frozen=True)
class BlueGreen:
    """What the plan of one CODE_DEPLOY service needs from its deployment group document."""

    application: str
    group: str
    pair: frozenset[str]  # the two target groups, as names and as the ARNs known


def is_code_deploy(spec: Mapping[str, Any]) -> bool:
    controller = spec.get("deploymentController") or {}
    return isinstance(controller, Mapping) and controller.get("type") == CODE_DEPLOY


def blue_green_of(
    service: DesiredResource, desired: DesiredState, arns: Mapping[ResourceKey, str]
) -> BlueGreen | None:
    """The deployment group document that deploys ``service``, if any."""
    for group in desired.of_kind("DeploymentGroup"):
        if any(s.get("serviceName") == service.name for s in group.spec.get("ecsServices") or ()):
            names = target_group_pair(group.spec)
            known = {arns[key] for name in names if (key := ResourceKey("TargetGroup", name)) in arns}
            return BlueGreen(str(group.spec.get("applicationName")), group.name, frozenset(names) | known)
    return None


def route_deployment(
    change: Change,
    blue_green: BlueGreen | None,
    running: Mapping[str, list[str]],
    failed: Mapping[str, FailedDeployment] | None = None,
) -> Change:
    """``change`` to a CODE_DEPLOY service as a deployment where it must be one, or held: while a deployment
    runs, and when the last deployment of this very document failed (it is not retried until Git changes)."""
    update = _routing(change, blue_green, running, failed or {})
    detail = {k: update.pop(k) for k in list(update) if k.startswith("deployment_")}  # the service's detail
    routed = change.with_service(**detail) if detail else change
    return routed.model_copy(update=update) if update else routed


def _routing(
    change: Change,
    blue_green: BlueGreen | None,
    running: Mapping[str, list[str]],
    failed: Mapping[str, FailedDeployment],
) -> dict[str, Any]:
    if change.action is not Action.UPDATE and change.action is not Action.ADOPT:
        return {}
    deployed = change.changed_fields & DEPLOYED_FIELDS
    if blue_green is None:
        held = (
            f"{', '.join(sorted(deployed))} of a CODE_DEPLOY service change only through a CodeDeploy "
            "deployment: declare a DeploymentGroup that names this service"
        )
        return {"held": held} if deployed else {}
    if ids := running.get(blue_green.group):
        return {
            "held": f"CodeDeploy deployment {', '.join(ids)} is in progress; nothing is corrected until it ends"
        }
    if refused := sorted(change.changed_fields - DEPLOYED_FIELDS - UPDATABLE_FIELDS):
        reason = (
            f"{', '.join(refused)} of a CODE_DEPLOY service change neither through UpdateService nor a CodeDeploy"
            " deployment: the service is deleted and created again"
        )
        return {"action": Action.REPLACE, "reason": reason}
    last = failed.get(blue_green.group)
    if deployed and last is not None and spec_hash_of_description(last.description) == change.spec_hash:
        held = (
            f"CodeDeploy deployment {last.deployment_id} of this revision ended {last.status}"
            f"{': ' + last.message if last.message else ''}; not retried until Git changes"
        )
        return {"held": held, "deployment_failed": last.deployment_id}
    return (
        {"deployment_application": blue_green.application, "deployment_group": blue_green.group}
        if deployed
        else {}
    )


def listener_pairs(desired: DesiredState, arns: Mapping[ResourceKey, str]) -> dict[str, frozenset[str]]:
    """Listener reference name (``alb:443``) → the target group pair (names and ARNs) a deployment group routes
    through it: production and test listeners alike."""
    found: dict[str, frozenset[str]] = {}
    for group in desired.of_kind("DeploymentGroup"):
        names = target_group_pair(group.spec)
        pair = frozenset(names) | {arns[k] for n in names if (k := ResourceKey("TargetGroup", n)) in arns}
        found |= dict.fromkeys(_routed_listeners(group.spec), pair)
    return found


def hold_during_deployment(
    change: Change, desired: DesiredState, running: Mapping[str, list[str]], listener: str
) -> Change:
    """A listener that a running deployment routes is CodeDeploy's until the deployment ends."""
    for group in desired.of_kind("DeploymentGroup"):
        if group.name in running and listener in _routed_listeners(group.spec):
            held = f"CodeDeploy deployment {', '.join(running[group.name])} is in progress on this listener"
            return change.model_copy(update={"held": held})
    return change


def _routed_listeners(spec: Mapping[str, Any]) -> set[str]:
    return {
        str(listener)
        for info in (spec.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or ()
        for route in ("prodTrafficRoute", "testTrafficRoute")
        for listener in (info.get(route) or {}).get("listenerArns") or ()
    }
