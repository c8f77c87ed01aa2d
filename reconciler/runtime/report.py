"""After a pass: the per-resource status behind ``GET /status`` and the drift and change metrics.

Drift is counted once per episode: ``reconciler_drift_detected_total`` rises when a resource goes from in sync to
drifted, ``reconciler_resource_drifted`` stays 1 until a correction lands (or forever in detect mode), and
``reconciler_drift_corrected_total`` rises when it does. Changes from Git count as ``cause="desired"``.

A resource that drifts again within ``FIGHT_WINDOW`` passes of a drift correction is fighting: someone else (a
script, a console user, another tool) keeps changing what Git says. ``reconciler_resource_fighting`` is 1 for it,
and the log names the fields, until ``FIGHT_WINDOW`` passes go by without a correction.

Who made a drift: an AWS event that names a resource (``revealed``) leaves its principal as the suspect until a
pass that started after it finds no drift there (in sync, or a change Git asked for), for at most ``SUSPECT_TTL``;
the drift that pass or a later one finds is put down to it (``lastDriftBy``, ``foundBy: "event"``), and
``reconciler_drift_by_principal_total`` counts the episode by the principal's type. Drift no event named says it
was found by a periodic (or targeted) pass, by ``unknown``. Each resource keeps its last ``HISTORY`` changes
applied and drift episodes, and, while it is not in sync, the diff that is pending.

``lastError`` never shows a secret: AWS error messages can echo the request, so known secret values (and every
secret-looking value a diff of this pass shows, live ones included) are masked (``model.secrets``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import structlog

from reconciler import metrics
from reconciler.apply.executor import Written
from reconciler.model.health import NOT_READ, Health, Verdict
from reconciler.model.history import DeploymentRecord, Starters, history_entries
from reconciler.model.principal import UNKNOWN, Principal
from reconciler.model.resource import ResourceKey
from reconciler.model.secrets import mask_at, redact
from reconciler.model.targets import DEFAULT_TARGET
from reconciler.plan.types import Action, Cause, Change, Plan
from reconciler.runtime.engine import PassOutcome

log = structlog.get_logger(__name__)
FIGHT_WINDOW = 3  # passes
HISTORY = 10  # changes applied and drift episodes kept per resource
SUSPECT_TTL = 900.0  # seconds an event's principal stays the suspect of a drift no pass has found yet
WHOLE = frozenset({Action.CREATE, Action.DELETE})  # changes of a whole resource: no paths to name


class State(StrEnum):
    SYNCED = "Synced"
    DRIFTED = "Drifted"
    ERROR = "Error"
    PENDING = "Pending"


@dataclass(slots=True)  # one per resource: thousands
class ResourceStatus:
    kind: str
    name: str
    state: State = State.PENDING
    revision: str = ""
    lastChange: str | None = None  # field names as GET /status prints them; ISO 8601, UTC
    lastError: str = ""
    # services: the last CodeDeploy deployment started, the deployment that failed, or the ECS deployment that a
    # correction overrode (someone else's) or stopped waiting for (past --deployment-deadline)
    deployment: str = ""
    # fields left to another owner (plan/owners.py): (path, owner)
    owned: tuple[tuple[str, str], ...] = ()
    health: Verdict = NOT_READ  # how it is doing in AWS, apart from its sync (plan/health.py)
    # services: their last deployments, newest first, as the health reader keeps them (not copied)
    deployments: Sequence[DeploymentRecord] = ()
    diff: tuple[dict[str, object], ...] = ()  # while not in sync: the change pending, masked
    lastDriftBy: dict[str, str] | None = None
    # oldest first, the last HISTORY: tuples, as most resources have one change and no drift (a deque is 10 times
    # the size of a tuple of one)
    changes: tuple[AppliedChange, ...] = ()
    episodes: tuple[DriftEpisode, ...] = ()

    def as_json(self, starters: Starters | None = None) -> dict[str, object]:
        """``starters``: who started which deployment, for a service's history."""
        body: dict[str, object] = {name: getattr(self, name) for name in FIELDS}
        body |= {"state": self.state.value, "lastError": redact(self.lastError)}
        body |= {"health": self.health.health.value, "healthReason": redact(self.health.reason)}
        if self.deployment:
            body["deployment"] = self.deployment
        if self.owned:
            body["owned"] = [{"path": path, "owner": owner} for path, owner in self.owned]
        if self.kind == "Service":
            body["deployments"] = history_entries(self.deployments, starters or Starters())
        if self.diff:  # masked again: a secret learnt since it was recorded is masked here too
            body["diff"] = [masked_entry(entry) for entry in self.diff]
        if self.lastDriftBy is not None:
            body["lastDriftBy"] = self.lastDriftBy
        if self.changes:
            body["changes"] = [change.as_json() for change in reversed(self.changes)]
        if self.episodes:
            body["driftEpisodes"] = [episode.as_json() for episode in reversed(self.episodes)]
        return body


