"""A description from AWS (``DescribeServices``, ``DescribeTargetGroups``…) cut down to a request of the create
call: only the members the request shape has, at every depth. ``reconciler import`` writes specs this way, so
what it writes is the request AWS itself defines, as current as the installed botocore, not a list of fields
kept by hand."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from reconciler.shapes.models import input_shape


def request_from(service: str, operation: str, description: Mapping[str, Any]) -> dict[str, Any]:
    """The members of ``description`` that ``operation``'s request has; empty values and read-only members
    (ARNs, statuses, timestamps of creation…) dropped; timestamps as ISO 8601 text."""
    kept = _cut(input_shape(service, operation), description)
    return kept if isinstance(kept, dict) else {}


def _cut(shape: Any, value: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, Mapping):
        members = {k: _cut(shape.members[k], v) for k, v in value.items() if k in shape.members}
        return {k: v for k, v in members.items() if not _empty(v)}
    if shape.type_name == "list" and isinstance(value, list):
        items = [_cut(shape.member, item) for item in value]
        return [item for item in items if not _empty(item)]
    if shape.type_name == "map" and isinstance(value, Mapping):
        return {k: _cut(shape.value, v) for k, v in value.items()}
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value)
