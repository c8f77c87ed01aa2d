"""Helpers that put AWS-shaped values into one canonical form, so that equal things compare equal.

AWS returns lists in any order, name/value lists where a map is meant, ``[]`` where we wrote nothing, and numbers
where we wrote numeric strings. Each helper here removes one of those differences. Both sides of
a diff go through the same helpers, so a rule can never make desired and live disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

JSON = Any
Spec = Mapping[str, Any]


def is_empty(value: object) -> bool:
    """``[]``, ``{}``, ``None`` and ``""`` mean "not set" when comparing."""
    return value is None or value in ([], {}, "")


def prune_empty(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``mapping`` without keys whose value is empty."""
    return {key: value for key, value in mapping.items() if not is_empty(value)}


def drop_keys(mapping: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    dropped = set(keys)
    return {key: value for key, value in mapping.items() if key not in dropped}


def pairs_to_map(items: Iterable[Mapping[str, Any]] | None, *, key: str, value: str) -> dict[str, Any]:
    """``[{name: A, value: 1}]`` → ``{A: 1}`` (environment, secrets, tags, cluster settings)."""
    return {item[key]: item.get(value) for item in items or () if key in item}


def pairs_to_items(items: Iterable[Mapping[str, Any]] | None, *, key: str, value: str) -> dict[str, Any]:
    """``[{name: A, value: 1}]`` → ``{"[A]": 1}``: like ``pairs_to_map``, but a closed set (see ``item_key``)."""
    return {item_key(k): v for k, v in pairs_to_map(items, key=key, value=value).items()}


def item_key(identity: object) -> str:
    """The map key of a list item addressed by identity; diff paths print it as ``containers[app]``.

    A map of such keys is the whole list the user wrote: an item only AWS has (an extra container, an extra
    environment variable) is a difference, where an extra plain key (a field AWS fills in) is not."""
    return f"[{identity}]"


def list_to_map(items: Iterable[Mapping[str, Any]] | None, *, key: str) -> dict[str, dict[str, Any]]:
    """``[{name: app, image: x}]`` → ``{"[app]": {image: x}}``: list items addressed by their identity."""
    return {item_key(item[key]): drop_keys(item, [key]) for item in items or () if key in item}


def sorted_by(items: Iterable[Any] | None, key: Callable[[Any], Any]) -> list[Any]:
    return sorted(items or (), key=key)


def sort_key(*fields: str) -> Callable[[Mapping[str, Any]], tuple[str, ...]]:
    """A sort key over several fields of a mapping, tolerant of missing fields and mixed types."""

    def key(item: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(item.get(field, "")) for field in fields)

    return key


def with_defaults(mapping: Mapping[str, Any] | None, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with ``defaults`` filled in where a key is absent or empty."""
    result = dict(defaults)
    result.update({k: v for k, v in (mapping or {}).items() if not is_empty(v) or k not in defaults})
    return result


def role_name(value: str | None) -> str | None:
    """``arn:aws:iam::123:role/path/name`` and ``name`` name the same role."""
    if value and value.startswith("arn:") and ":role/" in value:
        return value.rsplit("/", 1)[-1]
    return value


def resource_name(value: str | None) -> str | None:
    """The last part of an ARN (``…:cluster/myapp-prod`` → ``myapp-prod``), or the value itself."""
    if value and value.startswith("arn:"):
        return value.rsplit("/", 1)[-1]
    return value


def stable_hash(value: JSON) -> str:
    """A short hash of a JSON-able value that does not depend on key order."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def key_value_tags(spec: Spec) -> dict[str, str]:
    """``Tags: [{Key, Value}]`` (ELBv2, Application Auto Scaling's list form) as a map."""
    tags = spec.get("Tags") or ()
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags if "Key" in t}
