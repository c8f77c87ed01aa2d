"""The leader lease on DynamoDB, against the emulator: one holder at a time; a follower's writes are
never sent; the holder stops writing before its lease can expire; a follower takes over once it has; a released
lease is taken at once; the daemon passes only while it holds the lease."""

from __future__ import annotations

import asyncio
import time

import pytest

from reconciler.live.clients import AwsClients
from reconciler.runtime.lease import Lease, LeaseTiming, NotLeader
from tests.conftest import REGION, BotoFactory

TIMING = LeaseTiming(duration=2.0, renew_every=0.5, safety=0.4)


def _lease(clients: AwsClients, holder: str, table: str = "leases") -> Lease:
    lease = Lease(clients, table=table, holder=holder, timing=TIMING)
    clients.write_guard = lease.check_write
    return lease


async def _clients(aws: str, replica: str) -> AwsClients:
    return await AwsClients(region=REGION, endpoint_url=aws, replica=replica).__aenter__()


def test_one_holder_and_the_follower_takes_over_only_after_expiry(aws: str, boto: BotoFactory) -> None:
    async def scenario() -> None:
        a_clients, b_clients = await _clients(aws, "a"), await _clients(aws, "b")
        a, b = _lease(a_clients, "a"), _lease(b_clients, "b")
        await a.ensure_table()
        await b.ensure_table()  # made by a already: AWS answers ResourceInUseException, taken as done
        await (await b_clients.client("ecs")).list_clusters()  # clients made: their set-up is not timed below
        taken = time.monotonic()
        assert (await a.attempt(), await b.attempt()) == (True, False)
        ecs_b = await b_clients.client("ecs")
        with pytest.raises(NotLeader):
            await ecs_b.create_cluster(clusterName="written-by-b")  # not sent: the guard stops it
        ecs_a = await a_clients.client("ecs")
        await ecs_a.create_cluster(clusterName="written-by-a")
        # a stops renewing (as if paused): it stops writing `safety` before its lease expires; b waits for expiry
        while a.may_write():
            assert not await b.attempt()
            await asyncio.sleep(0.1)
        stopped_writing = time.monotonic() - taken
        assert (
            TIMING.duration - TIMING.safety - 0.05 <= stopped_writing <= TIMING.duration - TIMING.safety + 0.3
        )
        with pytest.raises(NotLeader):
            await ecs_a.create_cluster(clusterName="late-write-by-a")
        for _ in range(40):
            if await b.attempt():
                break
            await asyncio.sleep(0.1)
        assert b.may_write()
        assert time.monotonic() - taken >= TIMING.duration - 0.1  # never before a's lease expired
        await ecs_b.create_cluster(clusterName="written-by-b-as-leader")
        await b.release()  # stopping: a may take it at once
        assert await a.attempt()
        for clients in (a_clients, b_clients):
            await clients.__aexit__(None, None, None)

    asyncio.run(scenario())
    clusters = {arn.rsplit("/", 1)[-1] for arn in boto("ecs").list_clusters()["clusterArns"]}
    assert clusters == {"written-by-a", "written-by-b-as-leader"}
    table = boto("dynamodb").describe_table(TableName="leases")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_a_write_checked_before_a_pause_is_checked_again_once_its_connection_is_in_hand(
    aws: str, boto: BotoFactory
) -> None:
    """The lease can be lost between botocore's before-send and the bytes leaving (a pooled connection to wait
    for, a TCP connect, the process paused): the guard runs again when the connection is handed over, so a write
    whose lease ran out meanwhile is not sent."""

    async def scenario() -> None:
        clients = await AwsClients(region=REGION, endpoint_url=aws, max_attempts=1).__aenter__()
        checks: list[str] = []

        def lease_lost_after_the_first_check(service: str, operation: str) -> None:
            checks.append(operation)
            if len(checks) > 1:
                raise NotLeader(f"{service}:{operation}: the lease ran out before the send")

        clients.write_guard = lease_lost_after_the_first_check
        ecs = await clients.client("ecs")
        await ecs.list_clusters()  # a read: never checked
        with pytest.raises(Exception, match="the lease ran out before the send"):
            await ecs.create_cluster(clusterName="late-write")
        # before-send, then at the connection (and again, refused, on any retry)
        assert checks[:2] == ["CreateCluster", "CreateCluster"]
        await clients.__aexit__(None, None, None)

    asyncio.run(scenario())
    assert boto("ecs").describe_clusters(clusters=["late-write"])["clusters"] == []
