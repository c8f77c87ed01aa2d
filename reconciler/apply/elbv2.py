"""Writing ELBv2: create, update in place, replace and delete load balancers, target groups, listeners, rules.

Each update call takes a known set of fields (read from botocore's models); a difference in a field that no
update call takes is either a replace (planned as such) or a failure said out loud, never a silent no-op.
Names in the document are resolved to the ARNs known in this pass, including those created moments before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.apply.context import ApplyContext
from reconciler.apply.executor import Actions
from reconciler.errors import TerminalError
from reconciler.live.clients import AwsClients
from reconciler.model.references import reference_name, resolve
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.types import Action, Change
from reconciler.shapes import updatable_fields

TAGS_AND_ATTRIBUTES = frozenset({"tags", "Attributes"})


def _fields(operation: str, *identity: str) -> frozenset[str]:
    return updatable_fields("elbv2", operation) - set(identity)


TARGET_GROUP_FIELDS = _fields("ModifyTargetGroup", "TargetGroupArn")
LISTENER_FIELDS = _fields("ModifyListener", "ListenerArn")
RULE_FIELDS = _fields("ModifyRule", "RuleArn")
LOAD_BALANCER_CALLS = {"Subnets": "set_subnets", "SecurityGroups": "set_security_groups",
                       "IpAddressType": "set_ip_address_type"}  # fmt: skip


class Elbv2Writer:
    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self.actions = ACTIONS

    async def apply(self, change: Change, resource: DesiredResource | None, context: ApplyContext) -> None:
        elbv2 = await self._clients.client("elbv2")
        await self.actions[change.kind][change.action](elbv2, change, resource, context)


async def _apply_create(
    elbv2: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    await _created(elbv2, change, resource, _spec(change, resource, context), context)


async def _apply_replace(
    elbv2: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = _spec(change, resource, context)
    await _delete(elbv2, change)
    await _created(elbv2, change, resource, spec, context)


async def _created(
    elbv2: Any, change: Change, resource: DesiredResource, spec: dict[str, Any], context: ApplyContext
) -> None:
    await _move_rules(elbv2, change, context)
    arn = await _create(elbv2, resource, spec, context.key_value_tags(change, resource))
    context.arns[ResourceKey(resource.kind, reference_name(resource))] = arn


async def _apply_update(
    elbv2: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    assert resource is not None
    spec = _spec(change, resource, context)
    await _move_rules(elbv2, change, context)
    await _update(elbv2, change, spec)
    # every change writes our tags: they carry the revision that wrote the resource
    await elbv2.add_tags(ResourceArns=[change.live_arn], Tags=context.key_value_tags(change, resource))


def _spec(change: Change, resource: DesiredResource, context: ApplyContext) -> dict[str, Any]:
    """What to write: the document, names resolved, with the values another actor keeps (``Change.settled``: the
    weights ECS settles a production rule at)."""
    return {**resolve(resource, context.arns), **change.settled}


async def _apply_delete(
    elbv2: Any, change: Change, resource: DesiredResource | None, context: ApplyContext
) -> None:
    await _delete(elbv2, change)


async def _create(
    elbv2: Any, resource: DesiredResource, spec: dict[str, Any], tags: list[dict[str, str]]
) -> str:
    attributes = spec.pop("Attributes", None)
    spec.pop("Tags", None)  # the document's tags are in ``tags``, with ours
    if resource.kind == "TargetGroup":
        response = await elbv2.create_target_group(Name=resource.name, Tags=tags, **spec)
        arn: str = response["TargetGroups"][0]["TargetGroupArn"]
    elif resource.kind == "LoadBalancer":
        response = await elbv2.create_load_balancer(Name=resource.name, Tags=tags, **spec)
        arn = response["LoadBalancers"][0]["LoadBalancerArn"]
    elif resource.kind == "Listener":
        arn = (await elbv2.create_listener(Tags=tags, **spec))["Listeners"][0]["ListenerArn"]
    else:
        arn = (await elbv2.create_rule(Tags=tags, **spec))["Rules"][0]["RuleArn"]
    if attributes:
        await _set_attributes(elbv2, resource.kind, arn, attributes)
    return arn


async def _update(elbv2: Any, change: Change, spec: Mapping[str, Any]) -> None:
    fields = change.changed_fields - {"tags"}
    if "Attributes" in fields:
        await _set_attributes(elbv2, change.kind, change.live_arn, spec["Attributes"])
    fields -= TAGS_AND_ATTRIBUTES
    if change.rule_priorities:
        fields -= {"Priority"}  # moved with the listener's other rules (``_move_rules``)
    if fields:
        await UPDATES[change.kind](elbv2, change.live_arn, fields, spec)


async def _update_target_group(elbv2: Any, arn: str, fields: set[str], spec: Mapping[str, Any]) -> None:
    await elbv2.modify_target_group(
        TargetGroupArn=arn, **_only(fields, TARGET_GROUP_FIELDS, spec, "TargetGroup")
    )


async def _update_load_balancer(elbv2: Any, arn: str, fields: set[str], spec: Mapping[str, Any]) -> None:
    _only(fields, frozenset(LOAD_BALANCER_CALLS), spec, "LoadBalancer")
    for field in sorted(fields):
        await getattr(elbv2, LOAD_BALANCER_CALLS[field])(LoadBalancerArn=arn, **{field: spec[field]})


async def _update_listener(elbv2: Any, arn: str, fields: set[str], spec: Mapping[str, Any]) -> None:
    await elbv2.modify_listener(ListenerArn=arn, **_only(fields, LISTENER_FIELDS, spec, "Listener"))


async def _move_rules(elbv2: Any, change: Change, context: ApplyContext) -> None:
    """Every priority move on the rule's listener, in one SetRulePriorities call made by the first of its
    rules to get here (AWS applies the set together, so a swap never clashes); the others wait for it."""
    moves = change.rule_priorities
    if change.kind != "ListenerRule" or not moves:
        return
    key = ("SetRulePriorities", *sorted(str(move["RuleArn"]) for move in moves))
    await context.once(key, lambda: elbv2.set_rule_priorities(RulePriorities=moves))


async def _update_rule(elbv2: Any, arn: str, fields: set[str], spec: Mapping[str, Any]) -> None:
    if "Priority" in fields:  # a move planned alone (see ``_move_rules`` for moves planned per listener)
        await elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": arn, "Priority": int(spec["Priority"])}])
    rest = fields - {"Priority"}
    if rest:
        await elbv2.modify_rule(RuleArn=arn, **_only(rest, RULE_FIELDS, spec, "ListenerRule"))


UPDATES = {
    "TargetGroup": _update_target_group,
    "LoadBalancer": _update_load_balancer,
    "Listener": _update_listener,
    "ListenerRule": _update_rule,
}


def _only(fields: set[str], updatable: frozenset[str], spec: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The values to send for ``fields``; a field no update call takes, or one the document does not set, fails."""
    unknown = sorted(f for f in fields if f not in updatable or f not in spec)
    if unknown:
        raise TerminalError(
            f"{kind}: {', '.join(unknown)} differ, and no update call can set them from this document"
        )
    return {f: spec[f] for f in fields}


async def _set_attributes(elbv2: Any, kind: str, arn: str, attributes: list[dict[str, str]]) -> None:
    if kind == "TargetGroup":
        await elbv2.modify_target_group_attributes(TargetGroupArn=arn, Attributes=attributes)
    else:
        await elbv2.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=attributes)


async def _delete(elbv2: Any, change: Change) -> None:
    operation, key = DELETES[change.kind]
    await getattr(elbv2, operation)(**{key: change.live_arn})


DELETES = {
    "TargetGroup": ("delete_target_group", "TargetGroupArn"),
    "LoadBalancer": ("delete_load_balancer", "LoadBalancerArn"),
    "Listener": ("delete_listener", "ListenerArn"),
    "ListenerRule": ("delete_rule", "RuleArn"),
}

# Every kind the same way: a replace deletes the old resource, then creates the new one.
ACTIONS: Actions = {
    kind: {
        Action.CREATE: _apply_create,
        Action.UPDATE: _apply_update,
        Action.ADOPT: _apply_update,
        Action.REPLACE: _apply_replace,
        Action.DELETE: _apply_delete,
    }
    for kind in ("LoadBalancer", "TargetGroup", "Listener", "ListenerRule")
}
