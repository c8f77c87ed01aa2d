"""Reading ECS: clusters, services and task definitions, in as few calls as the API allows
(docs/performance.md, "Cost at scale").

A steady-state pass costs ListClusters + DescribeClusters (≤ 100 a call) + per cluster DescribeServices (10 a call)
of the declared services; ListServices (pages of 100) only when the cluster counts more active services than
those, which is how services to prune (or other people's) are found. Task definition revisions never change, so each ARN is described once for the
life of the process; a family's recent revisions are read only when the plan asks for them. A targeted pass
(``plan/targets.py``) describes only the clusters and services of its documents: nothing is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconciler.errors import AwsError, Unreachable
from reconciler.live.clients import AwsClients
from reconciler.live.paging import bounded_gather, chunks, paginate
from reconciler.model.ecs import cluster_name_of, tags_as_map
from reconciler.model.live import ROLLED_BACK, Described, FailedRollout, LiveState
from reconciler.model.ownership import owner_of
from reconciler.model.resource import DesiredState
from reconciler.model.shared_text import shared_strings

# Fields of a described service nothing reads: ``events`` alone is up to 100 messages a service in AWS, which at
# thousands of services would be most of the process's memory. A pass holds every service at once.
UNREAD_SERVICE_FIELDS = frozenset({"events", "createdAt", "createdBy"})
# ... and of each of its deployments (their status, rollout state, revision, counts and start are read; when it
# was updated and why it is in its state only while it has not completed: what its health and history read)
UNREAD_DEPLOYMENT_FIELDS = frozenset({"networkConfiguration"})
UNREAD_COMPLETED_FIELDS = UNREAD_DEPLOYMENT_FIELDS | {"updatedAt", "rolloutStateReason"}
RECENT_DEPLOYMENTS = 20  # how many of a service's newest deployments are searched for a rolled-back revision
# Read-only fields of a revision nothing compares or shows, left out of the revisions cached for the process's life
UNREAD_REVISION_FIELDS = frozenset({"requiresAttributes", "compatibilities", "registeredAt", "registeredBy"})
RECENT_REVISIONS = 10  # how many of a family's newest revisions are searched for a reusable one


class EcsReader:
    """Reads the ECS part of a ``LiveState``. Keep one per process: it owns the task definition cache."""

    kinds = ("Cluster", "TaskDefinition", "Service")
    tags = None  # the describe calls carry them (``include=TAGS``)
    after_others = False

    def __init__(self, clients: AwsClients, *, instance: str) -> None:
        self._clients = clients
        self._instance = instance
        self._task_definitions: dict[str, Described] = {}  # ARN → described revision, forever
        self._families: dict[str, list[str]] = {}  # family → ARNs of its recent revisions, once read
        self.version = 0  # moves on whenever the revisions cached change (``runtime/cache_snapshot.py``)

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """Nothing read ahead: this reader does not wait for the others (``Reader.fetch``)."""

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        """Fill ``live`` with the clusters, services and running revisions that ``desired`` concerns; when
        ``targeted``, with those ``desired`` names only (no listing: others' and orphans are not looked for)."""
        ecs = await self._clients.client("ecs")
        live.clusters = await self._clusters(ecs, desired, targeted=targeted)
        for name in self._clusters_to_scan(desired, live, targeted=targeted):
            wanted = self._wanted_services(desired, name)
            if targeted:
                live.services.update(await self._describe_services(ecs, name, sorted(wanted)))
            else:
                live.services.update(await self._services(ecs, live.clusters[name], wanted))
        running = {s["taskDefinition"] for s in live.services.values() if s.get("taskDefinition")}
        await self._describe_task_definitions(ecs, running)
        self._fill_known_revisions(live, running)

    async def read_failed_rollouts(self, services: Iterable[tuple[str, str]], live: LiveState) -> None:
        """The recent deployments of ``services`` that ECS rolled back, each with the revision it was deploying
        (the plan would put that revision back). Two calls a service: ListServiceDeployments, then
        DescribeServiceRevisions of the rolled-back ones, if any. A service whose history cannot be read (a
        policy without those actions) is said so in ``live.rollout_read_errors``, and only it is affected."""
        ecs = await self._clients.client("ecs")
        services = list(services)
        answers = await bounded_gather(
            self._failed_rollouts(ecs, cluster, service) for cluster, service in services
        )
        for key, answer in zip(services, answers, strict=True):
            if isinstance(answer, str):
                live.rollout_read_errors[key] = answer
            else:
                live.failed_rollouts[key] = answer

    async def _failed_rollouts(self, ecs: Any, cluster: str, service: str) -> list[FailedRollout] | str:
        try:
            answer = await ecs.list_service_deployments(
                cluster=cluster, service=service, status=sorted(ROLLED_BACK), maxResults=RECENT_DEPLOYMENTS
            )
            failed = [b for b in answer.get("serviceDeployments", []) if b.get("targetServiceRevisionArn")]
            revisions: dict[str, str] = {}
            if failed:
                described = await ecs.describe_service_revisions(
                    serviceRevisionArns=sorted({b["targetServiceRevisionArn"] for b in failed})
                )
                found = described.get("serviceRevisions", [])
                revisions = {r["serviceRevisionArn"]: r.get("taskDefinition", "") for r in found}
        except Unreachable:  # no answer: the read fails, as any other read would
            raise
        except AwsError as error:  # AWS refused it (a policy without these actions): this service only
            return f"{error.code}: {error.message}"
        return [
            FailedRollout(
                deployment_arn=b.get("serviceDeploymentArn", ""),
                status=b.get("status", ""),
                task_definition=revisions.get(b["targetServiceRevisionArn"], ""),
                reason=b.get("statusReason", ""),
            )
            for b in failed
        ]

    async def read_families(self, families: Iterable[str], live: LiveState) -> None:
        """Read the recent revisions of ``families`` (the plan found no matching revision among the known ones)."""
        ecs = await self._clients.client("ecs")
        for family in families:
            self._families[family] = await self._recent_revisions(ecs, family)
            await self._describe_task_definitions(ecs, self._families[family])
        self._fill_known_revisions(live, ())

    def remember(self, task_definition: Described) -> None:
        """Record a revision this process registered, so it is known without reading it back."""
        arn = task_definition["taskDefinitionArn"]
        self._task_definitions[arn] = shared_strings(task_definition)
        self.version += 1
        self._families.setdefault(task_definition["family"], []).insert(0, arn)

    def retag(self, arn: str, tags: list[dict[str, str]]) -> None:
        """Record tags this process wrote on a cached revision (revisions are immutable; their tags are not)."""
        if arn in self._task_definitions:
            self._task_definitions[arn] = {**self._task_definitions[arn], "tags": tags}
            self.version += 1

    def restore(self, revisions: dict[str, Described]) -> None:
        """Take the revisions a previous process described (``runtime/cache_snapshot.py``): a revision's ARN
        names content that never changes, so they are used as if described now."""
        self._task_definitions.update(revisions)

    def revisions(self) -> Iterable[Described]:
        """Every cached revision, as described (for the snapshot)."""
        return self._task_definitions.values()

    def _fill_known_revisions(self, live: LiveState, running: Iterable[str]) -> None:
        for arn in running:
            if arn in self._task_definitions:
                live.task_definitions[arn] = self._task_definitions[arn]
        for family, arns in self._families.items():
            live.families_read.add(family)
            live.task_definitions.update(
                {a: self._task_definitions[a] for a in arns if a in self._task_definitions}
            )

    # --- clusters ------------------------------------------------------------------------------------------

    async def _clusters(self, ecs: Any, desired: DesiredState, *, targeted: bool) -> dict[str, Described]:
        arns = [] if targeted else await paginate(ecs, "list_clusters", "clusterArns")
        listed = {cluster_name_of(a) for a in arns}
        wanted = {cluster_name_of(str(r.spec.get("cluster", ""))) for r in desired.of_kind("Service")}
        wanted |= {r.name for r in desired.of_kind("Cluster")}
        names = sorted(arns) + sorted(wanted - listed - {""})
        pages = await bounded_gather(
            ecs.describe_clusters(clusters=list(batch), include=["SETTINGS", "TAGS", "CONFIGURATIONS"])
            for batch in chunks(names, 100)
        )
        return {c["clusterName"]: c for page in pages for c in page.get("clusters", [])}

    def _clusters_to_scan(self, desired: DesiredState, live: LiveState, *, targeted: bool) -> list[str]:
        wanted = {cluster_name_of(str(r.spec.get("cluster", ""))) for r in desired.of_kind("Service")}
        owned = {
            n
            for n, c in live.clusters.items()
            if not targeted and owner_of(tags_as_map(c.get("tags"))) == self._instance
        }
        return sorted(n for n in wanted | owned if live.clusters.get(n, {}).get("status") == "ACTIVE")

    # --- services ------------------------------------------------------------------------------------------

    @staticmethod
    def _wanted_services(desired: DesiredState, cluster: str) -> set[str]:
        return {
            r.name
            for r in desired.of_kind("Service")
            if cluster_name_of(str(r.spec.get("cluster"))) == cluster
        }

    async def _services(
        self, ecs: Any, cluster: Described, wanted: set[str]
    ) -> dict[tuple[str, str], Described]:
        """The declared services, described by name; then, only if the cluster counts more active services than
        that, the rest (orphans to prune, services of others) through ListServices."""
        name = cluster["clusterName"]
        found = await self._describe_services(ecs, name, sorted(wanted))
        active = sum(1 for s in found.values() if s.get("status") == "ACTIVE")
        if cluster.get("activeServicesCount", active + 1) > active:
            arns = await paginate(ecs, "list_services", "serviceArns", cluster=name, maxResults=100)
            found |= await self._describe_services(
                ecs, name, sorted(set(arns) - {s["serviceArn"] for s in found.values()})
            )
        return found

    @staticmethod
    async def _describe_services(
        ecs: Any, cluster: str, names: list[str]
    ) -> dict[tuple[str, str], Described]:
        pages = await bounded_gather(
            ecs.describe_services(cluster=cluster, services=list(batch), include=["TAGS"])
            for batch in chunks(names, 10)
        )
        return {
            (cluster, s["serviceName"]): service_of(s) for page in pages for s in page.get("services", [])
        }

    # --- task definitions ----------------------------------------------------------------------------------

    async def _describe_task_definitions(self, ecs: Any, arns: Iterable[str]) -> None:
        """Each answer is trimmed and cached as it arrives: at thousands of revisions (a fresh process's first
        pass), holding every raw answer until the last one came was the process's peak of memory."""

        async def describe(arn: str) -> None:
            response = await ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            self._task_definitions[arn] = revision_of(response)
            self.version += 1

        await bounded_gather(describe(arn) for arn in sorted(set(arns) - set(self._task_definitions)))

    async def _recent_revisions(self, ecs: Any, family: str) -> list[str]:
        response = await ecs.list_task_definitions(
            familyPrefix=family, status="ACTIVE", sort="DESC", maxResults=RECENT_REVISIONS
        )
        return [
            a
            for a in response.get("taskDefinitionArns", [])
            if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family
        ]


def service_of(service: Described) -> Described:
    """A DescribeServices entry as a pass holds it: without what nothing reads, its short texts shared."""
    kept = {k: v for k, v in service.items() if k not in UNREAD_SERVICE_FIELDS}
    if kept.get("deployments"):
        kept["deployments"] = [_deployment_of(deployment) for deployment in kept["deployments"]]
    trimmed: Described = shared_strings(kept)
    return trimmed


def _deployment_of(deployment: Described) -> Described:
    completed = deployment.get("rolloutState") == "COMPLETED"
    unread = UNREAD_COMPLETED_FIELDS if completed else UNREAD_DEPLOYMENT_FIELDS
    return {k: v for k, v in deployment.items() if k not in unread}


def revision_of(response: Described) -> Described:
    """A DescribeTaskDefinition answer as a pass holds it: the revision with its ``tags``, without what nothing
    reads, its short texts shared."""
    revision = {k: v for k, v in response["taskDefinition"].items() if k not in UNREAD_REVISION_FIELDS}
    described: Described = shared_strings({**revision, "tags": response.get("tags", [])})
    return described
