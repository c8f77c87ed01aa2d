"""ELBv2 listeners and rules: how actions and conditions come back, and reordering rules.

The reconciler diffs listeners and rules as DescribeListeners/DescribeRules print them and
reorders rules with SetRulePriorities. moto returned only the form a request used, so a normaliser for AWS's
two forms would go untested, and it refused every swap of priorities.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from moto.elbv2.exceptions import (
    DuplicatePriorityError,
    ELBClientError,
    PriorityInUseError,
    RuleNotFoundError,
)
from moto.elbv2.models import ELBv2Backend, FakeAction

from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method

# Condition fields whose values AWS returns both as legacy ``Values`` and in their ``*Config``.
DUAL_FORM_CONDITIONS = {"host-header": "HostHeaderConfig", "path-pattern": "PathPatternConfig"}


def apply() -> None:
    replace_method(FakeAction, "__init__", _forward_in_both_forms)
    replace_method(ELBv2Backend, "create_rule", _conditions_in_both_forms)
    replace_method(ELBv2Backend, "modify_rule", _conditions_in_both_forms)
    add_method(ELBv2Backend, "set_rule_priorities", _set_rule_priorities_together)


def _forward_in_both_forms(original: Method) -> Method:
    """AWS returns a forward to one target group with both ``TargetGroupArn`` and a one-entry
    ``ForwardConfig`` (weight 1, stickiness off), whichever form the request used. moto returned only the
    form of the request."""

    def init(self: Any, data: dict[str, Any]) -> None:
        original(self, data)
        if self.type != "forward":
            return
        forward = data.get("ForwardConfig")
        if forward is None and data.get("TargetGroupArn"):
            data["ForwardConfig"] = {
                "TargetGroups": [{"TargetGroupArn": data["TargetGroupArn"], "Weight": 1}],
                "TargetGroupStickinessConfig": {"Enabled": False},
            }
        elif forward is not None and len(forward.get("TargetGroups", [])) == 1:
            data.setdefault("TargetGroupArn", forward["TargetGroups"][0]["TargetGroupArn"])
        self.__dict__.update(data)

    return init


def _conditions_in_both_forms(original: Method) -> Method:
    """AWS returns ``host-header`` and ``path-pattern`` conditions both as ``Values`` and as
    ``HostHeaderConfig``/``PathPatternConfig``, whichever form the request used (it accepts only one form
    in a request). moto returned only the form of the request."""

    def create_or_modify(self: Any, *args: Any, **kwargs: Any) -> Any:
        rule = original(self, *args, **kwargs)
        rule.conditions = [with_both_forms(condition) for condition in rule.conditions]
        return rule

    return create_or_modify


def with_both_forms(condition: dict[str, Any]) -> dict[str, Any]:
    config = DUAL_FORM_CONDITIONS.get(condition.get("Field", ""))
    if config is None:
        return condition
    values = condition.get(config, {}).get("Values") or condition.get("Values") or []
    return {**condition, "Values": list(values), config: {"Values": list(values)}}


def _set_rule_priorities_together(self: Any, rule_priorities: list[dict[str, Any]]) -> list[Any]:
    """AWS's SetRulePriorities applies all the new priorities together: a swap, or a move onto a priority
    that another rule of the same call leaves, succeeds; only an end state where two rules of a listener
    share a priority fails (PriorityInUse). moto refused any priority in use before the call."""
    requested = [int(item["Priority"]) for item in rule_priorities]
    repeated = [priority for priority, count in Counter(requested).items() if count > 1]
    if repeated:
        raise DuplicatePriorityError(str(repeated[0]))
    rules = [_rule_by_arn(self, item["RuleArn"]) for item in rule_priorities]
    if any(rule.is_default for rule in rules):
        raise ELBClientError("OperationNotPermitted", "The default rule's priority cannot be changed")
    moved = {rule.arn: priority for rule, priority in zip(rules, requested, strict=True)}
    for listener_arn in {rule.listener_arn for rule in rules}:
        listener = self.describe_listeners(None, [listener_arn])[0]
        final = [int(moved.get(r.arn, r.priority)) for r in listener.rules.values() if not r.is_default]
        if len(final) != len(set(final)):
            raise PriorityInUseError()
    for rule in rules:
        rule.priority = moved[rule.arn]
    return rules


def _rule_by_arn(self: Any, arn: str) -> Any:
    for balancer in self.load_balancers.values():
        for listener in balancer.listeners.values():
            for rule in listener.rules.values():
                if rule.arn == arn:
                    return rule
    raise RuleNotFoundError()
