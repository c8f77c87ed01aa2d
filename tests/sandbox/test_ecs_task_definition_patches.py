"""Each ECS task definition patch, shown over HTTP (see patches/ecs_task_definitions.py)."""

from __future__ import annotations

from typing import Any

from tests.conftest import BotoFactory


def _register(ecs: Any, *, network_mode: str, port_mappings: list[dict[str, Any]]) -> dict[str, Any]:
    answer = ecs.register_task_definition(
        family="frontapp",
        requiresCompatibilities=["FARGATE"] if network_mode == "awsvpc" else ["EC2"],
        networkMode=network_mode,
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "portMappings": port_mappings}],
        tags=[{"key": "System", "value": "myapp"}],
    )
    task_definition: dict[str, Any] = answer["taskDefinition"]
    return task_definition


def test_awsvpc_port_mappings_get_host_port_and_protocol(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    _register(ecs, network_mode="awsvpc", port_mappings=[{"containerPort": 8080}])
    described = ecs.describe_task_definition(taskDefinition="frontapp")["taskDefinition"]
    assert described["containerDefinitions"][0]["portMappings"] == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}
    ]


def test_bridge_port_mappings_keep_dynamic_host_ports(boto: BotoFactory) -> None:
    registered = _register(boto("ecs"), network_mode="bridge", port_mappings=[{"containerPort": 80}])
    assert registered["containerDefinitions"][0]["portMappings"] == [{"containerPort": 80, "protocol": "tcp"}]


def test_registration_and_deregistration_are_recorded(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    registered = _register(ecs, network_mode="awsvpc", port_mappings=[])
    assert "registeredAt" in registered
    assert registered["registeredBy"] == "arn:aws:iam::123456789012:root"
    deregistered = ecs.deregister_task_definition(taskDefinition="frontapp:1")["taskDefinition"]
    assert deregistered["status"] == "INACTIVE"
    assert "deregisteredAt" in deregistered


def test_tags_on_task_definitions(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    arn = _register(ecs, network_mode="awsvpc", port_mappings=[])["taskDefinitionArn"]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "Env", "value": "prod"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["System"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "Env", "value": "prod"}]
    described = ecs.describe_task_definition(taskDefinition="frontapp", include=["TAGS"])
    assert described["tags"] == [{"key": "Env", "value": "prod"}]
