"""Kinds planned the generic way: one canonical form for both sides, tags as a map, identity by name.

ECS kinds have their own planning (task definitions are revisions; services run one). Every other kind only
needs the three facts below to be diffed, adopted, pruned and told apart as drift or desired change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Spec = Mapping[str, Any]


@dataclass(frozen=True)
class GenericKind:
    kind: str
    canonical: Callable[[Spec], dict[str, Any]]  # applied to the desired spec and to the live entry's spec
    tags: Callable[[Spec], dict[str, str]]  # the user tags a desired spec asks for, compared with live tags
    # what else the spec hash covers: settings that are written but cannot be read back cheaply
    unread: Callable[[Spec], object] = lambda spec: None


def key_value_tags(spec: Spec) -> dict[str, str]:
    """``Tags: [{Key, Value}]`` (ELBv2, Application Auto Scaling's list form) as a map."""
    tags = spec.get("Tags") or ()
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags if "Key" in t}
