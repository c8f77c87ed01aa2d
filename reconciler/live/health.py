"""Reading what a resource's health needs beyond a pass's describe calls: its target groups' health and its
services' deployment histories, each only when something says it may have changed.

- **Target health** (DescribeTargetHealth, one target group a call): each pass for the target groups of services
  that are Progressing or Degraded and for those last read unhealthy (at most ``TARGETS_PER_PASS`` of them, the
  longest unread first), and otherwise each target group every ``TARGET_HEALTH_EVERY`` full passes, a share of
  them each full pass (at the default 30 s interval, every half hour). What was read is kept until the next read.
- **Deployment history**: a service's is read again only when its deployments changed since the last read, as
  DescribeServices shows them (``signature``: the PRIMARY deployment's ID, its rolloutState, and, while it rolls
  out, when it was updated; a CODE_DEPLOY service's group's last attempted deployment and those running), never in
  a pass where nothing changed; a blue/green, linear or canary deployment going through its lifecycle stages
  (which DescribeServices does not show) is described again in each pass until it ends. A new deployment costs
  ListServiceDeployments (the 10 newest), then DescribeServiceDeployments of the ones not ended yet and not known,
  20 a call for every service of the pass; a deployment that only moved on costs its share of the latter alone.
  An ended deployment never changes and is described once. At most ``HISTORIES_PER_PASS`` services are listed a pass (the first pass of a process lists
  every service: at thousands of them, over several passes); the others wait for the next. A CODE_DEPLOY
  service's history is its group's: ListDeployments (from the oldest deployment kept) and BatchGetDeployments of
  those not ended and known, 25 a call.

A read AWS refuses (a policy without the action) is kept as that resource's error, and not tried again until
something changes; a read that fails on the way (throttled, no answer) is tried again by the next pass.
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import structlog

from reconciler.errors import AwsError, TransientError
from reconciler.live.clients import AwsClients
from reconciler.live.paging import bounded_gather, chunks
from reconciler.model.ecs import cluster_name_of
from reconciler.model.health import TargetHealthRead
from reconciler.model.history import HISTORY_LENGTH, RECONCILER, DeploymentRecord, deployment_key
from reconciler.model.live import Described, LiveState
from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.shared_text import shared_text
from reconciler.plan.blue_green import is_code_deploy
from reconciler.plan.deployments import revision_of_description
from reconciler.plan.rollouts import primary_deployment

log = structlog.get_logger(__name__)
TARGET_HEALTH_EVERY = 60  # full passes between two reads of a settled target group's health
TARGETS_PER_PASS = (
    100  # target groups read in one pass beyond their turn (of services in progress or degraded)
)
HISTORIES_PER_PASS = 250  # services whose deployments are listed in one pass
DESCRIBED_PER_CALL = 20  # DescribeServiceDeployments' limit
CODEDEPLOY_PER_CALL = 25  # BatchGetDeployments' limit
CODEDEPLOY_CREATORS = {"user": ""}  # CodeDeploy's ``creator`` → who started it; others are CodeDeploy's own


@dataclass
class _Listed:
    """One service whose history is read in this pass."""

    name: str
    cluster: str
    signature: Hashable
    known: dict[str, DeploymentRecord]  # deployment ID → what is known of it
    briefs: list[Described] = field(default_factory=list)  # ListServiceDeployments' answer, when listed
    listed: bool = False


class HealthReader:
    """Reads target health and deployment histories, and keeps them between passes. Keep one per process."""

    def __init__(self, clients: AwsClients, *, target_health_every: int = TARGET_HEALTH_EVERY) -> None:
        self._clients = clients
        self._every = target_health_every
        self._full_passes = 0
        self._targets: dict[str, TargetHealthRead] = {}  # TargetGroup name → its last read
        self._target_reads: dict[str, int] = {}  # TargetGroup name → the full pass of its last read
        self._histories: dict[str, tuple[DeploymentRecord, ...]] = {}  # Service name → newest first
        self._seen: dict[str, Hashable] = {}  # Service name → its deployments' signature at its last read
        self.errors: dict[str, str] = {}  # Service name → why its history could not be read
        self.version = (
            0  # moves on whenever a history or signature kept changes (``runtime/cache_snapshot.py``)
        )

    @property
    def targets(self) -> Mapping[str, TargetHealthRead]:
        return self._targets

    @property
    def histories(self) -> Mapping[str, Sequence[DeploymentRecord]]:
        return self._histories

    # --- target health ---------------------------------------------------------------------------------------

    async def read_targets(
        self, desired: DesiredState, live: LiveState, unsettled: set[str], *, targeted: bool
    ) -> None:
        """Read the health of ``unsettled`` target groups, and (in a full pass) of those whose turn it is."""
        groups = live.entries_of("TargetGroup")
        declared = sorted(r.name for r in desired.of_kind("TargetGroup") if r.name in groups)
        urgent = sorted(
            (name for name in declared if name in unsettled), key=lambda n: (self._target_reads.get(n, -1), n)
        )[:TARGETS_PER_PASS]
        due: list[str] = []
        if not targeted:
            self._full_passes += 1
            due = [
                name for i, name in enumerate(declared) if i % self._every == self._full_passes % self._every
            ]
            for name in set(self._targets) - set(declared):  # no longer declared (or gone from AWS)
                self._targets.pop(name, None)
                self._target_reads.pop(name, None)
        wanted = sorted(set(urgent) | set(due))
        if not wanted:
            return
        elbv2 = await self._clients.client("elbv2")
        reads = await bounded_gather(_target_health(elbv2, groups[name].arn) for name in wanted)
        for name, read in zip(wanted, reads, strict=True):
            if read is not None:
                self._targets[name] = read
                self._target_reads[name] = self._full_passes

    # --- deployment histories --------------------------------------------------------------------------------

    async def read_histories(self, desired: DesiredState, live: LiveState, *, targeted: bool) -> None:
        """Read again the history of each service of ``desired`` whose deployments changed since it was read."""
        services = list(desired.of_kind("Service"))
        if not targeted:  # a service no longer declared is forgotten
            declared = {r.name for r in services}
            if set(self._histories) - declared or set(self._seen) - declared:
                self.version += 1
            self._histories = {n: h for n, h in self._histories.items() if n in declared}
            self._seen = {n: s for n, s in self._seen.items() if n in declared}
            self.errors = {n: e for n, e in self.errors.items() if n in declared}
        ecs_services, code_deploy = [], []
        for resource in services:
            cluster = cluster_name_of(str(resource.spec.get("cluster", "")))
            service = live.services.get((cluster, resource.name))
            if service is None or service.get("status") != "ACTIVE":
                continue
            if is_code_deploy(resource.spec):
                code_deploy.append(resource)
            else:
                signature = ecs_signature(service)
                if signature != self._seen.get(resource.name) or self._staged(resource.name):
                    ecs_services.append((resource.name, cluster, signature))
        await self._read_ecs(ecs_services)
        await self._read_code_deploy(code_deploy, desired, live)

    def _staged(self, service: str) -> bool:
        """Whether the service has a blue/green, linear or canary deployment going through its lifecycle stages:
        ECS moves it from stage to stage without DescribeServices showing it, so it is described again each pass
        until it ends (its share of a DescribeServiceDeployments call)."""
        return any(r.lifecycle_stage and not r.ended for r in self._histories.get(service, ()))

    async def _read_ecs(self, changed: list[tuple[str, str, Hashable]]) -> None:
        """List the services whose PRIMARY deployment is new (or whose history is not known yet), then describe,
        together, the deployments that are not ended or not known."""
        if not changed:
            return
        ecs = await self._clients.client("ecs")
        reads = []
        for name, cluster, signature in changed:
            known = {record.id: record for record in self._histories.get(name, ())}
            listing = name not in self._histories or _primary(signature) != _primary(self._seen.get(name))
            reads.append(_Listed(name, cluster, signature, known, listed=listing))
        listed = [r for r in reads if r.listed]
        # services known already (a deployment under way) before those read for the first time
        listed.sort(key=lambda r: (r.name not in self._histories, r.name))
        waiting = {r.name for r in listed[HISTORIES_PER_PASS:]}
        reads = [r for r in reads if r.name not in waiting]
        answers = await bounded_gather(self._list(ecs, r) for r in reads if r.listed)
        failed = {name for name in answers if name}
        reads = [r for r in reads if r.name not in failed]
        arns = sorted({arn for r in reads for arn in _to_describe(r)})
        pages = await bounded_gather(
            self._describe(ecs, list(batch)) for batch in chunks(arns, DESCRIBED_PER_CALL)
        )
        described = {d["serviceDeploymentArn"]: d for page in pages for d in page}
        for read in reads:
            self._keep(read.name, _history(read, described), read.signature)

    def _keep(self, name: str, history: tuple[DeploymentRecord, ...], signature: Hashable) -> None:
        if self._histories.get(name) != history or self._seen.get(name) != signature:
            self.version += 1
        self._histories[name] = history
        self._seen[name] = signature
        self.errors.pop(name, None)

    def restore(self, histories: Mapping[str, tuple[tuple[DeploymentRecord, ...], Hashable]]) -> None:
        """Take the histories a previous process read, each with the signature of the service's deployments
        then (``runtime/cache_snapshot.py``): a service's history is read again only if its deployments changed
        since, as for a history this process read."""
        for name, (history, signature) in histories.items():
            self._histories.setdefault(name, history)
            self._seen.setdefault(name, signature)

    def kept(self) -> Iterable[tuple[str, tuple[DeploymentRecord, ...], tuple[Any, ...]]]:
        """Each service's history with its signature (for the snapshot); not those that could not be read."""
        for name, history in self._histories.items():
            signature = self._seen.get(name)
            if isinstance(signature, tuple) and name not in self.errors:
                yield name, history, signature

    async def _list(self, ecs: Any, read: _Listed) -> str:
        """ "" when listed; else the service's name (its history is not updated in this pass)."""
        try:
            answer = await ecs.list_service_deployments(
                cluster=read.cluster, service=read.name, maxResults=HISTORY_LENGTH
            )
        except AwsError as error:
            self._refused(read.name, read.signature, error)
            return read.name
        briefs: list[Described] = answer.get("serviceDeployments", [])
        read.briefs = sorted(briefs, key=lambda b: _moment(b, "createdAt") or 0.0, reverse=True)
        return ""

    async def _describe(self, ecs: Any, arns: list[str]) -> list[Described]:
        try:
            answer = await ecs.describe_service_deployments(serviceDeploymentArns=arns)
        except AwsError as error:  # the briefs stand in for them; tried again when the services change again
            log.warning("service deployments cannot be described", error=str(error), deployments=len(arns))
            return []
        found: list[Described] = answer.get("serviceDeployments", [])
        return found

    def _refused(self, name: str, signature: Hashable, error: AwsError) -> None:
        """A history that cannot be read: said, and tried again by the next pass if it may succeed then, else once
        the service's deployments change again."""
        self.errors[name] = f"{error.code}: {error.message}"
        if not isinstance(error, TransientError):
            self._seen[name] = signature
            self.version += 1

    async def _read_code_deploy(
        self, services: list[DesiredResource], desired: DesiredState, live: LiveState
    ) -> None:
        """A CODE_DEPLOY service's history is its deployment group's deployments."""
        groups = {
            str(s.get("serviceName")): group
            for group in desired.of_kind("DeploymentGroup")
            for s in group.spec.get("ecsServices") or ()
        }
        entries = live.entries_of("DeploymentGroup")
        work = []
        for resource in services:
            group = groups.get(resource.name)
            if group is None or group.name not in entries:
                continue
            last = entries[group.name].spec.get("lastAttemptedDeployment") or {}
            running = tuple(live.deployments_running.get(group.name, ()))
            signature = ("codedeploy", last.get("deploymentId"), last.get("status"), running)
            if signature != self._seen.get(resource.name):
                work.append((resource.name, str(group.spec.get("applicationName")), group.name, signature))
        if not work:
            return
        codedeploy = await self._clients.client("codedeploy")
        await bounded_gather(self._code_deploy_history(codedeploy, *item) for item in work)

    async def _code_deploy_history(
        self, codedeploy: Any, name: str, application: str, group: str, signature: Hashable
    ) -> None:
        kept = {record.id: record for record in self._histories.get(name, ())}
        window: dict[str, Any] = {}
        if kept and (oldest := min((r.started_at for r in kept.values() if r.started_at), default=None)):
            window = {"createTimeRange": {"start": datetime.fromtimestamp(oldest, UTC)}}
        try:
            answer = await codedeploy.list_deployments(
                applicationName=application, deploymentGroupName=group, **window
            )
            ids = [i for i in answer.get("deployments", []) if i not in kept or not kept[i].ended]
            infos = await bounded_gather(
                codedeploy.batch_get_deployments(deploymentIds=list(batch))
                for batch in chunks(ids, CODEDEPLOY_PER_CALL)
            )
        except AwsError as error:
            self._refused(name, signature, error)
            return
        for page in infos:
            for info in page.get("deploymentsInfo", []):
                kept[info["deploymentId"]] = code_deploy_record(info)
        self._keep(name, _newest_first(kept.values())[:HISTORY_LENGTH], signature)


