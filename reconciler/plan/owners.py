"""Fields that another actor owns: one table of who owns which field of which kind, when, and what live value
counts as the declared one. A field left to its owner is not drift, and the plan lists it (``Plan.owned``) so
that a reader sees why a difference is not corrected.

| kind | field | owner | when | what counts as declared |
|---|---|---|---|---|
| Service | ``desiredCount`` | Application Auto Scaling | a ScalableTarget scales the service | anything: neither compared nor hashed (Git's value only seeds a new service) |
| Service | ``loadBalancers[].targetGroupArn`` | CodeDeploy | a DeploymentGroup deploys the service | either target group of its pair |
| Listener | ``DefaultActions`` | CodeDeploy | a DeploymentGroup routes traffic through it | any forward within the pair, at any weights |
| ScalableTarget | ``MinCapacity``, ``MaxCapacity`` | ScheduledAction | scheduled actions of the target are declared | the bounds of any of them |
| Service | ``loadBalancers[].targetGroupArn``, ``loadBalancers[].advancedConfiguration.alternateTargetGroupArn`` | ECS | its strategy is BLUE_GREEN, LINEAR or CANARY | the pair in ECS's live orientation: which of the two is primary |
| ListenerRule | ``Actions[].ForwardConfig.TargetGroups[].Weight`` | ECS | a BLUE_GREEN, LINEAR or CANARY service names it as its production or test rule | production rule, outside a deployment: 100 to the service's live primary target group, 0 to the other; otherwise any weights across the pair |
| any | each path of ``metadata.ignoreDifferences`` | metadata.ignoreDifferences | always | anything: a difference there is never a change |

A row rewrites the live side before it is compared (``settle``: the owner's value read as the declared one), or
the declared side (``declare``: the document's value read as the value the owner keeps the field at, which is then
what a write sends: ``Settled.declared``); the document's own rows filter the differences found (``unignored``),
whatever the kind, and a path names a field as ``plan`` prints it. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    strategy: str = (
        ""  # a service's deployment strategy, when ECS shifts its traffic (BLUE_GREEN, LINEAR, CANARY)
    )
    shift: TrafficShift | None = None  # a listener rule whose weights ECS shifts for a service


@dataclass(frozen=True)
class TrafficShift:
    """What a listener rule's weights are to a service that ECS deploys blue/green, linear or canary."""

    service: str
    production: bool  # its production rule (else its test rule)
    pair: frozenset[str]  # the service's two target groups, as names and as the ARNs known
    primary: str = ""  # the ARN of the target group ECS serves production from (DescribeServices); "" unknown
    deployment: str = ""  # what ECS is deploying now, "" when no deployment of the service is in progress

    @property
    def settled(self) -> bool:
        """Whether the rule's weights have a settled value: ECS's production rule, between deployments."""
        return self.production and bool(self.primary) and not self.deployment


NO_OWNERS = OwnerContext()

Settle = Callable[[dict[str, Any], Mapping[str, Any], OwnerContext], dict[str, Any]]
# (declared, live, context) → the declared spec with the owner's value where the document's stands for it
Declare = Callable[[dict[str, Any], Mapping[str, Any], OwnerContext], dict[str, Any]]


@dataclass(frozen=True)
class FieldOwner:
    """One row: ``settle`` returns the live spec with the owner's value read as the declared one where it counts
    as declared; ``None`` leaves the (top-level) field out of the comparison and of the spec hash.
    ``tag_write_writes_it``: the call that rewrites the reconciler's own tags writes this field too
    (RegisterScalableTarget), so where the owner's value was taken for Git's, refreshing the tags is a change to show,
    not bookkeeping. ``declare`` returns the declared spec with the owner's value where the document's stands for
    it (a row with neither ``settle`` nor ``declare`` leaves the field out)."""

    kind: str
    path: str
    owner: str
    applies: Callable[[OwnerContext], bool]
    settle: Settle | None = None
    tag_write_writes_it: bool = False
    declare: Declare | None = None


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


def _pair_as_live(declared: dict[str, Any], live: Mapping[str, Any], context: OwnerContext) -> dict[str, Any]:
    """ECS alternates which target group of a pair is primary with each deployment: where the live service serves
    from the document's alternate, the pair is declared the other way round, so that a swap is never a difference
    and UpdateService sends the pair as ECS holds it (sending the document's order back breaks the alternation)."""
    serving = {(lb.get("targetGroupArn"), _alternate(lb)) for lb in live.get("loadBalancers") or ()}
    balancers = [_oriented(balancer, serving) for balancer in declared.get("loadBalancers") or ()]
    return {**declared, "loadBalancers": balancers} if balancers else declared


def _oriented(balancer: Mapping[str, Any], serving: set[tuple[Any, Any]]) -> Mapping[str, Any]:
    """``balancer`` with its pair the other way round, when that is how the live service serves it."""
    primary, alternate = balancer.get("targetGroupArn"), _alternate(balancer)
    if not alternate or ((alternate, primary) not in serving and (alternate, None) not in serving):
        return balancer
    advanced = {**balancer["advancedConfiguration"], "alternateTargetGroupArn": primary}
    return {**balancer, "targetGroupArn": alternate, "advancedConfiguration": advanced}


def _alternate(balancer: Mapping[str, Any]) -> Any:
    advanced = balancer.get("advancedConfiguration")
    return advanced.get("alternateTargetGroupArn") if isinstance(advanced, Mapping) else None


