"""Which transitions of a pass say something, once per episode: a pure step over the open episodes.

An episode opens at a transition and closes when its condition clears:

- drift of a resource: opened when a pass finds it (``drift_detected``); closed by the correction that follows
  (``drift_corrected``), or silently when the resource is back in sync without one (detect mode, undone by hand).
  A resource that is fighting (corrected again within a few passes: ``runtime/report.py``) keeps its episode
  open through its corrections; the ``drift_corrected`` that closes it, once the fight is over, counts them.
- an apply that failed: until that resource applies or is in sync again;
- a failed deployment: once per deployment ID;
- Degraded: from entering Degraded until it leaves;
- an invalid desired state: once per invalid revision, until a valid one loads (one found invalid against live
  AWS: until a pass of it succeeds, or another revision loads);
- deletions blocked (more than ``--max-deletions``, or an empty desired state): until a full pass is not blocked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from reconciler.model.resource import ResourceKey

DEPLOYMENTS_KEPT = 256  # failed deployment IDs remembered as told
DEGRADED = "Degraded"


class Event(StrEnum):
    DRIFT_DETECTED = "drift_detected"
    DRIFT_CORRECTED = "drift_corrected"
    APPLY_FAILED = "apply_failed"
    DEPLOYMENT_FAILED = "deployment_failed"
    DEGRADED = "degraded"
    DESIRED_STATE_INVALID = "desired_state_invalid"
    DELETIONS_BLOCKED = "deletions_blocked"
    DIGEST = "digest"  # held messages of a rate-limited sink, told as one (``limits.py``)


SEVERITY = {
    Event.DRIFT_DETECTED: "warning",
    Event.DRIFT_CORRECTED: "info",
    Event.APPLY_FAILED: "error",
    Event.DEPLOYMENT_FAILED: "error",
    Event.DEGRADED: "error",
    Event.DESIRED_STATE_INVALID: "error",
    Event.DELETIONS_BLOCKED: "warning",
    Event.DIGEST: "info",
}


@dataclass(frozen=True)
class Notice:
    """One message, before it is rendered for a sink (``message.py``). Every text in it is already redacted."""

    event: Event
    summary: str
    at: str  # ISO 8601, UTC
    revision: str = ""
    resource: ResourceKey | None = None
    details: Mapping[str, object] = field(default_factory=dict)
    by: Mapping[str, object] | None = None  # who made the drift, as /status's lastDriftBy


@dataclass(frozen=True)
class Drift:
    """Drift a pass found on one resource: the paths, the diff (secrets masked) and who made it, if known."""

    diff: Sequence[Mapping[str, object]] = ()
    by: Mapping[str, object] | None = None

    @property
    def paths(self) -> list[str]:
        return [str(d["path"]) for d in self.diff]


@dataclass(frozen=True)
class Seen:
    """What one pass found, as plain values (``runtime/notices.py`` builds it from the pass's outcome)."""

    revision: str
    full: bool = True
    planned: frozenset[ResourceKey] = frozenset()  # every resource the pass covered
    drifted: Mapping[ResourceKey, Drift] = field(default_factory=dict)  # drift found, corrected or not
    corrected: frozenset[ResourceKey] = frozenset()  # drift the pass corrected
    in_sync: frozenset[ResourceKey] = frozenset()
    applied: frozenset[ResourceKey] = frozenset()
    failed: Mapping[ResourceKey, str] = field(default_factory=dict)  # → the error, redacted
    deployments_failed: Mapping[str, tuple[ResourceKey, str]] = field(
        default_factory=dict
    )  # ID → service, why
    health: Mapping[ResourceKey, tuple[str, str]] = field(default_factory=dict)  # → health, reason
    fighting: frozenset[ResourceKey] = frozenset()  # after the pass
    blocked: tuple[int, str] | None = None  # full passes: deletions held, and why


@dataclass(frozen=True)
class Episodes:
    """The open episodes: what has been told and not yet cleared."""

    drift: Mapping[ResourceKey, int] = field(default_factory=dict)  # → corrections held open by a fight
    apply_failed: frozenset[ResourceKey] = frozenset()
    degraded: frozenset[ResourceKey] = frozenset()
    deployments: tuple[str, ...] = ()  # failed deployment IDs told, oldest first
    invalid: str | None = None  # the invalid revision told
    blocked: bool = False


def step(episodes: Episodes, seen: Seen, *, at: str) -> tuple[Episodes, list[Notice]]:
    """The episodes after a pass, and what to tell of it."""
    notices: list[Notice] = []
    drift = _drift(episodes.drift, seen, at, notices)
    apply_failed = _apply_failed(episodes.apply_failed, seen, at, notices)
    deployments = _deployments(episodes.deployments, seen, at, notices)
    degraded = _degraded(episodes.degraded, seen, at, notices)
    blocked = episodes.blocked
    if seen.full:
        if seen.blocked is not None and not blocked:
            count, why = seen.blocked
            notices.append(Notice(Event.DELETIONS_BLOCKED, f"Deletions blocked: {why}", at, seen.revision,
                                  details={"deletions": count, "reason": why}))  # fmt: skip
        blocked = seen.blocked is not None
    invalid = None if episodes.invalid == seen.revision else episodes.invalid  # it passed: valid after all
    after = replace(episodes, invalid=invalid, drift=drift, apply_failed=apply_failed, deployments=deployments,
                    degraded=degraded, blocked=blocked)  # fmt: skip
    return after, notices


def loaded(
    episodes: Episodes, revision: str, problems: Sequence[str] | None, *, at: str
) -> tuple[Episodes, list[Notice]]:
    """A desired state loaded (``problems`` None) or found invalid (each problem at ``FILE:LINE``)."""
    if problems is None:  # a valid revision; one found invalid against live AWS stays so until it passes
        if episodes.invalid is None or episodes.invalid == revision:
            return episodes, []
        return replace(episodes, invalid=None), []
    told = revision or "problems:" + hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
    if episodes.invalid == told:
        return episodes, []
    first = f": {problems[0]}" if problems else ""
    summary = f"Desired state invalid ({len(problems)} problem{'s' if len(problems) != 1 else ''}){first}"
    details = {"problems": list(problems), "count": len(problems)}
    return replace(episodes, invalid=told), [
        Notice(Event.DESIRED_STATE_INVALID, summary, at, revision, details=details)
    ]


def _drift(
    open_: Mapping[ResourceKey, int], seen: Seen, at: str, notices: list[Notice]
) -> dict[ResourceKey, int]:
    drift = dict(open_)
    for key, found in sorted(seen.drifted.items()):
        if key not in drift:
            drift[key] = 0
            details: dict[str, object] = {"paths": found.paths, "diff": list(found.diff)}
            if key in seen.fighting:
                details["fighting"] = True
            notices.append(Notice(Event.DRIFT_DETECTED, f"Drift detected on {key}: {', '.join(found.paths)}",
                                  at, seen.revision, key, details, found.by))  # fmt: skip
    for key in sorted(seen.corrected):
        if key in seen.fighting:
            drift[key] = drift.get(key, 0) + 1  # held open until the fight is over
            continue
        corrections = drift.pop(key, 0) + 1
        found = seen.drifted.get(key, Drift())
        notices.append(_corrected(key, corrections, seen.revision, at, found))
    for key in sorted(seen.in_sync & drift.keys()):
        if key in seen.fighting:
            continue
        corrections = drift.pop(key)
        if corrections:  # a fight is over: the corrections it held
            notices.append(_corrected(key, corrections, seen.revision, at, Drift()))
    if seen.full:
        for key in drift.keys() - seen.planned:  # gone from the desired state
            del drift[key]
    return drift


def _corrected(key: ResourceKey, corrections: int, revision: str, at: str, found: Drift) -> Notice:
    details: dict[str, object] = {"corrections": corrections}
    if found.diff:
        details |= {"paths": found.paths, "diff": list(found.diff)}
    times = "" if corrections == 1 else f" ({corrections} corrections: something else kept changing it)"
    return Notice(
        Event.DRIFT_CORRECTED, f"Drift corrected on {key}{times}", at, revision, key, details, found.by
    )


def _apply_failed(
    open_: frozenset[ResourceKey], seen: Seen, at: str, notices: list[Notice]
) -> frozenset[ResourceKey]:
    found = {key: (f"Apply failed on {key}: {error}", {"error": error}) for key, error in seen.failed.items()}
    return _per_resource(Event.APPLY_FAILED, open_, seen.applied | seen.in_sync, found, seen, at, notices)


def _per_resource(
    event: Event,
    open_: frozenset[ResourceKey],
    cleared: frozenset[ResourceKey],
    found: Mapping[ResourceKey, tuple[str, Mapping[str, object]]],
    seen: Seen,
    at: str,
    notices: list[Notice],
) -> frozenset[ResourceKey]:
    """Episodes of one resource each: opened (and told) by what the pass ``found`` (a summary and details per
    resource), closed by ``cleared`` or, after a full pass, by the resource leaving the desired state."""
    current = set(open_ - cleared)
    for key, (summary, details) in sorted(found.items()):
        if key not in current:
            current.add(key)
            notices.append(Notice(event, summary, at, seen.revision, key, details))
    if seen.full:
        current &= seen.planned
    return frozenset(current)


def _deployments(told: tuple[str, ...], seen: Seen, at: str, notices: list[Notice]) -> tuple[str, ...]:
    kept = list(told)
    for deployment, (key, why) in sorted(seen.deployments_failed.items()):
        if deployment in kept:
            continue
        kept.append(deployment)
        notices.append(Notice(Event.DEPLOYMENT_FAILED, f"Deployment {deployment} of {key} failed: {why}", at,
                              seen.revision, key, {"deployment": deployment, "reason": why}))  # fmt: skip
    return tuple(kept[-DEPLOYMENTS_KEPT:])


def _degraded(
    open_: frozenset[ResourceKey], seen: Seen, at: str, notices: list[Notice]
) -> frozenset[ResourceKey]:
    cleared = frozenset(key for key, (health, _) in seen.health.items() if health != DEGRADED)
    found = {key: (f"{key} is Degraded: {reason}", {"reason": reason})
             for key, (health, reason) in seen.health.items() if health == DEGRADED}  # fmt: skip
    return _per_resource(Event.DEGRADED, open_, cleared, found, seen, at, notices)
