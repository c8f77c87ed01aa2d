"""What the writers share during one apply: the instance name, and the ARNs that earlier changes produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.model.ownership import ownership_tags
from reconciler.model.resource import DesiredResource
from reconciler.plan.types import Change


@dataclass
class ApplyContext:
    instance: str
    registered: dict[str, str] = field(
        default_factory=dict
    )  # family → ARN registered (or reused) in this apply

    def ecs_tags(self, change: Change, resource: DesiredResource) -> list[dict[str, str]]:
        """The document's tags plus ours, in ECS's ``[{key, value}]`` form."""
        tags = {str(t["key"]): str(t["value"]) for t in resource.spec.get("tags") or ()}
        tags.update(
            ownership_tags(
                instance=self.instance, spec_hash=change.spec_hash, deletion_policy=resource.deletion_policy
            )
        )
        return [{"key": k, "value": v} for k, v in sorted(tags.items())]
