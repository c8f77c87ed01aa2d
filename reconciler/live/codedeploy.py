"""Reading CodeDeploy: the deployment groups (``DeploymentGroup``) in request shape, and their deployments.

A pass costs ListApplications, per application ListDeploymentGroups and BatchGetDeploymentGroups (every group is
listed so that one of ours whose document is gone is found and pruned), the tags of new or due groups
(``TagCache``), and for each declared group ListDeployments of the deployments still running, and GetDeployment of
its last attempted deployment when that failed. A group's ARN is
built from the account (read once) because no CodeDeploy answer carries it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from reconciler.live.clients import AwsClients
from reconciler.live.paging import bounded_gather, chunks, paginate
from reconciler.live.tag_cache import REFRESH_PASSES, TagCache, Tags, tags_one_arn_a_call
from reconciler.model.live import Described, FailedDeployment, LiveEntry, LiveState
from reconciler.model.ownership import NAME_TAG, owner_of
from reconciler.model.resource import DesiredState

KIND = "DeploymentGroup"
GROUPS_PER_BATCH = 100  # BatchGetDeploymentGroups' limit
# Deployment statuses in which CodeDeploy is still moving traffic or tasks: nothing is corrected meanwhile.
RUNNING = ("Created", "Queued", "InProgress", "Baking", "Ready")
ENDED_BADLY = ("Failed", "Stopped")
DEPLOYMENTS_PER_BATCH = 25  # BatchGetDeployments takes at most 25 IDs


class CodeDeployReader:
    kinds = (KIND,)
    after_others = False

    def __init__(
        self, clients: AwsClients, *, instance: str, tag_refresh_passes: int = REFRESH_PASSES
    ) -> None:
        self._clients = clients
        self._instance = instance
        self._prefix: str | None = None  # of deployment group ARNs
        self._ended: dict[
            str, Described
        ] = {}  # deployment ID → its BatchGetDeployments info, once it has ended
        self.tags = TagCache(refresh_passes=tag_refresh_passes)

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """Nothing read ahead: this reader does not wait for the others (``Reader.fetch``)."""

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        """A targeted pass reads CodeDeploy only when its documents declare a deployment group; it then reads as a
        full pass does."""
        if targeted and not desired.of_kind(KIND):
            return
        client = await self._clients.client("codedeploy")
        self.tags.begin_pass()
        applications = await paginate(client, "list_applications", "applications")
        if not applications and not desired.of_kind(KIND):
            return
        groups = [g for app in applications for g in await self._groups(client, app)]
        prefix = await self._arn_prefix()
        arns = {(g["applicationName"], g["deploymentGroupName"]): group_arn(prefix, g) for g in groups}
        tags = await self.tags.read(
            partial(tags_one_arn_a_call, client.list_tags_for_resource, "ResourceArn"), list(arns.values())
        )
        declared = declared_groups(desired)
        for group in groups:
            key = (group["applicationName"], group["deploymentGroupName"])
            entry = group_entry(
                group, arns[key], tags.get(arns[key], {}), declared=key in declared, instance=self._instance
            )
            if entry is not None:
                live.entries_of(KIND)[entry.name] = entry
        await self._running_deployments(client, desired, live)

    async def _groups(self, client: Any, application: str) -> list[Described]:
        names = await paginate(
            client, "list_deployment_groups", "deploymentGroups", applicationName=application
        )
        batches = await bounded_gather(
            client.batch_get_deployment_groups(applicationName=application, deploymentGroupNames=list(batch))
            for batch in chunks(names, GROUPS_PER_BATCH)
        )
        return [group for batch in batches for group in batch.get("deploymentGroupsInfo", [])]

    async def _running_deployments(self, client: Any, desired: DesiredState, live: LiveState) -> None:
        """Deployment IDs still running, per declared group that exists (for the planner to hold its changes)."""
        existing = [r for r in desired.of_kind(KIND) if r.name in live.entries_of(KIND)]
        answers = await bounded_gather(
            client.list_deployments(
                applicationName=r.spec["applicationName"],
                deploymentGroupName=r.name,
                includeOnlyStatuses=list(RUNNING),
            )
            for r in existing
        )
        for resource, answer in zip(existing, answers, strict=True):
            if answer.get("deployments"):
                live.deployments_running[resource.name] = list(answer["deployments"])
        await self._failed_deployments(client, [r.name for r in existing], live)

    async def _failed_deployments(self, client: Any, groups: list[str], live: LiveState) -> None:
        """Each group's last deployment of ours that failed or was stopped, when its last attempt is that
        deployment or the rollback CodeDeploy made of it (with automatic rollback, the last attempt is the
        rollback, which succeeds): the planner does not try the same revision again."""
        last = {
            name: (live.entries_of(KIND)[name].spec.get("lastAttemptedDeployment") or {}).get("deploymentId")
            for name in groups
        }
        attempts = await self._ended_deployments(client, [i for i in last.values() if i])
        triggers = {
            name: trigger
            for name, i in last.items()
            if i in attempts
            and (trigger := (attempts[i].get("rollbackInfo") or {}).get("rollbackTriggeringDeploymentId"))
        }
        attempts |= await self._ended_deployments(client, list(triggers.values()))
        for name, attempt in last.items():
            info = attempts.get(triggers.get(name) or attempt or "")
            if info is None or info.get("status") not in ENDED_BADLY:
                continue
            message = (info.get("rollbackInfo") or {}).get("rollbackMessage") or (
                info.get("errorInformation") or {}
            ).get("message", "")
            live.deployments_failed[name] = FailedDeployment(
                deployment_id=info["deploymentId"], status=info["status"],
                description=info.get("description") or "", message=message,
            )  # fmt: skip

    async def _ended_deployments(self, client: Any, ids: list[str]) -> dict[str, Described]:
        """Deployments that have ended, by ID: read once (BatchGetDeployments, 25 a call) and kept, since an
        ended deployment never changes."""
        missing = sorted({i for i in ids if i not in self._ended})
        answers = await bounded_gather(
            client.batch_get_deployments(deploymentIds=list(batch))
            for batch in chunks(missing, DEPLOYMENTS_PER_BATCH)
        )
        for answer in answers:
            for info in answer.get("deploymentsInfo", []):
                if info.get("status") not in RUNNING:
                    self._ended[info["deploymentId"]] = info
        return {i: self._ended[i] for i in ids if i in self._ended}

    async def _arn_prefix(self) -> str:
        if self._prefix is None:
            self._prefix = await deployment_group_arn_prefix(self._clients)
        return self._prefix


async def deployment_group_arn_prefix(clients: AwsClients) -> str:
    """CodeDeploy answers with no deployment group ARN: it is built from the caller's partition and account (one
    STS call) and the region. The partition is the caller's own (``aws``, ``aws-cn``, ``aws-us-gov``…)."""
    sts = await clients.client("sts")
    identity = await sts.get_caller_identity()
    partition = str(identity.get("Arn", "arn:aws:")).split(":")[1] or "aws"
    return arn_prefix(sts.meta.region_name, str(identity["Account"]), partition)


def declared_groups(desired: DesiredState) -> set[tuple[str, str]]:
    """(application, deployment group) of every declared group: how one to adopt is recognised."""
    return {(str(r.spec.get("applicationName")), r.name) for r in desired.of_kind(KIND)}


def arn_prefix(region: str, account: str, partition: str = "aws") -> str:
    """What every deployment group ARN of the account and region starts with (no CodeDeploy answer carries it)."""
    return f"arn:{partition}:codedeploy:{region}:{account}:deploymentgroup:"


def group_arn(prefix: str, group: Described) -> str:
    return f"{prefix}{group['applicationName']}/{group['deploymentGroupName']}"


def group_entry(group: Described, arn: str, tags: Tags, *, declared: bool, instance: str) -> LiveEntry | None:
    """A BatchGetDeploymentGroups entry under its document's name: ours by our name tag, else a declared group
    by its name (to adopt); anything else is None."""
    ours = tags.get(NAME_TAG) if owner_of(tags) == instance else None
    name = ours or (group["deploymentGroupName"] if declared else None)
    if name is None:
        return None
    return LiveEntry(name=name, arn=arn, spec=dict(group), tags=tags, parent=group["applicationName"])
