"""Canonical forms of the ECS kinds (Cluster, TaskDefinition, Service): the drift rules of
docs/desired-state.md as code.

Each ``canonical_*`` function takes a request-shaped mapping (what ``spec`` holds, or what AWS describes, turned
into request shape by ``live``) and returns the form that diffs compare: identity lists as maps, set-like lists
sorted, AWS's documented defaults filled in, read-only fields and the name left out. Fields that vary by account
(capacity providers, service connect) get no defaults: the diff compares only what the document writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model.canonical import (
    drop_keys,
    item_key,
    list_to_map,
    pairs_to_items,
    pairs_to_map,
    prune_empty,
    resource_name,
    role_name,
    sort_key,
    sorted_by,
    with_defaults,
)
from reconciler.model.units import task_cpu_units, task_memory_mib

Spec = Mapping[str, Any]

TASK_DEFINITION_READ_ONLY = frozenset(
    {
        "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt",
        "registeredBy", "deregisteredAt", "deleteRequestedAt", "family", "tags", "enableFaultInjection",
    }
)  # fmt: skip
SERVICE_READ_ONLY = frozenset(
    {
        "serviceArn", "serviceName", "clusterArn", "cluster", "status", "runningCount", "pendingCount",
        "deployments", "events", "createdAt", "createdBy", "taskSets", "taskDefinition", "tags", "clientToken",
        "roleArn", "currentServiceDeployment", "currentServiceRevisions", "resourceManagementType",
    }
)  # fmt: skip
CLUSTER_READ_ONLY = frozenset(
    {
        "clusterArn", "clusterName", "status", "registeredContainerInstancesCount", "runningTasksCount",
        "pendingTasksCount", "activeServicesCount", "statistics", "attachments", "attachmentsStatus", "tags",
    }
)  # fmt: skip

HEALTH_CHECK_DEFAULTS = {"interval": 30, "retries": 3, "timeout": 5}
DEPLOYMENT_DEFAULTS = {"maximumPercent": 200, "minimumHealthyPercent": 100}
CIRCUIT_BREAKER_DEFAULTS = {"enable": False, "rollback": False}
# enableECSManagedTags is not among them: its default depends on who creates the service (false through the API,
# on in the console), so a document that leaves it out leaves it as it is, and adopting a console-made service does
# not turn it off.
SERVICE_DEFAULTS = {
    "propagateTags": "NONE",
    "enableExecuteCommand": False,
    "healthCheckGracePeriodSeconds": 0,
    "schedulingStrategy": "REPLICA",
    "deploymentController": {"type": "ECS"},
}


def tags_as_map(tags: Any) -> dict[str, str]:
    """ECS tags (``[{key, value}]``) as a map."""
    return {str(k): str(v) for k, v in pairs_to_map(tags, key="key", value="value").items()}


def spec_tags(spec: Spec) -> dict[str, str]:
    """The tags an ECS document asks for (its ``tags``), as a map."""
    return tags_as_map(spec.get("tags"))


# --- Cluster -------------------------------------------------------------------------------------------------


def canonical_cluster(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, CLUSTER_READ_ONLY)
    result["settings"] = pairs_to_map(spec.get("settings"), key="name", value="value")
    result["capacityProviders"] = sorted(spec.get("capacityProviders") or ())
    result["defaultCapacityProviderStrategy"] = list_to_map(
        spec.get("defaultCapacityProviderStrategy"), key="capacityProvider"
    )
    if (connect := spec.get("serviceConnectDefaults")) and connect.get("namespace"):
        result["serviceConnectDefaults"] = {**connect, "namespace": resource_name(connect["namespace"])}
    return prune_empty(result)


# --- TaskDefinition ------------------------------------------------------------------------------------------


def canonical_task_definition(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, TASK_DEFINITION_READ_ONLY)
    awsvpc = spec.get("networkMode") == "awsvpc"
    result["containerDefinitions"] = {
        item_key(c.get("name")): canonical_container(c, awsvpc=awsvpc)
        for c in spec.get("containerDefinitions") or ()
    }
    result["volumes"] = list_to_map(spec.get("volumes"), key="name")
    result["requiresCompatibilities"] = sorted(spec.get("requiresCompatibilities") or ())
    result["placementConstraints"] = sorted_by(
        spec.get("placementConstraints"), sort_key("type", "expression")
    )
    for field, parse in (("cpu", task_cpu_units), ("memory", task_memory_mib)):
        if spec.get(field) is not None:
            parsed = parse(spec[field])
            result[field] = str(parsed) if parsed is not None else str(spec[field])
    for field in ("executionRoleArn", "taskRoleArn"):
        result[field] = role_name(spec.get(field))
    return prune_empty(result)


def canonical_container(container: Spec, *, awsvpc: bool) -> dict[str, Any]:
    result = drop_keys(container, ["name"])
    result.setdefault("essential", True)
    result.setdefault("cpu", 0)
    result["portMappings"] = canonical_port_mappings(container.get("portMappings"), awsvpc=awsvpc)
    result["environment"] = pairs_to_items(container.get("environment"), key="name", value="value")
    result["secrets"] = pairs_to_items(container.get("secrets"), key="name", value="valueFrom")
    result["mountPoints"] = [
        with_defaults(m, {"readOnly": False})
        for m in sorted_by(container.get("mountPoints"), sort_key("sourceVolume", "containerPath"))
    ]
    result["volumesFrom"] = sorted_by(container.get("volumesFrom"), sort_key("sourceContainer"))
    result["ulimits"] = list_to_map(container.get("ulimits"), key="name")
    result["dependsOn"] = list_to_map(container.get("dependsOn"), key="containerName")
    result["extraHosts"] = sorted_by(container.get("extraHosts"), sort_key("hostname", "ipAddress"))
    result["environmentFiles"] = sorted_by(container.get("environmentFiles"), sort_key("value"))
    if container.get("healthCheck"):
        result["healthCheck"] = with_defaults(container["healthCheck"], HEALTH_CHECK_DEFAULTS)
    if container.get("logConfiguration"):
        result["logConfiguration"] = canonical_log_configuration(container["logConfiguration"])
    return prune_empty(result)


def canonical_port_mappings(mappings: Any, *, awsvpc: bool) -> list[dict[str, Any]]:
    canonical = []
    for mapping in mappings or ():
        defaults: dict[str, Any] = {"protocol": "tcp"}
        if awsvpc and "containerPort" in mapping:
            defaults["hostPort"] = mapping["containerPort"]
        canonical.append(with_defaults(mapping, defaults))
    return sorted_by(canonical, sort_key("containerPort", "protocol", "name"))


def canonical_log_configuration(config: Spec) -> dict[str, Any]:
    result = dict(config)
    result["secretOptions"] = pairs_to_map(config.get("secretOptions"), key="name", value="valueFrom")
    return prune_empty(result)


# --- Service -------------------------------------------------------------------------------------------------


# CreateService fields that DescribeServices never returns: applied when Git changes, never compared.
SERVICE_WRITE_ONLY = frozenset({"gatewayConnectors", "monitoring"})
# CreateService fields that DescribeServices returns only on the service's deployments.
SERVICE_FIELDS_ON_DEPLOYMENTS = (
    "serviceConnectConfiguration",
    "volumeConfigurations",
    "vpcLatticeConfigurations",
)


def canonical_service(spec: Spec) -> dict[str, Any]:
    result = drop_keys(spec, SERVICE_READ_ONLY | SERVICE_WRITE_ONLY)
    result.update(_fields_from_primary_deployment(spec))
    result.update(with_defaults({k: spec.get(k) for k in SERVICE_DEFAULTS}, SERVICE_DEFAULTS))
    result["deploymentConfiguration"] = _comparable_hooks(
        canonical_deployment_configuration(spec.get("deploymentConfiguration"))
    )
    if spec.get("launchType") == "FARGATE":
        result["platformVersion"] = spec.get("platformVersion") or "LATEST"
    if spec.get("networkConfiguration"):
        result["networkConfiguration"] = canonical_network_configuration(spec["networkConfiguration"])
    result["loadBalancers"] = sorted_by(
        [_canonical_load_balancer(balancer) for balancer in spec.get("loadBalancers") or ()],
        sort_key("targetGroupArn", "loadBalancerName", "containerName", "containerPort"),
    )
    result["serviceRegistries"] = sorted_by(spec.get("serviceRegistries"), sort_key("registryArn"))
    result["capacityProviderStrategy"] = list_to_map(
        spec.get("capacityProviderStrategy"), key="capacityProvider"
    )
    result["role"] = role_name(spec.get("role") or spec.get("roleArn"))
    return prune_empty(result)


def _canonical_load_balancer(balancer: Spec) -> dict[str, Any]:
    """A role of ECS's blue/green traffic shifting is the same role by name or by ARN."""
    advanced = balancer.get("advancedConfiguration")
    if not isinstance(advanced, Mapping) or not advanced.get("roleArn"):
        return dict(balancer)
    return {**balancer, "advancedConfiguration": {**advanced, "roleArn": role_name(advanced["roleArn"])}}


