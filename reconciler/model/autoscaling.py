"""Canonical forms and ownership facts of the Application Auto Scaling kinds (ScalableTarget, ScalingPolicy,
ScheduledAction).

AWS can tag a scalable target, but reading those tags costs a call per target; policies and scheduled actions
cannot be tagged at all. So the facts that tags carry for other kinds (spec hash, deletion
policy, the document's name) are kept in tags of the parent: the ECS service being scaled, whose tags every pass
reads anyway. One tag per scaling resource: ``reconciler:aas:<kind code>:<identity>`` = ``<hash>/<policy>/<instance>/<name>``
(the instance that wrote it: another reconciler instance may scale a service this one owns).
"""

from __future__ import annotations

import hashlib
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from reconciler.model.autoscaling_ids import (
    ECS_DESIRED_COUNT,
    ECS_NAMESPACE,
    parse_ecs_resource_id,
    scalable_target_id,
)
from reconciler.model.canonical import Spec, drop_keys, prune_empty, sort_key, sorted_by, with_defaults
from reconciler.model.ownership import MAX_TAG_VALUE, fits_tag, tag_character
from reconciler.model.resource import DesiredResource

FACT_PREFIX = "reconciler:aas:"
KIND_CODES = {"ScalableTarget": "st", "ScalingPolicy": "sp", "ScheduledAction": "sa"}
SUSPENDED_DEFAULTS = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}
TARGET_TRACKING_DEFAULTS = {"DisableScaleIn": False}


def natural_key(kind: str, spec: Spec) -> str:
    """How AWS identifies it: the target's (namespace, resource, dimension), plus the name for the others."""
    target = scalable_target_id(spec)
    base = str(target) if target else ""
    if kind == "ScalingPolicy":
        return f"{base} {spec.get('PolicyName', '')}"
    if kind == "ScheduledAction":
        return f"{base} {spec.get('ScheduledActionName', '')}"
    return base


def request_of(resource: DesiredResource) -> dict[str, Any]:
    """The document's request, with the name field that ``metadata.name`` fills."""
    name_field = {"ScalingPolicy": "PolicyName", "ScheduledAction": "ScheduledActionName"}.get(resource.kind)
    return {**resource.spec, name_field: resource.name} if name_field else dict(resource.spec)


# A fact's parts are escaped into the tag alphabet (``ownership.fits_tag``): any other character, and the escape
# character and the separator themselves, as ``=`` and two hex digits per UTF-8 byte.
FACT_SEPARATOR = "/"
FACT_ESCAPE = "="


def fact_key(kind: str, natural: str) -> str:
    """The parent-tag key for one scaling resource (tag keys are at most 128 characters of ECS's tag alphabet:
    long ones, and ones with other characters, are hashed)."""
    key = f"{FACT_PREFIX}{KIND_CODES[kind]}:{natural.replace(' ', ':')}"
    if len(key) <= 128 and fits_tag(key):
        return key
    return f"{FACT_PREFIX}{KIND_CODES[kind]}:{hashlib.sha256(natural.encode()).hexdigest()[:32]}"


def encode_fact(*, spec_hash: str, deletion_policy: str, instance: str, name: str) -> str:
    """``<hash>/<policy>/<instance>/<name>``, each part escaped into ECS's tag alphabet; the name goes last, so
    that only it is cut when the value would pass AWS's 256 characters."""
    parts = (spec_hash, deletion_policy, instance, name)
    return FACT_SEPARATOR.join(_escape(part) for part in parts)[:MAX_TAG_VALUE]


def decode_fact(value: str) -> tuple[str, str, str, str]:
    """(spec hash, deletion policy, instance that wrote it, document name). Values written before the tag alphabet
    was kept are separated by ``;`` and not escaped."""
    if ";" in value:
        parts = [*value.split(";", 3), "", "", "", ""][:4]
    else:
        parts = [_unescape(part) for part in [*value.split(FACT_SEPARATOR, 3), "", "", "", ""][:4]]
    return parts[0], parts[1], parts[2], parts[3]


def _escape(text: str) -> str:
    return "".join(
        ch if tag_character(ch) and ch not in (FACT_SEPARATOR, FACT_ESCAPE) else _hex(ch) for ch in text
    )


def _hex(ch: str) -> str:
    return "".join(f"{FACT_ESCAPE}{byte:02x}" for byte in ch.encode())


def _unescape(text: str) -> str:
    return urllib.parse.unquote(text.replace(FACT_ESCAPE, "%"), errors="replace")


# Namespaces where AWS always uses its service-linked role, whatever RoleARN a request gives.
SERVICE_LINKED_ROLE_NAMESPACES = frozenset({"ecs"})


def canonical_scalable_target(spec: Spec) -> dict[str, Any]:
    ignored = ["ScalableTargetARN", "CreationTime", "PredictedCapacity", "Tags"]
    if spec.get("ServiceNamespace") in SERVICE_LINKED_ROLE_NAMESPACES:
        ignored.append("RoleARN")  # a legacy ecsAutoscaleRole comes back as the service-linked role
    result = drop_keys(spec, ignored)
    result["SuspendedState"] = with_defaults(spec.get("SuspendedState"), SUSPENDED_DEFAULTS)
    return prune_empty(result)


def canonical_scaling_policy(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, ["PolicyARN", "Alarms", "CreationTime"])
    tracking = spec.get("TargetTrackingScalingPolicyConfiguration")
    if tracking:
        result["TargetTrackingScalingPolicyConfiguration"] = with_defaults(tracking, TARGET_TRACKING_DEFAULTS)
    step = spec.get("StepScalingPolicyConfiguration")
    if step:
        adjustments = sorted_by(step.get("StepAdjustments"), sort_key("MetricIntervalLowerBound"))
        result["StepScalingPolicyConfiguration"] = {**step, "StepAdjustments": adjustments}
    return prune_empty(result)


def canonical_scheduled_action(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, ["ScheduledActionARN", "CreationTime"])
    for field in ("StartTime", "EndTime"):
        if spec.get(field) is not None:
            result[field] = _timestamp(spec[field])
    return prune_empty(result)


def _timestamp(value: object) -> str:
    """One instant, one text: botocore gives local-time datetimes, documents give ISO strings."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime):
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def no_tags(spec: Mapping[str, Any]) -> dict[str, str]:
    """A scalable target's own tags cost a call per target to read: they are written (and hashed), not compared."""
    return {}


def scaled_services(desired: Iterable[DesiredResource]) -> set[tuple[str, str]]:
    """(cluster, service) of every ECS service a declared ScalableTarget scales: their desiredCount belongs to
    the scaler once the service exists."""
    found = set()
    for resource in desired:
        target = scalable_target_id(resource.spec) if resource.kind == "ScalableTarget" else None
        service = parse_ecs_resource_id(target.resource_id) if target else None
        if target and service and target.namespace == ECS_NAMESPACE and target.dimension == ECS_DESIRED_COUNT:
            found.add((service.cluster, service.service))
    return found
