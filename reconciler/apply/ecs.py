"""Writing ECS: the calls that carry out one planned change of a Cluster, TaskDefinition or Service.

Updates send only the fields that differ (a drift correction of ``desiredCount`` must not redeploy the service);
ownership tags are rewritten whenever the desired hash moves, so that the next pass can tell drift from deploys.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import structlog
from botocore.exceptions import WaiterError

from reconciler.apply.context import ApplyContext
from reconciler.apply.deployment import create_deployment
from reconciler.apply.executor import Actions, Written
from reconciler.errors import TerminalError
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader
from reconciler.model.ecs import SERVICE_WRITE_ONLY, service_update_value
from reconciler.model.references import resolve
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.model.strategies import with_role_arns
from reconciler.model.units import task_cpu_units, task_memory_mib
from reconciler.plan.blue_green import DEPLOYED_FIELDS
from reconciler.plan.diff import top_level_field
from reconciler.plan.rollouts import primary_deployment
from reconciler.plan.types import Action, Cause, Change
from reconciler.shapes import updatable_fields

log = structlog.get_logger(__name__)

# What each update call can change, read from botocore's models so that a field AWS adds is updatable at once.
# How long a replace waits for the deleted service to drain before it creates the new one in the same pass. A
# service that takes longer (its tasks' stop timeout, a load balancer's deregistration delay) is created by a
# later pass, which holds the create while ECS still lists it DRAINING: a pass is never blocked for long.
DRAIN_WAIT = {"Delay": 5, "MaxAttempts": 12}
NOT_SENT_BY_UPDATE = frozenset({"tags", "taskDefinition", "status"})  # written by other calls
CLUSTER_UPDATE_FIELDS = updatable_fields("ecs", "UpdateCluster") - {"cluster"}
CLUSTER_CAPACITY_FIELDS = updatable_fields("ecs", "PutClusterCapacityProviders") - {"cluster"}
SERVICE_UPDATE_FIELDS = updatable_fields("ecs", "UpdateService") - {
    "cluster", "service", "taskDefinition", "forceNewDeployment",
}  # fmt: skip


def needs_tagging(change: Change) -> bool:
    """Every change writes the tags: ours carry the revision that wrote the resource (and, when Git changed, the
    new hash). A resource without a change keeps its tags, so a new commit never rewrites the estate."""
    return change.action is not Action.DELETE


class EcsWriter:
    def __init__(self, clients: AwsClients, reader: EcsReader) -> None:
        self._clients = clients
        self._reader = reader
        self.actions = ACTIONS

    async def apply(
        self, change: Change, resource: DesiredResource | None, context: ApplyContext
    ) -> Written | None:
        ecs = await self._clients.client("ecs")
        return await self.actions[change.kind][change.action](self, ecs, change, resource, context)

    # --- Cluster -------------------------------------------------------------------------------------------

    async def _cluster_create(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> None:
        spec = _without(resource.spec, "tags")
        await ecs.create_cluster(clusterName=resource.name, tags=ctx.ecs_tags(change, resource), **spec)

    async def _cluster_update(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> None:
        fields = change.changed_fields
        spec = resource.spec
        if update := {f: spec[f] for f in fields & CLUSTER_UPDATE_FIELDS if f in spec}:
            await ecs.update_cluster(cluster=resource.name, **update)
        if fields & CLUSTER_CAPACITY_FIELDS:
            await ecs.put_cluster_capacity_providers(
                cluster=resource.name,
                capacityProviders=spec.get("capacityProviders", []),
                defaultCapacityProviderStrategy=spec.get("defaultCapacityProviderStrategy", []),
            )
        if needs_tagging(change):
            await ecs.tag_resource(resourceArn=change.live_arn, tags=ctx.ecs_tags(change, resource))

    async def _cluster_delete(self, ecs: Any, change: Change, resource: None, ctx: ApplyContext) -> None:
        await ecs.delete_cluster(cluster=change.name)

    # --- TaskDefinition ------------------------------------------------------------------------------------

    async def _taskdefinition_create(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> None:
        request = task_definition_request(resource)
        tags = ctx.ecs_tags(change, resource)
        response = await ecs.register_task_definition(tags=tags, **request)
        registered = {**response["taskDefinition"], "tags": response.get("tags") or tags}
        self._reader.remember(registered)
        ctx.registered[resource.name] = registered["taskDefinitionArn"]

    async def _taskdefinition_adopt(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> None:
        tags = ctx.ecs_tags(change, resource)
        await ecs.tag_resource(resourceArn=change.live_arn, tags=tags)
        self._reader.retag(change.live_arn, tags)
        ctx.registered[resource.name] = change.live_arn

    # --- Service -------------------------------------------------------------------------------------------

    async def _service_create(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> Written:
        # re-created by a replace: each pair as ECS served it, so that the rules ECS left on it still serve
        spec = _without(
            with_role_arns({**resolve(resource, ctx.arns), **change.settled}),
            "tags",
            "cluster",
            "taskDefinition",
        )
        # the same token on botocore's retries: a retry after a lost answer returns the service made, not an error
        spec.setdefault("clientToken", uuid.uuid4().hex)
        response = await ecs.create_service(
            serviceName=resource.name,
            cluster=change.cluster,
            taskDefinition=_task_definition_to_run(change, resource, ctx),
            tags=ctx.ecs_tags(change, resource),
            **spec,
        )
        ctx.arns[ResourceKey("Service", resource.name)] = response["service"]["serviceArn"]
        return deployments_of(response["service"])

    async def _service_update(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> Written | None:
        # the pair of each load balancer as ECS serves it (``Change.settled``): the document's order breaks ECS's
        # alternation of the two
        spec = with_role_arns({**resolve(resource, ctx.arns), **change.settled})
        written = None
        if change.deployment_group:  # CODE_DEPLOY: what UpdateService may not change goes through CodeDeploy
            written = Written(deployment_id=await self._deploy(change, resource, spec, ctx))
            change = change.model_copy(
                update={"diff": [d for d in change.diff if top_level_field(d.path) not in DEPLOYED_FIELDS]}
            )
        update = service_update_request(change, spec)
        if "taskDefinition" in change.changed_fields:
            update["taskDefinition"] = _task_definition_to_run(change, resource, ctx)
        if update:
            response = await ecs.update_service(cluster=change.cluster, service=resource.name, **update)
            shown = deployments_of(response.get("service") or {})
            written = replace(shown, deployment_id=written.deployment_id) if written else shown
        if needs_tagging(change):
            await ecs.tag_resource(resourceArn=change.live_arn, tags=ctx.ecs_tags(change, resource))
        return written

    async def _deploy(
        self, change: Change, resource: DesiredResource, spec: dict[str, Any], ctx: ApplyContext
    ) -> str:
        """Start the CodeDeploy deployment of ``change``; returns its ID."""
        codedeploy = await self._clients.client("codedeploy")
        deployment = await create_deployment(
            codedeploy, change, task_definition_arn=_task_definition_to_run(change, resource, ctx), spec=spec,
            revision=ctx.revision,
        )  # fmt: skip
        log.info("CodeDeploy deployment created", service=resource.name, deployment=deployment,
                 group=change.deployment_group)  # fmt: skip
        return deployment

    async def _service_replace(
        self, ecs: Any, change: Change, resource: DesiredResource, ctx: ApplyContext
    ) -> Written | None:
        await ecs.delete_service(cluster=change.cluster, service=resource.name, force=True)
        # AWS refuses to create a service of the same name while the old one is still draining.
        waiter = ecs.get_waiter("services_inactive")
        try:
            await waiter.wait(cluster=change.cluster, services=[resource.name], WaiterConfig=DRAIN_WAIT)
        except WaiterError:
            log.info("replaced service still draining: a later pass creates it once ECS has removed it",
                     cluster=change.cluster, service=resource.name)  # fmt: skip
            return None
        return await self._service_create(ecs, change, resource, ctx)

    async def _service_delete(self, ecs: Any, change: Change, resource: None, ctx: ApplyContext) -> None:
        await ecs.delete_service(cluster=change.cluster, service=change.name, force=True)


ACTIONS: Actions = {
    "Cluster": {
        Action.CREATE: EcsWriter._cluster_create,
        Action.UPDATE: EcsWriter._cluster_update,
        Action.ADOPT: EcsWriter._cluster_update,
        Action.DELETE: EcsWriter._cluster_delete,
    },
    # task definitions are never pruned, and a revision is never changed: a new one is registered (create)
    "TaskDefinition": {
        Action.CREATE: EcsWriter._taskdefinition_create,
        Action.UPDATE: EcsWriter._taskdefinition_adopt,  # a matching revision whose tags differ
        Action.ADOPT: EcsWriter._taskdefinition_adopt,
    },
    "Service": {
        Action.CREATE: EcsWriter._service_create,
        Action.UPDATE: EcsWriter._service_update,
        Action.ADOPT: EcsWriter._service_update,
        Action.REPLACE: EcsWriter._service_replace,
        Action.DELETE: EcsWriter._service_delete,
    },
}


def deployments_of(service: dict[str, Any]) -> Written:
    """What an UpdateService or CreateService answer shows of the service's deployments."""
    primary = primary_deployment(service) or {}
    return Written(
        service_deployment=str(service.get("currentServiceDeployment") or ""),
        primary_deployment=str(primary.get("id") or ""),
    )


