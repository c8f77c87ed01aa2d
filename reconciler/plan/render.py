"""Printing a plan: text that reads like ``terraform plan``, and the JSON object of ``plan --output json``.

Neither ever shows a secret-looking value (``model.secrets``): diff values under a secret-looking key print as
``(masked sha256:1a2b3c4d)``, and known secrets are masked in every other string. Given the desired state, both
also list each secret-looking value written in clear, with what to write instead (``warnings``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from reconciler.desired.secrets import SecretWarning, secret_warnings
from reconciler.model.ownership import SPEC_HASH_TAG
from reconciler.model.resource import DesiredResource, Mode, ResourceKey
from reconciler.model.secrets import mask_at, redact
from reconciler.plan.diff import FieldDiff
from reconciler.plan.types import Action, Cause, Change, Owned, Plan

SYMBOL = {
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.REPLACE: "-/+",
    Action.DELETE: "-",
    Action.ADOPT: "<=",
}


def plan_as_json(plan: Plan, desired: Iterable[DesiredResource] = ()) -> str:
    """The object ``plan --output json`` prints; ``desired`` (the desired state planned) adds ``warnings``."""
    diffs = masked_diffs(plan)
    body: dict[str, Any] = {
        "revision": plan.revision,
        "changes": [_change_json(c, diffs[id(c)]) for c in plan.reported_changes],
        "orphans": [o.model_dump() for o in plan.orphans],
        "owned": [o.model_dump() for o in plan.owned],
        "conflicts": [c.model_dump() for c in plan.conflicts],
        "unmanaged": [u.model_dump() for u in plan.unmanaged],
    }
    if plan.deletions_blocked:
        body["deletionsBlocked"] = plan.deletions_blocked
    if plan.restamps:
        body["restamps"] = [str(c.key) for c in plan.restamps]
    if warnings := secret_warnings(desired):
        body["warnings"] = [w.as_json() for w in warnings]
    return json.dumps(body, indent=2, default=str)


def _change_json(change: Change, diff: list[FieldDiff]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": change.kind,
        "name": change.name,
        "action": change.action.value,
        "cause": change.cause.value,
        "diff": [d.model_dump() for d in diff],
    }
    if change.mode is Mode.DETECT:
        out["mode"] = change.mode.value
    if change.create_first:
        out["createFirst"] = True
    for extra in ("reason", "held"):
        if getattr(change, extra):
            out[extra] = redact(getattr(change, extra))
    return out


def masked_diffs(plan: Plan) -> dict[int, list[FieldDiff]]:
    """Every change's diff as it may be shown, by ``id`` of the change. Masked all at once before anything is
    printed, so that a secret first seen in one diff is known when any other text is printed."""
    return {
        id(change): [
            FieldDiff(path=d.path, desired=mask_at(d.path, d.desired), live=mask_at(d.path, d.live))
            for d in change.diff
        ]
        for change in plan.changes
    }


def plan_as_text(plan: Plan, desired: Iterable[DesiredResource] = ()) -> str:
    """The plan as people read it; ``desired`` (the desired state planned) adds a line per secret-looking
    value written in clear."""
    diffs = masked_diffs(plan)
    lines = [f"Revision {plan.revision}", ""]
    if warnings := secret_warnings(desired):
        lines += [*(_warning_text(w) for w in warnings), ""]
    if plan.deletions_blocked:
        lines += [
            f"  ! {plan.deletions_blocked} deletions held: more than --max-deletions; nothing is deleted",
            "",
        ]
    owned = owned_by_resource(plan)
    for change in plan.reported_changes:
        lines.extend(_change_text(change, diffs[id(change)], owned.pop(change.key, [])))
    for orphan in plan.orphans:
        lines.append(f"  ? {orphan.kind} {orphan.name}: orphaned (deletionPolicy Retain), left in place")
    for unmanaged in plan.unmanaged:
        lines.append(
            f"  ? {unmanaged.kind} {unmanaged.name}: unmanaged, on listener {unmanaged.parent}, left in place"
        )
        lines.append(f"      # {unmanaged.reason}")
    for conflict in plan.conflicts:
        lines.append(
            f"  ! {conflict.kind} {conflict.name}: owned by reconciler instance '{conflict.owner}', left alone"
        )
    if owned:
        fields = sum(len(rows) for rows in owned.values())
        lines.append(
            f"  = {fields} fields of {len(owned)} resources in sync are left to other owners "
            "(--output json lists them)"
        )
    lines.append(_summary(plan))
    return "\n".join(lines)


def owned_by_resource(plan: Plan) -> dict[ResourceKey, list[Owned]]:
    found: dict[ResourceKey, list[Owned]] = {}
    for row in plan.owned:
        found.setdefault(ResourceKey(row.kind, row.name), []).append(row)
    return found


def _change_text(change: Change, diff: list[FieldDiff], owned: list[Owned]) -> list[str]:
    symbol = "+/-" if change.create_first else SYMBOL[change.action]  # as Terraform's create_before_destroy
    head = f"  {symbol} {change.kind} {change.name} ({change.action.value}, cause: {change.cause.value})"
    if change.mode is Mode.DETECT:
        head += " [mode: detect, not applied]"
    lines = [head]
    if change.reason:
        lines.append(f"      # {redact(change.reason)}")
    if change.held:
        lines.append(f"      # held: {redact(change.held)}")
    lines.extend(f"      {d.path}: {_show(d.live)} → {_show(d.desired)}" for d in diff)
    lines.extend(f"      = {row.path}: left to {row.owner}" for row in owned)
    lines.append("")
    return lines


def _warning_text(warning: SecretWarning) -> str:
    return f"  ! {warning}"


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def _summary(plan: Plan) -> str:
    restamps = (
        f" {len(plan.restamps)} resources' {SPEC_HASH_TAG} tags will be refreshed (no field changes)."
        if plan.restamps
        else ""
    )
    changes = plan.reported_changes
    if not changes:
        return "No changes. Live AWS matches the desired state." + restamps
    actions = Counter(c.action for c in changes)
    drifted = sum(1 for c in changes if c.cause is Cause.DRIFT)
    counts = ", ".join(f"{actions[a]} to {a.value}" for a in Action)
    return f"Plan: {counts}. {drifted} drifted from the desired state." + restamps
