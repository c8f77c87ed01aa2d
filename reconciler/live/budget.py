"""The API budget: client-side token buckets per AWS throttling group, by default at half AWS's rates, so that
the reconciler stays under the account's limits and leaves the other half to the other tools of the account
(CI deploys, the console, Terraform). AWS throttles per account and region, per group of calls; a call waits
here for a token instead of being throttled there. botocore's ``adaptive`` retries stay on top for what others
spend.

Rates (burst, sustained per second) are AWS's published ones where the services' request throttling pages give
them; the others are conservative guesses, marked so.
"""

from __future__ import annotations

import asyncio
import fnmatch
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

# (group, service (botocore's hyphenated service ID, as in event names), operation patterns, burst, per second)
GROUPS: tuple[tuple[str, str, tuple[str, ...], float, float], ...] = (
    ("ecs-service-read", "ecs", ("DescribeServices", "ListServices", "ListServicesByNamespace"), 100, 20),
    ("ecs-service-modify", "ecs", ("CreateService", "UpdateService", "DeleteService"), 50, 5),
    ("ecs-task-definition-read", "ecs", ("DescribeTaskDefinition", "ListTaskDefinition*"), 50, 20),
    ("ecs-task-definition-modify", "ecs", ("RegisterTaskDefinition", "DeregisterTaskDefinition"), 20, 1),
    ("ecs-other", "ecs", ("*",), 50, 20),  # clusters, tags: guess, at the task definition read rate
    ("elbv2-describe", "elastic-load-balancing-v2", ("Describe*",), 40, 10),
    ("elbv2-modify", "elastic-load-balancing-v2", ("*",), 20, 3),
    ("aas-describe", "application-auto-scaling", ("Describe*", "List*"), 40, 10),  # guess
    ("aas-modify", "application-auto-scaling", ("*",), 20, 3),  # guess
    ("other", "*", ("*",), 40, 10),  # Cloud Map, CodeDeploy, STS, EC2: guess
)
UNBUDGETED = frozenset({"dynamodb"})  # the lease: its renewals must never queue behind reads


@dataclass
class TokenBucket:
    burst: float
    rate: float  # tokens per second
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens, self.updated = self.burst, self.clock()

    async def take(self) -> float:
        """Wait for a token and take it; returns the seconds waited."""
        waited = 0.0
        while True:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1 - 1e-9:  # float refills land a hair under 1: never sleep for nothing
                self.tokens = max(self.tokens - 1, 0.0)
                return waited
            pause = (1 - self.tokens) / self.rate
            waited += pause
            await self.sleep(pause)


@dataclass
class ApiBudget:
    """One bucket per group, at ``share`` of AWS's burst and rate (0.5: half)."""

    share: float = 0.5
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def group_of(self, service: str, operation: str) -> str | None:
        if service in UNBUDGETED:
            return None
        for name, group_service, patterns, _, _ in GROUPS:
            if fnmatch.fnmatch(service, group_service) and any(
                fnmatch.fnmatch(operation, p) for p in patterns
            ):
                return name
        return None

    async def spend(self, service: str, operation: str) -> float:
        """Take a token of the call's group (waiting as needed); the seconds waited."""
        group = self.group_of(service, operation)
        if group is None:
            return 0.0
        return await self._bucket(group).take()

    def _bucket(self, group: str) -> TokenBucket:
        if group not in self._buckets:
            burst, rate = next((b, r) for name, _, _, b, r in GROUPS if name == group)
            self._buckets[group] = TokenBucket(
                burst=max(1.0, burst * self.share), rate=rate * self.share, clock=self.clock, sleep=self.sleep
            )
        return self._buckets[group]