def _settled_weights(
    declared: dict[str, Any], live: Mapping[str, Any], context: OwnerContext
) -> dict[str, Any]:
    """Between deployments ECS's production rule forwards everything to the service's live primary target group and
    nothing to the other: that, not the document's weights, is what the rule is kept at (the document's would send
    traffic back to the target group ECS drained)."""
    shift = context.shift
    if shift is None or not shift.settled:
        return declared
    return {
        **declared,
        "Actions": [_at_settled_weights(action, shift) for action in declared.get("Actions") or ()],
    }


def _at_settled_weights(action: Mapping[str, Any], shift: TrafficShift) -> Mapping[str, Any]:
    groups = _forwarded(action)
    if not groups or not set(groups) <= shift.pair or shift.primary not in groups:
        return action
    forward = {k: v for k, v in (action.get("ForwardConfig") or {}).items() if k != "TargetGroups"}
    forward["TargetGroups"] = [
        {"TargetGroupArn": group, "Weight": 100 if group == shift.primary else 0} for group in groups
    ]
    return {**{k: v for k, v in action.items() if k != "TargetGroupArn"}, "ForwardConfig": forward}


def _weights_across_pair(
    live: dict[str, Any], declared: Mapping[str, Any], context: OwnerContext
) -> dict[str, Any]:
    """A test rule's weights, and a production rule's during a deployment, are ECS's at any value across the pair:
    the declared weights are read in their place."""
    shift = context.shift
    if shift is None or shift.settled:
        return live
    wanted = list(declared.get("Actions") or ())
    actions = [
        _at_declared_weights(action, wanted[index] if index < len(wanted) else {}, shift.pair)
        for index, action in enumerate(live.get("Actions") or ())
    ]
    return {**live, "Actions": actions}


def _at_declared_weights(
    action: Mapping[str, Any], wanted: Mapping[str, Any], pair: frozenset[str]
) -> Mapping[str, Any]:
    groups = _forwarded(action)
    if not groups or not set(groups) <= pair or set(groups) != set(_forwarded(wanted)):
        return action
    weights = {g.get("TargetGroupArn"): g.get("Weight") for g in _target_groups(wanted)}
    forward = dict(action.get("ForwardConfig") or {})
    forward["TargetGroups"] = [
        {**group, "Weight": weights.get(group.get("TargetGroupArn"), group.get("Weight"))}
        for group in _target_groups(action)
    ]
    return {**action, "ForwardConfig": forward}


def _target_groups(action: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((action.get("ForwardConfig") or {}).get("TargetGroups") or ())


def _forwarded(action: Mapping[str, Any]) -> list[str]:
    """The target groups a forward action sends to, in its order; [] for another action."""
    if action.get("Type") != "forward":
        return []
    groups = [str(g.get("TargetGroupArn")) for g in _target_groups(action)]
    return groups or ([str(action["TargetGroupArn"])] if action.get("TargetGroupArn") else [])


OWNERS: tuple[FieldOwner, ...] = (
    FieldOwner("Service", "desiredCount", "Application Auto Scaling", lambda c: c.scaled),
    FieldOwner("Service", "loadBalancers[].targetGroupArn", "CodeDeploy", lambda c: bool(c.pair),
               _target_group_in_pair),
    FieldOwner("Listener", "DefaultActions", "CodeDeploy", lambda c: bool(c.pair), _forward_within_pair),
    FieldOwner("ScalableTarget", "MinCapacity, MaxCapacity", "ScheduledAction",
               lambda c: bool(c.schedule_bounds), _bounds_of_a_schedule, tag_write_writes_it=True),
    FieldOwner("Service", "loadBalancers[].targetGroupArn, loadBalancers[].advancedConfiguration.alternateTargetGroupArn",
               "ECS", lambda c: bool(c.strategy), declare=_pair_as_live),
    FieldOwner("ListenerRule", "Actions[].ForwardConfig.TargetGroups[].Weight", "ECS", lambda c: c.shift is not None,
               _weights_across_pair, declare=_settled_weights),
)  # fmt: skip


@dataclass(frozen=True)
class Settled:
    """A resource's sides once its owned fields are settled."""

    live: Described | None  # the live spec, owned values read as declared where they count as declared
    unowned: frozenset[str]  # top-level fields left out of comparison and hash (settle None)
    # a row whose field the tag write also writes read a live value as the declared one (see FieldOwner)
    tag_write_is_a_change: bool
    desired: Mapping[str, Any] = field(default_factory=dict)  # the declared side, owners' values declared
    # top-level fields whose declared value an owner's row rewrote: what a write sends for them
    declared: Mapping[str, Any] = field(default_factory=dict)


def rows_for(kind: str, context: OwnerContext) -> list[FieldOwner]:
    return [row for row in OWNERS if row.kind == kind and row.applies(context)]


def settle(kind: str, live: Described | None, desired: Mapping[str, Any], context: OwnerContext) -> Settled:
    """``live`` (as AWS answers it, names resolved in ``desired``) with every row of the table applied."""
    rows = rows_for(kind, context)
    unowned = frozenset(row.path for row in rows if row.settle is None and row.declare is None)
    declared = dict(desired)
    for row in rows:
        if row.declare is not None:
            declared = row.declare(declared, live or {}, context)
    rewritten = {k: v for k, v in declared.items() if desired.get(k) != v}
    if live is None:
        return Settled(None, unowned, tag_write_is_a_change=False, desired=declared, declared=rewritten)
    settled = {k: v for k, v in live.items() if k not in unowned} if unowned else live
    tag_write_is_a_change = False
    for row in rows:
        if row.settle is not None:
            before, settled = settled, row.settle(settled, declared, context)
            tag_write_is_a_change |= row.tag_write_writes_it and settled != before
    return Settled(
        live=settled, unowned=unowned, tag_write_is_a_change=tag_write_is_a_change, desired=declared,
        declared=rewritten,
    )  # fmt: skip


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
