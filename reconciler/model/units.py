"""Task-level ``cpu`` and ``memory`` as ECS reads them, and the pairs Fargate accepts.

ECS accepts ``"1 vCPU"``, ``"0.25 vCPU"``, ``"1024"``, ``"2 GB"`` and ``"2048"`` for the same sizes, and
describes them back as plain numbers. Validation (``desired``) and normalisation (``plan``) must read them
the same way, so the parsing lives here, once.
"""

from __future__ import annotations

import re

_CPU_UNITS_PER_VCPU = 1024
_MIB_PER_GB = 1024

_NUMBER_WITH_UNIT = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[A-Za-z]*)\s*$")
_CPU_UNIT_SCALE = {"": 1, "vcpu": _CPU_UNITS_PER_VCPU}
_MEMORY_UNIT_SCALE = {"": 1, "mib": 1, "mb": 1, "gib": _MIB_PER_GB, "gb": _MIB_PER_GB}

# Fargate's valid task sizes: cpu units → the memory sizes (MiB) allowed with it.
FARGATE_MEMORY_BY_CPU: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}


def task_cpu_units(value: object) -> int | None:
    """CPU units (1024 per vCPU) of a task-level ``cpu`` value, or None when it cannot be read."""
    return _scaled_whole_number(value, scales=_CPU_UNIT_SCALE)


def task_memory_mib(value: object) -> int | None:
    """MiB of a task-level ``memory`` value (``"2 GB"`` → 2048), or None when it cannot be read."""
    return _scaled_whole_number(value, scales=_MEMORY_UNIT_SCALE)


def is_valid_fargate_size(*, cpu_units: int, memory_mib: int) -> bool:
    """True when Fargate runs a task of this cpu/memory pair."""
    return memory_mib in FARGATE_MEMORY_BY_CPU.get(cpu_units, ())


def _scaled_whole_number(value: object, *, scales: dict[str, int]) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if not isinstance(value, str):
        return None
    match = _NUMBER_WITH_UNIT.match(value)
    if match is None or match["unit"].lower() not in scales:
        return None
    amount = float(match["number"]) * scales[match["unit"].lower()]
    return int(amount) if amount.is_integer() and amount > 0 else None
