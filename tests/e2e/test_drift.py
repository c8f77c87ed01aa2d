"""Each common kind of drift, made by hand through the AWS API as a person would, is reported by ``plan``
with its path and ``cause: drift``, and corrected by one ``apply``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate

CLUSTER, SERVICE = (
    "myapp-prod",
    "wordpress",
)  # frontapp is blue/green: its task definition moves by CodeDeploy


def _service(boto: BotoFactory) -> dict[str, Any]:
    found: dict[str, Any] = boto("ecs").describe_services(
        cluster=CLUSTER, services=[SERVICE], include=["TAGS"]
    )["services"][0]
    return found


def _register_variant(boto: BotoFactory, change: Callable[[dict[str, Any]], None]) -> str:
    """Register a new revision of the running task definition with ``change`` applied; return its ARN."""
    ecs = boto("ecs")
    running = ecs.describe_task_definition(taskDefinition=_service(boto)["taskDefinition"])["taskDefinition"]
    keep = ("family", "containerDefinitions", "cpu", "memory", "networkMode", "requiresCompatibilities",
            "executionRoleArn", "taskRoleArn", "volumes", "runtimePlatform")  # fmt: skip
    request = {k: running[k] for k in keep if running.get(k)}
    change(request)
    arn: str = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    return arn


def _app(request: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in request["containerDefinitions"] if c["name"] == "wordpress")


def drift_desired_count(boto: BotoFactory) -> None:
    """On wordpress: frontapp's desiredCount belongs to its autoscaler (tests/e2e/test_scaling.py)."""
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=5)


def drift_image(boto: BotoFactory) -> None:
    arn = _register_variant(boto, lambda r: _app(r).update(image="attacker/wordpress:latest"))
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)


def drift_environment(boto: BotoFactory) -> None:
    def change(request: dict[str, Any]) -> None:
        for variable in _app(request)["environment"]:
            if variable["name"] == "WORDPRESS_DB_USER":
                variable["value"] = "root"

    arn = _register_variant(boto, change)
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)


def drift_other_revision(boto: BotoFactory) -> None:
    """The service moved to a revision of another family (a wrong pick in the console)."""
    ecs = boto("ecs")
    other = ecs.list_task_definitions(familyPrefix="scorekeep-api")["taskDefinitionArns"][0]
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=other)


def drift_subnets(boto: BotoFactory) -> None:
    vpc = _service(boto)["networkConfiguration"]["awsvpcConfiguration"]
    network = {"awsvpcConfiguration": {**vpc, "subnets": vpc["subnets"][:1]}}
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, networkConfiguration=network)


def drift_security_groups(boto: BotoFactory) -> None:
    vpc = _service(boto)["networkConfiguration"]["awsvpcConfiguration"]
    groups = boto("ec2").describe_security_groups()["SecurityGroups"]
    other = next(g["GroupId"] for g in groups if g["GroupId"] not in vpc["securityGroups"])
    network = {"awsvpcConfiguration": {**vpc, "securityGroups": [other]}}
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, networkConfiguration=network)


def drift_public_ip(boto: BotoFactory) -> None:
    vpc = _service(boto)["networkConfiguration"]["awsvpcConfiguration"]
    network = {"awsvpcConfiguration": {**vpc, "assignPublicIp": "ENABLED"}}
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, networkConfiguration=network)


def drift_circuit_breaker(boto: BotoFactory) -> None:
    configuration = {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    }
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, deploymentConfiguration=configuration)


def drift_deployment_percent(boto: BotoFactory) -> None:
    configuration = {**_service(boto)["deploymentConfiguration"], "minimumHealthyPercent": 50}
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, deploymentConfiguration=configuration)


def drift_propagate_tags(boto: BotoFactory) -> None:
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, propagateTags="TASK_DEFINITION")


def drift_execute_command(boto: BotoFactory) -> None:
    """A field scorekeep-frontend's document leaves out: its AWS default (false) is what Git wants."""
    boto("ecs").update_service(cluster=CLUSTER, service="scorekeep-frontend", enableExecuteCommand=True)


def drift_grace_period(boto: BotoFactory) -> None:
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, healthCheckGracePeriodSeconds=120)


def drift_tag_removed(boto: BotoFactory) -> None:
    boto("ecs").untag_resource(resourceArn=_service(boto)["serviceArn"], tagKeys=["Service"])


def drift_container_insights(boto: BotoFactory) -> None:
    boto("ecs").update_cluster_settings(
        cluster=CLUSTER, settings=[{"name": "containerInsights", "value": "disabled"}]
    )


def drift_service_deleted(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    # AWS refuses CreateService of a name whose service is still DRAINING, and the reconciler does not wait for
    # the draining to end before it re-creates: wait here until the service is INACTIVE.
    deadline = time.monotonic() + 30
    while ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["status"] != "INACTIVE":
        assert time.monotonic() < deadline, "the deleted service did not drain"
        time.sleep(0.1)


DRIFTS = [
    (drift_desired_count, "Service", "desiredCount"),
    (drift_other_revision, "Service", "taskDefinition"),
    (drift_image, "Service", "taskDefinition.containerDefinitions[wordpress].image"),
    (
        drift_environment,
        "Service",
        "taskDefinition.containerDefinitions[wordpress].environment[WORDPRESS_DB_USER]",
    ),
    (drift_subnets, "Service", "networkConfiguration.awsvpcConfiguration.subnets"),
    (drift_security_groups, "Service", "networkConfiguration.awsvpcConfiguration.securityGroups"),
    (drift_public_ip, "Service", "networkConfiguration.awsvpcConfiguration.assignPublicIp"),
    (drift_circuit_breaker, "Service", "deploymentConfiguration.deploymentCircuitBreaker.enable"),
    (drift_deployment_percent, "Service", "deploymentConfiguration.minimumHealthyPercent"),
    (drift_propagate_tags, "Service", "propagateTags"),
    (drift_execute_command, "Service", "enableExecuteCommand"),
    (drift_grace_period, "Service", "healthCheckGracePeriodSeconds"),
    (drift_tag_removed, "Service", "tags.Service"),
    (drift_container_insights, "Cluster", "settings.containerInsights"),
    (drift_service_deleted, "Service", "status"),
]


@pytest.mark.parametrize(("make_drift", "kind", "path"), DRIFTS, ids=[d[0].__name__ for d in DRIFTS])
def test_drift_is_reported_with_its_path_and_corrected_by_one_apply(
    converged: Estate,
    cli: CLI,
    boto: BotoFactory,
    make_drift: Callable[[BotoFactory], None],
    kind: str,
    path: str,
) -> None:
    make_drift(boto)
    # The reconciler holds a service whose deployment is in progress, even one started by hand: let the hand-made
    # deployment finish first.
    wait_until_settled(boto)

    plan = cli("plan", *converged.args(), "--output", "json")
    assert plan.code == 2, plan.out + plan.err
    (change,) = plan.json()["changes"]
    assert (change["kind"], change["cause"]) == (kind, "drift")
    assert path in [d["path"] for d in change["diff"]]

    applied = cli("apply", *converged.args())
    assert applied.code == 0, applied.out + applied.err
    wait_until_settled(boto)  # the correction's own deployment
    after = cli("plan", *converged.args(), "--output", "json")
    assert (after.code, after.json()["changes"]) == (0, [])
