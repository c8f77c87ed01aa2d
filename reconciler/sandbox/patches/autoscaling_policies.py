"""Application Auto Scaling scaling policies and scheduled actions: identity on update, exact filters,
paging, and the scalable target they need.

The reconciler updates a policy in place (PutScalingPolicy on its name) and reads policies and scheduled
actions back by ResourceId. moto gave an updated policy a new ARN (and left its old alarms behind), matched
ResourceId as a substring and ignored PolicyNames, so a reader would see other services' policies; and it
accepted policies for targets that were never registered, which hides a wrong creation order.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
from moto.applicationautoscaling.responses import (
    ApplicationAutoScalingResponse,
    _build_policy,
    _build_scheduled_action,
)
from moto.core.exceptions import JsonRESTError

from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method
from reconciler.sandbox.patches.autoscaling_targets import page_or_invalid

POLICIES_DEFAULT_PAGE = POLICIES_MAX_PAGE = 10
SCHEDULED_ACTIONS_DEFAULT_PAGE = SCHEDULED_ACTIONS_MAX_PAGE = 50


class ObjectNotFoundException(JsonRESTError):
    def __init__(self, namespace: str, resource_id: str, dimension: str) -> None:
        super().__init__(
            "ObjectNotFoundException",
            f"No scalable target registered for service namespace: {namespace}, resource ID: {resource_id}, "
            f"scalable dimension: {dimension}",
        )


def apply() -> None:
    replace_method(ApplicationAutoscalingBackend, "put_scaling_policy", _put_policy_like_aws)
    replace_method(ApplicationAutoscalingBackend, "put_scheduled_action", _scheduled_action_needs_target)
    add_method(ApplicationAutoScalingResponse, "describe_scaling_policies", _describe_policies_exactly)
    add_method(ApplicationAutoScalingResponse, "describe_scheduled_actions", _describe_actions_in_pages)
    replace_method(ApplicationAutoscalingBackend, "delete_scaling_policy", _delete_missing_policy_like_aws)


def _delete_missing_policy_like_aws(original: Method) -> Method:
    """AWS's DeleteScalingPolicy of a policy that does not exist is ObjectNotFoundException; moto raised a
    ValidationException, which a caller cannot tell from a bad request."""

    def delete_scaling_policy(
        self: Any, policy_name: str, service_namespace: str, resource_id: str, scalable_dimension: str
    ) -> Any:
        key = (service_namespace, resource_id, scalable_dimension, policy_name)
        if not any(
            (p.service_namespace, p.resource_id, p.scalable_dimension, p.policy_name) == key
            for p in self.policies.values()
        ):
            raise JsonRESTError(
                "ObjectNotFoundException", f"No scaling policy found: {policy_name} on {resource_id}"
            )
        return original(self, policy_name, service_namespace, resource_id, scalable_dimension)

    return delete_scaling_policy


def _require_target(backend: Any, namespace: str, resource_id: str, dimension: str) -> None:
    target = backend.targets.get(dimension, {}).get(resource_id)
    if target is None or target.service_namespace != namespace:
        raise ObjectNotFoundException(namespace, resource_id, dimension)


def _put_policy_like_aws(original: Method) -> Method:
    """AWS's PutScalingPolicy needs a registered scalable target (ObjectNotFoundException), and updating an
    existing policy keeps its PolicyARN and creation time (target tracking alarms are replaced). moto
    accepted a policy without a target and gave an updated policy a new ARN, leaving the old alarms."""

    def put_scaling_policy(
        self: Any,
        policy_name: str,
        service_namespace: str,
        resource_id: str,
        scalable_dimension: str,
        policy_body: dict[str, Any],
        policy_type: str | None,
    ) -> Any:
        _require_target(self, service_namespace, resource_id, scalable_dimension)
        key = f"{service_namespace}\t{resource_id}\t{scalable_dimension}\t{policy_name}"
        previous = self.policies.get(key)
        policy = original(
            self, policy_name, service_namespace, resource_id, scalable_dimension, policy_body, policy_type
        )
        if previous is not None:
            previous.delete_alarms(self.account_id, self.region_name)
            policy.delete_alarms(self.account_id, self.region_name)
            policy._guid, policy.policy_arn = previous._guid, previous.policy_arn
            policy.creation_time = previous.creation_time
            policy.alarms = []
            policy.create_alarms()
        return policy

    return put_scaling_policy


def _scheduled_action_needs_target(original: Method) -> Method:
    """AWS's PutScheduledAction needs a registered scalable target (ObjectNotFoundException); moto accepted
    scheduled actions for targets that did not exist."""

    def put_scheduled_action(self: Any, **kwargs: Any) -> None:
        _require_target(
            self, kwargs["service_namespace"], kwargs["resource_id"], kwargs["scalable_dimension"]
        )
        original(self, **kwargs)

    return put_scheduled_action


def _describe_policies_exactly(self: Any) -> str:
    """AWS's DescribeScalingPolicies matches ResourceId and ScalableDimension exactly, filters by
    PolicyNames, and pages by MaxResults (1 to 10, default 10). moto matched ResourceId as a substring (asking
    for ``service/c/frontapp-canary`` also returned the policies of ``service/c/frontapp``), ignored
    PolicyNames and paged by 100."""
    names = self._get_param("PolicyNames") or []
    wanted = {
        "service_namespace": self._get_param("ServiceNamespace"),
        "resource_id": self._get_param("ResourceId"),
        "scalable_dimension": self._get_param("ScalableDimension"),
    }
    policies = [
        policy
        for policy in self.applicationautoscaling_backend.policies.values()
        if all(value is None or getattr(policy, field) == value for field, value in wanted.items())
        and (not names or policy.policy_name in names)
    ]
    page, next_token = page_or_invalid(
        policies,
        token=self._get_param("NextToken"),
        size=self._get_int_param("MaxResults") or POLICIES_DEFAULT_PAGE,
        limit=POLICIES_MAX_PAGE,
    )
    return json.dumps({"ScalingPolicies": [_build_policy(p) for p in page], "NextToken": next_token})


def _describe_actions_in_pages(self: Any) -> str:
    """AWS pages DescribeScheduledActions by MaxResults (1 to 50, default 50); moto returned every action in
    one answer."""
    actions = self.applicationautoscaling_backend.describe_scheduled_actions(
        scheduled_action_names=self._get_param("ScheduledActionNames"),
        service_namespace=self._get_param("ServiceNamespace"),
        resource_id=self._get_param("ResourceId"),
        scalable_dimension=self._get_param("ScalableDimension"),
    )
    page, next_token = page_or_invalid(
        actions,
        token=self._get_param("NextToken"),
        size=self._get_int_param("MaxResults") or SCHEDULED_ACTIONS_DEFAULT_PAGE,
        limit=SCHEDULED_ACTIONS_MAX_PAGE,
    )
    return json.dumps(
        {"ScheduledActions": [_build_scheduled_action(a) for a in page], "NextToken": next_token}
    )
