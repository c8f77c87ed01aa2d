"""``BotocoreSpecChecker``: a ``spec`` checked against the AWS request shape, one problem per field path.

A small walker over botocore's shapes rather than botocore's ``ParamValidator``: the validator's report is
text, and we need the path of every problem (``containerDefinitions[0].portMappings[0].hostPort``) to point
at its line. Types are strict, as AWS's are: ``"2"`` is not an integer and ``256`` is not a string; the
message says how to write it instead. Unknown fields get the closest valid name, because users paste from the
CLI and misspell.

A kind's extra fields (``KindInfo.extra_fields``, beyond the create request) are checked against the member of
the AWS request that sets them, when one is listed in ``EXTRA_FIELD_SHAPES``: ``Attributes`` of a load balancer
or target group is the ``Attributes`` of ``Modify…Attributes``.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Collection, Mapping
from typing import Any

from reconciler.desired.spec_checker import SpecProblem, describe_type
from reconciler.errors import echoed
from reconciler.model.kinds import KindInfo
from reconciler.shapes.models import input_shape

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (Mapping,),
    "map": (Mapping,),
    "list": (list,),
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (str, int, float, datetime.datetime, datetime.date),
    "blob": (str, bytes),
}
_EXPECTED = {
    "structure": "a mapping",
    "map": "a mapping",
    "list": "a list",
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "boolean": "a boolean (true or false)",
    "double": "a number",
    "float": "a number",
    "timestamp": "a timestamp (ISO 8601 text)",
    "blob": "a string",
}
_NUMBER_TYPES = frozenset({"integer", "long", "double", "float"})

# (kind, extra field) → (AWS service, operation) whose request member of the same name the field is.
EXTRA_FIELD_SHAPES: dict[tuple[str, str], tuple[str, str]] = {
    ("LoadBalancer", "Attributes"): ("elbv2", "ModifyLoadBalancerAttributes"),
    ("TargetGroup", "Attributes"): ("elbv2", "ModifyTargetGroupAttributes"),
}
# Members that AWS's model leaves optional but without which the structure means nothing, by shape name.
ALSO_REQUIRED: dict[str, tuple[str, ...]] = {
    "LoadBalancerAttribute": ("Key", "Value"),
    "TargetGroupAttribute": ("Key", "Value"),
}


class BotocoreSpecChecker:
    """Checks ``spec`` against the input shape of ``kind.create_operation`` (a ``desired.SpecChecker``)."""

    def __call__(self, kind: KindInfo, spec: Mapping[str, Any]) -> list[SpecProblem]:
        walker = _ShapeWalker()
        walker.check_structure(
            input_shape(kind.aws_service, kind.create_operation),
            spec,
            path="",
            extra_fields=kind.extra_fields,
            not_required=frozenset({kind.name_field}),
        )
        for field_name in sorted(kind.extra_fields & spec.keys()):
            shape = _extra_field_shape(kind, field_name)
            if shape is not None:
                walker.check(shape, spec[field_name], path=field_name)
        return walker.problems


def _extra_field_shape(kind: KindInfo, field_name: str) -> Any | None:
    """The shape of one of ``kind``'s extra fields, or None when it has none (then anything goes)."""
    source = EXTRA_FIELD_SHAPES.get((kind.kind, field_name))
    if source is None:
        return None
    return input_shape(*source).members[field_name]


class _ShapeWalker:
    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def check(self, shape: Any, value: Any, *, path: str) -> None:
        if getattr(shape, "is_document_type", False):
            return  # free-form JSON documents: anything goes
        type_name = shape.type_name
        if not _has_type(value, type_name=type_name):
            self.problems.append(SpecProblem(path, _wrong_type_message(value, type_name=type_name)))
        elif type_name == "structure":
            self.check_structure(shape, value, path=path)
        elif type_name == "list":
            for index, item in enumerate(value):
                self.check(shape.member, item, path=f"{path}[{index}]")
        elif type_name == "map":
            for key, item in value.items():
                self.check(shape.value, item, path=_join(path, str(key)))
        elif type_name == "string" and shape.enum and value not in shape.enum:
            self.problems.append(
                SpecProblem(path, f"{echoed(repr(value))} is not one of: {', '.join(shape.enum)}")
            )

    def check_structure(
        self,
        shape: Any,
        value: Mapping[str, Any],
        *,
        path: str,
        extra_fields: Collection[str] = (),
        not_required: Collection[str] = (),
    ) -> None:
        members = shape.members
        for key, item in value.items():
            if key in members:
                self.check(members[key], item, path=_join(path, key))
            elif key not in extra_fields:
                self.problems.append(SpecProblem(_join(path, key), _unknown_field_message(key, members)))
        required_members = (*shape.required_members, *ALSO_REQUIRED.get(shape.name, ()))
        for required in required_members:
            if required not in value and required not in not_required:
                self.problems.append(SpecProblem(_join(path, required), "required field is missing"))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _has_type(value: Any, *, type_name: str) -> bool:
    if isinstance(value, bool) and type_name != "boolean":
        return False
    return isinstance(value, _PYTHON_TYPES.get(type_name, (object,)))


def _wrong_type_message(value: Any, *, type_name: str) -> str:
    message = f"expected {_EXPECTED.get(type_name, type_name)}, got {describe_type(value)}"
    if type_name == "string" and isinstance(value, bool):
        return f'{message} (quote it: "{str(value).lower()}")'
    if type_name == "string" and isinstance(value, int | float):
        return f'{message} (quote it: "{value}")'
    if type_name in _NUMBER_TYPES and isinstance(value, str):
        return f"{message} (write the number without quotes)"
    return message


def _unknown_field_message(key: str, members: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(members), n=1, cutoff=0.6)
    if not close:
        lowered = {name.lower(): name for name in members}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    return f"unknown field (did you mean '{close[0]}'?)" if close else "unknown field"
