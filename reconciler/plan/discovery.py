"""Replacing or deleting a Cloud Map service (``DiscoveryService``) without cutting off the tasks registered in it.

AWS refuses to delete a Cloud Map service while instances are registered in it (Cloud Map API Reference,
DeleteService: ``ResourceInUse``), and ECS deregisters a task only when it stops, so a delete-then-create replace of
a service in use fails on every pass. It also refuses a second service of the same name in a namespace
(CreateService: ``ServiceAlreadyExists``). Hence:

- a replace that moves the service to another namespace creates the new one first (``create_first``); the ECS
  services that name it are planned to point at the new one in the same apply (its ARN is known only then), ECS
  stops the old tasks as their deployments finish, and the old service, tagged as replaced, is pruned once its
  instances are gone;
- a replace within the namespace cannot create first: with instances registered it is held, saying what to do;
- any deletion of a service with registered instances waits for them to be gone.

``InstanceCount`` is a hint (AWS: it "might not reflect pending registrations and deregistrations"): a count of 0
lets the delete be tried, and a ``ResourceInUse`` then is an error of that one change, tried again next pass.
"""

from __future__ import annotations

from reconciler.model.resource import ResourceKey
from reconciler.model.servicediscovery import registered_instances
from reconciler.plan.types import Action, Change

KIND = "DiscoveryService"


def plan_discovery_replacements(changes: list[Change]) -> list[Change]:
    """``changes`` with each Cloud Map replace and deletion decided as above (new values; the others as given)."""
    return [_decided(c) if c.kind == KIND else c for c in changes]


def renewed_references(changes: list[Change]) -> frozenset[ResourceKey]:
    """(kind, name) of the resources this plan re-creates whose users must be pointed at the new ARN."""
    return frozenset(c.key for c in changes if c.kind == KIND and c.action is Action.REPLACE and c.writes)


def _decided(change: Change) -> Change:
    registered = registered_instances(change.live_spec)
    if change.action is Action.REPLACE and moves_namespace(change):
        return change.model_copy(
            update={
                "create_first": True,
                "reason": f"{change.reason}; the new one is created in its namespace first, the services that "
                "use it are pointed at it, and the old one is deleted once no task is registered in it".lstrip(
                    "; "
                ),
            }
        )
    if change.held or not registered:
        return change
    if change.action is Action.REPLACE:
        held = (
            f"{_tasks(registered)} registered in it: AWS can neither delete it nor create a second "
            f"{change.name!r} in its namespace; declare a DiscoveryService with a new name, point the services "
            "at it, then remove this one"
        )
    elif change.action is Action.DELETE:
        held = f"{_tasks(registered)} still registered in it: AWS deletes it only once they have stopped"
    else:
        return change
    return change.model_copy(update={"held": held})


def moves_namespace(change: Change) -> bool:
    return any(d.path == "NamespaceId" for d in change.diff)


def _tasks(count: int) -> str:
    return f"{count} task{'s' if count != 1 else ''} {'are' if count != 1 else 'is'}"