def _comparable_hooks(config: dict[str, Any]) -> dict[str, Any]:
    """The role of each lifecycle hook, by name or by ARN alike (only for comparing: UpdateService sends the
    document's)."""
    hooks = config.get("lifecycleHooks")
    if not isinstance(hooks, list):
        return config
    named = [
        {**hook, "roleArn": role_name(hook["roleArn"])} if isinstance(hook, Mapping) and hook.get("roleArn")
        else hook
        for hook in hooks
    ]  # fmt: skip
    return {**config, "lifecycleHooks": named}


def _fields_from_primary_deployment(service: Spec) -> dict[str, Any]:
    deployments: list[dict[str, Any]] = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    return {f: primary[f] for f in SERVICE_FIELDS_ON_DEPLOYMENTS if f not in service and primary.get(f)}


def service_update_value(spec: Spec, field: str) -> Any:
    """The value UpdateService must send for ``field``: the document's, or AWS's default where the document
    leaves the field out (the planner compared against that default, so the correction must write it)."""
    if field == "deploymentConfiguration":
        return canonical_deployment_configuration(spec.get(field))
    if field == "networkConfiguration" and spec.get(field):
        return canonical_network_configuration(spec[field])
    if field in spec:
        return spec[field]
    if field in SERVICE_DEFAULTS:
        return SERVICE_DEFAULTS[field]
    if field == "platformVersion" and spec.get("launchType") == "FARGATE":
        return "LATEST"
    return None


def canonical_deployment_configuration(config: Spec | None) -> dict[str, Any]:
    result = with_defaults(config, DEPLOYMENT_DEFAULTS)
    result["deploymentCircuitBreaker"] = with_defaults(
        (config or {}).get("deploymentCircuitBreaker"), CIRCUIT_BREAKER_DEFAULTS
    )
    return result


def canonical_network_configuration(config: Spec) -> dict[str, Any]:
    vpc = dict(config.get("awsvpcConfiguration") or {})
    vpc["subnets"] = sorted(vpc.get("subnets") or ())
    vpc["securityGroups"] = sorted(vpc.get("securityGroups") or ())
    vpc.setdefault("assignPublicIp", "DISABLED")
    return {**config, "awsvpcConfiguration": vpc}


def cluster_name_of(value: str) -> str:
    """A service's ``cluster`` as a name, whether the document gives a name or an ARN."""
    return resource_name(value) or value


def task_definition_label(arn: str) -> str:
    """``arn:…:task-definition/frontapp:3`` → ``frontapp:3``, the form people read."""
    return arn.rsplit("/", 1)[-1]
