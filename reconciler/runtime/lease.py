"""The leader lease on DynamoDB: one writer at a time across replicas, as Kubernetes leases and Flux do it.

One item (``pk = "leader"``) holds the holder's name, its process's claim token and the wall-clock time the lease
expires. A replica takes or
renews it with a conditional ``PutItem`` (no item, or it is the holder, or the lease has expired), every
``renew_every`` seconds (10) for ``duration`` seconds (30). The holder may write to AWS until ``duration -
safety`` after it *sent* its last successful renewal (monotonic clock): it stops before any other replica can
see the lease expired, even with the renewal in flight that long and clocks ``safety`` apart. The check is made
before every AWS write (``may_write``, wired into ``AwsClients`` as its write guard), not once per pass. A
follower tries again at the lease's expiry, so it takes over within one lease period of the holder's last
renewal; a holder that stops releases the lease at once.

What a lease cannot do: fence a request that a paused process had already passed the check for and sends late
(AWS's APIs take no fencing token). The check runs twice for each attempt: at botocore's before-send, and again
when the attempt's HTTP connection is handed over (``live.clients.GuardedHTTPSession``), after any wait for a
pooled connection or a TCP connect, so the window is what lies between that moment and the socket write, with
nothing awaited in between. A replica paused inside it (SIGSTOP, a frozen VM) sends that one request late.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from reconciler import metrics
from reconciler.errors import AwsError, ConditionFailed, InUse, Unreachable
from reconciler.live.clients import BOOKKEEPING, AwsClients

log = structlog.get_logger(__name__)


class NotLeader(Exception):
    """A write was attempted without a valid lease: it is not sent."""


@dataclass
class LeaseTiming:
    duration: float = 30.0
    renew_every: float = 10.0
    safety: float = 5.0  # the holder stops writing this long before its lease can expire anywhere


@dataclass
class Lease:
    clients: AwsClients
    table: str
    holder: str  # the replica's name, for logs and the table
    timing: LeaseTiming = field(default_factory=LeaseTiming)
    # this process's claim: a replica restarted under the same name is another claimant, and waits its turn
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    item: str = "leader"  # the table's key of this lease: "leader", or "shard#<n>" with --shards auto
    _valid_until: float = 0.0  # monotonic: writes allowed before this
    _expires_seen: float = 0.0  # wall clock: the current lease's expiry as last read (followers)
    on_change: Callable[[bool], None] | None = None  # told True when the lease is taken, False when lost
    answered: bool = False  # DynamoDB has answered once (readiness of a follower)

    def may_write(self) -> bool:
        return time.monotonic() < self._valid_until

    def speaks_for_estate(self) -> bool:
        return self.may_write()

    def status(self) -> dict[str, object]:
        """Who writes, for ``GET /status`` (``coordination``)."""
        return {"kind": "lease", "replica": self.holder, "leader": self.may_write()}

    @property
    def table_key(self) -> dict[str, Any]:
        return {"pk": {"S": self.item}}

    def check_write(self, service: str, operation: str) -> None:
        """``AwsClients``' write guard: raises ``NotLeader`` unless the lease is held (lease calls excepted)."""
        if service not in BOOKKEEPING and not self.may_write():
            raise NotLeader(f"{service}:{operation} not sent: replica {self.holder} does not hold the lease")

    async def ensure_table(self) -> None:
        """Create the table (on-demand billing) when it is missing, and wait until it is active."""
        dynamodb = await self.clients.client("dynamodb")
        with contextlib.suppress(InUse):  # the table exists, or is being created
            await dynamodb.create_table(
                TableName=self.table,
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            log.info("lease table created", table=self.table)
        waiter = dynamodb.get_waiter("table_exists")
        await waiter.wait(TableName=self.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})

    async def run(self, stop: asyncio.Event) -> None:
        """Take and renew the lease until ``stop`` is set; the owner releases it once its last pass is over."""
        await self.ensure_table()
        while not stop.is_set():
            await self.attempt()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._next_attempt_in()):
                    await stop.wait()

    async def attempt(self) -> bool:
        """Take or renew the lease once; True if held afterwards."""
        was_leader = self.may_write()
        sent, now = time.monotonic(), time.time()
        try:
            await self._put(now)
            self.answered = True
        except ConditionFailed as held:  # another claim's lease, not expired: when it does, as last written
            self.answered = True
            self._valid_until = 0.0
            self._expires_seen = float((held.response.get("Item") or {}).get("expires", {}).get("N", 0))
            return self._settle(was_leader)
        except Unreachable as exc:  # no answer came (refused, timed out): the lease runs out on its own
            log.warning("lease renewal failed", error=str(exc), error_type=type(exc).__name__)
            return self._settle(was_leader)
        except AwsError as exc:  # DynamoDB answered with another refusal
            self.answered = True
            log.warning("lease renewal failed", error=str(exc), table=self.table)
            return self._settle(was_leader)
        except Exception as exc:  # no credentials, or anything else: the lease runs out on its own
            log.warning("lease renewal failed", error=str(exc), error_type=type(exc).__name__)
            return self._settle(was_leader)
        self._valid_until = sent + self.timing.duration - self.timing.safety
        return self._settle(was_leader)

    async def release(self) -> None:
        """Give the lease up (stopping): the next replica need not wait for it to expire."""
        if not self.may_write():
            return
        self._valid_until = 0.0
        dynamodb = await self.clients.client("dynamodb")
        with contextlib.suppress(Exception):
            await dynamodb.delete_item(
                TableName=self.table,
                Key=self.table_key,
                ConditionExpression="claim = :me",
                ExpressionAttributeValues={":me": {"S": self.token}},
            )
            log.info("lease released", holder=self.holder)
        self._settle(True)

    async def _put(self, now: float) -> Any:
        dynamodb = await self.clients.client("dynamodb")
        return await dynamodb.put_item(
            TableName=self.table,
            Item={
                **self.table_key,
                "holder": {"S": self.holder},
                "claim": {"S": self.token},
                "expires": {"N": f"{now + self.timing.duration:.3f}"},
                "renewed": {"N": f"{now:.3f}"},
            },
            ConditionExpression="attribute_not_exists(pk) OR claim = :me OR expires < :now",
            ExpressionAttributeValues={":me": {"S": self.token}, ":now": {"N": f"{now:.3f}"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _settle(self, was_leader: bool) -> bool:
        leader = self.may_write()
        if self.item == "leader":
            metrics.LEADER.set(1 if leader else 0)
        if leader != was_leader:
            log.info("lease taken" if leader else "lease lost", holder=self.holder, lease=self.item)
            if self.on_change is not None:
                self.on_change(leader)
        return leader

    def _next_attempt_in(self) -> float:
        """The holder renews every ``renew_every``; a follower tries again when the lease it saw expires."""
        if self.may_write() or not self._expires_seen:
            return self.timing.renew_every
        until_expiry = self._expires_seen - time.time() + 0.05
        return min(self.timing.renew_every, max(until_expiry, 0.05))
