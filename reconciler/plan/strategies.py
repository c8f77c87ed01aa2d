"""Services that ECS deploys itself, blue/green, linear or canary (``deploymentConfiguration.strategy``), as the plan
sees them.

A Git change to such a service is one UpdateService, and ECS does the rest: it starts the new revision in the
other target group of each pair, moves the production and test rules' forward weights onto it, bakes, and then
serves from it, so the pair's primary alternates with every deployment. What the plan makes of that:

| what ECS shows | what the plan does |
|---|---|
| a deployment of the service in progress or baking: a deployment whose ``rolloutState`` is not COMPLETED, or more than one deployment | nothing of the service, its two rules or its two target groups is corrected (held, with the deployment in the plan); a change from Git goes out, but not one that would rewrite a rule's actions under ECS's traffic shift |
| no deployment in progress | the production rule forwards 100 to the live primary target group (DescribeServices ``loadBalancers[].targetGroupArn``) and 0 to the other, and is corrected to that, never to the document's weights; either orientation of the pair is in sync (``owners``) |
| a deployment ECS rolled back (alarms, a failed hook, StopServiceDeployment, the circuit breaker) | reported and held as any rolled-back deployment (``rollouts``): its revision is not deployed again until Git changes |

Pure: reads documents and ``LiveState``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.model.ecs import cluster_name_of, task_definition_label
from reconciler.model.live import Described, LiveState
from reconciler.model.references import is_literal
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.model.strategies import shifted_balancers, shifts_traffic, strategy_of
from reconciler.plan.owners import TrafficShift
from reconciler.plan.types import Cause, Change


@dataclass(frozen=True)
class Deploying:
    """A deployment ECS is running (or has stopped without rolling it back) for a traffic-shifting service."""

    reason: str  # what the plan says of it
    failed: str = ""  # the ID of the deployment, when it failed


@dataclass(frozen=True)
class Shifting:
    """What the plan knows of the services ECS shifts traffic for, found once per plan."""

    rules: Mapping[str, TrafficShift] = field(default_factory=dict)  # ListenerRule name → its service's shift
    # a Service's key and those of its two TargetGroups → the deployment that holds their drift
    deploying: Mapping[ResourceKey, Deploying] = field(default_factory=dict)


NOTHING_SHIFTED = Shifting()


def shifting_of(desired: DesiredState, live: LiveState, arns: Mapping[ResourceKey, str]) -> Shifting:
    """Every rule of a traffic-shifting service, and what a deployment of such a service holds."""
    rules: dict[str, TrafficShift] = {}
    deploying: dict[ResourceKey, Deploying] = {}
    for service in desired.of_kind("Service"):
        if not shifts_traffic(service.spec):
            continue
        entry = live.services.get((cluster_name_of(str(service.spec.get("cluster", ""))), service.name))
        deployment = in_progress(entry, strategy_of(service.spec))
        if deployment is not None:
            deploying[service.key] = deployment
        for balancer in shifted_balancers(service.spec):
            names = balancer.pair
            pair = names | {arns[key] for name in names if (key := ResourceKey("TargetGroup", name)) in arns}
            if deployment is not None:
                deploying |= {ResourceKey("TargetGroup", n): deployment for n in names if not is_literal(n)}
            reason = deployment.reason if deployment is not None else ""
            for rule, production in ((balancer.production_rule, True), (balancer.test_rule, False)):
                if rule and not is_literal(rule):
                    primary = _primary(entry, pair)
                    rules[rule] = TrafficShift(service.name, production, frozenset(pair), primary, reason)
    return Shifting(rules=rules, deploying=deploying)


def in_progress(service: Described | None, strategy: str) -> Deploying | None:
    """The deployment ECS is running for ``service``, None when none: a deployment not COMPLETED (in progress,
    baking, or failed where ECS has not rolled it back), or more than one deployment (the old revision kept while
    the new one bakes)."""
    if service is None or service.get("status") != "ACTIVE":
        return None
    deployments = list(service.get("deployments") or ())
    unfinished = [d for d in deployments if d.get("rolloutState") != "COMPLETED"]
    if not unfinished and len(deployments) <= 1:
        return None
    current = next((d for d in deployments if d.get("status") == "PRIMARY"), (unfinished or deployments)[0])
    state = current.get("rolloutState") or "not reported"
    named = (
        f"ECS {strategy} deployment {current.get('id', '')} of"
        f" {task_definition_label(str(current.get('taskDefinition', '')))}"
    )
    if state == "FAILED" and len(deployments) == 1:
        return Deploying(
            f"{named} failed and was not rolled back; nothing is corrected, nor its revision deployed again,"
            " until Git changes",
            failed=str(current.get("id", "")),
        )
    return Deploying(f"{named} is in progress (rollout {state}, {len(deployments)} deployments)")


def _primary(service: Described | None, pair: frozenset[str]) -> str:
    """The target group of ``pair`` that the live service serves production from."""
    for balancer in (service or {}).get("loadBalancers") or ():
        if balancer.get("targetGroupArn") in pair:
            return str(balancer["targetGroupArn"])
    return ""


def held_while_deploying(
    change: Change, deploying: Deploying | None, *, rewrites_traffic: bool = False
) -> Change:
    """``change`` held while ECS deploys: drift waits for the deployment to end, and so does a change from Git that
    would rewrite what ECS is moving (``rewrites_traffic``: a rule's actions). A change from Git otherwise goes
    out: ECS supersedes the deployment with the new one."""
    if deploying is None or change.held:
        return change
    if change.cause is not Cause.DESIRED:
        held = (
            deploying.reason
            if deploying.failed
            else f"{deploying.reason}; nothing of it is corrected until it ends"
        )
    elif rewrites_traffic:
        held = (
            f"{deploying.reason}: ECS is moving traffic on this rule, whose actions are written once it ends"
        )
    else:
        return change
    if change.service is not None:  # what a rollout meant for it no longer applies
        change = change.with_service(deployment_note="", deployment_failed=deploying.failed)
    return change.model_copy(update={"held": held})
