"""The API budget's token buckets, on a fake clock: a burst at once, then the sustained rate; groups as AWS
throttles them, at half AWS's rates by default; the lease's DynamoDB calls never wait."""

from __future__ import annotations

import asyncio

import pytest

from reconciler.live.budget import ApiBudget, TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_bucket_gives_its_burst_at_once_then_its_rate() -> None:
    time = FakeTime()
    bucket = TokenBucket(burst=5, rate=2, clock=time.clock, sleep=time.sleep)

    async def take(n: int) -> list[float]:
        return [await bucket.take() for _ in range(n)]

    waits = asyncio.run(take(9))
    assert waits[:5] == [0.0] * 5  # the burst
    assert waits[5:] == pytest.approx([0.5] * 4)  # then one every 1/rate seconds
    assert time.now == pytest.approx(2.0)


GROUPS = [
    ("ecs", "DescribeServices", "ecs-service-read", 50, 10),
    ("ecs", "UpdateService", "ecs-service-modify", 25, 2.5),
    ("ecs", "RegisterTaskDefinition", "ecs-task-definition-modify", 10, 0.5),
    ("ecs", "ListTaskDefinitions", "ecs-task-definition-read", 25, 10),
    ("elastic-load-balancing-v2", "DescribeTags", "elbv2-describe", 20, 5),
    ("elastic-load-balancing-v2", "ModifyListener", "elbv2-modify", 10, 1.5),
    ("application-auto-scaling", "DescribeScalableTargets", "aas-describe", 20, 5),
    ("codedeploy", "CreateDeployment", "other", 20, 5),
]


@pytest.mark.parametrize(("service", "operation", "group", "burst", "rate"), GROUPS)
def test_calls_fall_in_awss_throttling_groups_at_half_the_rate(
    service: str, operation: str, group: str, burst: float, rate: float
) -> None:
    budget = ApiBudget()
    assert budget.group_of(service, operation) == group
    asyncio.run(budget.spend(service, operation))
    bucket = budget._buckets[group]
    assert (bucket.burst, bucket.rate) == (burst, rate)


def test_the_lease_never_waits() -> None:
    time = FakeTime()
    budget = ApiBudget(share=0.01, clock=time.clock, sleep=time.sleep)

    async def spend() -> float:
        return sum([await budget.spend("dynamodb", "PutItem") for _ in range(100)])

    assert (asyncio.run(spend()), budget.group_of("dynamodb", "PutItem")) == (0.0, None)


def test_a_pass_worth_of_describes_waits_only_past_the_burst() -> None:
    """1000 services read in DescribeServices batches of 10: 100 calls; at half of 100/20 that is 50 at once and
    the other 50 at 10 per second."""
    time = FakeTime()
    budget = ApiBudget(clock=time.clock, sleep=time.sleep)

    async def read() -> None:
        for _ in range(100):
            await budget.spend("ecs", "DescribeServices")

    asyncio.run(read())
    assert time.now == pytest.approx(5.0)
