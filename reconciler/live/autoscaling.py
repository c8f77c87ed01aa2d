"""Reading Application Auto Scaling: scalable targets, scaling policies and scheduled actions.

Each is read for the whole namespace in pages (targets and scheduled actions 50 a page, policies 10, as AWS
allows), and matched to its document by the ownership facts kept in the tags of the scaled ECS service (see
model/autoscaling.py), or by its natural key for one to adopt. Matched after ECS is read, whose service tags it
needs; the pages of the declared kinds are fetched beside the other readers (``fetch``).
A targeted pass reads by resource ID: the targets of its documents (50 IDs a call), and the policies and
scheduled actions of each scaled resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from reconciler.live.clients import AwsClients
from reconciler.model.autoscaling import KIND_CODES, decode_fact, fact_key, natural_key, request_of
from reconciler.model.autoscaling_ids import ECS_NAMESPACE
from reconciler.model.ecs import tags_as_map
from reconciler.model.live import Described, LiveEntry, LiveState
from reconciler.model.ownership import DELETION_POLICY_TAG, INSTANCE_TAG, NAME_TAG, SPEC_HASH_TAG
from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.shared_text import shared_strings

KINDS = ("ScalableTarget", "ScalingPolicy", "ScheduledAction")
READS = {
    "ScalableTarget": ("describe_scalable_targets", "ScalableTargets", 50, "ScalableTargetARN"),
    "ScalingPolicy": ("describe_scaling_policies", "ScalingPolicies", 10, "PolicyARN"),
    "ScheduledAction": ("describe_scheduled_actions", "ScheduledActions", 50, "ScheduledActionARN"),
}


class AutoscalingReader:
    kinds = KINDS
    tags = None  # its ownership facts are in the scaled services' tags, which ECS reads
    after_others = True  # ... so it reads once the ECS reader has

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        # what ``fetch`` read ahead: for which desired state, whether targeted, and (kind, namespace) → items
        self._ahead: tuple[DesiredState, bool, dict[tuple[str, str], list[Described]]] | None = None

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """The pages of the declared kinds, read beside the other readers: they need nothing of theirs, only the
        matching does (``read``). What only the services' tags ask for (ours, with no document left) is read by
        ``read``."""
        self._ahead = None
        reads = _wanted_by_id(desired) if targeted else _declared(desired)
        ahead: dict[tuple[str, str], list[Described]] = {}
        if reads:
            aas = await self._clients.client("application-autoscaling")
            for (kind, namespace), ids in sorted(reads.items()):
                if targeted:
                    ahead[(kind, namespace)] = await _read_by_id(aas, kind, namespace, sorted(ids))
                else:
                    ahead[(kind, namespace)] = await _read_kind(aas, kind, namespace)
        self._ahead = (desired, targeted, ahead)

    def _fetched(self, desired: DesiredState, targeted: bool) -> dict[tuple[str, str], list[Described]]:
        """What ``fetch`` read for this very pass, taken (a later pass reads again)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] is not desired or ahead[1] != targeted:
            return {}
        return ahead[2]

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        facts = ownership_facts(live)
        ahead = self._fetched(desired, targeted)
        if targeted:
            await self._read_targeted(desired, live, facts, ahead)
            return
        namespaces = {str(r.spec.get("ServiceNamespace")) for r in desired if r.kind in KINDS}
        if facts:
            namespaces.add(ECS_NAMESPACE)  # ours are there, even when no document is left
        if not namespaces:
            return
        by_natural = declared_by_natural_key(desired)
        kinds = {r.kind for r in desired if r.kind in KINDS} | {_kind_of_fact(key) for key in facts}
        for namespace in sorted(namespaces):
            for kind in [k for k in KINDS if k in kinds]:  # no call for a kind neither declared nor ours
                items = ahead.get((kind, namespace))
                if items is None:
                    aas = await self._clients.client("application-autoscaling")
                    items = await _read_kind(aas, kind, namespace)
                for item in items:
                    add_entry(live, kind, item, facts, by_natural)

    async def _read_targeted(
        self,
        desired: DesiredState,
        live: LiveState,
        facts: dict[str, tuple[str, str, str, str, str]],
        ahead: dict[tuple[str, str], list[Described]],
    ) -> None:
        declared = [r for r in desired if r.kind in KINDS]
        if not declared:
            return
        by_natural = declared_by_natural_key(declared)
        for (kind, namespace), ids in sorted(_wanted_by_id(desired).items()):
            items = ahead.get((kind, namespace))
            if items is None:
                aas = await self._clients.client("application-autoscaling")
                items = await _read_by_id(aas, kind, namespace, sorted(ids))
            for item in items:
                add_entry(live, kind, item, facts, by_natural)


