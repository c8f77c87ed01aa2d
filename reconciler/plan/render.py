"""Printing a plan: text that reads like ``terraform plan``, and the JSON object of ``plan --output json``.

Each change names the target (``model/targets.py``) it is for, ``target`` in JSON. A desired state with several
targets is planned once per target; ``plans_as_text`` and ``plans_as_json`` print those plans together: the text
groups the changes under a header per target (``target prod-eu (111111111111 eu-west-1)``) and ends with a
summary over all of them, and every entry of the JSON's lists names its target, even when only one target is
planned (``--allowed-targets``). Without targets.yaml both print exactly what ``plan_as_text`` and
``plan_as_json`` do.

Neither ever shows a secret-looking value (``model.secrets``): diff values under a secret-looking key print as
``(masked sha256:1a2b3c4d)``, and known secrets are masked in every other string. Given the desired state, both
also list each secret-looking value written in clear, with what to write instead (``warnings``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from reconciler.desired.secrets import SecretWarning, secret_warnings
from reconciler.model.ownership import SPEC_HASH_TAG
from reconciler.model.resource import DesiredResource, DesiredState, Mode, ResourceKey
from reconciler.model.secrets import mask_at, redact
from reconciler.model.targets import Target
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
        "changes": [_change_json(c, diffs[id(c)], plan.target) for c in plan.reported_changes],
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


def plans_as_json(plans: Sequence[Plan], desired: DesiredState) -> str:
    """The object ``plan --output json`` prints for one plan per target of ``desired``, in that order: the same
    keys as ``plan_as_json``, each list holding every target's entries, each entry with its ``target``; and
    ``targets``, each planned target with its account and Region and, when it has them, its ``deletionsBlocked``
    and ``restamps``. Without targets.yaml (one plan): exactly ``plan_as_json``."""
    if len(plans) == 1 and not desired.targets:  # no targets.yaml
        return plan_as_json(plans[0], desired)
    diffs = masked_diffs(*plans)
    body: dict[str, Any] = {"revision": plans[0].revision if plans else desired.revision, "targets": []}
    for key in ("changes", "orphans", "owned", "conflicts", "unmanaged"):
        body[key] = []
    for plan in plans:
        body["changes"] += [_change_json(c, diffs[id(c)], plan.target) for c in plan.reported_changes]
        for key, rows in (
            ("orphans", plan.orphans),
            ("owned", plan.owned),
            ("conflicts", plan.conflicts),
            ("unmanaged", plan.unmanaged),
        ):
            body[key] += [{**row.model_dump(), "target": plan.target} for row in rows]
        body["targets"].append(_target_json(target_named(desired, plan.target), plan))
    if blocked := sum(plan.deletions_blocked for plan in plans):
        body["deletionsBlocked"] = blocked
    if warnings := secret_warnings(desired):
        body["warnings"] = [w.as_json() for w in warnings]
    return json.dumps(body, indent=2, default=str)


def _target_json(target: Target, plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {"name": target.name, "account": target.account, "region": target.region}
    if plan.deletions_blocked:
        out["deletionsBlocked"] = plan.deletions_blocked
    if plan.restamps:
        out["restamps"] = [str(c.key) for c in plan.restamps]
    return out


def target_named(desired: DesiredState, name: str) -> Target:
    """The target ``desired`` declares as ``name`` (one of just that name when it declares none: ``default``)."""
    return next((target for target in desired.targets if target.name == name), Target(name))


def target_heading(target: Target) -> str:
    """``prod-eu (111111111111 eu-west-1)``: a target's name, with its account and Region when it has them."""
    where = " ".join(part for part in (target.account, target.region) if part)
    return f"{target.name} ({where})" if where else target.name


def _change_json(change: Change, diff: list[FieldDiff], target: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": change.kind,
        "name": change.name,
        "target": target,
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


def masked_diffs(*plans: Plan) -> dict[int, list[FieldDiff]]:
    """Every change's diff as it may be shown, by ``id`` of the change. Masked all at once before anything is
    printed, so that a secret first seen in one diff (of any of ``plans``) is known when any other text is
    printed."""
    return {
        id(change): [
            FieldDiff(path=d.path, desired=mask_at(d.path, d.desired), live=mask_at(d.path, d.live))
            for d in change.diff
        ]
        for plan in plans
        for change in plan.changes
    }


def plan_as_text(plan: Plan, desired: Iterable[DesiredResource] = ()) -> str:
    """The plan as people read it; ``desired`` (the desired state planned) adds a line per secret-looking
    value written in clear."""
    diffs = masked_diffs(plan)
    lines = [f"Revision {plan.revision}", ""]
    if warnings := secret_warnings(desired):
        lines += [*(_warning_text(w) for w in warnings), ""]
    lines += _plan_lines(plan, diffs)
    lines.append(_summary(plan))
    return "\n".join(lines)


def plans_as_text(plans: Sequence[Plan], desired: DesiredState) -> str:
    """One plan per target of ``desired``, in that order, as people read them: each target's changes under its
    header, its own summary line, and a last line over all of them. Without targets.yaml (one plan): exactly ``plan_as_text``."""
    if len(plans) == 1 and not desired.targets:  # no targets.yaml
        return plan_as_text(plans[0], desired)
    diffs = masked_diffs(*plans)
    lines = [f"Revision {plans[0].revision if plans else desired.revision}", ""]
    if warnings := secret_warnings(desired):
        lines += [*(_warning_text(w) for w in warnings), ""]
    for plan in plans:
        lines += [f"target {target_heading(target_named(desired, plan.target))}", ""]
        lines += _plan_lines(plan, diffs)
        lines += [_summary(plan), ""]
    lines.append(summary_over(plans))
    return "\n".join(lines)


def _plan_lines(plan: Plan, diffs: dict[int, list[FieldDiff]]) -> list[str]:
    """A plan's lines between the revision (and warnings) and the summary."""
    lines: list[str] = []
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
    return lines


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
    return _summary_of(plan.reported_changes, len(plan.restamps))


def summary_over(plans: Sequence[Plan]) -> str:
    """The summary line over every target's plan: ``Plan over 3 targets: …``."""
    changes = [change for plan in plans for change in plan.reported_changes]
    restamps = sum(len(plan.restamps) for plan in plans)
    return _summary_of(changes, restamps, among=f" over {_targets(len(plans))}")


def _targets(count: int) -> str:
    return f"{count} target" + ("" if count == 1 else "s")


def _summary_of(changes: Sequence[Change], restamped: int, *, among: str = "") -> str:
    restamps = (
        f" {restamped} resources' {SPEC_HASH_TAG} tags will be refreshed (no field changes)."
        if restamped
        else ""
    )
    if not changes:
        return f"No changes{among}. Live AWS matches the desired state." + restamps
    actions = Counter(c.action for c in changes)
    drifted = sum(1 for c in changes if c.cause is Cause.DRIFT)
    counts = ", ".join(f"{actions[a]} to {a.value}" for a in Action)
    return f"Plan{among}: {counts}. {drifted} drifted from the desired state." + restamps
