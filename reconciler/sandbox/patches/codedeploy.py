"""CodeDeploy blue/green deployments of ECS services, and the ECS side of a CODE_DEPLOY service.

On AWS (CodeDeploy User Guide: "What happens during an Amazon ECS deployment", "Redeploy and roll back a
deployment with CodeDeploy"), CreateDeployment for an ECS deployment group reads the AppSpec, starts a
replacement task set with the new task definition behind the target group of the pair that is not live, moves
the test listener, then the production listener to it, makes it the service's PRIMARY task set, waits out the
group's ``terminationWaitTimeInMinutes``, removes the original task set and ends "Succeeded"; an AppSpec it
cannot read, or a task definition that does not exist, ends the deployment "Failed" with ``errorInformation``
and leaves the service as it was. moto stored the deployment and left it "Created" forever without touching ECS
or the load balancer, lacked StopDeployment, UpdateDeploymentGroup, DeleteDeploymentGroup, DeleteApplication and
BatchGetDeploymentGroups (HTTP 500), created CODE_DEPLOY services without their initial task set and let
UpdateService change what only CodeDeploy may change, and what AWS lets no call change in place.

In the sandbox each step is due some seconds after the one before (``sandbox/timing.py``: ``codedeploy_step``,
and ``codedeploy_wait_minute`` for each minute of the termination wait). Only ``AppSpecContent`` (and
``String``) revisions are read; an S3 or GitHub revision ends "Failed".

A task definition with an image that names ``crashloop`` (``ecs_deployments.CRASHLOOP_MARKER``) never becomes
healthy: the deployment ends "Failed" before any production traffic moved, and with automatic rollback on
DEPLOYMENT_FAILURE a rollback deployment with its own ID follows, as on AWS.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml
from moto.codedeploy.exceptions import (
    CodeDeployException,
    DeploymentGroupAlreadyExistsException,
    DeploymentGroupDoesNotExistException,
)
from moto.codedeploy.models import CodeDeployBackend, DeploymentInfo
from moto.codedeploy.responses import CodeDeployResponse, _deployment_group_info
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult
from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.elbv2.models import elbv2_backends

from reconciler.sandbox.patches._wrapping import Method, add_method, replace_method
from reconciler.sandbox.patches.ecs_deployments import crash_loops
from reconciler.sandbox.timing import TIMELINE

COMPLETED_STATUSES = ("Succeeded", "Failed", "Stopped")

# UpdateDeploymentGroup request fields → the DeploymentGroup attribute moto keeps them in.
GROUP_FIELDS = {
    "deploymentConfigName": "deployment_config_name",
    "ec2TagFilters": "ec2_tag_filters",
    "onPremisesInstanceTagFilters": "on_premises_instance_tag_filters",
    "autoScalingGroups": "auto_scaling_groups",
    "serviceRoleArn": "service_role_arn",
    "triggerConfigurations": "trigger_configurations",
    "alarmConfiguration": "alarm_configuration",
    "autoRollbackConfiguration": "auto_rollback_configuration",
    "outdatedInstancesStrategy": "outdated_instances_strategy",
    "deploymentStyle": "deployment_style",
    "blueGreenDeploymentConfiguration": "blue_green_deployment_configuration",
    "loadBalancerInfo": "load_balancer_info",
    "ec2TagSet": "ec2_tag_set",
    "ecsServices": "ecs_services",
    "onPremisesTagSet": "on_premises_tag_set",
    "terminationHookEnabled": "termination_hook_enabled",
}

# UpdateService fields that AWS refuses to change on a CODE_DEPLOY service → how its message names them.
CODE_DEPLOY_OWNED_FIELDS = {
    "task_definition": "task definition",
    "load_balancers": "load balancers",
    "network_configuration": "network parameters",
    "platform_version": "platform version",
}
# What else UpdateService may change on a CODE_DEPLOY service (moto's names of the request's fields): "only the
# desired count, deployment configuration, health check grace period, task placement constraints and strategies,
# enable ECS managed tags option, and propagate tags" (ECS API Reference, UpdateService). forceNewDeployment is
# left as moto has it.
CODE_DEPLOY_UPDATABLE_FIELDS = frozenset({
    "cluster", "service", "desired_count", "deployment_configuration", "health_check_grace_period_seconds",
    "placement_constraints", "placement_strategy", "enable_ecs_managed_tags", "propagate_tags",
    "force_new_deployment",
})  # fmt: skip


class DeploymentAlreadyCompletedException(CodeDeployException):
    def __init__(self, deployment_id: str) -> None:
        super().__init__(
            "DeploymentAlreadyCompletedException", f"The deployment {deployment_id} is complete."
        )


class DeploymentLimitExceededException(CodeDeployException):
    def __init__(self, message: str) -> None:
        super().__init__("DeploymentLimitExceededException", message)


class DeploymentFailure(Exception):
    """Why an ECS deployment ends "Failed": an AWS ``errorInformation`` code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class TargetServiceSpec:
    """What an ECS AppSpec's ``Resources[0].TargetService.Properties`` asks for."""

    task_definition: str
    container_name: str
    container_port: int
    network_configuration: dict[str, Any] | None
    platform_version: str | None


