"""How a resource is doing in AWS, apart from whether it matches Git: the vocabulary of ``plan/health.py`` (which
decides it), ``live/health.py`` (which reads what it needs beyond a pass's describe calls) and ``GET /status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Health(StrEnum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"  # moving towards what was asked: a deployment rolling out, tasks starting
    DEGRADED = "Degraded"  # a deployment failed or rolled back, tasks keep failing, a deadline passed
    SUSPENDED = "Suspended"  # stopped on purpose: scaling suspended, scaled to 0
    MISSING = "Missing"  # does not exist in AWS
    UNKNOWN = "Unknown"  # could not be read


@dataclass(frozen=True, slots=True)
class Verdict:
    """A resource's health and why. ``read`` is False when nothing of the resource has been read yet (declared or
    created since the last read): such an Unknown makes no metric series."""

    health: Health
    reason: str = ""
    read: bool = True


NOT_READ = Verdict(Health.UNKNOWN, "not read yet", read=False)


@dataclass(frozen=True, slots=True)  # one per target group, kept between its reads
class TargetHealthRead:
    """What DescribeTargetHealth answered for one target group: how many targets are in each state, the reason
    of one that is not healthy, or why it could not be read."""

    states: tuple[tuple[str, int], ...] = ()  # (TargetHealth.State, count), by state
    reason: str = ""  # TargetHealth.Description (or Reason) of a target that is not healthy
    error: str = ""

    def count(self, *states: str) -> int:
        return sum(n for state, n in self.states if state in states)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.states)
