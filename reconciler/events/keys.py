"""Which declared resources an AWS event names: EventBridge's envelope of a CloudTrail write call or an ECS
service event → the keys of the documents to reconcile at once.

An event is only a hint: the targeted pass it wakes reads the resources and compares them with their
documents, so a wrong or missing key costs at most a pass, or waits for the interval pass. Resources are found by
the names in the call's ``requestParameters`` (cluster, service, family, target group and load balancer names,
Application Auto Scaling's resource IDs), and by ARN through ``arn_keys`` (every live ARN the last passes matched
to a document: how listeners and rules, whose ARNs hold no document name, are found).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.events.pattern import CLOUDTRAIL, ECS_SERVICE_EVENTS, USER_AGENT_MARK, WRITE_CALLS
from reconciler.model.autoscaling import request_of
from reconciler.model.principal import Principal, principal_of
from reconciler.model.resource import DesiredState, ResourceKey

Hint = tuple[str, str]  # (kind, name) or ("arn", ARN)


def keys_of_event(
    event: object, desired: DesiredState, arn_keys: Mapping[str, ResourceKey], *, instance: str
) -> tuple[str, set[ResourceKey]]:
    """(result, keys): result is matched, unmatched, own (a write of this instance), ignored (not a write that
    can drift, or one that failed) or invalid (not an EventBridge event)."""
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
        return "invalid", set()
    detail: dict[str, Any] = event["detail"]
    if event.get("detail-type") in ECS_SERVICE_EVENTS:
        hints = [("arn", arn) for arn in event.get("resources") or () if isinstance(arn, str)]
    elif event.get("detail-type") == CLOUDTRAIL:
        result = _classify(event, detail, instance=instance)
        if result:
            return result, set()
        parameters = detail.get("requestParameters")
        hints = list(_hints(str(detail.get("eventName")), parameters if isinstance(parameters, dict) else {}))
    else:
        return "ignored", set()
    declared = {r.key for r in desired}
    keys = {key for hint in hints for key in _resolve(hint, desired, arn_keys)} & declared
    return ("matched" if keys else "unmatched"), keys


STARTS_DEPLOYMENTS = frozenset({"CreateService", "UpdateService"})


def deployments_named(event: object, *, instance: str) -> tuple[str, list[str]]:
    """(who, deployments) of a CloudTrail CreateService or UpdateService event of someone else's call: the
    deployments its answer names (the service's current service deployment, and its PRIMARY deployment: an
    UpdateService that starts none names the one already there, which is then known already) and the principal
    that made the call (``userIdentity``). ("", []) for any other event."""
    actor = actor_of(event, instance=instance)
    if actor is None or not isinstance(event, dict):
        return "", []
    detail = event["detail"]
    answer = detail.get("responseElements")
    service = answer.get("service") if isinstance(answer, dict) else None
    if detail.get("eventName") not in STARTS_DEPLOYMENTS or not isinstance(service, dict):
        return "", []
    named = [str(service["currentServiceDeployment"])] if service.get("currentServiceDeployment") else []
    named += [
        str(d["id"])
        for d in service.get("deployments") or ()
        if isinstance(d, dict) and d.get("status") == "PRIMARY" and d.get("id")
    ]
    return (actor[0].arn or str(actor[0])), named


def actor_of(event: object, *, instance: str) -> tuple[Principal, str] | None:
    """Who made the write call a CloudTrail event records, and when (its ``eventTime``); None for an event that
    records no write of someone else's (an ECS service event, a read, a failed call, this instance's own)."""
    if not isinstance(event, dict) or event.get("detail-type") != CLOUDTRAIL:
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict) or _classify(event, detail, instance=instance):
        return None
    when = detail.get("eventTime")
    return principal_of(detail.get("userIdentity")), when if isinstance(when, str) else ""


def _classify(event: dict[str, Any], detail: dict[str, Any], *, instance: str) -> str:
    source, names = WRITE_CALLS.get(str(event.get("source")), ("", frozenset()))
    if detail.get("eventSource") != source or detail.get("eventName") not in names or detail.get("errorCode"):
        return "ignored"
    if f"{USER_AGENT_MARK}{instance}" in str(detail.get("userAgent", "")).split(" "):
        return "own"
    return ""


_ARN_PARAMETERS = ("loadBalancerArn", "targetGroupArn", "listenerArn", "ruleArn", "resourceArn")
_SCALING = {"ScalableTarget": "", "ScalingPolicy": "policyName", "ScheduledAction": "scheduledActionName"}


def _hints(event_name: str, parameters: dict[str, Any]) -> Iterator[Hint]:
    for name in _ARN_PARAMETERS:
        if isinstance(parameters.get(name), str):
            yield "arn", parameters[name]
    for arn in _strings(parameters.get("resourceArns")):
        yield "arn", arn
    for move in parameters.get("rulePriorities") or ():
        if isinstance(move, dict) and isinstance(move.get("ruleArn"), str):
            yield "arn", move["ruleArn"]
    yield from _ecs_hints(event_name, parameters)
    if event_name in {"CreateLoadBalancer", "CreateTargetGroup"} and isinstance(parameters.get("name"), str):
        yield ("LoadBalancer" if "LoadBalancer" in event_name else "TargetGroup"), parameters["name"]
    if isinstance(parameters.get("resourceId"), str):
        kind = next((k for k in ("ScalingPolicy", "ScheduledAction") if k in event_name), "ScalableTarget")
        yield (
            kind,
            "\n".join(
                str(parameters.get(f, ""))
                for f in ("serviceNamespace", "resourceId", "scalableDimension", _SCALING[kind])
                if f
            ),
        )


def _ecs_hints(event_name: str, parameters: dict[str, Any]) -> Iterator[Hint]:
    cluster = _last(parameters.get("cluster") or parameters.get("clusterName"))
    service = _last(parameters.get("service") or parameters.get("serviceName"))
    if service:
        yield "Service", f"{cluster}/{service}"
    elif cluster and "Cluster" in event_name:
        yield "Cluster", cluster
    if isinstance(parameters.get("family"), str):
        yield "TaskDefinition", parameters["family"]
    for revision in [parameters.get("taskDefinition"), *_strings(parameters.get("taskDefinitions"))]:
        if isinstance(revision, str) and revision:
            yield "TaskDefinition", _last(revision).split(":")[0]


def _resolve(hint: Hint, desired: DesiredState, arn_keys: Mapping[str, ResourceKey]) -> Iterator[ResourceKey]:
    kind, value = hint
    if kind == "arn":
        if value in arn_keys:
            yield arn_keys[value]
            return
        yield from _resolve_arn(value, desired, arn_keys)
        return
    if kind == "Service":
        cluster, name = value.split("/", 1)
        yield from (
            r.key
            for r in desired.of_kind("Service")
            if r.name == name and (not cluster or _last(r.spec.get("cluster")) == cluster)
        )
        return
    if kind in _SCALING:
        yield from (r.key for r in desired.of_kind(kind) if _scaling_id(kind, request_of(r)) == value)
        return
    if desired.get(kind, value) is not None:
        yield ResourceKey(kind, value)


def _resolve_arn(
    arn: str, desired: DesiredState, arn_keys: Mapping[str, ResourceKey]
) -> Iterator[ResourceKey]:
    """An ARN no pass has matched yet (a resource created or replaced since): by the name it holds."""
    resource = arn.split(":", 5)[-1]  # e.g. service/cluster/name, targetgroup/name/id
    parts = resource.split("/")
    ecs = arn.split(":")[2:3] == ["ecs"]  # in any partition: arn:aws:ecs, arn:aws-cn:ecs, arn:aws-us-gov:ecs
    if ecs and parts[0] == "service":
        yield from _resolve(
            ("Service", f"{parts[1]}/{parts[-1]}" if len(parts) == 3 else f"/{parts[-1]}"), desired, arn_keys
        )
    elif ecs and parts[0] == "cluster":
        yield from _resolve(("Cluster", parts[-1]), desired, arn_keys)
    elif ecs and parts[0] == "task-definition":
        yield from _resolve(("TaskDefinition", parts[-1].split(":")[0]), desired, arn_keys)
    elif parts[0] == "targetgroup" and len(parts) > 1:
        yield from _resolve(("TargetGroup", parts[1]), desired, arn_keys)
    elif parts[0] == "loadbalancer" and len(parts) > 2:
        yield from _resolve(("LoadBalancer", parts[2]), desired, arn_keys)
    elif parts[0] == "listener-rule":  # a rule of ours not matched yet, or added by hand: its listener
        listener = arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0]
        if listener in arn_keys:
            yield arn_keys[listener]


def _scaling_id(kind: str, spec: Mapping[str, Any]) -> str:
    return "\n".join(
        str(spec.get(f, ""))
        for f in (
            "ServiceNamespace",
            "ResourceId",
            "ScalableDimension",
            _SCALING[kind][:1].upper() + _SCALING[kind][1:],
        )
        if f
    )


def _last(value: object) -> str:
    """A name from a name or an ARN (``arn:…:service/cluster/name`` → ``name``)."""
    return str(value).rsplit("/", 1)[-1] if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
