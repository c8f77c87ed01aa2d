"""ECS services: what CreateService keeps, what DescribeServices returns, and the life cycle of a service.

moto's services drop most of the CreateService request, never run tasks, list deleted services and accept
requests AWS rejects. The reconciler reads services back after writing them and diffs what it reads, so each
of these would look like drift (or hide a bug) in the sandbox and the tests.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, Service
from moto.ecs.responses import EC2ContainerServiceResponse

from reconciler.sandbox.patches import ecs_blue_green, ecs_deployments
from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method
from reconciler.sandbox.patches.paging import paginate_request

DESCRIBE_SERVICES_LIMIT = 10
LIST_SERVICES_DEFAULT_PAGE, LIST_SERVICES_MAX_PAGE = 10, 100

ECS_DEPLOYMENT_DEFAULTS: dict[str, Any] = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}
OTHER_CONTROLLER_DEPLOYMENT_DEFAULTS: dict[str, Any] = {"maximumPercent": 200, "minimumHealthyPercent": 100}

# CreateService request fields moto's handler ignores → the Service attribute its serializer reads them from.
CREATE_FIELDS_MOTO_DROPS = {
    "deploymentConfiguration": "deployment_configuration",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableExecuteCommand": "enable_execute_command",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "capacityProviderStrategy": "capacity_provider_strategy",
    "placementConstraints": "placement_constraints",
    "placementStrategy": "placement_strategy",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


class ServiceNotActiveException(ServiceException):
    code = "ServiceNotActiveException"
    message = "Service was not ACTIVE."


def apply() -> None:
    replace_method(Service, "__init__", _service_defaults)
    replace_method(EC2ContainerServiceResponse, "create_service", _create_keeps_whole_request)
    replace_method(EC2ContainerServiceBackend, "create_service", _create_rejects_duplicates)
    replace_method(EC2ContainerServiceBackend, "update_service", _update_like_aws)
    replace_method(EC2ContainerServiceBackend, "delete_service", _delete_like_aws)
    replace_method(EC2ContainerServiceBackend, "describe_services", _describe_at_most_ten)
    add_method(EC2ContainerServiceBackend, "list_services", _list_active_services_of_cluster)
    add_method(EC2ContainerServiceResponse, "list_services", _list_services_in_pages)


def _service_defaults(original: Method) -> Method:
    """AWS's DescribeServices always returns deploymentConfiguration (200/100, circuit breaker off),
    ``enableECSManagedTags``/``enableExecuteCommand`` false, empty placement lists,
    ``createdAt``/``createdBy``, and for Fargate ``platformVersion: LATEST`` and ``platformFamily: Linux``.
    moto returned none of these."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.deployment_configuration = default_deployment_configuration(self.deployment_controller)
        self.enable_ecs_managed_tags = False
        self.enable_execute_command = False
        self.placement_constraints = []
        self.placement_strategy = []
        self.created_at = utcnow()
        self.created_by = f"arn:aws:iam::{self._account_id}:root"
        _fill_fargate_platform(self)
        ecs_deployments.init_service(self)

    return init


def default_deployment_configuration(controller: dict[str, str] | None) -> dict[str, Any]:
    is_ecs = (controller or {}).get("type", "ECS") == "ECS"
    defaults = ECS_DEPLOYMENT_DEFAULTS if is_ecs else OTHER_CONTROLLER_DEPLOYMENT_DEFAULTS
    return {key: dict(value) if isinstance(value, dict) else value for key, value in defaults.items()}


def _fill_fargate_platform(service: Any) -> None:
    strategy = getattr(service, "capacity_provider_strategy", None) or []
    on_fargate = service.launch_type == "FARGATE" or any(
        str(item.get("capacityProvider", "")).startswith("FARGATE") for item in strategy
    )
    if on_fargate:
        service.platform_version = service.platform_version or "LATEST"
        service.platform_family = "Linux"


