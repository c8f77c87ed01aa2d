"""The load-balancing rules that no single AWS request shape can express.

Each of these fails only at apply time, and late: ECS refuses to attach an ``instance`` target group to a Fargate
service when the service is created, after the load balancer, listeners and rules already exist; ELBv2 refuses a
second listener on a port, or a second rule with a priority, one call at a time. Checked here, they become
``FILE:LINE`` problems at ``validate``, all at once. Values of the wrong type are skipped: the shape checker
reports those.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.desired.crosscheck import Candidate
from reconciler.desired.fargate import requires_fargate, runs_on_fargate
from reconciler.desired.spec_checker import SpecProblem
from reconciler.errors import Problem, echoed
from reconciler.model.kinds import (
    LISTENER,
    LISTENER_RULE,
    LOAD_BALANCER,
    SERVICE,
    TARGET_GROUP,
    TASK_DEFINITION,
)
from reconciler.model.references import is_literal, iter_reference_values

IP_TARGET_TYPE = "ip"
_ATTRIBUTE_KINDS = frozenset({LOAD_BALANCER.kind, TARGET_GROUP.kind})


def attribute_problems(*, kind: str, spec: Mapping[str, Any]) -> list[SpecProblem]:
    """A key set twice in ``Attributes``: AWS would apply one of them silently, and drift would never settle."""
    attributes = spec.get("Attributes") if kind in _ATTRIBUTE_KINDS else None
    first_index: dict[str, int] = {}
    problems = []
    for index, attribute in enumerate(attributes if isinstance(attributes, list) else []):
        key = attribute.get("Key") if isinstance(attribute, Mapping) else None
        if not isinstance(key, str):
            continue
        first = first_index.setdefault(key, index)
        if first != index:
            message = f"attribute '{echoed(key)}' is already set by Attributes[{first}]"
            problems.append(SpecProblem(f"Attributes[{index}].Key", message))
    return problems


def load_balancing_problems(candidates: Sequence[Candidate]) -> list[Problem]:
    """Every cross-document load-balancing rule that the desired state breaks."""
    return [
        *_target_type_problems(candidates),
        *_unique_value_problems(
            _of_kind(candidates, LISTENER.kind), scope="LoadBalancerArn", value="Port", noun="port"
        ),
        *_unique_value_problems(
            _of_kind(candidates, LISTENER_RULE.kind), scope="ListenerArn", value="Priority", noun="priority"
        ),
    ]


def _of_kind(candidates: Sequence[Candidate], kind: str) -> list[Candidate]:
    return [candidate for candidate in candidates if candidate.resource.kind == kind]


def _target_type_problems(candidates: Sequence[Candidate]) -> list[Problem]:
    """A target group that a Fargate service registers its tasks in must take them by IP."""
    target_groups = {c.resource.name: c for c in _of_kind(candidates, TARGET_GROUP.kind)}
    users: dict[str, list[Candidate]] = {}
    for service in _fargate_services(candidates):
        for name in _target_group_names(service):
            if name in target_groups and service not in users.setdefault(name, []):
                users[name].append(service)
    return [
        problem
        for name, services in users.items()
        if (problem := _target_type_problem(target_groups[name], services)) is not None
    ]


def _target_type_problem(target_group: Candidate, services: Sequence[Candidate]) -> Problem | None:
    target_type = target_group.resource.spec.get("TargetType")
    if target_type == IP_TARGET_TYPE or (target_type is not None and not isinstance(target_type, str)):
        return None
    used_by = ", ".join(f"'{echoed(s.resource.name)}' ({s.where})" for s in services)
    plural = len(services) > 1
    reason = f"Fargate service{'s' if plural else ''} {used_by} register{'' if plural else 's'} tasks by IP address"
    if target_type is None:
        return target_group.problem("", f"TargetType must be set to ip (AWS's default is instance): {reason}")
    return target_group.problem("TargetType", f"must be ip, not '{echoed(target_type)}': {reason}")


def _fargate_services(candidates: Sequence[Candidate]) -> Iterator[Candidate]:
    task_definitions = {c.resource.name: c.resource.spec for c in _of_kind(candidates, TASK_DEFINITION.kind)}
    for service in _of_kind(candidates, SERVICE.kind):
        spec = service.resource.spec
        family = spec.get("taskDefinition")
        task_spec = task_definitions.get(family) if isinstance(family, str) else None
        if runs_on_fargate(spec) or (task_spec is not None and requires_fargate(task_spec)):
            yield service


def _target_group_names(service: Candidate) -> list[str]:
    return [
        found.value
        for found in iter_reference_values(service.resource)
        if found.reference.target_kind == TARGET_GROUP.kind
        and not is_literal(found.value, found.reference.target_kind)
    ]


def _unique_value_problems(
    candidates: Sequence[Candidate], *, scope: str, value: str, noun: str
) -> list[Problem]:
    """Every second and later document that repeats ``value`` within the same ``scope`` (as written)."""
    first_seen: dict[tuple[str, int], Candidate] = {}
    problems = []
    for candidate in candidates:
        key = _scoped_value(candidate.resource.spec, scope=scope, value=value)
        if key is None:
            continue
        first = first_seen.setdefault(key, candidate)
        if first is not candidate:
            owner, number = key
            message = (
                f"{noun} {number} of '{echoed(owner)}' is already used by {first.resource.kind} "
                f"'{echoed(first.resource.name)}' ({first.where})"
            )
            problems.append(candidate.problem(value, message))
    return problems


def _scoped_value(spec: Mapping[str, Any], *, scope: str, value: str) -> tuple[str, int] | None:
    owner, number = spec.get(scope), spec.get(value)
    if isinstance(owner, str) and isinstance(number, int) and not isinstance(number, bool):
        return owner, number
    return None