def ecs_signature(service: Described) -> Hashable:
    """What changes when a service's deployments do: its PRIMARY deployment's ID and rolloutState, and while it
    rolls out, when it was last updated (a task started or failed, an ECS blue/green stage passed)."""
    primary = primary_deployment(service) or {}
    return ("ecs", primary.get("id"), primary.get("rolloutState"), primary.get("updatedAt"))


def _primary(signature: Hashable | None) -> object:
    return signature[1] if isinstance(signature, tuple) and len(signature) > 1 else None


def _to_describe(read: _Listed) -> Iterable[str]:
    """The service deployments of ``read`` to describe: those listed and not known to have ended; when not listed,
    the known ones that had not ended."""
    if read.listed:
        for brief in read.briefs:
            known = read.known.get(deployment_key(str(brief.get("serviceDeploymentArn", ""))))
            if known is None or not known.ended:
                yield str(brief["serviceDeploymentArn"])
    else:
        yield from (record.arn for record in read.known.values() if record.arn and not record.ended)


def _history(read: _Listed, described: Mapping[str, Described]) -> tuple[DeploymentRecord, ...]:
    if not read.listed:
        return _newest_first(
            ecs_record(described[r.arn]) if r.arn in described else r for r in read.known.values()
        )
    found = []
    for brief in read.briefs:
        arn = str(brief.get("serviceDeploymentArn", ""))
        known = read.known.get(deployment_key(arn))
        if arn in described:
            found.append(ecs_record(described[arn]))
        elif known is not None:
            found.append(known)
        else:
            found.append(ecs_record(brief))  # described neither now nor before: what the list says
    return tuple(found[:HISTORY_LENGTH])