def apply() -> None:
    replace_method(CodeDeployBackend, "create_deployment", _ecs_deployments_over_time)
    replace_method(CodeDeployResponse, "get_deployment", _deployment_with_outcome)
    replace_method(CodeDeployResponse, "batch_get_deployments", _deployments_with_outcome)
    replace_method(CodeDeployResponse, "get_deployment_group", _group_with_last_deployments)
    add_method(CodeDeployResponse, "stop_deployment", _stop_deployment)
    add_method(CodeDeployResponse, "update_deployment_group", _update_deployment_group)
    add_method(CodeDeployResponse, "delete_deployment_group", _delete_deployment_group)
    add_method(CodeDeployResponse, "delete_application", _delete_application)
    add_method(CodeDeployResponse, "batch_get_deployment_groups", _batch_get_deployment_groups)
    replace_method(EC2ContainerServiceBackend, "create_service", _code_deploy_service_gets_task_set)
    replace_method(EC2ContainerServiceBackend, "update_service", _code_deploy_owns_revision)


# --- CreateDeployment ---------------------------------------------------------------------------------------


def _ecs_deployments_over_time(original: Method) -> Method:
    """CodeDeploy User Guide, "What happens during an Amazon ECS deployment": an ECS blue/green deployment is
    Created, then InProgress while the replacement task set starts and test, then production traffic moves to it,
    then waits out the group's ``terminationWaitTimeInMinutes`` before it removes the original task set and ends
    "Succeeded" (``BlueGreenRun``). CodeDeploy API Reference, CreateDeployment: a group with a deployment still
    running refuses another (DeploymentLimitExceededException). moto left every deployment "Created" and
    accepted any number at once."""

    def create_deployment(self: Any, **request: Any) -> str:
        group = self.deployment_groups.get(request.get("application_name"), {}).get(
            request.get("deployment_group_name")
        )
        if group is not None and _is_ecs_group(group):
            running = [d for d in self.deployments.values() if d.deployment_group is group and _is_running(d)]
            if running:
                raise DeploymentLimitExceededException(
                    f"The Deployment Group '{group.deployment_group_name}' already has an active Deployment "
                    f"'{running[0].deployment_id}'"
                )
        deployment_id: str = original(self, **request)
        deployment = self.deployments[deployment_id]
        if group is not None and _is_ecs_group(group):
            _record_status(deployment)
            deployment.blue_green_run = BlueGreenRun(self, deployment)
            TIMELINE.after(TIMELINE.timing.codedeploy_step, deployment.blue_green_run.begin)
        return deployment_id

    return create_deployment


def _is_ecs_group(group: Any) -> bool:
    return bool(group.application.compute_platform == "ECS" and group.ecs_services)


def _is_running(deployment: Any) -> bool:
    return deployment.status not in COMPLETED_STATUSES


