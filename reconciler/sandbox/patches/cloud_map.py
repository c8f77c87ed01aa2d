"""Cloud Map: the instances that ECS registers for a service's running tasks, what that forbids, and what Cloud Map
keeps of a custom health check.

| AWS does | moto 5.2 did |
|---|---|
| each running task of an ECS service with ``serviceRegistries`` is an instance of that Cloud Map service, registered when the task runs and deregistered when it stops (Amazon ECS Developer Guide: "Use service discovery to connect Amazon ECS services with DNS names") | registered nothing |
| DeleteService of a Cloud Map service that has instances fails ``ResourceInUse`` (AWS Cloud Map API Reference: DeleteService) | deleted it |
| ``HealthCheckCustomConfig.FailureThreshold`` "is no longer supported and is always set to 1" (AWS Cloud Map API Reference: HealthCheckCustomConfig) | kept the value sent |
| CreateService of a name that a service of the namespace already has fails ``ServiceAlreadyExists``, unless it repeats that service's ``CreatorRequestId`` (a retry), which answers with that service; in a DNS namespace names differing only by case are the same name (AWS Cloud Map API Reference: CreateService, ServiceAlreadyExists; Developer Guide: "Creating an AWS Cloud Map service") | created a second service of that name |
| GetService and ListServices answer ``InstanceCount``, the number of instances registered (AWS Cloud Map API Reference: Service, ServiceSummary) | left it out |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.moto_api._internal import mock_random
from moto.servicediscovery.exceptions import ServiceDiscoveryException
from moto.servicediscovery.models import ServiceDiscoveryBackend, servicediscovery_backends
from moto.servicediscovery.responses import ServiceDiscoveryResponse

from reconciler.sandbox.patches._wrapping import Method, replace_method


class ResourceInUse(ServiceDiscoveryException):
    code = "ResourceInUse"


class ServiceAlreadyExists(ServiceDiscoveryException):
    code = "ServiceAlreadyExists"


def apply() -> None:
    replace_method(ServiceDiscoveryBackend, "create_service", _failure_threshold_is_one)
    replace_method(ServiceDiscoveryBackend, "create_service", _one_service_of_a_name)
    replace_method(ServiceDiscoveryBackend, "delete_service", _refuse_delete_with_instances)
    replace_method(ServiceDiscoveryResponse, "get_service", _with_instance_count("Service"))
    replace_method(ServiceDiscoveryResponse, "list_services", _with_instance_count("Services"))


def _failure_threshold_is_one(original: Method) -> Method:
    """Whatever FailureThreshold CreateService sends, Cloud Map keeps 1 (UpdateService cannot change it)."""

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = original(self, *args, **kwargs)
        if service.health_check_custom_config is not None:
            service.health_check_custom_config = {"FailureThreshold": 1}
        return service

    return create_service


def _one_service_of_a_name(original: Method) -> Method:
    def create_service(
        self: Any, name: str, namespace_id: str, creator_request_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        namespace = self.namespaces.get(namespace_id)
        fold = (lambda text: text.lower()) if namespace is not None and namespace.type != "HTTP" else str
        for existing in self.services.values():
            if existing.namespace_id == namespace_id and fold(existing.name) == fold(name):
                if creator_request_id and existing.creator_request_id == creator_request_id:
                    return existing  # a retry of the request that created it
                raise ServiceAlreadyExists(
                    f"Service already exists. ServiceId: {existing.id}, ServiceArn: {existing.arn}"
                )
        return original(self, name, namespace_id, creator_request_id, *args, **kwargs)

    return create_service


def _with_instance_count(key: str) -> Callable[[Method], Method]:
    def make(original: Method) -> Method:
        def respond(self: Any) -> Any:
            answer = original(self)
            found = answer.result[key]
            for service in found if isinstance(found, list) else [found]:
                registered = self.servicediscovery_backend.services.get(service["Id"])
                service["InstanceCount"] = len(registered.instances) if registered is not None else 0
            return answer

        return respond

    return make


def _refuse_delete_with_instances(original: Method) -> Method:
    def delete_service(self: Any, service_id: str) -> None:
        service = self.get_service(service_id)
        if service.instances:
            raise ResourceInUse(
                f"Service {service_id} has {len(service.instances)} registered instances; "
                "deregister them before you delete the service."
            )
        original(self, service_id)

    return delete_service


def register_running_tasks(ecs_service: Any, running: dict[str, int]) -> None:
    """Make the instances that the ECS service registered match its running tasks: ``running`` maps the ARN of
    each Cloud Map service named by a deployment's ``serviceRegistries`` to the number of that deployment's running
    tasks. A task that starts registers, a task that stops deregisters; a Cloud Map service that no running task
    names any more loses every instance of this ECS service."""
    registered: dict[str, list[str]] = ecs_service.__dict__.setdefault("cloud_map_instances", {})
    backend = servicediscovery_backends[ecs_service._account_id][ecs_service.region_name]
    wanted = {_service_id(arn): count for arn, count in running.items()}
    for service_id in set(registered) | set(wanted):
        instances = registered.setdefault(service_id, [])
        cloud_map = backend.services.get(service_id)
        if cloud_map is None:  # gone (it could only be deleted without instances)
            instances.clear()
            continue
        while len(instances) < wanted.get(service_id, 0):
            task_id = mock_random.get_random_hex(32)
            backend.register_instance(service_id, task_id, task_id, _attributes(ecs_service, task_id))
            instances.append(task_id)
        while len(instances) > wanted.get(service_id, 0):
            task_id = instances.pop()
            if any(instance.instance_id == task_id for instance in cloud_map.instances):
                backend.deregister_instance(service_id, task_id)


def _service_id(registry_arn: str) -> str:
    return registry_arn.rsplit("/", 1)[-1]


def _attributes(ecs_service: Any, task_id: str) -> dict[str, str]:
    octets = [int(task_id[i : i + 2], 16) for i in (0, 2)]
    return {
        "AWS_INSTANCE_IPV4": f"10.0.{octets[0]}.{octets[1]}",
        "AWS_INIT_HEALTH_STATUS": "HEALTHY",
        "AVAILABILITY_ZONE": f"{ecs_service.region_name}a",
        "REGION": ecs_service.region_name,
        "ECS_CLUSTER_NAME": ecs_service.cluster_name,
        "ECS_SERVICE_NAME": ecs_service.name,
        "ECS_TASK_DEFINITION_FAMILY": str(ecs_service.task_definition or "").rsplit("/", 1)[-1].split(":")[0],
    }