def ecs_record(deployment: Described) -> DeploymentRecord:
    """A DescribeServiceDeployments entry (or a ListServiceDeployments brief) as a history keeps it."""
    arn = str(deployment.get("serviceDeploymentArn", ""))
    status = str(deployment.get("status", ""))
    target = (deployment.get("targetServiceRevision") or {}).get("arn") or deployment.get(
        "targetServiceRevisionArn"
    )
    rollback = (deployment.get("rollback") or {}).get("reason")
    stage = str(deployment.get("lifecycleStage") or "")
    key, target_key = deployment_key(arn), deployment_key(str(target or ""))
    record = DeploymentRecord(
        id=key,
        strategy=shared_text(
            str((deployment.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING")
        ),
        status=shared_text(status),
        reason=sys.intern(
            "; ".join(dict.fromkeys(t for t in (deployment.get("statusReason"), rollback) if t))
        ),
        started_at=_moment(deployment, "startedAt", "createdAt"),
        finished_at=_moment(deployment, "finishedAt", "stoppedAt"),
        lifecycle_stage=shared_text(stage),
        target=target_key if target_key != key else "",  # the same ID is not kept twice
    )
    return record if record.ended else replace(record, arn=arn)


def code_deploy_record(info: Described) -> DeploymentRecord:
    """A BatchGetDeployments entry as a history keeps it: ours say so in their description (with the revision)."""
    revision = revision_of_description(str(info.get("description") or ""))
    creator = str(info.get("creator") or "")
    reason = (info.get("errorInformation") or {}).get("message") or (info.get("rollbackInfo") or {}).get(
        "rollbackMessage"
    )
    return DeploymentRecord(
        id=str(info["deploymentId"]),
        strategy=shared_text(str(info.get("deploymentConfigName") or "")),
        status=shared_text(str(info.get("status", ""))),
        reason=sys.intern(str(reason or "")),
        started_at=_moment(info, "createTime"),
        finished_at=_moment(info, "completeTime"),
        revision=revision or "",
        started_by=RECONCILER
        if revision is not None
        else CODEDEPLOY_CREATORS.get(creator, f"CodeDeploy ({creator})"),
    )


def _newest_first(records: Iterable[DeploymentRecord]) -> tuple[DeploymentRecord, ...]:
    return tuple(sorted(records, key=lambda r: r.started_at or 0.0, reverse=True))


def _moment(described: Described, *fields: str) -> float | None:
    """The first of ``fields`` that is a time, as Unix time."""
    for name in fields:
        if isinstance(value := described.get(name), datetime):
            return value.timestamp()
    return None


async def _target_health(elbv2: Any, arn: str) -> TargetHealthRead | None:
    """What DescribeTargetHealth says of one target group; None when it failed on the way (read again next pass)."""
    try:
        answer = await elbv2.describe_target_health(TargetGroupArn=arn)
    except TransientError:
        return None
    except AwsError as error:
        return TargetHealthRead(error=f"{error.code}: {error.message}")
    counts: dict[str, int] = {}
    reason = ""
    for description in answer.get("TargetHealthDescriptions", []):
        health = description.get("TargetHealth") or {}
        state = str(health.get("State", "unavailable"))
        counts[state] = counts.get(state, 0) + 1
        if state not in ("healthy", "unused") and not reason:
            reason = str(health.get("Description") or health.get("Reason") or "")
    return TargetHealthRead(states=tuple(sorted(counts.items())), reason=reason)
