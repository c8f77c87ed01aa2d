"""Application Auto Scaling scalable targets: paging, the fields AWS fills in, deregistration, and tags.

The reconciler reads every scalable target of a namespace in pages, diffs MinCapacity/MaxCapacity and
SuspendedState, keeps its ownership tags on the target (ScalableTargetARN, TagResource) and deregisters
targets whose documents are gone. moto's paging never ended, it left SuspendedState and RoleARN out, it
kept the policies of a deregistered target and had no tagging calls at all.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, FakeScalableTarget
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse, _build_target
from moto.core.exceptions import JsonRESTError

from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method
from reconciler.sandbox.patches.paging import offset_page

TARGETS_DEFAULT_PAGE = TARGETS_MAX_PAGE = 50
TAGS_PER_TARGET = 50
NOT_SUSPENDED = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}
# The service-linked role AWS uses when RegisterScalableTarget names no RoleARN, per namespace.
SERVICE_LINKED_ROLES = {
    "ecs": "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
    "dynamodb": "dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
}


class ResourceNotFoundException(JsonRESTError):
    def __init__(self, arn: str) -> None:
        super().__init__("ResourceNotFoundException", f"Scalable target with ARN {arn} not found.")


class TooManyTagsException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "TooManyTagsException", f"A scalable target can have at most {TAGS_PER_TARGET} tags."
        )


def apply() -> None:
    replace_method(FakeScalableTarget, "__init__", _target_defaults)
    replace_method(FakeScalableTarget, "update", _update_merges_suspended_state)
    replace_method(ApplicationAutoscalingBackend, "register_scalable_target", _min_not_above_max)
    replace_method(ApplicationAutoscalingBackend, "deregister_scalable_target", _deregister_cascades)
    replace_method(ApplicationAutoScalingResponse, "register_scalable_target", _register_with_tags)
    add_method(ApplicationAutoScalingResponse, "describe_scalable_targets", _describe_targets_in_pages)
    add_method(ApplicationAutoScalingResponse, "tag_resource", _tag_resource)
    add_method(ApplicationAutoScalingResponse, "untag_resource", _untag_resource)
    add_method(ApplicationAutoScalingResponse, "list_tags_for_resource", _list_tags_for_resource)


def _target_defaults(original: Method) -> Method:
    """AWS's DescribeScalableTargets always returns SuspendedState (all three false unless set) and a
    RoleARN (the namespace's service-linked role when none was given). moto returned neither unless the
    request had them."""

    def init(self: Any, backend: Any, namespace: str, *args: Any, **kwargs: Any) -> None:
        original(self, backend, namespace, *args, **kwargs)
        self.suspended_state = {**NOT_SUSPENDED, **(self.suspended_state or {})}
        if not self.role_arn and namespace in SERVICE_LINKED_ROLES:
            self.role_arn = (
                f"arn:aws:iam::{backend.account_id}:role/aws-service-role/{SERVICE_LINKED_ROLES[namespace]}"
            )
        self.tags = {}

    return init


def _update_merges_suspended_state(original: Method) -> Method:
    """AWS keeps each SuspendedState flag that a RegisterScalableTarget update leaves out; moto replaced the
    whole state with the partial one given."""

    def update(self: Any, min_capacity: Any, max_capacity: Any, suspended_state: Any) -> None:
        merged = {**self.suspended_state, **suspended_state} if suspended_state else None
        original(self, min_capacity, max_capacity, merged)

    return update


def _min_not_above_max(original: Method) -> Method:
    """AWS refuses MinCapacity above MaxCapacity, counting the current value of the one not given
    (ValidationException); moto stored it."""

    def register(self: Any, namespace: str, r_id: str, dimension: str, *args: Any, **kwargs: Any) -> Any:
        current = self.targets.get(dimension, {}).get(r_id)
        low = _first_given(kwargs.get("min_capacity"), getattr(current, "min_capacity", None))
        high = _first_given(kwargs.get("max_capacity"), getattr(current, "max_capacity", None))
        if low is not None and high is not None and int(low) > int(high):
            raise AWSValidationException("Minimum capacity cannot be greater than maximum capacity")
        return original(self, namespace, r_id, dimension, *args, **kwargs)

    return register


def _first_given(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _deregister_cascades(original: Method) -> Method:
    """AWS's DeregisterScalableTarget also deletes the target's scaling policies (and their CloudWatch
    alarms) and its scheduled actions; moto left them behind, still listed."""

    def deregister(self: Any, namespace: str, r_id: str, dimension: str) -> None:
        original(self, namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (
                namespace,
                r_id,
                dimension,
            ):
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]
        self.scheduled_actions = [
            action
            for action in self.scheduled_actions
            if (action.service_namespace, action.resource_id, action.scalable_dimension)
            != (namespace, r_id, dimension)
        ]

    return deregister


def _register_with_tags(original: Method) -> Method:
    """AWS's RegisterScalableTarget takes ``Tags`` and applies them when it creates the target (updates
    ignore them: TagResource is for that); moto ignored ``Tags``."""

    def register(self: Any) -> str:
        backend = self.applicationautoscaling_backend
        dimension, resource_id = self._get_param("ScalableDimension"), self._get_param("ResourceId")
        is_new = resource_id not in backend.targets.get(dimension, {})
        answer: str = original(self)
        tags = self._get_param("Tags") or {}
        if is_new and tags:
            _set_tags(backend.targets[dimension][resource_id], tags)
        return answer

    return register


def _describe_targets_in_pages(self: Any) -> str:
    """AWS pages DescribeScalableTargets by MaxResults (1 to 50, default 50) until the last page, which has
    no NextToken. moto's NextToken pointed back into the second page, so paging past it never ended."""
    self._validate_params()
    size = self._get_int_param("MaxResults") or TARGETS_DEFAULT_PAGE
    targets = self.applicationautoscaling_backend.describe_scalable_targets(
        self._get_param("ServiceNamespace"),
        self._get_param("ResourceIds"),
        self._get_param("ScalableDimension"),
    )
    page, next_token = page_or_invalid(
        targets, token=self._get_param("NextToken"), size=size, limit=TARGETS_MAX_PAGE
    )
    return json.dumps({"ScalableTargets": [_build_target(t) for t in page], "NextToken": next_token})


