"""ECS task definitions: the container defaults AWS fills in, and the registration timestamps.

The reconciler compares the revision a service runs with the desired task definition; fields that AWS fills in
and moto does not would make the sandbox disagree with AWS about what "no change" looks like.
"""

from __future__ import annotations

from typing import Any

from moto.core.utils import utcnow
from moto.ecs.models import EC2ContainerServiceBackend, TaskDefinition

from reconciler.sandbox.patches._wrapping import Method, replace_method

HOST_PORT_EQUALS_CONTAINER_PORT = frozenset({"awsvpc", "host"})


def apply() -> None:
    replace_method(TaskDefinition, "__init__", _filled_like_aws)
    replace_method(EC2ContainerServiceBackend, "deregister_task_definition", _deregistered_at)


def _filled_like_aws(original: Method) -> Method:
    """AWS fills each port mapping's ``protocol`` (tcp) and, under awsvpc and host networking, ``hostPort`` =
    ``containerPort``; it records ``registeredAt`` and ``registeredBy``. moto returned the port mappings as
    sent and no registration facts."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        for container in self.container_definitions:
            container["portMappings"] = [
                fill_port_mapping(mapping, network_mode=self.network_mode)
                for mapping in container.get("portMappings") or []
            ]
        self.registered_at = utcnow()
        self.registered_by = f"arn:aws:iam::{_account_of(self.arn)}:root"

    return init


def fill_port_mapping(mapping: dict[str, Any], *, network_mode: str | None) -> dict[str, Any]:
    filled = {"protocol": "tcp", **mapping}
    if network_mode in HOST_PORT_EQUALS_CONTAINER_PORT and "containerPort" in mapping:
        filled.setdefault("hostPort", mapping["containerPort"])
    return filled


def _account_of(arn: str) -> str:
    return arn.split(":")[4]


def _deregistered_at(original: Method) -> Method:
    """AWS records ``deregisteredAt`` when a revision becomes INACTIVE; moto did not."""

    def deregister_task_definition(self: Any, task_definition_str: str) -> Any:
        task_definition = original(self, task_definition_str)
        task_definition.deregistered_at = utcnow()
        return task_definition

    return deregister_task_definition