def _create_keeps_whole_request(original: Method) -> Method:
    """AWS keeps every CreateService field (deploymentConfiguration with its defaults filled in,
    healthCheckGracePeriodSeconds, enableExecuteCommand, enableECSManagedTags, capacityProviderStrategy,
    placement, ...) and omits launchType when a capacity provider strategy is given. moto's handler dropped
    them (only UpdateService stored them) and always set launchType EC2. A repeated request with the
    ``clientToken`` that created the service returns that service (AWS's idempotency); moto ignored the token."""

    def create_service(self: Any) -> ActionResult:
        given = {field: self._get_param(field) for field in CREATE_FIELDS_MOTO_DROPS}
        token, cluster = self._get_param("clientToken"), self._get_param("cluster", "default")
        made = _made_with_token(self.ecs_backend, cluster, self._get_param("serviceName"), token)
        if made is not None:
            return ActionResult({"service": made})
        controller = (self._get_param("deploymentController") or {}).get("type", "ECS")
        ecs_blue_green.check_request(
            controller=controller,
            configuration=given["deploymentConfiguration"] or {},
            given=given["deploymentConfiguration"],
            load_balancers=self._get_param("loadBalancers"),
        )
        original(self)
        service = self.ecs_backend._get_service(cluster, self._get_param("serviceName"))
        service.client_token = token
        for field, attribute in CREATE_FIELDS_MOTO_DROPS.items():
            if given[field] is not None:
                setattr(service, attribute, given[field])
        service.deployment_configuration = merge_deployment_configuration(
            default_deployment_configuration(service.deployment_controller), given["deploymentConfiguration"]
        )
        if given["capacityProviderStrategy"] and self._get_param("launchType") is None:
            service.launch_type = None
        _fill_fargate_platform(service)
        start(service)
        return ActionResult({"service": service})

    return create_service


def _made_with_token(backend: Any, cluster: str, name: str, token: str | None) -> Any:
    """The ACTIVE service that a CreateService with this very ``clientToken`` made, if any."""
    if not token:
        return None
    existing = backend.services.get(f"{backend._get_cluster(cluster).name}:{name}")
    made = existing is not None and existing.status == "ACTIVE"
    return existing if made and getattr(existing, "client_token", None) == token else None