def _declared(desired: DesiredState) -> dict[tuple[str, str], set[str]]:
    """(kind, namespace) of every declared scaling resource: what a full pass reads whole."""
    return {(r.kind, str(r.spec.get("ServiceNamespace"))): set() for r in desired if r.kind in KINDS}


def _wanted_by_id(desired: DesiredState) -> dict[tuple[str, str], set[str]]:
    """(kind, namespace) → the resource IDs of the declared scaling resources: what a targeted pass reads."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for resource in desired:
        if resource.kind in KINDS:
            ids = wanted.setdefault((resource.kind, str(resource.spec.get("ServiceNamespace"))), set())
            ids.add(str(resource.spec.get("ResourceId")))
    return wanted


async def _read_by_id(aas: Any, kind: str, namespace: str, ids: list[str]) -> list[Described]:
    operation, key, _, _ = READS[kind]
    calls: list[dict[str, Any]]
    if kind == "ScalableTarget":
        calls = [{"ResourceIds": ids[i : i + TARGETS_PER_CALL]} for i in range(0, len(ids), TARGETS_PER_CALL)]
    else:
        calls = [{"ResourceId": resource_id} for resource_id in ids]
    found: list[Described] = []
    for params in calls:
        paginator = aas.get_paginator(operation)
        async for page in paginator.paginate(ServiceNamespace=namespace, **params):
            found.extend(page.get(key, []))
    return found


TARGETS_PER_CALL = 50  # ResourceIds a DescribeScalableTargets call takes
# Read-only fields nothing compares (model/autoscaling.py drops them too), left out of the entries a pass holds:
# a policy's alarms are two long unique texts each
UNREAD_FIELDS = frozenset({"Alarms", "CreationTime"})


def _kind_of_fact(key: str) -> str:
    code = key.removeprefix("reconciler:aas:").split(":", 1)[0]
    return next((kind for kind, kind_code in KIND_CODES.items() if kind_code == code), "")


def declared_by_natural_key(resources: Iterable[DesiredResource]) -> dict[tuple[str, str], str]:
    """(kind, how AWS identifies it) → the document's name, for the declared scaling resources."""
    return {(r.kind, natural_key(r.kind, request_of(r))): r.name for r in resources if r.kind in KINDS}


def ownership_facts(live: LiveState) -> dict[str, tuple[str, str, str, str, str]]:
    """fact tag key → (spec hash, deletion policy, document name, owning instance, service ARN), from the tags of
    the ECS services already in ``live``."""
    return dict(_facts(live))


def _facts(live: LiveState) -> Iterator[tuple[str, tuple[str, str, str, str, str]]]:
    for service in live.services.values():
        tags = tags_as_map(service.get("tags"))
        owner = tags.get(INSTANCE_TAG, "")
        for key, value in tags.items():
            if key.startswith("reconciler:aas:"):
                spec_hash, policy, writer, doc_name = decode_fact(value)
                yield key, (spec_hash, policy, doc_name, writer or owner, service.get("serviceArn", ""))


async def _read_kind(aas: Any, kind: str, namespace: str) -> list[Described]:
    operation, key, page_size, _ = READS[kind]
    paginator = aas.get_paginator(operation)
    found: list[Described] = []
    async for page in paginator.paginate(
        ServiceNamespace=namespace, PaginationConfig={"PageSize": page_size}
    ):
        found.extend(page.get(key, []))
    return found


def add_entry(
    live: LiveState,
    kind: str,
    item: Described,
    facts: dict[str, tuple[str, str, str, str, str]],
    by_natural: dict[tuple[str, str], str],
) -> None:
    """One described scaling resource into ``live``, under its document's name: ours by the facts, else a
    declared one by its natural key; anything else is left out."""
    natural = natural_key(kind, item)
    fact = facts.get(fact_key(kind, natural))
    # by its AWS identity first: a document renamed since the fact was written is still that resource
    name = by_natural.get((kind, natural)) or (fact[2] if fact else None)
    if not name:
        return  # neither ours nor declared
    tags = {}
    if fact:
        tags = {
            SPEC_HASH_TAG: fact[0],
            DELETION_POLICY_TAG: fact[1],
            NAME_TAG: fact[2],
            INSTANCE_TAG: fact[3],
        }
    arn = str(item.get(READS[kind][3], ""))
    spec: Described = shared_strings({k: v for k, v in item.items() if k not in UNREAD_FIELDS})
    live.entries_of(kind)[name] = LiveEntry(
        name=name, arn=arn, spec=spec, tags=tags, parent=fact[4] if fact else ""
    )
