"""GitHub commit statuses (REST: "Create a commit status"): which state a revision is in, and when to say so.

A revision is ``pending`` once a pass has applied it and it has not converged, ``success`` once a pass writes
nothing, every resource is Synced and none is Degraded or Progressing, and ``failure`` with the reason while an apply failed, a deployment
failed, a resource is Degraded, or the revision is invalid. A status is posted when a revision's state changes,
not at every pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

DESCRIPTION_MAX = 140  # GitHub's bound on a status's description
KEPT = 32  # revisions whose last state is remembered
_SCP = re.compile(r"^[\w.-]+@[\w.-]+:(?P<path>.+)$")  # git@github.com:owner/repo.git


def repository_of(url: str) -> tuple[str, str] | None:
    """``(owner, repo)`` from a Git URL (``https://host/owner/repo(.git)``, ``ssh://git@host/owner/repo``,
    ``git@host:owner/repo.git``): the last two segments of its path; None when it has fewer."""
    scp = _SCP.match(url)
    path = scp.group("path") if scp and "://" not in url else urlsplit(url).path
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) < 2:
        return None
    owner, repo = parts[-2], parts[-1].removesuffix(".git")
    return (owner, repo) if owner and repo else None


@dataclass(frozen=True)
class Status:
    state: str  # pending | success | failure | error
    description: str

    def body(self, *, context: str, target_url: str | None) -> dict[str, str]:
        body = {"state": self.state, "description": _cut(self.description), "context": context}
        if target_url:
            body["target_url"] = target_url
        return body


@dataclass(frozen=True)
class Estate:
    """What the tracker says of every resource after a pass, reduced to what a status needs."""

    resources: int = 0
    unsynced: int = 0  # not Synced (Drifted, Error, Pending)
    failed_apply: str = ""  # the first resource whose apply failed, and why
    failed_deployment: str = ""  # the first service whose deployment failed
    degraded: str = ""  # the first Degraded resource, and why
    progressing: int = 0
    applied: int = 0  # changes this pass wrote: their effect is judged by the next pass


def status_of(estate: Estate) -> Status:
    if estate.failed_apply:
        return Status("failure", f"apply failed: {estate.failed_apply}")
    if estate.failed_deployment:
        return Status("failure", f"deployment failed: {estate.failed_deployment}")
    if estate.degraded:
        return Status("failure", f"degraded: {estate.degraded}")
    if estate.applied:
        return Status("pending", f"applying: {estate.applied} changes written")
    if estate.unsynced or estate.progressing:
        waiting = estate.unsynced + estate.progressing
        return Status("pending", f"applied; {waiting} of {estate.resources} resources not converged yet")
    return Status("success", f"converged and healthy: {estate.resources} resources")


def invalid_status(problems: int, first: str) -> Status:
    return Status("failure", f"desired state invalid: {problems} problem(s): {first}")


def changed(told: Mapping[str, str], revision: str, status: Status) -> dict[str, str] | None:
    """The revisions' states after saying ``status`` of ``revision``, or None when there is nothing to say: its
    state is unchanged, or it converged once and is only waiting again (a drift being corrected, a service
    scaling out), which does not make the revision pending."""
    if told.get(revision) == status.state or (told.get(revision) == "success" and status.state == "pending"):
        return None
    kept = {k: v for k, v in told.items() if k != revision}
    kept[revision] = status.state
    return dict(list(kept.items())[-KEPT:])


def _cut(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
