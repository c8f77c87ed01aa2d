"""The rules of ECS's own deployment strategies (BLUE_GREEN, LINEAR, CANARY) that the request shapes cannot express.

ECS refuses these only when the service is created or updated, after its target groups, rules and roles exist, or
worse, accepts them and fails the first deployment. Checked here, they are ``FILE:LINE`` problems at ``validate``:

- the fields of a strategy only with that strategy (``linearConfiguration`` with LINEAR, ``canaryConfiguration``
  with CANARY; ``bakeTimeInMinutes``, ``lifecycleHooks`` and ``loadBalancers[].advancedConfiguration`` with one of
  the three), and the three only with the ECS deployment controller;
- the ranges of the ECS API Reference: ``bakeTimeInMinutes``, ``stepBakeTimeInMinutes`` and
  ``canaryBakeTimeInMinutes`` 0 to 1440 minutes, ``stepPercent`` 3.0 to 100.0 and ``canaryPercent`` 0.1 to 100.0
  in multiples of 0.1 (DeploymentConfiguration, LinearConfiguration, CanaryConfiguration); BLUE_GREEN needs
  ``bakeTimeInMinutes``;
- lifecycle hooks (DeploymentLifecycleHook): an AWS_LAMBDA hook (the default ``targetType``) names a Lambda
  function by ARN and the role ECS invokes it with; a PAUSE hook names no target and cannot pause the traffic shifts
  themselves (TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT); each hook lists its stages, once each;
- each load balancer of such a service has an ``advancedConfiguration`` with the other target group of its pair,
  the production rule and the role ECS moves traffic with; across documents, both rules forward to exactly the
  pair, on listeners of one load balancer (``across_documents``).

A target group of the pair that a Fargate service registers in must be ``ip``, as any (``load_balancing``).
Values of the wrong type are skipped: the shape checker reports those.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.desired.crosscheck import Candidate
from reconciler.desired.spec_checker import SpecProblem
from reconciler.errors import Problem, echoed
from reconciler.model.kinds import LISTENER_RULE, SERVICE
from reconciler.model.references import is_literal
from reconciler.model.strategies import (
    ROLLING,
    TRAFFIC_SHIFTING,
    ShiftedBalancer,
    forwarded_groups,
    shifted_balancers,
    strategy_of,
)

ECS_CONTROLLER = "ECS"
MAX_BAKE_MINUTES = 1440  # 24 hours, for every bake time of the three strategies
# (field, lowest, highest) of the percentages, each a multiple of 0.1
STEP_PERCENT = ("stepPercent", 3.0, 100.0)
CANARY_PERCENT = ("canaryPercent", 0.1, 100.0)
# field of deploymentConfiguration → the strategies it belongs to
STRATEGY_FIELDS: Mapping[str, frozenset[str]] = {
    "linearConfiguration": frozenset({"LINEAR"}),
    "canaryConfiguration": frozenset({"CANARY"}),
    "bakeTimeInMinutes": TRAFFIC_SHIFTING,
    "lifecycleHooks": TRAFFIC_SHIFTING,
}
LAMBDA, PAUSE = "AWS_LAMBDA", "PAUSE"
PAUSE_REFUSED_STAGES = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})
# arn:<partition>:lambda:<region>:<account>:function:<name>[:<version or alias>]
LAMBDA_FUNCTION_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]+))?"
)


def strategy_problems(*, kind: str, spec: Mapping[str, Any]) -> list[SpecProblem]:
    """Every rule of one Service document that its deployment strategy breaks."""
    if kind != SERVICE.kind:
        return []
    config = spec.get("deploymentConfiguration")
    config = config if isinstance(config, Mapping) else {}
    strategy = strategy_of(spec)
    return [
        *_controller_problems(spec, strategy),
        *_field_problems(config, strategy),
        *_range_problems(config),
        *_hook_problems(config.get("lifecycleHooks")),
        *_balancer_problems(spec, strategy),
    ]


def _controller_problems(spec: Mapping[str, Any], strategy: str) -> list[SpecProblem]:
    controller = spec.get("deploymentController")
    kind = controller.get("type", ECS_CONTROLLER) if isinstance(controller, Mapping) else ECS_CONTROLLER
    if not isinstance(kind, str) or kind == ECS_CONTROLLER:
        return []
    why = f"only the ECS deployment controller runs it, not {echoed(kind)}"
    problems = [
        SpecProblem(
            f"loadBalancers[{b.index}].advancedConfiguration", f"ECS's blue/green traffic shifting: {why}"
        )
        for b in shifted_balancers(spec)
    ]
    if strategy in TRAFFIC_SHIFTING:
        problems.append(SpecProblem("deploymentConfiguration.strategy", f"{strategy}: {why}"))
    return problems


def _field_problems(config: Mapping[str, Any], strategy: str) -> list[SpecProblem]:
    problems = [
        SpecProblem(
            f"deploymentConfiguration.{field}",
            f"only a {' or '.join(sorted(owners))} deployment takes it, and the strategy is {strategy or ROLLING}",
        )
        for field, owners in STRATEGY_FIELDS.items()
        if field in config and strategy and strategy not in owners
    ]
    if strategy == "BLUE_GREEN" and "bakeTimeInMinutes" not in config:
        problems.append(
            SpecProblem(
                "deploymentConfiguration.strategy",
                "a BLUE_GREEN deployment needs bakeTimeInMinutes (0 to 1440): how long both revisions run once"
                " production traffic has moved",
            )
        )
    return problems


def _range_problems(config: Mapping[str, Any]) -> list[SpecProblem]:
    minutes: list[tuple[str, Any]] = [("bakeTimeInMinutes", config.get("bakeTimeInMinutes"))]
    percents: list[tuple[str, Any, float, float]] = []
    for block, bake, (percent, low, high) in (
        ("linearConfiguration", "stepBakeTimeInMinutes", STEP_PERCENT),
        ("canaryConfiguration", "canaryBakeTimeInMinutes", CANARY_PERCENT),
    ):
        settings = config.get(block)
        if isinstance(settings, Mapping):
            minutes.append((f"{block}.{bake}", settings.get(bake)))
            percents.append((f"{block}.{percent}", settings.get(percent), low, high))
    problems = [
        SpecProblem(
            f"deploymentConfiguration.{path}", f"must be 0 to {MAX_BAKE_MINUTES} minutes, not {value}"
        )
        for path, value in minutes
        if _number(value) and not 0 <= value <= MAX_BAKE_MINUTES
    ]
    problems += [
        SpecProblem(
            f"deploymentConfiguration.{path}", f"must be a multiple of 0.1 from {low} to {high}, not {value}"
        )
        for path, value, low, high in percents
        if _number(value) and not (low <= value <= high and abs(value * 10 - round(value * 10)) < 1e-6)
    ]
    return problems


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _hook_problems(hooks: Any) -> list[SpecProblem]:
    problems = []
    for index, hook in enumerate(hooks if isinstance(hooks, list) else ()):
        if isinstance(hook, Mapping):
            problems += [
                SpecProblem(f"deploymentConfiguration.lifecycleHooks[{index}]{path}", message)
                for path, message in _hook(hook)
            ]
    return problems


def _hook(hook: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path under the hook, message) of each problem of one lifecycle hook."""
    target_type = hook.get("targetType", LAMBDA)
    target = hook.get("hookTargetArn")
    stages = hook.get("lifecycleStages")
    if target_type == LAMBDA:
        if target is None:
            yield "", "an AWS_LAMBDA hook needs hookTargetArn: the ARN of the Lambda function ECS invokes"
        elif isinstance(target, str) and not LAMBDA_FUNCTION_ARN.fullmatch(target):
            yield (
                ".hookTargetArn",
                (
                    f"'{echoed(target)}' is not a Lambda function ARN "
                    "(arn:aws:lambda:<region>:<account>:function:<name>[:<version or alias>])"
                ),
            )
        if not hook.get("roleArn"):
            yield "", "an AWS_LAMBDA hook needs roleArn: the role that lets ECS invoke the function"
    elif target_type == PAUSE:
        if target is not None:
            yield ".hookTargetArn", "a PAUSE hook has no target: it waits for ContinueServiceDeployment"
        for stage in sorted(set(stages) & PAUSE_REFUSED_STAGES if isinstance(stages, list) else ()):
            yield ".lifecycleStages", f"a PAUSE hook cannot pause {stage}: only an AWS_LAMBDA hook runs there"
    if stages is None or stages == []:
        yield "", "a hook needs lifecycleStages: the stages at which ECS runs it"
    elif isinstance(stages, list):
        repeated = sorted({s for s in stages if isinstance(s, str) and stages.count(s) > 1})
        if repeated:
            yield ".lifecycleStages", f"{', '.join(repeated)} listed more than once"