def service_update_request(change: Change, spec: dict[str, Any]) -> dict[str, Any]:
    """The UpdateService fields that correct ``change`` (``spec``: the document's, names resolved to ARNs);
    raises when a difference has nothing that can fix it."""
    update: dict[str, Any] = {}
    for field in sorted(change.changed_fields - NOT_SENT_BY_UPDATE):
        value = service_update_value(spec, field) if field in SERVICE_UPDATE_FIELDS else None
        if value is None:
            raise TerminalError(f"{field} differs, and UpdateService cannot set it from this document")
        update[field] = value
    if change.cause is not Cause.DRIFT:  # Git changed: write-only fields may have changed too
        update.update({f: spec[f] for f in SERVICE_WRITE_ONLY if f in spec})
    return update


def task_definition_request(resource: DesiredResource) -> dict[str, Any]:
    """``RegisterTaskDefinition`` input: the spec, the family, and task cpu/memory in the units AWS returns."""
    request = {**_without(resource.spec, "tags"), "family": resource.name}
    for field, parse in (("cpu", task_cpu_units), ("memory", task_memory_mib)):
        if field in request and (parsed := parse(request[field])) is not None:
            request[field] = str(parsed)
    return request


def _task_definition_to_run(change: Change, resource: DesiredResource, ctx: ApplyContext) -> str:
    if change.task_definition_arn:
        return change.task_definition_arn
    family = str(resource.spec["taskDefinition"])
    if family not in ctx.registered:
        raise LookupError(f"no revision of task definition {family!r} was registered in this pass")
    return ctx.registered[family]


def _without(spec: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in keys}