def page_or_invalid(
    items: list[Any], *, token: str | None, size: int, limit: int
) -> tuple[list[Any], str | None]:
    """One page, or the ValidationException AWS answers for a MaxResults out of range or a foreign token."""
    if not 1 <= size <= limit:
        raise AWSValidationException(
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {limit}"
        )
    try:
        return offset_page(items, token=token, size=size)
    except ValueError as error:
        raise AWSValidationException("Invalid NextToken") from error


def _target_by_arn(backend: Any, arn: str) -> Any:
    for by_resource in backend.targets.values():
        for target in by_resource.values():
            if target.arn == arn:
                return target
    raise ResourceNotFoundException(arn)


def _set_tags(target: Any, tags: dict[str, str]) -> None:
    if len(set(target.tags) | set(tags)) > TAGS_PER_TARGET:
        raise TooManyTagsException()
    target.tags.update(tags)


def _tag_resource(self: Any) -> str:
    """AWS has TagResource, UntagResource and ListTagsForResource for scalable targets (by
    ScalableTargetARN); moto answered 500 "not implemented"."""
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    _set_tags(target, self._get_param("Tags") or {})
    return "{}"


def _untag_resource(self: Any) -> str:
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    for key in self._get_param("TagKeys") or []:
        target.tags.pop(key, None)
    return "{}"


def _list_tags_for_resource(self: Any) -> str:
    target = _target_by_arn(self.applicationautoscaling_backend, self._get_param("ResourceARN"))
    return json.dumps({"Tags": dict(target.tags)})
