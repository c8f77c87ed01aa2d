"""What the writers share during one apply: the instance name, and the ARNs that earlier changes produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.generic import key_value_tags
from reconciler.model.ownership import NAME_TAG, ownership_tags
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.plan.types import Change


@dataclass
class ApplyContext:
    instance: str
    # family → ARN of the revision registered (or reused) in this apply
    registered: dict[str, str] = field(default_factory=dict)
    # (kind, reference name) → ARN: what live had, plus what this apply created; resolves names in specs
    arns: dict[ResourceKey, str] = field(default_factory=dict)

    def _ours(self, change: Change, resource: DesiredResource) -> dict[str, str]:
        return ownership_tags(
            instance=self.instance, spec_hash=change.spec_hash, deletion_policy=resource.deletion_policy
        )

    def ecs_tags(self, change: Change, resource: DesiredResource) -> list[dict[str, str]]:
        """The document's tags plus ours, in ECS's ``[{key, value}]`` form."""
        tags = {str(t["key"]): str(t["value"]) for t in resource.spec.get("tags") or ()}
        tags.update(self._ours(change, resource))
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]

    def key_value_tags(self, change: Change, resource: DesiredResource) -> list[dict[str, str]]:
        """The document's tags plus ours (and the document's name), in the ``[{Key, Value}]`` form."""
        tags = key_value_tags(resource.spec) | self._ours(change, resource) | {NAME_TAG: resource.name}
        return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