@dataclass
class BlueGreenRun:
    """The steps of one ECS blue/green deployment, each due ``codedeploy_step`` after the one before (the wait for
    termination: the group's minutes, ``codedeploy_wait_minute`` each). A step finds the deployment as it is then:
    one that was stopped meanwhile goes no further."""

    backend: Any
    deployment: Any
    spec: TargetServiceSpec | None = None
    service: Any = None
    replacement: Any = None
    originals: list[Any] = dataclasses.field(default_factory=list)
    original_target_group: str | None = None
    replacement_target_group: str = ""
    production_listeners: list[str] = dataclasses.field(default_factory=list)
    test_listeners: list[str] = dataclasses.field(default_factory=list)
    shifted: bool = False

    @property
    def ecs(self) -> Any:
        return ecs_backends[self.backend.account_id][self.backend.region_name]

    def _then(self, step: Any, seconds: float, when: float) -> None:
        def go(due: float) -> None:
            if self.deployment.status == "InProgress":
                step(due)

        TIMELINE.after(seconds, go, start=when)

    def begin(self, when: float) -> None:
        """InProgress: read the AppSpec, start the replacement task set behind the pair's idle target group."""
        if self.deployment.status != "Created":
            return
        self.deployment.start_time = _at(when)
        self.deployment.status = "InProgress"
        self.deployment.deployment_overview["InProgress"] = 1
        _record_status(self.deployment)
        try:
            spec = read_appspec(self.deployment.revision)
            self._start_replacement(spec)
        except DeploymentFailure as refused:
            self.fail(refused, when)
            return
        if crash_loops(self.ecs.describe_task_definition(spec.task_definition)):
            unhealthy = DeploymentFailure(
                "ECS_UPDATE_ERROR",
                "The replacement task set's tasks failed to start and never became healthy.",
            )
            self._then(lambda due: self.fail(unhealthy, due), 2 * TIMELINE.timing.codedeploy_step, when)
        else:
            self._then(self.test_traffic, TIMELINE.timing.codedeploy_step, when)

    def _start_replacement(self, spec: TargetServiceSpec) -> None:
        group = self.deployment.deployment_group
        target = group.ecs_services[0]
        try:
            self.service = self.ecs._get_service(target["clusterName"], target["serviceName"])
            task_definition = self.ecs.describe_task_definition(spec.task_definition)
        except (JsonRESTError, ServiceException) as error:
            raise DeploymentFailure(
                "ECS_UPDATE_ERROR", f"The ECS service cannot be updated: {error}"
            ) from None
        service = self.service
        self.replacement_target_group, self.production_listeners, self.test_listeners = _idle_target_group(
            self.backend, group, service
        )
        self.original_target_group = (
            service.load_balancers[0].get("targetGroupArn") if service.load_balancers else None
        )
        self.originals = list(service.task_sets)
        self.replacement = self.ecs.create_task_set(
            service.name,
            service.cluster_name,
            task_definition.arn,
            external_id=self.deployment.deployment_id,
            network_configuration=spec.network_configuration or service.network_configuration,
            load_balancers=[
                {
                    "targetGroupArn": self.replacement_target_group,
                    "containerName": spec.container_name,
                    "containerPort": spec.container_port,
                }
            ],
            launch_type=service.launch_type,
            platform_version=spec.platform_version or service.platform_version,
        )
        self.spec = spec

    def test_traffic(self, when: float) -> None:
        _forward_listeners(self.backend, self.test_listeners, self.replacement_target_group)
        self._then(self.production_traffic, TIMELINE.timing.codedeploy_step, when)

    def production_traffic(self, when: float) -> None:
        """Production traffic on the replacement task set, which becomes PRIMARY (the service's taskDefinition and
        loadBalancers follow it); the original task set waits out the termination time."""
        _forward_listeners(self.backend, self.production_listeners, self.replacement_target_group)
        service = self.service
        self.ecs.update_service_primary_task_set(
            service.cluster_name, service.name, self.replacement.task_set_arn
        )
        assert self.spec is not None  # read by begin()
        service.network_configuration = self.spec.network_configuration or service.network_configuration
        service.platform_version = self.spec.platform_version or service.platform_version
        self.shifted = True
        self._then(self.terminate, _termination_wait(self.deployment.deployment_group), when)

    def terminate(self, when: float) -> None:
        for old in self.originals:
            self.ecs.delete_task_set(self.service.cluster_name, self.service.name, old.task_set_arn)
        _finish(self.backend, self.deployment, "Succeeded", when)

    def fail(self, failure: DeploymentFailure, when: float) -> None:
        """Failed: traffic back on the original task set, the replacement removed; with automatic rollback on
        DEPLOYMENT_FAILURE, a rollback deployment of its own (``_roll_back``)."""
        self.undo()
        _finish(self.backend, self.deployment, "Failed", when)
        self.deployment.error_information = {"code": failure.code, "message": failure.message}
        if self.replacement is not None and _rolls_back_on(self.deployment, "DEPLOYMENT_FAILURE"):
            _roll_back(self.backend, self.deployment, when)

    def undo(self) -> None:
        if self.replacement is None:
            return
        service = self.service
        if self.shifted and self.original_target_group and self.originals:
            listeners = self.production_listeners + self.test_listeners
            _forward_listeners(self.backend, listeners, self.original_target_group)
            self.ecs.update_service_primary_task_set(
                service.cluster_name, service.name, self.originals[0].task_set_arn
            )
        elif self.original_target_group:
            _forward_listeners(self.backend, self.test_listeners, self.original_target_group)
        if any(task_set is self.replacement for task_set in service.task_sets):
            self.ecs.delete_task_set(service.cluster_name, service.name, self.replacement.task_set_arn)


