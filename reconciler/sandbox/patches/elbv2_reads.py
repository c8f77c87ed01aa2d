"""ELBv2 reads and tags: Marker/PageSize paging, DescribeTags limits, and the tag quota.

The ELBv2 readers page with PageSize 400 and read tags 20 ARNs at a time. moto paged two
of the four Describe calls (by 50, whatever PageSize said) and ignored paging on the others, answered
DescribeTags for any number of ARNs, even ones that do not exist, and capped tags at 10 (AWS: 50), which
the ownership tags plus a user's own would exceed.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.elbv2.exceptions import (
    ListenerNotFoundError,
    ListenerOrBalancerMissingError,
    LoadBalancerNotFoundError,
    RuleNotFoundError,
    TargetGroupNotFoundError,
    TooManyTagsError,
    ValidationError,
)
from moto.elbv2.models import ELBv2Backend
from moto.elbv2.responses import ELBV2Response

from reconciler.sandbox.patches._wrapping import add_method
from reconciler.sandbox.patches.paging import offset_page

MAX_PAGE_SIZE = 400
DESCRIBE_TAGS_LIMIT = 20
TAGS_PER_RESOURCE = 50


def apply() -> None:
    add_method(ELBV2Response, "describe_load_balancers", _describe_load_balancers)
    add_method(ELBV2Response, "describe_target_groups", _describe_target_groups)
    add_method(ELBV2Response, "describe_listeners", _describe_listeners)
    add_method(ELBV2Response, "describe_rules", _describe_rules)
    add_method(ELBv2Backend, "describe_tags", _describe_tags)
    add_method(ELBv2Backend, "add_tags", _add_tags)


def _page(response: Any, items: list[Any]) -> tuple[list[Any], str | None]:
    """AWS pages every ELBv2 Describe call: PageSize 1 to 400 (ValidationError beyond), 400 when not given,
    and ``NextMarker`` until the last page. moto paged DescribeLoadBalancers and DescribeRules by 50 and the
    others not at all."""
    size = response._get_int_param("PageSize", MAX_PAGE_SIZE)
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"1 validation error detected: Value '{size}' at 'pageSize' failed to satisfy constraint: "
            f"Member must have value between 1 and {MAX_PAGE_SIZE}"
        )
    try:
        return offset_page(items, token=response._get_param("Marker"), size=size)
    except ValueError as error:
        raise ValidationError("The marker is not valid") from error


def _describe_load_balancers(self: Any) -> ActionResult:
    balancers = self.elbv2_backend.describe_load_balancers(
        self._get_param("LoadBalancerArns", []), self._get_param("Names", [])
    )
    page, marker = _page(self, list(balancers))
    return ActionResult({"LoadBalancers": page, "NextMarker": marker})


def _describe_target_groups(self: Any) -> ActionResult:
    groups = self.elbv2_backend.describe_target_groups(
        self._get_param("LoadBalancerArn"),
        self._get_param("TargetGroupArns", []),
        self._get_param("Names", []),
    )
    page, marker = _page(self, list(groups))
    return ActionResult({"TargetGroups": page, "NextMarker": marker})


def _describe_listeners(self: Any) -> ActionResult:
    load_balancer_arn = self._get_param("LoadBalancerArn")
    listener_arns = self._get_param("ListenerArns", [])
    if not load_balancer_arn and not listener_arns:
        raise ListenerOrBalancerMissingError()
    listeners = self.elbv2_backend.describe_listeners(load_balancer_arn, listener_arns)
    page, marker = _page(self, list(listeners))
    return ActionResult({"Listeners": page, "NextMarker": marker})


def _describe_rules(self: Any) -> ActionResult:
    rules = self.elbv2_backend.describe_rules(self._get_param("ListenerArn"), self._get_param("RuleArns"))
    page, marker = _page(self, list(rules))
    return ActionResult({"Rules": page, "NextMarker": marker})


def _describe_tags(self: Any, resource_arns: list[str]) -> dict[str, dict[str, str]]:
    """AWS's DescribeTags takes at most 20 ARNs (ValidationError beyond) and fails for an ARN that does not
    exist (LoadBalancerNotFound, TargetGroupNotFound, ListenerNotFound, RuleNotFound). moto took any number
    and returned empty tags for resources that were gone."""
    if len(resource_arns) > DESCRIBE_TAGS_LIMIT:
        raise ValidationError(
            f"1 validation error detected: Value at 'resourceArns' failed to satisfy constraint: "
            f"Member must have length less than or equal to {DESCRIBE_TAGS_LIMIT}"
        )
    for arn in resource_arns:
        _require_resource(self, arn)
    return {arn: self.tagging_service.get_tag_dict_for_resource(arn) for arn in resource_arns}


def _require_resource(backend: Any, arn: str) -> None:
    if ":targetgroup/" in arn:
        if arn not in backend.target_groups:
            raise TargetGroupNotFoundError()
        return
    balancer = backend.load_balancers.get(_load_balancer_arn_of(arn))
    if balancer is None:
        raise LoadBalancerNotFoundError()
    if ":listener-rule/" in arn:
        listener = balancer.listeners.get(arn.replace(":listener-rule/", ":listener/").rsplit("/", 1)[0])
        if listener is None or all(rule.arn != arn for rule in listener.rules.values()):
            raise RuleNotFoundError()
    elif ":listener/" in arn and arn not in balancer.listeners:
        raise ListenerNotFoundError()


def _load_balancer_arn_of(arn: str) -> str:
    """loadbalancer/app/NAME/ID, listener/app/NAME/ID/L, listener-rule/app/NAME/ID/L/R → the load balancer."""
    prefix, _, path = (
        arn.partition(":listener-rule/") if ":listener-rule/" in arn else arn.partition(":listener/")
    )
    if not path:
        return arn
    kind, name, balancer_id = path.split("/")[:3]
    return f"{prefix}:loadbalancer/{kind}/{name}/{balancer_id}"


def _add_tags(self: Any, resource_arns: list[str], tags: list[dict[str, str]]) -> None:
    """AWS allows 50 tags per ELBv2 resource (TooManyTags beyond, counting keys already there); moto allowed
    10, and checked the count before adding rather than after."""
    new_tags = self.tagging_service.flatten_tag_list(tags)
    for arn in resource_arns:
        _require_resource(self, arn)
        existing = self.tagging_service.get_tag_dict_for_resource(arn)
        if len(set(existing) | set(new_tags)) > TAGS_PER_RESOURCE:
            raise TooManyTagsError()
        self.tagging_service.tag_resource(arn, tags)
