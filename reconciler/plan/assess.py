"""Comparing one declared resource with its live counterpart: the part of planning every kind shares.

Given canonical forms of both sides, the tags, and the desired hash, decide the action (create, adopt, update,
replace, or nothing), the cause (drift or desired), and the list of differences with their paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model.kinds import KINDS
from reconciler.model.ownership import (
    DELETION_POLICY_TAG,
    INSTANCE_TAG,
    NAME_TAG,
    SPEC_HASH_TAG,
    owner_of,
    ownership_tags,
    user_tags,
)
from reconciler.model.resource import DesiredResource
from reconciler.plan.diff import FieldDiff, scoped_diff
from reconciler.plan.owners import unignored
from reconciler.plan.types import Action, Cause, Change, Conflict

GONE = frozenset({"INACTIVE", "DRAINING"})  # deleted, or being deleted: it must be created again


@dataclass(frozen=True)
class Sides:
    """Both sides of one resource, ready to compare."""

    resource: DesiredResource
    spec_hash: str
    desired: Mapping[str, Any]  # canonical desired spec
    desired_tags: Mapping[str, str]  # user tags of the document
    live: Mapping[str, Any] | None  # canonical live spec, None when absent
    live_tags: Mapping[str, str]
    live_status: str | None  # None when AWS has no trace of it
    live_arn: str = ""
    # the desired hash this process last saw the resource live and in sync with (see LiveState.remembered)
    remembered_hash: str | None = None


def assess(sides: Sides, *, instance: str, extra_diff: Sequence[FieldDiff] = ()) -> Change | Conflict | None:
    """The change that brings the live resource to the desired one, a conflict, or ``None`` when in sync."""
    if sides.live is None or sides.live_status in GONE:
        return _create(sides, instance=instance)
    owner = owner_of(sides.live_tags)
    if owner is not None and owner != instance:
        return Conflict(kind=sides.resource.kind, name=sides.resource.name, owner=owner)
    diff = scoped_diff(dict(sides.desired), dict(sides.live))
    diff += _tag_diff(sides.desired_tags, user_tags(sides.live_tags))
    diff += extra_diff
    diff = unignored(diff, sides.resource.ignore_differences)  # the document's own rows of the owners table
    cause = _cause(sides, owner=owner)
    if not diff:  # only our own tags can differ now: a new hash or deletion policy from Git, or adoption
        diff, cause = _ownership_diff(sides, instance=instance), Cause.DESIRED
    if not diff:
        return None
    restamp = owner is not None and all(d.path == f"tags.{SPEC_HASH_TAG}" for d in diff)
    return _change(sides, _action(sides, owner=owner, diff=diff), cause, diff, restamp=restamp)


def _create(sides: Sides, *, instance: str) -> Change:
    was_ours = sides.live_status is not None and owner_of(sides.live_tags) == instance
    unchanged = sides.live_tags.get(SPEC_HASH_TAG) == sides.spec_hash
    seen_before = sides.remembered_hash == sides.spec_hash  # gone without a trace, but this process saw it
    cause = Cause.DRIFT if (was_ours and unchanged) or seen_before else Cause.MISSING
    diff = [FieldDiff(path="status", desired="ACTIVE", live=sides.live_status)]
    return _change(sides, Action.CREATE, cause, diff)


def _tag_diff(desired: Mapping[str, str], live: Mapping[str, str]) -> list[FieldDiff]:
    return [
        FieldDiff(path=f"tags.{key}", desired=value, live=live.get(key))
        for key, value in sorted(desired.items())
        if live.get(key) != value
    ]


def _ownership_diff(sides: Sides, *, instance: str) -> list[FieldDiff]:
    wanted = ownership_tags(
        instance=instance, spec_hash=sides.spec_hash, deletion_policy=sides.resource.deletion_policy
    )
    diff = [
        FieldDiff(path=f"tags.{key}", desired=wanted[key], live=sides.live_tags.get(key))
        for key in (INSTANCE_TAG, SPEC_HASH_TAG, DELETION_POLICY_TAG)
        if sides.live_tags.get(key) != wanted[key]
    ]
    recorded = sides.live_tags.get(NAME_TAG)
    if recorded is not None and recorded != sides.resource.name:  # matched by its AWS identity, then renamed
        diff.append(FieldDiff(path=f"tags.{NAME_TAG}", desired=sides.resource.name, live=recorded))
    return diff


def _action(sides: Sides, *, owner: str | None, diff: Sequence[FieldDiff]) -> Action:
    if owner is None:
        return Action.ADOPT
    replace_fields = KINDS[sides.resource.kind].replace_fields
    if any(d.path.split(".")[0].split("[")[0] in replace_fields for d in diff):
        return Action.REPLACE
    return Action.UPDATE


def _cause(sides: Sides, *, owner: str | None) -> Cause:
    if owner is not None and sides.live_tags.get(SPEC_HASH_TAG) == sides.spec_hash:
        return Cause.DRIFT
    return Cause.DESIRED


def _change(
    sides: Sides, action: Action, cause: Cause, diff: Sequence[FieldDiff], *, restamp: bool = False
) -> Change:
    reason = ""
    if action is Action.REPLACE:
        fields = sorted(KINDS[sides.resource.kind].replace_fields & {d.path.split(".")[0] for d in diff})
        reason = f"{', '.join(fields)} cannot be changed in place: the resource is deleted and created again"
    return Change(
        kind=sides.resource.kind,
        name=sides.resource.name,
        action=action,
        cause=cause,
        diff=list(diff),
        mode=sides.resource.mode,
        reason=reason,
        spec_hash=sides.spec_hash,
        live_arn=sides.live_arn,
        restamp=restamp,
    )
