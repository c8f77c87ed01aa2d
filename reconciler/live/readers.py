"""Every reader, registered once: the engine reads AWS through this list, and each reader says which kinds it
fills, whether it reads after the others, and the tags it keeps between passes. A reader of a new AWS service is one
more entry here; a new kind of a service already read is its reader's business.
"""

from __future__ import annotations

from typing import Protocol

from reconciler.live.autoscaling import AutoscalingReader
from reconciler.live.clients import AwsClients
from reconciler.live.codedeploy import CodeDeployReader
from reconciler.live.ecs import EcsReader
from reconciler.live.elbv2 import Elbv2Reader
from reconciler.live.servicediscovery import ServiceDiscoveryReader
from reconciler.live.tag_cache import TagCache
from reconciler.model.live import LiveState
from reconciler.model.resource import DesiredState


class Reader(Protocol):
    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds whose live side it fills (``LiveState.entries`` for entry kinds)."""

    @property
    def tags(self) -> TagCache | None:
        """The tags it keeps between passes (re-read as ``TagCache`` says); None when its reads carry them."""

    @property
    def after_others(self) -> bool:
        """It needs what the other readers found (the scaled services' tags), so it reads once they have, and
        after the checks of the desired state that need AWS."""

    async def fetch(self, desired: DesiredState, *, targeted: bool = False) -> None:
        """A reader that reads after the others: what it can read before they are done (its pages, which need
        nothing of theirs), kept for its ``read`` of the same ``desired``, so that its wait for them is not also
        a wait for its own calls. Run beside the other readers; the others read nothing here."""

    async def read(self, desired: DesiredState, live: LiveState, *, targeted: bool = False) -> None:
        """Fill ``live`` for ``desired``; ``targeted``: ``desired`` is a targeted pass's scope (list nothing
        more than it needs, or read nothing when it declares none of the reader's kinds)."""


def make_readers(
    clients: AwsClients, ecs: EcsReader, *, instance: str, tag_refresh_passes: int
) -> tuple[Reader, ...]:
    """Every reader, in the order a pass starts them. ``ecs`` is the engine's own: the plan may ask it for more
    (a family's revisions, a service's failed deployments), and the ECS writer keeps its cache current."""
    return (
        ecs,
        Elbv2Reader(clients, instance=instance, tag_refresh_passes=tag_refresh_passes),
        ServiceDiscoveryReader(clients, instance=instance, tag_refresh_passes=tag_refresh_passes),
        CodeDeployReader(clients, instance=instance, tag_refresh_passes=tag_refresh_passes),
        AutoscalingReader(clients),
    )
