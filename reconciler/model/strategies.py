"""ECS's own deployment strategies, as documents and DescribeServices write them: a service whose
``deploymentConfiguration.strategy`` is BLUE_GREEN, LINEAR or CANARY is deployed by ECS onto the other target group
of each pair (``loadBalancers[].advancedConfiguration``), and ECS moves the forward weights of the production and
test listener rules between the two. The facts ``desired`` checks and ``plan`` plans by. Pure; values of the wrong
type are skipped (the shape checker reports them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLLING = "ROLLING"
TRAFFIC_SHIFTING = frozenset(
    {"BLUE_GREEN", "LINEAR", "CANARY"}
)  # ECS moves traffic between two target groups


def strategy_of(spec: Mapping[str, Any]) -> str:
    """A Service spec's deployment strategy (AWS's default: ROLLING); "" when it is not a string."""
    config = spec.get("deploymentConfiguration")
    strategy = config.get("strategy", ROLLING) if isinstance(config, Mapping) else ROLLING
    return strategy if isinstance(strategy, str) else ""


def shifts_traffic(spec: Mapping[str, Any]) -> bool:
    """Whether ECS deploys the service itself onto the other target group of each pair."""
    return strategy_of(spec) in TRAFFIC_SHIFTING


@dataclass(frozen=True)
class ShiftedBalancer:
    """One ``loadBalancers[index]`` with an ``advancedConfiguration``: its pair, and the rules ECS shifts.
    Fields the document leaves out (or writes with another type) are ""."""

    index: int
    target_group: str
    alternate: str
    production_rule: str
    test_rule: str
    role: str

    @property
    def pair(self) -> frozenset[str]:
        return frozenset(group for group in (self.target_group, self.alternate) if group)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(rule for rule in (self.production_rule, self.test_rule) if rule)


def shifted_balancers(spec: Mapping[str, Any]) -> list[ShiftedBalancer]:
    """Every load balancer of a Service spec (or a DescribeServices entry) that has an ``advancedConfiguration``."""
    balancers = spec.get("loadBalancers")
    found = []
    for index, balancer in enumerate(balancers if isinstance(balancers, list) else ()):
        advanced = balancer.get("advancedConfiguration") if isinstance(balancer, Mapping) else None
        if isinstance(advanced, Mapping):
            found.append(
                ShiftedBalancer(
                    index=index,
                    target_group=_text(balancer.get("targetGroupArn")),
                    alternate=_text(advanced.get("alternateTargetGroupArn")),
                    production_rule=_text(advanced.get("productionListenerRule")),
                    test_rule=_text(advanced.get("testListenerRule")),
                    role=_text(advanced.get("roleArn")),
                )
            )
    return found


def forwarded_groups(actions: Any) -> frozenset[str]:
    """The target groups a rule's (or a listener's) actions forward to, as written."""
    found: set[str] = set()
    for action in actions if isinstance(actions, list) else ():
        if not isinstance(action, Mapping) or action.get("Type") != "forward":
            continue
        forward = action.get("ForwardConfig")
        groups = forward.get("TargetGroups") if isinstance(forward, Mapping) else None
        for group in groups if isinstance(groups, list) else ():
            if isinstance(group, Mapping) and isinstance(group.get("TargetGroupArn"), str):
                found.add(group["TargetGroupArn"])
        if isinstance(action.get("TargetGroupArn"), str):
            found.add(action["TargetGroupArn"])
    return frozenset(found)


def with_role_arns(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` (a Service's, references resolved to ARNs) with each role of ECS's traffic shift and lifecycle hooks
    that the document names by name written as an ARN. ECS documents these fields as ARNs, and a document may name
    the role as it names any role; the partition and account are those of a sibling ARN the request carries (the
    alternate target group, the hook's function). A role under a path must be written as its ARN: its name alone
    does not say the path. A name with no sibling ARN to take them from is left as written."""
    result = dict(spec)
    balancers = spec.get("loadBalancers")
    if isinstance(balancers, list):
        result["loadBalancers"] = [_balancer_role_as_arn(balancer) for balancer in balancers]
    config = spec.get("deploymentConfiguration")
    hooks = config.get("lifecycleHooks") if isinstance(config, Mapping) else None
    if isinstance(config, Mapping) and isinstance(hooks, list):
        result["deploymentConfiguration"] = {
            **config,
            "lifecycleHooks": [_with_role_arn(hook, "hookTargetArn") for hook in hooks],
        }
    return result


def _balancer_role_as_arn(balancer: Any) -> Any:
    advanced = balancer.get("advancedConfiguration") if isinstance(balancer, Mapping) else None
    if not isinstance(advanced, Mapping):
        return balancer
    return {**balancer, "advancedConfiguration": _with_role_arn(advanced, "alternateTargetGroupArn")}


def _with_role_arn(holder: Any, sibling: str) -> Any:
    """``holder`` with its ``roleArn`` as an ARN in the partition and account of its ``sibling`` ARN."""
    if not isinstance(holder, Mapping):
        return holder
    role, arn = holder.get("roleArn"), holder.get(sibling)
    if not isinstance(role, str) or not role or role.startswith("arn:") or not isinstance(arn, str):
        return holder
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[4]:
        return holder
    return {**holder, "roleArn": f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
