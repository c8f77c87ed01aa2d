"""Planning the kinds whose live side is a ``LiveEntry`` (every kind but the ECS ones, which ``plan/ecs.py``
plans from ECS's describe shapes): resolve the names a document uses into the ARNs AWS holds, canonicalise both
sides with the kind's one canonical form, and let ``assess`` decide.

The spec hash is taken over the document as written (names, not ARNs), so it does not move when a referenced
resource is re-created with a new ARN.
"""

from __future__ import annotations

from reconciler.model.ecs import cluster_name_of
from reconciler.model.kinds import KINDS
from reconciler.model.live import LiveState
from reconciler.model.references import reference_name, resolve
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.assess import Sides, assess
from reconciler.plan.ecs import Outcome, spec_hash_of
from reconciler.plan.owners import NO_OWNERS, OwnerContext, settle
from reconciler.plan.types import Change


def reference_arns(desired: DesiredState, live: LiveState) -> dict[ResourceKey, str]:
    """(kind, reference name) → ARN for every declared resource of an entry kind that exists in AWS."""
    arns: dict[ResourceKey, str] = {}
    for resource in desired:
        entry = (
            live.entries_of(resource.kind).get(resource.name) if KINDS[resource.kind].read_as_entry else None
        )
        if entry is not None and entry.status != "INACTIVE":
            arns[ResourceKey(resource.kind, reference_name(resource))] = entry.arn
    for name, namespace_id in live.namespaces.items():  # Cloud Map namespaces named by their DNS name
        arns[ResourceKey("Namespace", name)] = namespace_id
    for service in desired.of_kind("Service"):  # scaling resources record their ownership on the service
        found = live.services.get((cluster_name_of(str(service.spec.get("cluster", ""))), service.name))
        if found and found.get("status") == "ACTIVE":
            arns[ResourceKey("Service", service.name)] = found["serviceArn"]
    return arns


def entry_spec_hash(resource: DesiredResource) -> str:
    rules = KINDS[resource.kind]
    unread = rules.unread(resource.spec)
    extra = () if unread is None else (repr(unread),)
    return spec_hash_of(rules.canonical(resource.spec), rules.tags(resource.spec), *extra)


def plan_entry(
    resource: DesiredResource,
    live: LiveState,
    arns: dict[ResourceKey, str],
    *,
    instance: str,
    context: OwnerContext = NO_OWNERS,
) -> Outcome:
    """``context``: what the table of fields other actors own (``owners``) needs to know of the resource."""
    rules = KINDS[resource.kind]
    entry = live.entries_of(resource.kind).get(resource.name)
    resolved = resolve(resource, arns)
    settled = settle(resource.kind, entry.spec if entry else None, resolved, context)
    tags = rules.tags(resource.spec)
    sides = Sides(
        resource=resource,
        spec_hash=entry_spec_hash(resource),
        desired=rules.canonical(settled.desired),
        desired_tags=tags,
        live=rules.canonical(settled.live) if settled.live is not None else None,
        live_tags=entry.tags if entry else {},
        live_status=entry.status if entry else None,
        live_arn=entry.arn if entry else "",
        remembered_hash=live.remembered.get(resource.key),
    )
    outcome = assess(sides, instance=instance)
    if (
        isinstance(outcome, Change) and settled.declared
    ):  # written as their owner keeps them (a rule ECS shifts)
        outcome = outcome.model_copy(update={"settled": dict(settled.declared)})
    if isinstance(outcome, Change) and entry is not None:
        # live bounds taken for Git's because a schedule set them: a new hash may be new bounds, and registering
        # them writes them, so it is a change to show, not bookkeeping (Git stopping a service at night)
        update = {
            "restamp": outcome.restamp and not settled.tag_write_is_a_change,
            "parent_arn": entry.parent,
            "live_spec": entry.spec,  # a replace removes the live resource by its own identity
        }
        return outcome.model_copy(update=update)
    return outcome