def _termination_wait(group: Any) -> float:
    configuration = group.blue_green_deployment_configuration or {}
    terminate = configuration.get("terminateBlueInstancesOnDeploymentSuccess") or {}
    minutes = float(terminate.get("terminationWaitTimeInMinutes") or 0)
    return minutes * TIMELINE.timing.codedeploy_wait_minute


def _rolls_back_on(deployment: Any, event: str) -> bool:
    configuration = (
        deployment.auto_rollback_configuration or deployment.deployment_group.auto_rollback_configuration
    )
    return bool(
        configuration and configuration.get("enabled") and event in (configuration.get("events") or [])
    )


def _roll_back(backend: Any, failed: Any, when: float) -> None:
    """CodeDeploy User Guide, "Redeploy and roll back a deployment with CodeDeploy": a rollback is a new
    deployment, with a new deployment ID, of the last revision that succeeded (``creator`` codeDeployRollback,
    ``rollbackInfo`` linking both ways). Traffic never left the original task set, so it has nothing to move and
    succeeds one step later. The message texts are the sandbox's own: AWS documents none."""
    group = failed.deployment_group
    last = (
        group.last_successful_deployment_revision
        if hasattr(group, "last_successful_deployment_revision")
        else None
    )
    rollback = DeploymentInfo(
        failed.application,
        group,
        last or failed.revision,
        failed.deployment_config_name,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "codeDeployRollback",
    )
    backend.deployments[rollback.deployment_id] = rollback
    rollback.create_time = rollback.start_time = _at(when)
    rollback.status = "InProgress"
    rollback.rollback_info = {"rollbackTriggeringDeploymentId": failed.deployment_id}  # type: ignore[attr-defined]
    failed.rollback_info = {
        "rollbackDeploymentId": rollback.deployment_id,
        "rollbackMessage": f"Deployment {failed.deployment_id} failed; rollback deployment "
        f"{rollback.deployment_id} restores the last revision that succeeded.",
    }
    _record_status(rollback)

    def done(due: float) -> None:
        if rollback.status == "InProgress":
            _finish(backend, rollback, "Succeeded", due)

    TIMELINE.after(TIMELINE.timing.codedeploy_step, done, start=when)


def _at(when: float) -> datetime:
    """A moment as moto's CodeDeploy keeps it (naive UTC)."""
    return datetime.fromtimestamp(when, UTC).replace(tzinfo=None)


def _record_status(deployment: Any) -> None:
    """GetDeploymentGroup's ``lastAttemptedDeployment`` follows the group's newest deployment as it goes."""
    summary = {
        "deploymentId": deployment.deployment_id,
        "status": deployment.status,
        "createTime": deployment.create_time,
    }
    if deployment.complete_time is not None:
        summary["endTime"] = deployment.complete_time
    group = deployment.deployment_group
    current = getattr(group, "last_attempted_deployment", None) or {}
    if not current or current.get("deploymentId") == deployment.deployment_id or _newer(deployment, current):
        group.last_attempted_deployment = summary
    if deployment.status == "Succeeded":
        group.last_successful_deployment = summary
        group.last_successful_deployment_revision = deployment.revision


def _newer(deployment: Any, summary: dict[str, Any]) -> bool:
    return bool(deployment.create_time >= summary["createTime"])


def _finish(backend: Any, deployment: Any, status: str, when: float | None = None) -> None:
    deployment.status = status
    deployment.complete_time = _at(TIMELINE.now() if when is None else when)
    if status in ("Succeeded", "Failed"):  # an ECS deployment has one target: the service
        deployment.deployment_overview = dict.fromkeys(deployment.deployment_overview, 0)
        deployment.deployment_overview[status] = 1
    _record_status(deployment)


