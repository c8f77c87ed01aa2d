"""The Fargate rules (docs/desired-state.md, "Fargate") that the AWS request shapes cannot express.

AWS only rejects these at call time, one at a time, often minutes into an apply; checking them offline turns a
failed deploy into a ``FILE:LINE`` at ``validate``. The rules read ``spec`` defensively: the shape checker
reports wrong types, so a value of the wrong type is simply skipped here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.desired.spec_checker import SpecProblem
from reconciler.errors import echoed
from reconciler.model.kinds import SERVICE, TASK_DEFINITION
from reconciler.model.units import FARGATE_MEMORY_BY_CPU, task_cpu_units, task_memory_mib

FARGATE = "FARGATE"
_FARGATE_PROVIDERS = frozenset({FARGATE, "FARGATE_SPOT"})


def runs_on_fargate(spec: Mapping[str, Any]) -> bool:
    """True when a Service ``spec`` places its tasks on Fargate by itself: launch type or capacity provider."""
    if spec.get("launchType") == FARGATE:
        return True
    strategy = spec.get("capacityProviderStrategy")
    items = strategy if isinstance(strategy, list) else []
    return any(
        isinstance(item, Mapping) and item.get("capacityProvider") in _FARGATE_PROVIDERS for item in items
    )


def fargate_problems(*, kind: str, spec: Mapping[str, Any]) -> list[SpecProblem]:
    """Every Fargate rule that ``spec`` of ``kind`` breaks."""
    if kind == TASK_DEFINITION.kind and requires_fargate(spec):
        return [*_network_mode_problems(spec), *_task_size_problems(spec), *_host_port_problems(spec)]
    if kind == SERVICE.kind and spec.get("launchType") == FARGATE:
        return _service_subnet_problems(spec)
    return []


def requires_fargate(spec: Mapping[str, Any]) -> bool:
    """True when a TaskDefinition ``spec`` lists FARGATE in ``requiresCompatibilities``."""
    compatibilities = spec.get("requiresCompatibilities")
    return isinstance(compatibilities, list) and FARGATE in compatibilities


def _network_mode_problems(spec: Mapping[str, Any]) -> list[SpecProblem]:
    network_mode = spec.get("networkMode")
    if network_mode == "awsvpc":
        return []
    where = "networkMode" if network_mode is not None else "requiresCompatibilities"
    return [
        SpecProblem(
            where, f"a FARGATE task definition needs networkMode: awsvpc, not {echoed(repr(network_mode))}"
        )
    ]


def _task_size_problems(spec: Mapping[str, Any]) -> list[SpecProblem]:
    missing = [name for name in ("cpu", "memory") if spec.get(name) is None]
    if missing:
        message = f"a FARGATE task definition needs task-level {' and '.join(missing)}"
        return [SpecProblem("requiresCompatibilities", message)]
    cpu_units, memory_mib = task_cpu_units(spec["cpu"]), task_memory_mib(spec["memory"])
    problems = []
    if cpu_units is None:
        problems.append(
            SpecProblem("cpu", f"cannot read cpu {echoed(repr(spec['cpu']))} (write e.g. '256' or '1 vCPU')")
        )
    if memory_mib is None:
        problems.append(
            SpecProblem(
                "memory", f"cannot read memory {echoed(repr(spec['memory']))} (write e.g. '512' or '2 GB')"
            )
        )
    if cpu_units is None or memory_mib is None:
        return problems
    return _fargate_pair_problems(cpu_units=cpu_units, memory_mib=memory_mib)


def _fargate_pair_problems(*, cpu_units: int, memory_mib: int) -> list[SpecProblem]:
    if cpu_units not in FARGATE_MEMORY_BY_CPU:
        valid_cpus = ", ".join(str(cpu) for cpu in FARGATE_MEMORY_BY_CPU)
        return [SpecProblem("cpu", f"Fargate has no task size with cpu {cpu_units} (valid: {valid_cpus})")]
    allowed = FARGATE_MEMORY_BY_CPU[cpu_units]
    if memory_mib in allowed:
        return []
    message = (
        f"Fargate does not run cpu {cpu_units} with memory {memory_mib} MiB "
        f"(valid memory for cpu {cpu_units}: {allowed[0]}..{allowed[-1]} MiB in steps of "
        f"{_step_of(allowed)})"
    )
    return [SpecProblem("memory", message)]


def _step_of(allowed: tuple[int, ...]) -> int:
    return allowed[1] - allowed[0] if len(allowed) > 1 else allowed[0]


def _host_port_problems(spec: Mapping[str, Any]) -> list[SpecProblem]:
    problems = []
    for container_index, container in _mappings_in(spec, "containerDefinitions"):
        for port_index, mapping in _mappings_in(container, "portMappings"):
            host_port, container_port = mapping.get("hostPort"), mapping.get("containerPort")
            if host_port is not None and host_port != container_port:
                path = f"containerDefinitions[{container_index}].portMappings[{port_index}].hostPort"
                message = f"under awsvpc hostPort must equal containerPort ({container_port}) or be left out"
                problems.append(SpecProblem(path, message))
    return problems


def _mappings_in(parent: Mapping[str, Any], key: str) -> list[tuple[int, Mapping[str, Any]]]:
    items = parent.get(key)
    if not isinstance(items, list):
        return []
    return [(index, item) for index, item in enumerate(items) if isinstance(item, Mapping)]


def _service_subnet_problems(spec: Mapping[str, Any]) -> list[SpecProblem]:
    network = spec.get("networkConfiguration")
    vpc = network.get("awsvpcConfiguration") if isinstance(network, Mapping) else None
    subnets = vpc.get("subnets") if isinstance(vpc, Mapping) else None
    if subnets:
        return []
    message = "a FARGATE service needs networkConfiguration.awsvpcConfiguration.subnets"
    return [SpecProblem("launchType", message)]
