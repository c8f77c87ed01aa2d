"""What the writers share during one apply: the instance name, the ARNs that earlier changes produced, and calls
that several changes make together (the first to need one makes it; the others wait for its answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from reconciler.model.kinds import KINDS
from reconciler.model.ownership import NAME_TAG, REVISION_TAG, ownership_tags
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.types import Change


@dataclass
class ApplyContext:
    instance: str
    revision: str = ""  # of the desired state being applied: tagged on every resource a change writes
    # family → ARN of the revision registered (or reused) in this apply
    registered: dict[str, str] = field(default_factory=dict)
    # (kind, reference name) → ARN: what live had, plus what this apply created; resolves names in specs
    arns: dict[ResourceKey, str] = field(default_factory=dict)
    # key → the one call several changes share in this apply (e.g. a listener's SetRulePriorities)
    shared_calls: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict)

    async def once(self, key: Hashable, call: Callable[[], Awaitable[Any]]) -> Any:
        """Make ``call`` the first time ``key`` is asked for in this apply; every asker gets its answer (or its
        error)."""
        pending = self.shared_calls.get(key)
        if pending is None:
            pending = asyncio.ensure_future(call())
            self.shared_calls[key] = pending
        return await asyncio.shield(pending)

    def _ours(self, change: Change, resource: DesiredResource) -> dict[str, str]:
        tags = ownership_tags(
            instance=self.instance, spec_hash=change.spec_hash, deletion_policy=resource.deletion_policy
        )
        return tags | ({REVISION_TAG: self.revision} if self.revision else {})

    def ecs_tags(self, change: Change, resource: DesiredResource) -> list[dict[str, str]]:
        """The document's tags plus ours, in ECS's ``[{key, value}]`` form."""
        tags = {str(t["key"]): str(t["value"]) for t in resource.spec.get("tags") or ()}
        tags.update(change.carried_tags)
        tags.update(self._ours(change, resource))
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]

    def key_value_tags(self, change: Change, resource: DesiredResource) -> list[dict[str, str]]:
        """The document's tags plus ours (and the document's name), in the ``[{Key, Value}]`` form."""
        # each kind spells them its own way (CodeDeploy: ``tags``)
        document = KINDS[resource.kind].tags(resource.spec)
        tags = document | self._ours(change, resource) | {NAME_TAG: resource.name}
        return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