@dataclass(frozen=True, slots=True)
class AppliedChange:
    at: str
    action: str
    cause: str
    revision: str
    paths: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {"at": self.at, "action": self.action, "cause": self.cause, "revision": self.revision,
                "paths": list(self.paths)}  # fmt: skip


@dataclass(slots=True)
class DriftEpisode:
    detectedAt: str
    by: dict[str, str]  # as lastDriftBy
    paths: tuple[str, ...]
    correctedAt: str | None = None  # corrected, or put back by someone else

    def as_json(self) -> dict[str, object]:
        return {"detectedAt": self.detectedAt, "correctedAt": self.correctedAt, "by": self.by,
                "paths": list(self.paths)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Suspect:
    """The principal of the last AWS event that named a resource, and when it came (``time.monotonic()``)."""

    principal: Principal
    at: str  # the event's time, in the form of every other time of /status
    received: float


FIELDS = ("kind", "name", "state", "revision", "lastChange", "lastError")  # what every resource's entry has


@dataclass
class Tracker:
    """Remembers across passes what each resource's state is and which resources are drifted."""

    statuses: dict[ResourceKey, ResourceStatus] = field(default_factory=dict)
    drifted: set[ResourceKey] = field(default_factory=set)
    fighting: set[ResourceKey] = field(default_factory=set)
    passes: int = 0
    _corrected_at: dict[ResourceKey, int] = field(
        default_factory=dict
    )  # the pass of the last drift correction
    _drift_series: set[ResourceKey] = field(default_factory=set)  # resources with a resource_drifted series
    _overdue: dict[str, str] = field(
        default_factory=dict
    )  # services overdue at the last full pass → the note
    _health_series: dict[ResourceKey, set[Health]] = field(
        default_factory=dict
    )  # the healths it has series of
    starters: Starters = field(default_factory=Starters)  # the engine's: who started which deployment
    target: str = DEFAULT_TARGET  # whose resources these are: every entry and metric series names it
    _suspects: dict[ResourceKey, Suspect] = field(default_factory=dict)  # who AWS events say changed what
    _targeted: bool = False  # the pass being recorded
    _started: float = 0.0  # when it began (time.monotonic())

    def revealed(self, keys: Iterable[ResourceKey], principal: Principal, at: str = "") -> None:
        """An AWS event says ``principal`` wrote these resources: a drift found in them is put down to it."""
        received, when = time.monotonic(), _moment(at)
        for key in keys:
            self._suspects[key] = Suspect(principal, when, received)

    def record(self, outcome: PassOutcome, *, started: float | None = None) -> None:
        """A targeted pass updates the resources it covered only, and does not count as a pass of the fighting
        window: a resource corrected twice through events between two full passes is fighting. ``started``:
        when the pass began (``time.monotonic()``), so that an event that came while it ran is kept."""
        self._targeted = outcome.targeted
        self._started = time.monotonic() if started is None else started
        if not outcome.targeted:
            self.passes += 1
        revision = outcome.plan.revision
        for change in outcome.plan.changes:  # live secret values a diff shows become known secrets
            masked_diff(change)
        self._owned(outcome.plan)
        seen = set(outcome.plan.in_sync)
        failed_in_place = {ResourceKey("Service", name) for name in outcome.plan.deployments_failed}
        for key in outcome.plan.in_sync:
            status = self._status(key)
            status.state, status.diff = State.SYNCED, ()
            self._acquit(key)
            if status.deployment.endswith("failed") and key not in failed_in_place:
                status.deployment = ""  # Git moved on, or someone deployed by hand
                metrics.set_deployment_failed(key.kind, key.name, failed=False, target=self.target)
            self._undrift(key)
        for change in outcome.result.applied:
            seen.add(change.key)
            self._applied(change, revision, outcome.result.written.get(change.key))
        for change, error in outcome.result.failed:
            seen.add(change.key)
            self._failed(change, error)
        for change, why in outcome.result.skipped:
            seen.add(change.key)
            self._not_applied(change, why)
        self._failed_in_place(outcome.plan.deployments_failed)
        self._assessed(outcome, seen)
        if outcome.targeted:
            return
        for key in set(self.statuses) - seen:  # gone from the desired state and from the plan
            self._forget(key)
        self._end_fights()
        self._deployments_overdue(outcome.plan.deployments_overdue)

    def _status(self, key: ResourceKey) -> ResourceStatus:
        return self.statuses.setdefault(key, ResourceStatus(kind=key.kind, name=key.name))

    def _applied(self, change: Change, revision: str, written: Written | None) -> None:
        status = self._status(change.key)
        if change.restamp:  # bookkeeping: nothing in AWS changed, so no change is counted
            status.state, status.lastError = State.SYNCED, ""
            if status.deployment.endswith("failed"):  # Git moved back to what the service runs
                status.deployment = ""
                metrics.set_deployment_failed(change.kind, change.name, failed=False, target=self.target)
            return
        if written is not None and written.deployment_id:
            status.deployment = f"{written.deployment_id} started by revision {revision}"
            metrics.DEPLOYMENTS_STARTED.labels(name=change.name).inc()
            metrics.set_deployment_failed(change.kind, change.name, failed=False, target=self.target)
        elif change.deployment_note or status.deployment.endswith("failed"):
            status.deployment = (
                change.deployment_note
            )  # a new revision went out, or a hand-made one was overridden
            metrics.set_deployment_failed(change.kind, change.name, failed=False, target=self.target)
        status.state, status.revision, status.lastError, status.diff = State.SYNCED, revision, "", ()
        status.lastChange = _now()
        if change.cause is not Cause.DRIFT:
            self._acquit(change.key)
        applied = AppliedChange(
            status.lastChange,
            change.action.value,
            change.cause.value,
            revision,
            () if change.action in WHOLE else tuple(d.path for d in change.diff),
        )
        status.changes = (*status.changes[1 - HISTORY :], applied)
        metrics.CHANGES_APPLIED.labels(
            kind=change.kind, action=change.action.value, cause=change.cause.value, target=self.target
        ).inc()
        if change.cause is Cause.DRIFT:
            self._detect(change)
            metrics.DRIFT_CORRECTED.labels(kind=change.kind, target=self.target).inc()
            self._corrected(change)
        self._undrift(change.key)

    def _failed(self, change: Change, error: str) -> None:
        status = self._status(change.key)
        status.state, status.lastError = State.ERROR, redact(error)
        status.diff = tuple(masked_diff(change))
        if change.cause is not Cause.DRIFT:
            self._acquit(change.key)
        metrics.APPLY_ERRORS.labels(kind=change.kind, action=change.action.value).inc()
        if change.cause is Cause.DRIFT:
            self._detect(change)

    def _not_applied(self, change: Change, why: str) -> None:
        status = self._status(change.key)
        status.lastError = redact(why)
        status.diff = tuple(masked_diff(change))
        if change.cause is not Cause.DRIFT:
            self._acquit(change.key)
        if change.deployment_failed:
            status.deployment = f"{change.deployment_failed} failed"
            metrics.set_deployment_failed(change.kind, change.name, failed=True, target=self.target)
        if change.cause is Cause.DRIFT:
            status.state = State.DRIFTED
            self._detect(change)
        else:
            status.state = State.PENDING

    def _failed_in_place(self, failed: dict[str, str]) -> None:
        """A service that ECS left on a failed deployment of its document's revision is in sync, and failed: that
        revision is not deployed again until Git changes."""
        for name, deployment in failed.items():
            self._status(ResourceKey("Service", name)).deployment = f"{deployment} failed"
            metrics.set_deployment_failed("Service", name, failed=True, target=self.target)

    def _forget(self, key: ResourceKey) -> None:
        self._undrift(key)
        del self.statuses[key]
        self._suspects.pop(key, None)
        self._corrected_at.pop(key, None)
        for health in self._health_series.pop(key, ()):
            metrics.RESOURCE_HEALTH.remove(key.kind, key.name, health.value, self.target)

    def _assessed(self, outcome: PassOutcome, seen: set[ResourceKey]) -> None:
        """The health and the deployment history the pass found, of the resources it planned."""
        for key, verdict in outcome.health.items():
            if key in seen:
                self._health(key, verdict)
        if outcome.starters is not None:
            self.starters = outcome.starters
        for name, records in outcome.deployments.items():
            if (key := ResourceKey("Service", name)) in seen:
                self.statuses[key].deployments = records

    def _health(self, key: ResourceKey, verdict: Verdict) -> None:
        """A resource's health, said in its status and in ``reconciler_resource_health``. A resource gets series at
        its first health other than Healthy (an Unknown of one not read yet does not count), one per health it
        has had, so that thousands of resources that stay healthy cost no series; then 1 is on its current
        health and 0 on the others."""
        status = self._status(key)
        before, status.health = status.health, verdict
        if before.read and before.health is not verdict.health:
            log.info("health changed", kind=key.kind, name=key.name, health=verdict.health.value,
                     was=before.health.value, reason=redact(verdict.reason))  # fmt: skip
        series = self._health_series.get(key)
        if series is None:
            if verdict.health is Health.HEALTHY or not verdict.read:
                return
            series = self._health_series[key] = set()
        series.add(verdict.health)
        for health in series:
            metrics.RESOURCE_HEALTH.labels(
                kind=key.kind, name=key.name, health=health.value, target=self.target
            ).set(int(health is verdict.health))

    def _owned(self, plan: Plan) -> None:
        rows: dict[ResourceKey, list[tuple[str, str]]] = {}
        for row in plan.owned:
            rows.setdefault(ResourceKey(row.kind, row.name), []).append((row.path, row.owner))
        planned = {*plan.in_sync, *(c.key for c in plan.changes)}
        for key in planned:
            if key in rows or key in self.statuses:
                self._status(key).owned = tuple(rows.get(key, ()))

    def _deployments_overdue(self, overdue: dict[str, str]) -> None:
        """A service's deployment past the deadline is said in its status and alerted on, until it ends."""
        for name in set(self._overdue) - set(overdue):
            metrics.DEPLOYMENT_OVERDUE.labels(kind="Service", name=name, target=self.target).set(0)
            status = self.statuses.get(ResourceKey("Service", name))
            if status is not None and status.deployment.startswith(self._overdue[name]):
                status.deployment = ""
        for name, note in overdue.items():
            metrics.DEPLOYMENT_OVERDUE.labels(kind="Service", name=name, target=self.target).set(1)
            status = self._status(ResourceKey("Service", name))
            if not status.deployment.endswith("failed"):
                status.deployment = note
        self._overdue = dict(overdue)

    def _corrected(self, change: Change) -> None:
        last = self._corrected_at.get(change.key)
        self._corrected_at[change.key] = self.passes
        if last is None or self.passes - last > FIGHT_WINDOW:
            return
        if change.key not in self.fighting:
            log.warning("resource fighting: something else keeps changing it", kind=change.kind,
                        name=change.name, fields=[d.path for d in change.diff], passes_since_correction=self.passes - last)  # fmt: skip
        self.fighting.add(change.key)
        metrics.RESOURCE_FIGHTING.labels(kind=change.kind, name=change.name, target=self.target).set(1)

    def _end_fights(self) -> None:
        for key in list(self.fighting):
            corrected = self._corrected_at.get(key)
            if corrected is None or self.passes - corrected >= FIGHT_WINDOW:
                self.fighting.discard(key)
                metrics.RESOURCE_FIGHTING.labels(kind=key.kind, name=key.name, target=self.target).set(0)

    def _detect(self, change: Change) -> None:
        key = change.key
        if key not in self.drifted:
            self.drifted.add(key)
            principal, found_by, at = self._drift_by(key)
            by = principal.as_json() | {"foundBy": found_by, "at": at}
            diff = masked_diff(change)
            metrics.DRIFT_DETECTED.labels(kind=key.kind, target=self.target).inc()
            metrics.DRIFT_BY_PRINCIPAL.labels(principal_type=principal.type.value).inc()
            log.info("drift detected", kind=change.kind, name=change.name, diff=diff, by=str(principal),
                     by_type=principal.type.value, found_by=found_by)  # fmt: skip
            status = self._status(key)
            status.lastDriftBy = by
            episode = DriftEpisode(by["at"], by, tuple(str(d["path"]) for d in diff))
            status.episodes = (*status.episodes[1 - HISTORY :], episode)
        metrics.RESOURCE_DRIFTED.labels(kind=key.kind, name=key.name, target=self.target).set(1)
        self._drift_series.add(key)

    def _drift_by(self, key: ResourceKey) -> tuple[Principal, str, str]:
        """Who made the drift just found in ``key``, what found it and when: the suspect an event left, else
        nobody known."""
        suspect = self._suspects.pop(key, None)
        if suspect is not None and time.monotonic() - suspect.received < SUSPECT_TTL:
            return suspect.principal, "event", suspect.at
        return UNKNOWN, "targeted pass" if self._targeted else "periodic pass", _now()

    def _acquit(self, key: ResourceKey) -> None:
        """A pass that began after the event saw no drift in ``key``: the event's write was none (an owned field,
        put back by hand, or what Git asks), so a later drift is not put down to it."""
        suspect = self._suspects.get(key)
        if suspect is not None and suspect.received < self._started:
            del self._suspects[key]

    def _undrift(self, key: ResourceKey) -> None:
        """Back to 0, for a resource that has a series: one is made when a resource first drifts, so that an
        estate of thousands of resources that never drifted costs no series (nor CloudWatch metrics)."""
        if key in self.drifted and (status := self.statuses.get(key)) is not None and status.episodes:
            status.episodes[-1].correctedAt = _now()
        self.drifted.discard(key)
        if key in self._drift_series:
            metrics.RESOURCE_DRIFTED.labels(kind=key.kind, name=key.name, target=self.target).set(0)

    def as_json(self) -> list[dict[str, object]]:
        return [
            self.statuses[k].as_json(self.starters) | {"target": self.target} for k in sorted(self.statuses)
        ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _moment(event_time: str) -> str:
    """CloudTrail's ``eventTime`` (``2026-12-05T16:35:42Z``) as /status writes times; now when it is not one."""
    try:
        return datetime.fromisoformat(event_time).astimezone(UTC).isoformat(timespec="seconds")
    except ValueError:
        return _now()


def masked_entry(entry: dict[str, object]) -> dict[str, object]:
    """One entry of a masked diff with what has become known secret since masked as well (masking is
    idempotent: a masked value stays as it is)."""
    path = str(entry["path"])
    return {"path": path, "live": mask_at(path, entry["live"]), "desired": mask_at(path, entry["desired"])}


def masked_diff(change: Change) -> list[dict[str, object]]:
    """The diff of ``change`` as it may be shown: ``live → desired`` per path, secrets masked."""
    return [
        {"path": d.path, "live": mask_at(d.path, d.live), "desired": mask_at(d.path, d.desired)}
        for d in change.diff
    ]
