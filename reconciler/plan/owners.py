"""Fields that another actor owns: one table of who owns which field of which kind, when, and what live value
counts as the declared one. A field left to its owner is not drift, and the plan lists it (``Plan.owned``) so
that a reader sees why a difference is not corrected.

| kind | field | owner | when | what counts as declared |
|---|---|---|---|---|
| Service | ``desiredCount`` | Application Auto Scaling | a ScalableTarget scales the service | anything: neither compared nor hashed (Git's value only seeds a new service) |
| Service | ``loadBalancers[].targetGroupArn`` | CodeDeploy | a DeploymentGroup deploys the service | either target group of its pair |
| Listener | ``DefaultActions`` | CodeDeploy | a DeploymentGroup routes traffic through it | any forward within the pair, at any weights |
| ScalableTarget | ``MinCapacity``, ``MaxCapacity`` | ScheduledAction | scheduled actions of the target are declared | the bounds of any of them |
| any | each path of ``metadata.ignoreDifferences`` | metadata.ignoreDifferences | always | anything: a difference there is never a change |

The first four rows rewrite the live side before it is compared (``settle``); the document's own rows filter the
differences found (``unignored``), whatever the kind, and a path names a field as ``plan`` prints it. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.model.live import Described
from reconciler.plan.diff import FieldDiff
from reconciler.plan.types import Owned

IGNORED_BY_DOCUMENT = "metadata.ignoreDifferences"


@dataclass(frozen=True)
class OwnerContext:
    """What the table's conditions read about one resource; the planner gathers it from the documents."""

    scaled: bool = False  # a ScalableTarget scales this service
    pair: frozenset[str] = frozenset()  # the CodeDeploy target group pair (names and ARNs) routing it
    schedule_bounds: frozenset[tuple[Any, Any]] = frozenset()  # (MinCapacity, MaxCapacity) of its schedules
    ignored: tuple[str, ...] = ()  # the document's metadata.ignoreDifferences


NO_OWNERS = OwnerContext()

Settle = Callable[[dict[str, Any], Mapping[str, Any], OwnerContext], dict[str, Any]]


@dataclass(frozen=True)
class FieldOwner:
    """One row: ``settle`` returns the live spec with the owner's value read as the declared one where it counts
    as declared; ``None`` leaves the (top-level) field out of the comparison and of the spec hash.
    ``tag_write_writes_it``: the call that rewrites the reconciler's own tags writes this field too
    (RegisterScalableTarget), so where the owner's value was taken for Git's, refreshing the tags is a change to show,
    not bookkeeping."""

    kind: str
    path: str
    owner: str
    applies: Callable[[OwnerContext], bool]
    settle: Settle | None = None
    tag_write_writes_it: bool = False


def _target_group_in_pair(
    live: dict[str, Any], desired: Mapping[str, Any], context: OwnerContext
) -> dict[str, Any]:
    """After a CodeDeploy deployment the service serves from the other target group of the pair: either is right."""
    declared = [lb.get("targetGroupArn") for lb in desired.get("loadBalancers") or ()]
    balancers = []
    for index, balancer in enumerate(live.get("loadBalancers") or ()):
        wanted = declared[index] if index < len(declared) else None
        swapped = wanted in context.pair and balancer.get("targetGroupArn") in context.pair
        balancers.append({**balancer, "targetGroupArn": wanted} if swapped else balancer)
    return {**live, "loadBalancers": balancers}


def _forward_within_pair(
    live: dict[str, Any], desired: Mapping[str, Any], context: OwnerContext
) -> dict[str, Any]:
    """Each forward among the pair's target groups (whichever is live, whatever the weights during a deployment)
    is the declared forward, when that too is among the pair."""
    declared = list(desired.get("DefaultActions") or ())
    actions = []
    for index, action in enumerate(live.get("DefaultActions") or ()):
        wanted = declared[index] if index < len(declared) else None
        both = (
            wanted is not None
            and _forwards_within(action, context.pair)
            and _forwards_within(wanted, context.pair)
        )
        actions.append(dict(wanted) if both and wanted is not None else action)
    return {**live, "DefaultActions": actions}


