"""The seam between ``desired`` (pure) and the AWS request shapes (``reconciler.shapes``, which reads
botocore).

``load_desired_state`` takes a ``SpecChecker`` as an argument instead of importing botocore, so that this
layer stays free of AWS libraries and tests can pass a fake.
"""

from __future__ import annotations

import re
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


# Top-level fields of a kind's canonical form (what the plan prints) that sit elsewhere in its request.
CANONICAL_FIELDS: dict[str, dict[str, str]] = {
    "DiscoveryService": {"RoutingPolicy": "DnsConfig.RoutingPolicy"}
}
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[[^\[\]]+\])*)")


def unknown_field_path(kind: KindInfo, path: str, check_spec: SpecChecker) -> str:
    """Why ``path`` (as the plan prints it: ``containerDefinitions[app].image``, ``tags.CostCenter``) names no
    field of ``kind``'s request, or "" when it names one. The request shape is asked through ``check_spec`` with a
    probe: a spec that sets only that path; an "unknown field" problem on the way means the path is unknown."""
    head, _, rest = path.partition(".")
    if head.split("[", 1)[0] in ("tags", "Tags"):  # the plan prints every kind's tags as tags.<key>
        return ""
    head_field = head.split("[", 1)[0]
    aliased = CANONICAL_FIELDS.get(kind.kind, {}).get(head_field)
    if aliased:
        path = aliased + head[len(head_field) :] + (f".{rest}" if rest else "")
    probe: Any = None
    for name, items in reversed(_SEGMENT.findall(path)):
        for _ in range(items.count("[")):
            probe = [probe]
        probe = {name: probe}
    unknown = [p for p in check_spec(kind, probe) if p.message.startswith("unknown field")]
    return f"names no field of a {kind.kind}: {unknown[0].path}: {unknown[0].message}" if unknown else ""
