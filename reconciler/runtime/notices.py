"""What a pass tells the outside world: its outcome reduced to plain values for the pure decisions of
``notify/`` (episodes, commit statuses), and what they decide handed to the sinks' queues. Nothing here waits
for a receiver: sending is the notifier's task (``notify/sender.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from reconciler.model.health import Health
from reconciler.model.resource import ResourceKey
from reconciler.model.secrets import redact
from reconciler.model.targets import DEFAULT_TARGET
from reconciler.notify import github
from reconciler.notify.episodes import Drift, Episodes, Notice, Seen, loaded, step
from reconciler.notify.message import resource_url
from reconciler.notify.sender import Notifier, now_iso
from reconciler.plan.types import Cause
from reconciler.runtime.engine import PassOutcome
from reconciler.runtime.report import State, Tracker, masked_diff

FAILED_IN_PLACE = "ECS left the service on a failed deployment of the revision Git asks for"
EMPTY = "the desired state has no documents (an empty or broken checkout?): nothing is pruned"


def seen_of(outcome: PassOutcome, tracker: Tracker, *, empty: bool) -> Seen:
    """The pass's outcome as ``notify.episodes`` reads it, once ``tracker`` has recorded it."""
    plan, result = outcome.plan, outcome.result
    drifted: dict[ResourceKey, Drift] = {}
    changes = [*result.applied, *(c for c, _ in result.failed), *(c for c, _ in result.skipped)]
    for change in changes:
        if change.cause is Cause.DRIFT and not change.restamp:
            status = tracker.statuses.get(change.key)
            by = status.lastDriftBy if status is not None else None  # who made it, when it was first found
            drifted[change.key] = Drift(masked_diff(change), by)
    failed_deployments = {
        deployment: (ResourceKey("Service", name), FAILED_IN_PLACE)
        for name, deployment in plan.deployments_failed.items()
    }
    for change, why in result.skipped:
        if change.deployment_failed:
            failed_deployments[change.deployment_failed] = (change.key, redact(why))
    blocked: tuple[int, str] | None = None
    if plan.deletions_blocked:
        blocked = (plan.deletions_blocked, f"this revision would delete {plan.deletions_blocked} resources, "
                   "more than --max-deletions: nothing is deleted")  # fmt: skip
    elif empty:
        blocked = (0, EMPTY)
    return Seen(
        revision=plan.revision,
        full=not outcome.targeted,
        planned=frozenset({*plan.in_sync, *(c.key for c in plan.changes)}),
        drifted=drifted,
        corrected=frozenset(c.key for c in result.applied if c.cause is Cause.DRIFT and not c.restamp),
        in_sync=frozenset(plan.in_sync),
        applied=frozenset(c.key for c in result.applied),
        failed={c.key: redact(error) for c, error in result.failed},
        deployments_failed=failed_deployments,
        health={k: (v.health.value, redact(v.reason)) for k, v in outcome.health.items() if v.read},
        fighting=frozenset(tracker.fighting),
        blocked=blocked if not outcome.targeted else None,
    )


def estate_of(tracker: Tracker, outcome: PassOutcome) -> github.Estate:
    """What a commit status needs of every resource the tracker knows, after ``outcome``."""
    failed_apply = failed_deployment = degraded = ""
    unsynced = progressing = 0
    for key in sorted(tracker.statuses):
        status = tracker.statuses[key]
        if status.state is State.ERROR and not failed_apply:
            failed_apply = f"{key}: {redact(status.lastError)}"
        if status.deployment.endswith("failed") and not failed_deployment:
            failed_deployment = f"{key}: {status.deployment}"
        if status.health.health is Health.DEGRADED and not degraded:
            degraded = f"{key}: {redact(status.health.reason)}"
        unsynced += status.state is not State.SYNCED
        progressing += status.health.health is Health.PROGRESSING
    applied = sum(not c.restamp and c.cause is not Cause.DRIFT for c in outcome.result.applied)  # Git's
    return github.Estate(
        len(tracker.statuses), unsynced, failed_apply, failed_deployment, degraded, progressing, applied
    )


@dataclass
class Notices:
    """The daemon's notifications and commit statuses: the open episodes, the states told, and the notifier."""

    notifier: Notifier
    episodes: Episodes = field(default_factory=Episodes)
    told: dict[str, str] = field(default_factory=dict)  # revision → the commit state last posted
    # the target whose passes these are (model/targets.py): with targets.yaml every message names it, and its
    # commit status has a context of its own, so that the targets' states of one commit do not overwrite each other
    target: str = DEFAULT_TARGET

    def after_pass(self, outcome: PassOutcome, tracker: Tracker, *, empty: bool) -> None:
        self.episodes, notices = step(self.episodes, seen_of(outcome, tracker, empty=empty), at=now_iso())
        self.notifier.offer(self._named(notices))
        self._commit_status(outcome.plan.revision, github.status_of(estate_of(tracker, outcome)))

    def loaded(self, revision: str, problems: Sequence[str] | None) -> None:
        """A desired state loaded, or found invalid (``problems``, each at ``FILE:LINE``, redacted)."""
        self.episodes, notices = loaded(self.episodes, revision, problems, at=now_iso())
        self.notifier.offer(self._named(notices))
        if problems is not None and revision:
            self._commit_status(
                revision, github.invalid_status(len(problems), problems[0] if problems else "")
            )

    def _named(self, notices: Sequence[Notice]) -> list[Notice]:
        """With targets.yaml, each message says its target: in ``details.target`` and first in its summary."""
        if self.target == DEFAULT_TARGET:
            return list(notices)
        return [replace(n, summary=f"{self.target}: {n.summary}", details={**n.details, "target": self.target})
                for n in notices]  # fmt: skip

    def _commit_status(self, revision: str, status: github.Status) -> None:
        notifier = self.notifier
        if notifier.target is None:
            return
        told = github.changed(self.told, revision, status)
        if told is None:
            return
        self.told = told
        target_url = resource_url(notifier.ui_url, None) if notifier.ui_url else None
        context = notifier.target.context
        if self.target != DEFAULT_TARGET:
            context = f"{context}/{self.target}"
        notifier.commit_status(revision, status.body(context=context, target_url=target_url))

    async def run(self) -> None:
        await self.notifier.run()
