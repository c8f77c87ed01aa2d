"""Desired-scoped diff of two canonical values, with the exact path of every difference.

Only what the desired side sets is compared (kopf's ``DiffScope.LEFT``): AWS adds fields we never wrote, and those
are not drift. Lists are compared element by element once canonicalised, so a missing or extra element is a
difference; maps are compared key by key. ``[]``, ``{}`` and ``None`` are equal, and so are ``80`` and ``"80"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from reconciler.model.canonical import is_empty


class FieldDiff(BaseModel):
    """One difference: where, what Git says, what AWS has (``None`` when absent)."""

    path: str
    desired: Any = None
    live: Any = None


def scoped_diff(desired: Any, live: Any, path: str = "") -> list[FieldDiff]:
    """Every difference between ``desired`` and ``live`` within what ``desired`` sets."""
    if type(desired) is type(live) and desired == live and repr(desired) == repr(live):
        # Equal as a whole, compared in C: the common case of a resource in sync. (== alone takes True for 1
        # inside containers; their reprs differ, and then the walk below decides.)
        return []
    if isinstance(desired, Mapping):
        return _diff_mapping(desired, live, path)
    if isinstance(desired, list):
        return _diff_list(desired, live, path)
    if scalars_equal(desired, live):
        return []
    return [FieldDiff(path=path, desired=desired, live=live)]


def _diff_mapping(desired: Mapping[str, Any], live: Any, path: str) -> list[FieldDiff]:
    if is_empty(live):
        live = {}
    if not isinstance(live, Mapping):
        return [FieldDiff(path=path, desired=dict(desired), live=live)]
    diffs: list[FieldDiff] = []
    for key, value in desired.items():
        diffs.extend(scoped_diff(value, live.get(key), join_path(path, key)))
    if is_item_map(desired):
        extra = sorted(key for key in live if key not in desired and not is_empty(live[key]))
        diffs.extend(FieldDiff(path=join_path(path, key), desired=None, live=live[key]) for key in extra)
    return diffs


def is_item_map(mapping: Mapping[str, Any]) -> bool:
    """A map of list items keyed by identity (``[app]``): the complete list, so extra live items count."""
    return bool(mapping) and all(key.startswith("[") for key in mapping)


def _diff_list(desired: list[Any], live: Any, path: str) -> list[FieldDiff]:
    if is_empty(live):
        live = []
    if not isinstance(live, list) or len(live) != len(desired):
        return [FieldDiff(path=path, desired=desired, live=live)]
    if not all(isinstance(item, Mapping) for item in desired):
        same = all(scalars_equal(d, lv) for d, lv in zip(desired, live, strict=True))
        return [] if same else [FieldDiff(path=path, desired=desired, live=live)]
    diffs: list[FieldDiff] = []
    for index, (d, lv) in enumerate(zip(desired, live, strict=True)):
        diffs.extend(scoped_diff(d, lv, f"{path}[{index}]"))
    return diffs


def scalars_equal(desired: Any, live: Any) -> bool:
    if is_empty(desired) and is_empty(live):
        return True
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live or (desired == live and type(desired) is type(live))
    if desired == live:
        return True
    numeric = (int, float, str)
    return (
        isinstance(desired, numeric) and isinstance(live, numeric) and _as_number(desired) == _as_number(live)
    )


def _as_number(value: int | float | str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def join_path(path: str, key: str) -> str:
    """``a`` + ``b`` → ``a.b``; identity keys (``[app]``) attach without a dot."""
    if not path:
        return key
    return f"{path}{key}" if key.startswith("[") else f"{path}.{key}"


def top_level_field(path: str) -> str:
    """The spec field a path starts in: ``networkConfiguration.awsvpcConfiguration.subnets`` → ``networkConfiguration``."""
    for index, char in enumerate(path):
        if char in ".[":
            return path[:index]
    return path
