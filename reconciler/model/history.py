"""A service's deployment history as ``GET /status`` shows it: its last deployments, newest first, each with who
started it.

What AWS says of a deployment (``DeploymentRecord``) is read by ``live/health.py`` from ECS's service deployments
(ListServiceDeployments, DescribeServiceDeployments) or, for a CODE_DEPLOY service, from CodeDeploy
(ListDeployments, BatchGetDeployments). Who started it AWS does not say; the reconciler knows it for the
deployments it started itself (``Starters``, from its UpdateService and CreateService answers, with the Git
revision it applied; a CodeDeploy deployment it created says so in its description) and for those an AWS event
named (CloudTrail's ``userIdentity``). Anything else was started outside the reconciler.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

HISTORY_LENGTH = 10  # deployments shown per service
RECONCILER = "reconciler"
OUTSIDE = "outside the reconciler"
# ECS ServiceDeploymentStatus and CodeDeploy deployment statuses after which a deployment never changes again
ENDED = frozenset({
    "SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED",  # ECS
    "Succeeded", "Failed", "Stopped",  # CodeDeploy
})  # fmt: skip


@dataclass(frozen=True, slots=True)  # up to ten per service, kept between reads
class DeploymentRecord:
    """One deployment of a service, as AWS describes it."""

    id: str  # ECS: the last part of the service deployment's ARN; CodeDeploy: the deployment ID
    strategy: str  # ECS: ROLLING, BLUE_GREEN, LINEAR, CANARY; CodeDeploy: the deployment configuration's name
    status: str  # as AWS says it: ECS's ServiceDeploymentStatus, CodeDeploy's deployment status
    reason: str = ""
    started_at: float | None = None  # Unix time: a float is half a datetime's size, and there are thousands
    finished_at: float | None = None
    lifecycle_stage: str = ""  # ECS: where a deployment in progress is (SCALE_UP, BAKE_TIME, ...)
    arn: str = ""  # ECS: the service deployment's ARN, kept while it may still change (to describe it again)
    target: str = ""  # ECS: the last part of its target service revision's ARN
    revision: str = ""  # CodeDeploy: the Git revision a deployment the reconciler created names
    started_by: str = (
        ""  # what the deployment itself says of who started it (CodeDeploy); "" when it says nothing
    )

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def keys(self) -> tuple[str, ...]:
        """What an UpdateService answer or an event may name this deployment by (``deployment_key``)."""
        return tuple(key for key in (self.id, self.target) if key)


def deployment_key(name: str) -> str:
    """A deployment's key, from an ECS deployment ID (``ecs-svc/123``), a service deployment or service revision ARN
    (their last part) or a CodeDeploy deployment ID (``d-…``, as it is)."""
    return name.rsplit("/", 1)[-1]


@dataclass
class Starters:
    """Who started which deployment, as far as this process knows: the deployments it started itself, with the Git
    revision each applied, and those an AWS event named, with the event's principal. Kept in memory: a process
    knows what it starts and is told from its start on."""

    ours: dict[str, str] = field(default_factory=dict)  # deployment key → the revision it applied
    principals: dict[str, str] = field(default_factory=dict)  # deployment key → who started it
    _fresh: set[str] = field(default_factory=set)  # keys learnt since the last ``keep``

    def started(self, names: Iterable[str], revision: str) -> None:
        for key in {deployment_key(n) for n in names if n}:
            self.ours[key] = revision
            self._fresh.add(key)

    def named(self, names: Iterable[str], principal: str) -> None:
        for key in {deployment_key(n) for n in names if n}:
            self.principals.setdefault(key, principal)
            self._fresh.add(key)

    def keep(self, known: set[str]) -> None:
        """Forget what no history shows any more (``known``: the keys of the deployments histories show), but not
        what was learnt since the last call: a deployment started in this pass may not be in a history yet."""
        kept = known | self._fresh
        self.ours = {k: v for k, v in self.ours.items() if k in kept}
        self.principals = {k: v for k, v in self.principals.items() if k in kept}
        self._fresh = set()

    def who(self, record: DeploymentRecord) -> tuple[str, str | None]:
        """(startedBy, revision) of ``record``."""
        if record.started_by == RECONCILER:
            return RECONCILER, record.revision or None
        for key in record.keys:
            if key in self.ours:
                return RECONCILER, self.ours[key]
        for key in record.keys:
            if key in self.principals:
                return self.principals[key], None
        return record.started_by or OUTSIDE, None


def history_entries(records: Sequence[DeploymentRecord], starters: Starters) -> list[dict[str, object]]:
    """The entries ``GET /status`` shows under ``deployments``: at most ``HISTORY_LENGTH``, newest first."""
    entries: list[dict[str, object]] = []
    for record in records[:HISTORY_LENGTH]:
        started_by, revision = starters.who(record)
        entries.append({
            "id": record.id, "revision": revision, "startedBy": started_by, "strategy": record.strategy,
            "status": record.status, "reason": record.reason, "startedAt": _when(record.started_at),
            "finishedAt": _when(record.finished_at),
        })  # fmt: skip
    return entries


def _when(moment: float | None) -> str | None:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds") if moment is not None else None
