"""Writing CodeDeploy deployment groups: create (and the application, when missing), update, tag, delete.

The application is created on first use with compute platform ECS and left in place when its last group goes:
an application holds deployment history that teams look back on.
"""

from __future__ import annotations

import contextlib
from typing import Any

from reconciler.apply.context import ApplyContext
from reconciler.apply.executor import Actions
from reconciler.errors import AlreadyExists
from reconciler.live.clients import AwsClients
from reconciler.model.references import resolve
from reconciler.model.resource import DesiredResource
from reconciler.plan.types import Action, Change


class CodeDeployWriter:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self.actions = ACTIONS

    async def apply(self, change: Change, resource: DesiredResource | None, context: ApplyContext) -> None:
        client = await self._clients.client("codedeploy")
        await self.actions[change.kind][change.action](client, change, resource, context)


async def _apply_create(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = {k: v for k, v in resolve(resource, context.arns).items() if k != "tags"}
    tags = context.key_value_tags(change, resource)
    await _ensure_application(client, str(spec["applicationName"]))
    await client.create_deployment_group(deploymentGroupName=resource.name, tags=tags, **spec)


async def _apply_replace(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    await _apply_delete(client, change, resource, context)
    await _apply_create(client, change, resource, context)


async def _apply_update(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = {k: v for k, v in resolve(resource, context.arns).items() if k != "tags"}
    tags = context.key_value_tags(change, resource)
    if change.changed_fields - {"tags"}:
        await client.update_deployment_group(currentDeploymentGroupName=resource.name, **spec)
    await client.tag_resource(ResourceArn=change.live_arn, Tags=tags)


async def _apply_delete(
    client: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    application, group = _identity(change)
    await client.delete_deployment_group(applicationName=application, deploymentGroupName=group)


ACTIONS: Actions = {
    "DeploymentGroup": {
        Action.CREATE: _apply_create,
        Action.UPDATE: _apply_update,
        Action.ADOPT: _apply_update,
        Action.REPLACE: _apply_replace,
        Action.DELETE: _apply_delete,
    }
}


def _identity(change: Change) -> tuple[str, str]:
    """(application, group) of the live group: ``…:deploymentgroup:<application>/<group>``."""
    application, group = change.live_arn.rsplit(":", 1)[-1].split("/", 1)
    return application, group


async def _ensure_application(client: Any, name: str) -> None:
    with contextlib.suppress(AlreadyExists):  # another group's, or made by hand: used as it is
        await client.create_application(applicationName=name, computePlatform="ECS")
