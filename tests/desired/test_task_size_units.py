"""Task-level cpu/memory parsing (shared with ``plan``) and the Fargate size table."""

from __future__ import annotations

import pytest

from reconciler.model.units import is_valid_fargate_size, task_cpu_units, task_memory_mib


@pytest.mark.parametrize(
    ("value", "units"),
    [
        ("256", 256),
        (256, 256),
        ("1 vCPU", 1024),
        ("0.25 vCPU", 256),
        ("2vcpu", 2048),
        (" 4 VCPU ", 4096),
        ("0.1 vCPU", None),  # 102.4 units: not a whole number
        ("lots", None),
        ("1 GB", None),
        (True, None),
        (0, None),
        (None, None),
        (1.5, None),
    ],
)
def test_task_cpu_units(value: object, units: int | None) -> None:
    assert task_cpu_units(value) == units


@pytest.mark.parametrize(
    ("value", "mib"),
    [
        ("512", 512),
        (512, 512),
        ("2 GB", 2048),
        ("0.5 GB", 512),
        ("2GiB", 2048),
        ("2048 MiB", 2048),
        ("2048MB", 2048),
        ("2 TB", None),
        ("", None),
        (False, None),
    ],
)
def test_task_memory_mib(value: object, mib: int | None) -> None:
    assert task_memory_mib(value) == mib


@pytest.mark.parametrize(
    ("cpu_units", "memory_mib", "valid"),
    [
        (256, 512, True),
        (256, 2048, True),
        (256, 3072, False),
        (512, 4096, True),
        (512, 512, False),
        (1024, 2048, True),
        (1024, 9216, False),
        (2048, 16384, True),
        (4096, 30720, True),
        (4096, 31744, False),
        (8192, 20480, True),
        (8192, 17408, False),  # steps of 4096 from 16384
        (16384, 122880, True),
        (16384, 36864, False),  # steps of 8192 from 32768
        (300, 512, False),
    ],
)
def test_fargate_sizes(cpu_units: int, memory_mib: int, valid: bool) -> None:
    assert is_valid_fargate_size(cpu_units=cpu_units, memory_mib=memory_mib) is valid
