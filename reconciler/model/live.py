"""A snapshot of what AWS holds, as the readers in ``live`` found it, in AWS's own describe shapes.

It is plain data so that the planner stays pure: ``live`` fills it, ``plan`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Described = dict[str, Any]


@dataclass(frozen=True, slots=True)  # a pass holds one per live ELBv2 and autoscaling resource
class LiveEntry:
    """A live resource of a kind that its reader has already put into request shape (ELBv2, autoscaling).

    Entries are keyed by the ``metadata.name`` of the document they belong to: the reader finds that name in the
    ``reconciler:name`` tag of resources we manage, or by the kind's natural key (a load balancer's name, a
    listener's load balancer and port) for resources to adopt."""

    name: str
    arn: str
    spec: dict[str, Any]  # request-shaped; references as ARNs
    tags: dict[str, str]
    status: str = "ACTIVE"
    parent: str = ""  # e.g. the listener ARN of a rule: what deleting it needs besides the ARN


@dataclass(frozen=True)
class FailedDeployment:
    """A CodeDeploy deployment that ended Failed or Stopped, and what it was deploying."""

    deployment_id: str
    status: str
    description: str  # ours carry the revision and the service's spec hash (apply/deployment.py)
    message: str  # CodeDeploy's error, or its rollback message


# ListServiceDeployments statuses of a deployment ECS rolled back (the circuit breaker, or a stop with rollback)
ROLLED_BACK = frozenset(
    {"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
)


@dataclass(frozen=True)
class FailedRollout:
    """An ECS service deployment that failed (the circuit breaker stopped it, and rolled it back when asked to), and
    the task definition revision it was deploying."""

    deployment_arn: str
    status: str  # ListServiceDeployments' status: ROLLBACK_SUCCESSFUL, ROLLBACK_IN_PROGRESS, STOPPED, ...
    task_definition: str
    reason: str

    @property
    def deployment_id(self) -> str:
        """The ID ECS prints in its events: the ARN's last part."""
        return self.deployment_arn.rsplit("/", 1)[-1]


@dataclass
class LiveState:
    # cluster name → DescribeClusters entry (with ``settings`` and ``tags``)
    clusters: dict[str, Described] = field(default_factory=dict)
    # (cluster name, service name) → DescribeServices entry (with ``tags``); INACTIVE ones included when asked for
    services: dict[tuple[str, str], Described] = field(default_factory=dict)
    # task definition ARN → DescribeTaskDefinition's ``taskDefinition`` plus its ``tags``
    task_definitions: dict[str, Described] = field(default_factory=dict)
    # families whose recent revisions have been read into ``task_definitions``
    families_read: set[str] = field(default_factory=set)
    # kind → metadata.name → entry, for the kinds read into request shape
    entries: dict[str, dict[str, LiveEntry]] = field(default_factory=dict)
    # resource → desired hash it had when this process last saw it live and in sync: tells a resource deleted
    # by hand (drift) from one never created, for kinds AWS forgets at once when deleted (listener rules)
    remembered: dict[tuple[str, str], str] = field(default_factory=dict)
    # deployment group name → IDs of its CodeDeploy deployments still running (nothing of it is corrected meanwhile)
    deployments_running: dict[str, list[str]] = field(default_factory=dict)
    # deployment group name → its last attempted deployment when that failed or was stopped (rolled back)
    deployments_failed: dict[str, FailedDeployment] = field(default_factory=dict)
    # (cluster name, service name) → the service's recent deployments that failed, for the services whose history
    # the planner asked for (``Plan.rollouts_to_read``); an empty list: read, none failed
    failed_rollouts: dict[tuple[str, str], list[FailedRollout]] = field(default_factory=dict)
    # ... and those whose history could not be read, with AWS's error (their revision is not put back blindly)
    rollout_read_errors: dict[tuple[str, str], str] = field(default_factory=dict)
    # when the read began: how long a deployment has been rolling out is measured against it
    read_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Cloud Map namespace DNS name → ID, for the namespaces documents name by DNS name
    namespaces: dict[str, str] = field(default_factory=dict)
    # subnet ID → Availability Zone, for the subnets that load balancer documents name
    subnet_zones: dict[str, str] = field(default_factory=dict)
    # kind → live resources under a declared parent that no document declares and no instance owns (a rule
    # added by hand on a managed listener: its ``parent`` is the listener's ARN); named by their natural key
    unmanaged: dict[str, list[LiveEntry]] = field(default_factory=dict)
    _families: tuple[int, dict[str, list[Described]]] | None = field(default=None, repr=False, compare=False)

    def entries_of(self, kind: str) -> dict[str, LiveEntry]:
        return self.entries.setdefault(kind, {})

    def revisions_of(self, family: str) -> list[Described]:
        """Known revisions of ``family``, newest first."""
        if self._families is None or self._families[0] != len(self.task_definitions):
            by_family: dict[str, list[Described]] = {}
            for td in self.task_definitions.values():
                by_family.setdefault(str(td.get("family")), []).append(td)
            self._families = (len(self.task_definitions), by_family)  # rebuilt when revisions are added
        found = self._families[1].get(family, [])
        return sorted(found, key=lambda td: int(td.get("revision", 0)), reverse=True)