def _balancer_problems(spec: Mapping[str, Any], strategy: str) -> list[SpecProblem]:
    shifted = {b.index: b for b in shifted_balancers(spec)}
    problems = []
    if strategy and strategy not in TRAFFIC_SHIFTING:
        problems += [
            SpecProblem(
                f"loadBalancers[{index}].advancedConfiguration",
                f"only a BLUE_GREEN, LINEAR or CANARY deployment shifts traffic, and the strategy is {strategy}",
            )
            for index in shifted
        ]
        return problems
    balancers = spec.get("loadBalancers")
    for index, balancer in enumerate(balancers if isinstance(balancers, list) else ()):
        if index in shifted:
            problems += _advanced_problems(shifted[index])
        elif strategy and isinstance(balancer, Mapping) and balancer.get("targetGroupArn"):
            problems.append(
                SpecProblem(
                    f"loadBalancers[{index}]",
                    f"a {strategy} deployment moves traffic to the other target group of a pair: set "
                    "advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn)",
                )
            )
    return problems


def _advanced_problems(balancer: ShiftedBalancer) -> Iterator[SpecProblem]:
    where = f"loadBalancers[{balancer.index}].advancedConfiguration"
    for field, what in (
        ("alternateTargetGroupArn", "the other target group of the pair"),
        ("productionListenerRule", "the rule whose traffic ECS moves"),
        ("roleArn", "the role ECS calls Elastic Load Balancing with"),
    ):
        if not getattr(balancer, _ATTRIBUTES[field]):
            yield SpecProblem(where, f"{field} is required: {what}")
    if balancer.alternate and balancer.alternate == balancer.target_group:
        yield SpecProblem(
            f"{where}.alternateTargetGroupArn",
            f"'{echoed(balancer.alternate)}' is targetGroupArn itself: the pair needs two target groups",
        )
    if balancer.test_rule and balancer.test_rule == balancer.production_rule:
        yield SpecProblem(
            f"{where}.testListenerRule",
            f"'{echoed(balancer.test_rule)}' is the production rule too: test traffic needs a rule of its own",
        )


