"""After a pass: the per-resource status behind ``GET /status`` and the drift and change metrics.

Drift is counted once per episode: ``reconciler_drift_detected_total`` rises when a resource goes from in sync to
drifted, ``reconciler_resource_drifted`` stays 1 until a correction lands (or forever in detect mode), and
``reconciler_drift_corrected_total`` rises when it does. Changes from Git count as ``cause="desired"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from reconciler import metrics
from reconciler.model.resource import ResourceKey
from reconciler.plan.types import Cause, Change
from reconciler.runtime.engine import PassOutcome


class State(StrEnum):
    SYNCED = "Synced"
    DRIFTED = "Drifted"
    ERROR = "Error"
    PENDING = "Pending"


@dataclass
class ResourceStatus:
    kind: str
    name: str
    state: State = State.PENDING
    revision: str = ""
    lastChange: str | None = None  # SPEC §3 field names; ISO 8601, UTC
    lastError: str = ""

    def as_json(self) -> dict[str, object]:
        return {**self.__dict__, "state": self.state.value}


@dataclass
class Tracker:
    """Remembers across passes what each resource's state is and which resources are drifted."""

    statuses: dict[ResourceKey, ResourceStatus] = field(default_factory=dict)
    drifted: set[ResourceKey] = field(default_factory=set)

    def record(self, outcome: PassOutcome) -> None:
        revision = outcome.plan.revision
        seen = set(outcome.plan.in_sync)
        for key in outcome.plan.in_sync:
            self._status(key).state = State.SYNCED
            self._undrift(key)
        for change in outcome.result.applied:
            seen.add(change.key)
            self._applied(change, revision)
        for change, error in outcome.result.failed:
            seen.add(change.key)
            self._failed(change, error)
        for change, why in outcome.result.skipped:
            seen.add(change.key)
            self._not_applied(change, why)
        for key in set(self.statuses) - seen:  # gone from the desired state and from the plan
            del self.statuses[key]
            self._undrift(key)

    def _status(self, key: ResourceKey) -> ResourceStatus:
        return self.statuses.setdefault(key, ResourceStatus(kind=key.kind, name=key.name))

    def _applied(self, change: Change, revision: str) -> None:
        status = self._status(change.key)
        status.state, status.revision, status.lastError = State.SYNCED, revision, ""
        status.lastChange = datetime.now(UTC).isoformat(timespec="seconds")
        metrics.CHANGES_APPLIED.labels(
            kind=change.kind, action=change.action.value, cause=change.cause.value
        ).inc()
        if change.cause is Cause.DRIFT:
            self._detect(change.key)
            metrics.DRIFT_CORRECTED.labels(kind=change.kind).inc()
        self._undrift(change.key)

    def _failed(self, change: Change, error: str) -> None:
        status = self._status(change.key)
        status.state, status.lastError = State.ERROR, error
        metrics.APPLY_ERRORS.labels(kind=change.kind, action=change.action.value).inc()
        if change.cause is Cause.DRIFT:
            self._detect(change.key)

    def _not_applied(self, change: Change, why: str) -> None:
        status = self._status(change.key)
        status.lastError = why
        if change.cause is Cause.DRIFT:
            status.state = State.DRIFTED
            self._detect(change.key)
        else:
            status.state = State.PENDING

    def _detect(self, key: ResourceKey) -> None:
        if key not in self.drifted:
            self.drifted.add(key)
            metrics.DRIFT_DETECTED.labels(kind=key.kind).inc()
        metrics.RESOURCE_DRIFTED.labels(kind=key.kind, name=key.name).set(1)

    def _undrift(self, key: ResourceKey) -> None:
        if key in self.drifted:
            self.drifted.discard(key)
        metrics.RESOURCE_DRIFTED.labels(kind=key.kind, name=key.name).set(0)

    def as_json(self) -> list[dict[str, object]]:
        return [self.statuses[k].as_json() for k in sorted(self.statuses)]