def _forwards_within(action: Mapping[str, Any], pair: frozenset[str]) -> bool:
    if action.get("Type") != "forward":
        return False
    groups = [g.get("TargetGroupArn") for g in (action.get("ForwardConfig") or {}).get("TargetGroups") or ()]
    groups = groups or [action.get("TargetGroupArn")]
    return all(group in pair for group in groups)


def _bounds_of_a_schedule(
    live: dict[str, Any], desired: Mapping[str, Any], context: OwnerContext
) -> dict[str, Any]:
    """A scheduled action sets the target's MinCapacity/MaxCapacity at its hour: bounds equal to those of any
    declared schedule of the target are the schedule at work (no fighting the night scale-in)."""
    if (live.get("MinCapacity"), live.get("MaxCapacity")) not in context.schedule_bounds:
        return live
    return {**live, "MinCapacity": desired.get("MinCapacity"), "MaxCapacity": desired.get("MaxCapacity")}


OWNERS: tuple[FieldOwner, ...] = (
    FieldOwner("Service", "desiredCount", "Application Auto Scaling", lambda c: c.scaled),
    FieldOwner("Service", "loadBalancers[].targetGroupArn", "CodeDeploy", lambda c: bool(c.pair),
               _target_group_in_pair),
    FieldOwner("Listener", "DefaultActions", "CodeDeploy", lambda c: bool(c.pair), _forward_within_pair),
    FieldOwner("ScalableTarget", "MinCapacity, MaxCapacity", "ScheduledAction",
               lambda c: bool(c.schedule_bounds), _bounds_of_a_schedule, tag_write_writes_it=True),
)  # fmt: skip


@dataclass(frozen=True)
class Settled:
    """A resource's sides once its owned fields are settled."""

    live: Described | None  # the live spec, owned values read as declared where they count as declared
    unowned: frozenset[str]  # top-level fields left out of comparison and hash (settle None)
    # a row whose field the tag write also writes read a live value as the declared one (see FieldOwner)
    tag_write_is_a_change: bool


def rows_for(kind: str, context: OwnerContext) -> list[FieldOwner]:
    return [row for row in OWNERS if row.kind == kind and row.applies(context)]


def settle(kind: str, live: Described | None, desired: Mapping[str, Any], context: OwnerContext) -> Settled:
    """``live`` (as AWS answers it, names resolved in ``desired``) with every row of the table applied."""
    rows = rows_for(kind, context)
    unowned = frozenset(row.path for row in rows if row.settle is None)
    if live is None:
        return Settled(live=None, unowned=unowned, tag_write_is_a_change=False)
    settled = {k: v for k, v in live.items() if k not in unowned} if unowned else live
    tag_write_is_a_change = False
    for row in rows:
        if row.settle is not None:
            before, settled = settled, row.settle(settled, desired, context)
            tag_write_is_a_change |= row.tag_write_writes_it and settled != before
    return Settled(live=settled, unowned=unowned, tag_write_is_a_change=tag_write_is_a_change)


def owned(kind: str, name: str, context: OwnerContext) -> list[Owned]:
    """Every field of the resource left to another owner, the document's ignored paths included."""
    rows = [Owned(kind=kind, name=name, path=row.path, owner=row.owner) for row in rows_for(kind, context)]
    rows += [Owned(kind=kind, name=name, path=path, owner=IGNORED_BY_DOCUMENT) for path in context.ignored]
    return rows


def unignored(diff: Sequence[FieldDiff], ignored: Iterable[str]) -> list[FieldDiff]:
    """``diff`` without the differences at or under an ignored path (``tags.CostCenter``, ``deploymentConfiguration``,
    ``containerDefinitions[app].image``)."""
    paths = tuple(ignored)
    if not paths:
        return list(diff)
    return [d for d in diff if not any(_under(d.path, path) for path in paths)]


def _under(path: str, ignored: str) -> bool:
    return path == ignored or path.startswith((f"{ignored}.", f"{ignored}["))