def read_appspec(revision: dict[str, Any] | None) -> TargetServiceSpec:
    """The TargetService of an ECS AppSpec given as JSON or YAML; keys in any case, as CodeDeploy reads them."""
    content = _appspec_content(revision or {})
    try:
        document = json.loads(content)
    except ValueError:
        try:
            document = yaml.safe_load(content)
        except yaml.YAMLError as error:
            raise DeploymentFailure(
                "INVALID_REVISION", f"The AppSpec file is not valid YAML: {error}"
            ) from None
    try:
        properties = _key(_target_service(document), "Properties")
        balancer = _key(properties, "LoadBalancerInfo")
        return TargetServiceSpec(
            task_definition=str(_key(properties, "TaskDefinition")),
            container_name=str(_key(balancer, "ContainerName")),
            container_port=int(_key(balancer, "ContainerPort")),
            network_configuration=_network_configuration(_key(properties, "NetworkConfiguration", None)),
            platform_version=_key(properties, "PlatformVersion", None),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DeploymentFailure(
            "INVALID_REVISION", f"The AppSpec file is not a valid ECS AppSpec: {error}"
        ) from None


def _appspec_content(revision: dict[str, Any]) -> str:
    kind = revision.get("revisionType")
    holder = {"AppSpecContent": "appSpecContent", "String": "string"}.get(str(kind))
    content = (revision.get(holder) or {}).get("content") if holder else None
    if not isinstance(content, str):
        raise DeploymentFailure(
            "INVALID_REVISION", f"The sandbox reads only AppSpecContent revisions (got {kind})."
        )
    return content


def _key(mapping: Any, name: str, *default: Any) -> Any:
    """``mapping[name]`` ignoring case; ``default`` if given and absent, else KeyError."""
    for key, value in dict(mapping).items():
        if str(key).lower() == name.lower():
            return value
    if default:
        return default[0]
    raise KeyError(name)


def _target_service(document: Any) -> Any:
    for resource in _key(document, "Resources"):
        target = _key(resource, "TargetService", None)
        if target is not None:
            return target
    raise KeyError("TargetService")


def _network_configuration(given: Any) -> dict[str, Any] | None:
    if given is None:
        return None
    awsvpc = _key(given, "AwsvpcConfiguration")
    converted = {
        "subnets": _key(awsvpc, "Subnets"),
        "securityGroups": _key(awsvpc, "SecurityGroups", None),
        "assignPublicIp": _key(awsvpc, "AssignPublicIp", None),
    }
    return {"awsvpcConfiguration": {key: value for key, value in converted.items() if value is not None}}


def _idle_target_group(backend: Any, group: Any, service: Any) -> tuple[str, list[str], list[str]]:
    """The ARN of the pair's target group that the service does not use now, and the production and test
    listeners to move."""
    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    try:
        pair = group.load_balancer_info["targetGroupPairInfoList"][0]
        names = [target_group["name"] for target_group in pair["targetGroups"]]
    except (KeyError, IndexError, TypeError):
        raise DeploymentFailure(
            "INVALID_ECS_SERVICE", "The deployment group has no target group pair."
        ) from None
    arn_by_name = {target_group.name: target_group.arn for target_group in elbv2.target_groups.values()}
    live = service.load_balancers[0].get("targetGroupArn") if service.load_balancers else None
    idle = [arn_by_name[name] for name in names if name in arn_by_name and arn_by_name[name] != live]
    if len(names) != 2 or not idle:
        raise DeploymentFailure(
            "INVALID_ECS_SERVICE", f"The target groups {names} are not a pair the service can move between."
        )
    production = list(pair.get("prodTrafficRoute", {}).get("listenerArns", []))
    test = list(pair.get("testTrafficRoute", {}).get("listenerArns", []))
    return idle[0], production, test


def _forward_listeners(backend: Any, listener_arns: list[str], target_group_arn: str) -> None:
    """After a blue/green deployment AWS leaves both the production and the test listener forwarding to the
    replacement target group."""
    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    for arn in listener_arns:
        listener = elbv2.describe_listeners(load_balancer_arn=None, listener_arns=[arn])[0]
        actions = []
        for action in listener.default_actions:
            data = {key: value for key, value in action.data.items() if key != "ForwardConfig"}
            if action.type == "forward":
                data["TargetGroupArn"] = target_group_arn
            actions.append(data)
        elbv2.modify_listener(arn, actions=actions, certificates=[])  # [] keeps an HTTPS listener's own


# --- reads --------------------------------------------------------------------------------------------------


def _outcome(deployment: Any) -> dict[str, Any]:
    outcome = {
        "errorInformation": getattr(deployment, "error_information", None),
        "rollbackInfo": getattr(deployment, "rollback_info", None),
    }
    return {key: value for key, value in outcome.items() if value is not None}


def _deployment_with_outcome(original: Method) -> Method:
    """AWS's GetDeployment returns ``errorInformation`` of a failed deployment and ``rollbackInfo`` of a rolled
    back one; moto always returned both empty."""

    def get_deployment(self: Any) -> ActionResult:
        answer: Any = original(self)
        deployment = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
        answer.result["deploymentInfo"].update(_outcome(deployment))
        return ActionResult(answer.result)

    return get_deployment


def _deployments_with_outcome(original: Method) -> Method:
    """BatchGetDeployments returns the same ``errorInformation``/``rollbackInfo`` as GetDeployment."""

    def batch_get_deployments(self: Any) -> ActionResult:
        answer: Any = original(self)
        for info in answer.result["deploymentsInfo"]:
            info.update(_outcome(self.codedeploy_backend.deployments[info["deploymentId"]]))
        return ActionResult(answer.result)

    return batch_get_deployments


def _group_info(group: Any) -> dict[str, Any]:
    info = _deployment_group_info(group)
    for field, attribute in (
        ("lastSuccessfulDeployment", "last_successful_deployment"),
        ("lastAttemptedDeployment", "last_attempted_deployment"),
    ):
        info[field] = getattr(group, attribute, None) or {}
    return info


def _group_with_last_deployments(original: Method) -> Method:
    """AWS's GetDeploymentGroup returns ``lastSuccessfulDeployment`` and ``lastAttemptedDeployment``
    (deploymentId, status, endTime, createTime); moto always returned them empty."""

    def get_deployment_group(self: Any) -> ActionResult:
        group = self.codedeploy_backend.get_deployment_group(
            self._get_param("applicationName"), self._get_param("deploymentGroupName")
        )
        return ActionResult({"deploymentGroupInfo": _group_info(group)})

    return get_deployment_group


def _batch_get_deployment_groups(self: Any) -> ActionResult:
    """AWS's BatchGetDeploymentGroups returns the groups it found and names the others in ``errorMessage``;
    moto lacked the call."""
    application_name = self._get_param("applicationName")
    self.codedeploy_backend.get_application(application_name)
    groups = self.codedeploy_backend.deployment_groups.get(application_name, {})
    names = self._get_param("deploymentGroupNames") or []
    missing = [name for name in names if name not in groups]
    message = f"Deployment groups do not exist: {', '.join(missing)}" if missing else ""
    found = [_group_info(groups[name]) for name in names if name in groups]
    return ActionResult({"deploymentGroupsInfo": found, "errorMessage": message})


# --- writes moto lacked -------------------------------------------------------------------------------------


def _stop_deployment(self: Any) -> ActionResult:
    """AWS's StopDeployment ends a deployment that is still running with status "Stopped" (an ECS blue/green one
    puts traffic back on the original task set and removes the replacement) and refuses a completed one
    (DeploymentAlreadyCompletedException). moto lacked the call."""
    deployment: DeploymentInfo = self.codedeploy_backend.get_deployment(self._get_param("deploymentId"))
    if deployment.status in COMPLETED_STATUSES:
        raise DeploymentAlreadyCompletedException(deployment.deployment_id)
    run = getattr(deployment, "blue_green_run", None)
    if run is not None:
        run.undo()
    _finish(self.codedeploy_backend, deployment, "Stopped")
    return ActionResult({"status": "Succeeded", "statusMessage": "The deployment was stopped."})


def _update_deployment_group(self: Any) -> ActionResult:
    """AWS's UpdateDeploymentGroup changes the fields given (the same ones as CreateDeploymentGroup) and
    renames the group to ``newDeploymentGroupName``; moto lacked the call."""
    backend = self.codedeploy_backend
    application_name = self._get_param("applicationName")
    current_name = self._get_param("currentDeploymentGroupName")
    group = backend.get_deployment_group(application_name, current_name)
    for field, attribute in GROUP_FIELDS.items():
        value = self._get_param(field)
        if value is not None:
            setattr(group, attribute, value)
    new_name = self._get_param("newDeploymentGroupName")
    if new_name and new_name != current_name:
        groups = backend.deployment_groups[application_name]
        if new_name in groups:
            raise DeploymentGroupAlreadyExistsException(f"Deployment group {new_name} already exists.")
        groups[new_name] = groups.pop(current_name)
        group.deployment_group_name = new_name
    return ActionResult({"hooksNotCleanedUp": []})


def _delete_deployment_group(self: Any) -> ActionResult:
    """AWS's DeleteDeploymentGroup removes the group (its past deployments stay readable); moto lacked it."""
    backend = self.codedeploy_backend
    application_name = self._get_param("applicationName")
    name = self._get_param("deploymentGroupName")
    backend.get_application(application_name)
    if name not in backend.deployment_groups.get(application_name, {}):
        raise DeploymentGroupDoesNotExistException(
            f"The deployment group {name} does not exist with the user or AWS account."
        )
    del backend.deployment_groups[application_name][name]
    return ActionResult({"hooksNotCleanedUp": []})


def _delete_application(self: Any) -> ActionResult:
    """AWS's DeleteApplication removes the application and its deployment groups, and succeeds for an
    application that does not exist; moto lacked the call."""
    backend = self.codedeploy_backend
    application_name = self._get_param("applicationName")
    backend.applications.pop(application_name, None)
    backend.deployment_groups.pop(application_name, None)
    return ActionResult({})


# --- ECS ----------------------------------------------------------------------------------------------------


def _is_code_deploy(service: Any) -> bool:
    return bool((service.deployment_controller or {}).get("type") == "CODE_DEPLOY")


def _code_deploy_service_gets_task_set(original: Method) -> Method:
    """AWS's CreateService with the CODE_DEPLOY deployment controller creates the service's first task set:
    PRIMARY, with the service's task definition and load balancers and an empty ``externalId``. moto created
    the service with no task set."""

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = original(self, *args, **kwargs)
        if _is_code_deploy(service) and not service.task_sets:
            task_set = self.create_task_set(
                service.name,
                service.cluster_name,
                service.task_definition,
                network_configuration=service.network_configuration or None,
                load_balancers=service.load_balancers,
                launch_type=service.launch_type,
                platform_version=service.platform_version,
            )
            self.update_service_primary_task_set(service.cluster_name, service.name, task_set.task_set_arn)
        return service

    return create_service


def _code_deploy_owns_revision(original: Method) -> Method:
    """AWS's UpdateService of a CODE_DEPLOY service refuses a new taskDefinition, loadBalancers,
    networkConfiguration or platformVersion (InvalidParameterException "Unable to update task definition on
    services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment."). Of the
    rest it changes only the desired count, deployment configuration, health check grace period, placement
    constraints and strategy, enableECSManagedTags and propagateTags (ECS API Reference, UpdateService): a change
    of anything else (enableExecuteCommand, serviceRegistries, capacityProviderStrategy...) is refused too, with
    an InvalidParameterException whose text is the sandbox's own. moto changed them all."""

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        service = self._get_service(
            service_properties.get("cluster", "default"), service_properties["service"]
        )
        if _is_code_deploy(service):
            for field, described in CODE_DEPLOY_OWNED_FIELDS.items():
                if _changes(self, service, field, service_properties.get(field)):
                    raise InvalidParameterException(
                        f"Unable to update {described} on services with a CODE_DEPLOY deployment "
                        "controller. Use AWS CodeDeploy to trigger a new deployment."
                    )
            others = set(service_properties) - CODE_DEPLOY_UPDATABLE_FIELDS - set(CODE_DEPLOY_OWNED_FIELDS)
            if refused := sorted(f for f in others if _changes(self, service, f, service_properties[f])):
                raise InvalidParameterException(
                    f"Unable to update {', '.join(map(_request_name, refused))} on services with a CODE_DEPLOY "
                    "deployment controller."
                )
        return original(self, service_properties)

    return update_service


def _changes(backend: Any, service: Any, field: str, given: Any) -> bool:
    if given is None:
        return False
    if field == "task_definition":
        return bool(backend.describe_task_definition(given).arn != service.task_definition)
    current = getattr(service, field, None)
    return bool(given != current) and bool(given or current)  # nothing is no change from nothing


def _request_name(field: str) -> str:
    """``enable_execute_command`` → ``enableExecuteCommand``."""
    first, *rest = field.split("_")
    return first + "".join(part.title() for part in rest)
