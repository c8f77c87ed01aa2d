"""Sharding (``--shards auto``): replicas split the estate, each shard written by exactly one replica at a time.

Every replica heartbeats an item ``member#<claim>`` in the lease table (expiring like a lease) and reads the
live members each round. The estate is cut into ``SHARDS`` fixed shards (``plan/shards.py``: a service with its
task definition, target groups, rules and scaling is always in one); rendezvous hashing over the live members
says which replica wants which shard. Each shard is a lease of its own (``shard#<n>``, the same conditional
writes as the leader lease): a replica takes the shards it wants, renews them, and releases those it no longer
wants, so when a member appears or disappears its share moves within one lease period, and a shard never has
two writers. A change is applied only while its shard's lease is held, checked right before each AWS write.
With targets.yaml a whole target is one unit: the replica holding its shard alone reads and writes it
(``holds_target``, the fleet's ``TargetShare``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import structlog

from reconciler import metrics
from reconciler.live.clients import BOOKKEEPING, WRITE_SCOPE, AwsClients
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.model.targets import DEFAULT_TARGET
from reconciler.plan.shards import shard_of, shards_of, target_unit, unit_of
from reconciler.plan.types import Change, Plan
from reconciler.runtime.lease import Lease, LeaseTiming, NotLeader

log = structlog.get_logger(__name__)
SHARDS = 16


@dataclass
class Shards:
    clients: AwsClients
    table: str
    holder: str
    timing: LeaseTiming = field(default_factory=LeaseTiming)
    count: int = SHARDS
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    members: list[str] = field(default_factory=list)  # live members' claims, this one included
    on_change: Callable[[bool], None] | None = None  # told when this replica gains or loses shards
    answered: bool = False
    _leases: dict[int, Lease] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._leases = {
            n: Lease(self.clients, self.table, self.holder, self.timing, token=self.token, item=f"shard#{n}")
            for n in range(self.count)
        }

    def held(self) -> frozenset[int]:
        return frozenset(n for n, lease in self._leases.items() if lease.may_write())

    def may_write(self) -> bool:
        """Holds at least one shard: passes are worth running."""
        return bool(self.held())

    def speaks_for_estate(self) -> bool:
        """Holds shard 0: tells what is the same in every replica (a desired state found invalid), once."""
        return 0 in self.held()

    def status(self) -> dict[str, object]:
        """The split, for ``GET /status`` (``coordination``)."""
        return {"kind": "shards", "replica": self.holder, "members": sorted(self.members),
                "held": sorted(self.held()), "count": self.count}  # fmt: skip

    def check_write(self, service: str, operation: str) -> None:
        """``AwsClients``' write guard: the change being applied must be of a shard whose lease is held now."""
        if service in BOOKKEEPING:
            return
        shard = WRITE_SCOPE.get()
        if not isinstance(shard, int) or not self._leases[shard].may_write():
            raise NotLeader(
                f"{service}:{operation} not sent: replica {self.holder} does not hold shard {shard}"
            )

    async def run(self, stop: asyncio.Event) -> None:
        await self._leases[0].ensure_table()
        while not stop.is_set():
            await self.step()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.timing.renew_every):
                    await stop.wait()

    async def step(self) -> None:
        """One round: heartbeat, read the members, take or renew the wanted shards, release the others."""
        before = self.held()
        try:
            await self._heartbeat()
            self.members = await self._live_members()
            self.answered = True
        except Exception as exc:  # the shards held run out on their own
            log.warning("shard membership failed", error=str(exc), error_type=type(exc).__name__)
            return
        wanted = shards_of(self.token, self.members, self.count)
        await asyncio.gather(*(self._leases[n].attempt() for n in sorted(wanted)))
        for n in sorted(self.held() - wanted):
            await self._leases[n].release()
        self._report(before)

    async def release(self) -> None:
        for lease in self._leases.values():
            await lease.release()
        dynamodb = await self.clients.client("dynamodb")
        with contextlib.suppress(Exception):
            await dynamodb.delete_item(TableName=self.table, Key={"pk": {"S": f"member#{self.token}"}})

    def mine(self, plan: Plan, desired: DesiredState) -> tuple[Plan, Callable[[Change], Hashable]]:
        """The part of ``plan`` in the shards held now (its changes, and what it says is in sync), and the shard
        of each change, for the executor's ``WRITE_SCOPE``."""
        held, shard = self.held(), self._shard_of_key(desired)

        def ours(kind: str, name: str) -> bool:
            return shard(ResourceKey(kind, name)) in held

        mine = plan.model_copy(
            update={
                "changes": [c for c in plan.changes if ours(c.kind, c.name)],
                "in_sync": [k for k in plan.in_sync if ours(k.kind, k.name)],
                "orphans": [o for o in plan.orphans if ours(o.kind, o.name)],
                "conflicts": [c for c in plan.conflicts if ours(c.kind, c.name)],
                "unmanaged": [u for u in plan.unmanaged if ours(u.kind, u.name)],
            }
        )
        return mine, lambda change: shard(change.key)

    def holds_target(self, target: str) -> bool:
        """With targets.yaml: whether this replica holds the shard of ``target`` (``target_unit``)."""
        return shard_of(target_unit(target), self.count) in self.held()

    def _shard_of_key(self, desired: DesiredState) -> Callable[[ResourceKey], int]:
        """A resource's shard: its unit's; one no document declares (an orphan) is a unit of its own. A target's
        part of a desired state with targets.yaml is one unit, whole."""
        if desired.target != DEFAULT_TARGET:
            shard = shard_of(target_unit(desired.target), self.count)
            return lambda _: shard
        units = unit_of(desired)
        return lambda key: shard_of(units.get(key, str(key)), self.count)

    async def _heartbeat(self) -> None:
        dynamodb = await self.clients.client("dynamodb")
        expires = time.time() + self.timing.duration
        await dynamodb.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"member#{self.token}"},
                "holder": {"S": self.holder},
                "expires": {"N": f"{expires:.3f}"},
            },
        )

    async def _live_members(self) -> list[str]:
        dynamodb = await self.clients.client("dynamodb")
        now, found = time.time(), []
        async for page in dynamodb.get_paginator("scan").paginate(TableName=self.table):
            for item in page.get("Items", []):
                key = item["pk"]["S"]
                if key.startswith("member#") and float(item["expires"]["N"]) > now:
                    found.append(key.removeprefix("member#"))
        return sorted(set(found) | {self.token})

    def _report(self, before: frozenset[int]) -> None:
        held = self.held()
        metrics.LEADER.set(1 if held else 0)
        metrics.SHARDS_HELD.set(len(held))
        if held != before:
            log.info("shards changed", holder=self.holder, held=sorted(held), members=len(self.members))
            if self.on_change is not None:
                self.on_change(bool(held))