def merge_deployment_configuration(current: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    merged = dict(current)
    for key, value in (given or {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def _create_rejects_duplicates(original: Method) -> Method:
    """AWS refuses CreateService for a name that is ACTIVE or DRAINING in the cluster (ECS API Reference:
    DeleteService, "If you attempt to create a new service with the same name as an existing service in either
    ACTIVE or DRAINING status, you receive an error"): InvalidParameterException "Creation of service was not
    idempotent.". moto silently replaced the service."""

    def create_service(self: Any, cluster_str: str, service_name: str, *args: Any, **kwargs: Any) -> Any:
        cluster = self._get_cluster(cluster_str)
        existing = self.services.get(f"{cluster.name}:{service_name}")
        if existing is not None and existing.status != "INACTIVE":
            raise InvalidParameterException("Creation of service was not idempotent.")
        return original(self, cluster_str, service_name, *args, **kwargs)

    return create_service


def _is_ecs_controller(service: Any) -> bool:
    return bool((service.deployment_controller or {}).get("type", "ECS") == "ECS")


def start(service: Any) -> None:
    """A new service's tasks start: the rolling update's first deployment (``ecs_deployments``). Under another
    deployment controller the tasks belong to task sets, which this sandbox runs at once."""
    if _is_ecs_controller(service):
        ecs_blue_green.start_deployment(service)
    else:
        service.running_count, service.pending_count = service.desired_count, 0


def _update_like_aws(original: Method) -> Method:
    """ECS API Reference, UpdateService: a service that is not ACTIVE (DRAINING or INACTIVE) is refused
    (ServiceNotActiveException); a partial deploymentConfiguration merges into the current one; the task
    definition is stored as a full ARN even when given as a family. A change of what the tasks run (task
    definition, network configuration, load balancers, platform version, service registries, capacity providers
    or launch type) or ``forceNewDeployment`` starts a new deployment; a change of desiredCount alone scales the
    current one; deploymentConfiguration and the grace period start nothing. moto updated deleted services,
    replaced deploymentConfiguration wholesale, stored the family string as given and left the deployment list
    stale (old task definition, old counts)."""

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        service = self._get_service(
            service_properties.get("cluster", "default"), service_properties["service"]
        )
        if service.status != "ACTIVE":
            raise ServiceNotActiveException()
        before = ecs_deployments.revision_of(service)
        desired_before = service.desired_count
        force = bool(service_properties.get("force_new_deployment"))
        given_config = service_properties.get("deployment_configuration")
        merged = merge_deployment_configuration(service.deployment_configuration, given_config)
        ecs_blue_green.check_request(
            controller=(service.deployment_controller or {}).get("type", "ECS"),
            configuration=merged,
            given=given_config,
            load_balancers=service_properties.get("load_balancers"),
        )
        if given_config is not None:
            service_properties["deployment_configuration"] = merged
        updated = original(self, service_properties)
        if updated.task_definition and not updated.task_definition.startswith("arn:"):
            updated.task_definition = self.describe_task_definition(updated.task_definition).arn
        _fill_fargate_platform(updated)
        if not _is_ecs_controller(updated):
            updated.running_count, updated.pending_count = updated.desired_count, 0
        elif force or ecs_deployments.revision_of(updated) != before:
            ecs_blue_green.start_deployment(updated)
        elif updated.desired_count != desired_before:
            ecs_deployments.scale(updated)
        else:
            ecs_deployments.render(updated)
        return updated

    return update_service


def _delete_like_aws(original: Method) -> Method:
    """ECS API Reference, DeleteService: a service that is not ACTIVE is refused (ServiceNotActiveException); a
    deleted service is scaled to zero, DRAINING while its tasks stop, then INACTIVE, and DescribeServices still
    returns it (``ecs_deployments.delete``). moto deleted INACTIVE services again, kept their counts and made
    them INACTIVE at once."""

    def delete_service(self: Any, cluster_name: str, service_name: str, force: bool) -> Any:
        if self._get_service(cluster_name, service_name).status != "ACTIVE":
            raise ServiceNotActiveException()
        service = original(self, cluster_name, service_name, force)
        service.status = "ACTIVE"  # moto's INACTIVE: ours comes once the tasks have drained
        ecs_deployments.delete(service)
        return service

    return delete_service


def _describe_at_most_ten(original: Method) -> Method:
    """AWS's DescribeServices takes at most 10 services per call (InvalidParameterException beyond);
    moto accepted any number, which would hide a reader that forgets to batch."""

    def describe_services(self: Any, cluster_str: str, service_names_or_arns: list[str]) -> Any:
        if len(service_names_or_arns) > DESCRIBE_SERVICES_LIMIT:
            count = len(service_names_or_arns)
            raise InvalidParameterException(
                f"services can have at most {DESCRIBE_SERVICES_LIMIT} items (got {count})."
            )
        return original(self, cluster_str, service_names_or_arns)

    return describe_services


def _list_active_services_of_cluster(
    self: Any, cluster_str: str, scheduling_strategy: str | None = None, launch_type: str | None = None
) -> list[str]:
    """AWS's ListServices lists the ACTIVE services of exactly that cluster: never DRAINING or INACTIVE (deleted)
    ones (ECS API Reference: DeleteService). moto matched the cluster name as a substring of ``cluster:service``
    keys (``prod`` matched ``myapp-prod``) and listed deleted services."""
    cluster = self._get_cluster(cluster_str)
    return sorted(
        service.arn
        for service in self.services.values()
        if service.cluster_name == cluster.name
        and service.status == "ACTIVE"
        and scheduling_strategy in (None, service.scheduling_strategy)
        and launch_type in (None, service.launch_type)
    )


def _list_services_in_pages(self: Any) -> ActionResult:
    """AWS's ListServices returns 10 ARNs per page unless ``maxResults`` (≤ 100) says otherwise, with a
    ``nextToken``; moto returned every ARN at once, which would hide a reader that does not paginate."""
    arns = self.ecs_backend.list_services(
        self._get_param("cluster", "default"),
        self._get_param("schedulingStrategy"),
        launch_type=self._get_param("launchType"),
    )
    page, next_token = paginate_request(
        self, arns, default_page=LIST_SERVICES_DEFAULT_PAGE, max_page=LIST_SERVICES_MAX_PAGE
    )
    return ActionResult({"serviceArns": page, "nextToken": next_token})
