"""The seam between ``desired`` (pure) and the AWS request shapes (``reconciler.shapes``, which reads
botocore).

``load_desired_state`` takes a ``SpecChecker`` as an argument instead of importing botocore, so that this
layer stays free of AWS libraries and tests can pass a fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from reconciler.model.kinds import KindInfo


@dataclass(frozen=True)
class SpecProblem:
    """One way ``spec`` does not fit its request shape.

    ``path`` uses the notation of ``DesiredResource.lines``:
    ``containerDefinitions[0].portMappings[0].hostPort``; an empty path means ``spec`` itself.
    """

    path: str
    message: str


class SpecChecker(Protocol):
    """Checks a ``spec`` against the request shape of ``kind``; must not modify ``spec``.

    The checker allows ``kind.extra_fields`` at the top level and does not require ``kind.name_field`` (it is
    filled from ``metadata.name``); ``kind.required_fields`` are checked by ``desired`` itself.
    """

    def __call__(self, kind: KindInfo, spec: Mapping[str, Any]) -> list[SpecProblem]: ...


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "a boolean"),  # before int: bool is an int
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (Mapping, "a mapping"),
    (list, "a list"),
    (tuple, "a list"),
)


def describe_type(value: object) -> str:
    """How a problem names the type of a YAML value: "a mapping", "an integer", "null"…"""
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), type(value).__name__)
