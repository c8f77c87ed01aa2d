"""A snapshot of what AWS holds, as the readers in ``live`` found it, in AWS's own describe shapes.

It is plain data so that the planner stays pure: ``live`` fills it, ``plan`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Described = dict[str, Any]


@dataclass
class LiveState:
    # cluster name → DescribeClusters entry (with ``settings`` and ``tags``)
    clusters: dict[str, Described] = field(default_factory=dict)
    # (cluster name, service name) → DescribeServices entry (with ``tags``); INACTIVE ones included when asked for
    services: dict[tuple[str, str], Described] = field(default_factory=dict)
    # task definition ARN → DescribeTaskDefinition's ``taskDefinition`` plus its ``tags``
    task_definitions: dict[str, Described] = field(default_factory=dict)
    # families whose recent revisions have been read into ``task_definitions``
    families_read: set[str] = field(default_factory=set)

    def revisions_of(self, family: str) -> list[Described]:
        """Known revisions of ``family``, newest first."""
        found = [td for td in self.task_definitions.values() if td.get("family") == family]
        return sorted(found, key=lambda td: int(td.get("revision", 0)), reverse=True)
