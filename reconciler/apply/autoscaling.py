"""Writing Application Auto Scaling: register targets, put policies and scheduled actions, and delete them.

Register and Put are upserts in AWS, so create, update and adopt are the same call with the whole document.
The ownership facts go to the tags of the scaled ECS service (model/autoscaling.py), whose ARN this pass knows
from live state or from the service created moments before.
"""

from __future__ import annotations

import contextlib
from typing import Any

from reconciler.apply.context import ApplyContext
from reconciler.apply.executor import Actions
from reconciler.errors import NotFound, TerminalError
from reconciler.live.clients import AwsClients
from reconciler.model.autoscaling import SUSPENDED_DEFAULTS, encode_fact, fact_key, natural_key
from reconciler.model.autoscaling_ids import parse_ecs_resource_id
from reconciler.model.canonical import with_defaults
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.types import Action, Cause, Change

UPSERTS = {
    "ScalableTarget": "register_scalable_target",
    "ScalingPolicy": "put_scaling_policy",
    "ScheduledAction": "put_scheduled_action",
}
IDENTITY = ("ServiceNamespace", "ResourceId", "ScalableDimension")
DELETES = {
    "ScalableTarget": ("deregister_scalable_target", IDENTITY),
    "ScalingPolicy": ("delete_scaling_policy", (*IDENTITY, "PolicyName")),
    "ScheduledAction": ("delete_scheduled_action", (*IDENTITY, "ScheduledActionName")),
}


class AutoscalingWriter:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self.actions = ACTIONS

    async def apply(self, change: Change, resource: DesiredResource | None, context: ApplyContext) -> None:
        aas = await self._clients.client("application-autoscaling")
        ecs = await self._clients.client("ecs")
        await self.actions[change.kind][change.action](self, aas, ecs, change, resource, context)

    async def _apply_delete(
        self, aas: Any, ecs: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
    ) -> None:
        await self._delete(aas, ecs, change)

    async def _apply_replace(
        self, aas: Any, ecs: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
    ) -> None:
        await self._delete(aas, ecs, change)  # moved to another target: remove the old one first
        await self._apply_upsert(aas, ecs, change, resource, context)

    async def _apply_upsert(
        self, aas: Any, ecs: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
    ) -> None:
        assert resource is not None
        spec = {k: v for k, v in resource.spec.items() if k != "Tags" or change.kind == "ScalableTarget"}
        if (
            change.kind == "ScalableTarget"
        ):  # Register keeps flags left out: send the defaults the plan compared
            spec["SuspendedState"] = with_defaults(spec.get("SuspendedState"), SUSPENDED_DEFAULTS)
        name_field = {"ScalingPolicy": "PolicyName", "ScheduledAction": "ScheduledActionName"}.get(
            change.kind
        )
        if name_field:
            spec[name_field] = resource.name
        await getattr(aas, UPSERTS[change.kind])(**spec)
        if change.action is Action.ADOPT or change.cause is not Cause.DRIFT or change.action is Action.CREATE:
            await _record_fact(ecs, change, resource, spec, context)

    async def _delete(self, aas: Any, ecs: Any, change: Change) -> None:
        live = change.live_spec
        operation, fields = DELETES[change.kind]
        with contextlib.suppress(NotFound):  # gone already (deregistering a target removes its policies)
            await getattr(aas, operation)(**{f: live[f] for f in fields})
        if change.parent_arn:
            await ecs.untag_resource(
                resourceArn=change.parent_arn, tagKeys=[fact_key(change.kind, natural_key(change.kind, live))]
            )


async def _record_fact(
    ecs: Any, change: Change, resource: DesiredResource, spec: dict[str, Any], context: ApplyContext
) -> None:
    service = parse_ecs_resource_id(str(spec.get("ResourceId", "")))
    arn = context.arns.get(ResourceKey("Service", service.service)) if service else None
    if not arn:
        raise TerminalError(
            f"{change.kind} {change.name}: the scaled ECS service is not known here; its ownership cannot be recorded"
        )
    value = encode_fact(
        spec_hash=change.spec_hash,
        deletion_policy=resource.deletion_policy.value,
        instance=context.instance,
        name=resource.name,
    )
    await ecs.tag_resource(
        resourceArn=arn, tags=[{"key": fact_key(change.kind, natural_key(change.kind, spec)), "value": value}]
    )


# Register and Put are upserts: create, update and adopt are the same call with the whole document.
ACTIONS: Actions = {
    kind: {
        Action.CREATE: AutoscalingWriter._apply_upsert,
        Action.UPDATE: AutoscalingWriter._apply_upsert,
        Action.ADOPT: AutoscalingWriter._apply_upsert,
        Action.REPLACE: AutoscalingWriter._apply_replace,
        Action.DELETE: AutoscalingWriter._apply_delete,
    }
    for kind in ("ScalableTarget", "ScalingPolicy", "ScheduledAction")
}
