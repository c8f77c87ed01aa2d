"""Which shard a resource belongs to, when several replicas split an estate (``--shards auto``).

Resources that one change can touch together stay together: a service, its task definition, its target groups,
the rules and listeners that forward to them, its scaling, Cloud Map service and CodeDeploy group form one *unit*
(joined through the references between documents). What many services share — clusters, load balancers, and a
listener as the thing a rule hangs on — is its own unit. A unit's shard is a stable hash of its name, so every
replica computes the same split from the same desired state; which replica owns a shard is rendezvous hashing
over the live members, so a member's loss moves only its own shards. With targets.yaml the unit is the whole
target (``target_unit``). Pure: reads documents only.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence

from reconciler.model.references import Attachments, declared_by_reference, dependencies
from reconciler.model.resource import DesiredState, ResourceKey

SHARED_KINDS = frozenset({"Cluster", "LoadBalancer", "Listener"})  # depended on by many units, joins none


def unit_of(desired: DesiredState) -> dict[ResourceKey, str]:
    """Each resource's unit: the key of the unit's service (or its smallest key), as text."""
    parent = {r.key: r.key for r in desired.resources}

    def find(key: ResourceKey) -> ResourceKey:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    declared = declared_by_reference(desired.resources)
    attachments = Attachments(desired.resources)
    for resource in desired.resources:
        linked = dependencies(resource, declared) | attachments.of(resource)
        for other in linked:
            if other.kind not in SHARED_KINDS and other in parent:
                parent[find(resource.key)] = find(other)
    groups: dict[ResourceKey, list[ResourceKey]] = {}
    for key in parent:
        groups.setdefault(find(key), []).append(key)
    units: dict[ResourceKey, str] = {}
    for members in groups.values():
        name = str(min(members, key=lambda k: (k.kind != "Service", str(k))))
        units |= dict.fromkeys(members, name)
    return units


def target_unit(target: str) -> str:
    """With targets.yaml, a whole target is one unit: a replica holds whole targets (it reads and writes only the
    accounts and Regions it holds), and each target's writes are guarded by the lease of its one shard."""
    return f"target/{target}"


def shard_of(unit: str, shards: int) -> int:
    return zlib.crc32(unit.encode()) % shards


def owner_of_shard(shard: int, members: Sequence[str]) -> str | None:
    """Rendezvous (highest random weight) hashing: the member with the highest hash of (member, shard)."""
    if not members:
        return None
    return max(members, key=lambda member: hashlib.sha256(f"{member}/{shard}".encode()).digest())


def shards_of(member: str, members: Iterable[str], shards: int) -> frozenset[int]:
    everyone = sorted(set(members) | {member})
    return frozenset(s for s in range(shards) if owner_of_shard(s, everyone) == member)
