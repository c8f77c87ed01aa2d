"""Every writer, registered once: the executor hands each change to the writer whose ``actions`` table names the
change's kind. A writer of a new AWS service is one more entry here; a new kind of a service already written is
its writer's business.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.apply.autoscaling import AutoscalingWriter
from reconciler.apply.codedeploy import CodeDeployWriter
from reconciler.apply.ecs import EcsWriter
from reconciler.apply.elbv2 import Elbv2Writer
from reconciler.apply.executor import Writer
from reconciler.apply.servicediscovery import ServiceDiscoveryWriter
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader


def make_writers(clients: AwsClients, ecs: EcsReader) -> tuple[Writer, ...]:
    """Every writer. ``ecs``: the engine's ECS reader, whose task definition cache the ECS writer keeps current."""
    return (
        EcsWriter(clients, ecs),
        Elbv2Writer(clients),
        AutoscalingWriter(clients),
        ServiceDiscoveryWriter(clients),
        CodeDeployWriter(clients),
    )


def writers_by_kind(writers: Iterable[Writer]) -> dict[str, Writer]:
    """Kind → the writer whose table names it."""
    return {kind: writer for writer in writers for kind in writer.actions}