_ATTRIBUTES = {
    "alternateTargetGroupArn": "alternate",
    "productionListenerRule": "production_rule",
    "roleArn": "role",
}


# --- Across documents ----------------------------------------------------------------------------------------


def across_documents(candidates: Sequence[Candidate]) -> list[Problem]:
    """Every shifted load balancer whose rules do not forward to exactly its pair, or hang on listeners of two
    load balancers."""
    rules = {c.resource.name: c for c in candidates if c.resource.kind == LISTENER_RULE.kind}
    facts = {name: rule_facts(c.resource.spec) for name, c in rules.items()}
    problems = []
    for service in candidates:
        if service.resource.kind != SERVICE.kind:
            continue
        for balancer in shifted_balancers(service.resource.spec):
            where = f"loadBalancers[{balancer.index}].advancedConfiguration"
            for field, name in (("productionListenerRule", balancer.production_rule),
                                ("testListenerRule", balancer.test_rule)):  # fmt: skip
                if name in rules and not forwards_to_pair(facts[name][1], balancer.pair):
                    groups = ", ".join(sorted(facts[name][1])) or "nothing"
                    message = (
                        f"ListenerRule '{echoed(name)}' ({rules[name].where}) forwards to {echoed(groups)}: ECS moves"
                        f" its weights between the pair {', '.join(sorted(balancer.pair))}, so it must forward to"
                        " exactly those two"
                    )
                    problems.append(service.problem(f"{where}.{field}", message))
            listeners = [(name, facts[name][0]) for name in balancer.rules if name in rules]
            if len(listeners) == 2 and on_two_load_balancers(listeners[0][1], listeners[1][1]):
                message = (
                    f"the production rule is on listener {echoed(listeners[0][1])}, the test rule on "
                    f"{echoed(listeners[1][1])}: both must be listeners of one load balancer"
                )
                problems.append(service.problem(f"{where}.testListenerRule", message))
    return problems


def rule_facts(spec: Mapping[str, Any]) -> tuple[str, frozenset[str]]:
    """A ListenerRule spec's listener as written, and the target groups it forwards to."""
    listener = spec.get("ListenerArn")
    return (listener if isinstance(listener, str) else "", forwarded_groups(spec.get("Actions")))


def forwards_to_pair(groups: frozenset[str], pair: frozenset[str]) -> bool:
    """False only when the rule surely forwards elsewhere than the pair: a name and an ARN may name one group."""
    if len(pair) != 2 or any(is_literal(g, "TargetGroup") for g in groups | pair):
        return True
    return groups == pair


def on_two_load_balancers(one: str, other: str) -> bool:
    """Whether two listeners, each written ``load-balancer:port`` or as an ARN, surely belong to two load
    balancers."""
    first, second = _load_balancer_of(one), _load_balancer_of(other)
    if not first or not second or is_literal(one, "Listener") != is_literal(other, "Listener"):
        return False
    return first != second


def _load_balancer_of(listener: str) -> str:
    if is_literal(listener, "Listener"):  # arn:…:listener/app/<name>/<id>/<listener id>
        parts = listener.split(":", 5)[-1].split("/")
        return "/".join(parts[1:4]) if len(parts) == 5 else ""
    return listener.rsplit(":", 1)[0] if ":" in listener else ""
