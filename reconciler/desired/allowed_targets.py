"""``--allowed-targets``: the targets (AWS accounts and Regions, ``model/targets.py``) this reconciler reconciles.

Every target's documents are loaded and validated whatever the option says, so that a revision that breaks a
target this reconciler does not reconcile is still refused; only the allowed targets are read or written in AWS.
Empty: every target. A name the desired state does not declare (in ``targets.yaml``; without it the only target
is ``default``) is a problem of the desired state, at ``targets.yaml``: the operator asked for a target this
revision does not have, and a reconciler that went on would reconcile less than it was told to without a word.
"""

from __future__ import annotations

from collections.abc import Collection

from reconciler.errors import InvalidDesiredState, Problem, echoed
from reconciler.model.resource import DesiredState

TARGETS_FILE = "targets.yaml"


def allowed(desired: DesiredState, allowed_targets: Collection[str]) -> dict[str, DesiredState]:
    """Each allowed target's desired state by the target's name, in the order ``targets.yaml`` declares them
    (all of them when ``allowed_targets`` is empty); a declared target without documents has an empty one, so
    that what AWS holds of it is still planned. Raises ``InvalidDesiredState`` naming every name in
    ``allowed_targets`` that the desired state does not declare."""
    parts = _declared(desired)
    if problems := unknown_target_problems(desired, allowed_targets):
        raise InvalidDesiredState(problems, revision=desired.revision)
    return {name: part for name, part in parts.items() if not allowed_targets or name in allowed_targets}


def unknown_target_problems(
    desired: DesiredState, allowed_targets: Collection[str], *, option: str = "--allowed-targets"
) -> list[Problem]:
    """One problem per name in ``allowed_targets`` that ``desired`` does not declare, at ``targets.yaml``;
    ``option`` is what named them."""
    declared = list(_declared(desired))
    where = next((t.file for t in desired.targets if t.file), TARGETS_FILE)
    names = ", ".join(f"'{echoed(name)}'" for name in declared)
    said = (
        f"{TARGETS_FILE} declares {names}"
        if desired.targets
        else f"no {TARGETS_FILE}: the only target is {names}"
    )
    return [
        Problem(where, 1, f"{option} names '{echoed(name)}', which is not a target ({said})")
        for name in sorted(set(allowed_targets) - set(declared))
    ]


def _declared(desired: DesiredState) -> dict[str, DesiredState]:
    parts = desired.by_target()
    if not desired.targets:
        return parts
    empty = {"resources": (), "targets": (), "parts": ()}
    declared = {
        t.name: parts.get(t.name) or desired.model_copy(update={**empty, "target": t.name})
        for t in desired.targets
    }
    return declared | {name: part for name, part in parts.items() if name not in declared}
