"""ECS blue/green through CodeDeploy, shown over HTTP: the emulator answers as AWS does (see
patches/codedeploy.py)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox.emulator import EmulatorProcess
from tests.conftest import BotoFactory
from tests.sandbox.conftest import FargateEstate

APPLICATION, GROUP, SERVICE = "frontapp", "frontapp-bg", "frontapp"


@dataclass(frozen=True)
class BlueGreen:
    fargate: FargateEstate
    codedeploy: Any
    elbv2: Any
    blue: str
    green: str
    prod_listener: str
    test_listener: str

    def register(self, image: str) -> str:
        return self.fargate.register(image)

    def deploy(self, task_definition: str, *, content: str | None = None) -> dict[str, Any]:
        """CreateDeployment, then the deployment once it has ended (time passes in the emulator)."""
        return self.finished(self.start(task_definition, content=content))

    def finished(self, deployment_id: str, *, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            info: dict[str, Any] = self.codedeploy.get_deployment(deploymentId=deployment_id)[
                "deploymentInfo"
            ]
            if info["status"] in ("Succeeded", "Failed", "Stopped"):
                return info
            assert time.monotonic() < deadline, f"not ended in {timeout} s: {info}"
            time.sleep(0.05)

    def start(self, task_definition: str, *, content: str | None = None) -> str:
        appspec = {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition,
                            "LoadBalancerInfo": {"ContainerName": "app", "ContainerPort": 8080},
                        },
                    }
                }
            ],
        }
        deployment_id: str = self.codedeploy.create_deployment(
            applicationName=APPLICATION,
            deploymentGroupName=GROUP,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": content if content is not None else json.dumps(appspec)},
            },
        )["deploymentId"]
        return deployment_id

    def forwards_to(self, listener: str) -> str:
        [answer] = self.elbv2.describe_listeners(ListenerArns=[listener])["Listeners"]
        target_group: str = answer["DefaultActions"][0]["TargetGroupArn"]
        return target_group


@pytest.fixture
def blue_green(boto: BotoFactory, fargate: FargateEstate) -> BlueGreen:
    """The group has automatic rollback on failure and a termination wait of 1 minute."""
    group_options: dict[str, Any] = {
        "autoRollbackConfiguration": {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
        "blueGreenDeploymentConfiguration": {
            "deploymentReadyOption": {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": 1,
            },
        },
    }
    ec2, elbv2, codedeploy = boto("ec2"), boto("elbv2"), boto("codedeploy")
    vpc = ec2.describe_subnets(SubnetIds=[fargate.subnet])["Subnets"][0]["VpcId"]
    other = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")
    balancer = elbv2.create_load_balancer(
        Name="frontapp", Subnets=[fargate.subnet, other["Subnet"]["SubnetId"]], Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    blue, green = (
        elbv2.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for name in ("frontapp-blue", "frontapp-green")
    )
    prod, test = (
        elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}],
        )["Listeners"][0]["ListenerArn"]
        for port in (80, 8443)
    )
    fargate.create_service(
        SERVICE,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[{"targetGroupArn": blue, "containerName": "app", "containerPort": 8080}],
    )
    codedeploy.create_application(applicationName=APPLICATION, computePlatform="ECS")
    codedeploy.create_deployment_group(
        applicationName=APPLICATION,
        deploymentGroupName=GROUP,
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentConfigName="CodeDeployDefault.ECSAllAtOnce",
        deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
        ecsServices=[{"serviceName": SERVICE, "clusterName": fargate.cluster}],
        loadBalancerInfo={
            "targetGroupPairInfoList": [
                {
                    "targetGroups": [{"name": "frontapp-blue"}, {"name": "frontapp-green"}],
                    "prodTrafficRoute": {"listenerArns": [prod]},
                    "testTrafficRoute": {"listenerArns": [test]},
                }
            ]
        },
        **group_options,
    )
    return BlueGreen(fargate, codedeploy, elbv2, blue, green, prod, test)


def test_code_deploy_service_starts_with_a_primary_task_set(blue_green: BlueGreen) -> None:
    service = blue_green.fargate.describe_service(SERVICE)
    [task_set] = service["taskSets"]
    assert task_set["status"] == "PRIMARY"
    assert task_set["taskDefinition"] == service["taskDefinition"]
    assert task_set["loadBalancers"][0]["targetGroupArn"] == blue_green.blue
    assert task_set.get("externalId", "") == ""


def test_deployment_moves_traffic_to_the_other_target_group(blue_green: BlueGreen) -> None:
    revision = blue_green.register("nginx:2")
    deployment = blue_green.deploy(revision)
    assert deployment["status"] == "Succeeded"
    assert deployment["deploymentOverview"]["Succeeded"] == 1
    assert deployment["completeTime"] >= deployment["startTime"]
    service = blue_green.fargate.describe_service(SERVICE)
    assert service["taskDefinition"] == revision
    assert service["loadBalancers"][0]["targetGroupArn"] == blue_green.green
    [task_set] = service["taskSets"]
    assert (task_set["status"], task_set["externalId"]) == ("PRIMARY", deployment["deploymentId"])
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.green
    assert blue_green.forwards_to(blue_green.test_listener) == blue_green.green
    group = blue_green.codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)
    info = group["deploymentGroupInfo"]
    assert info["lastSuccessfulDeployment"]["deploymentId"] == deployment["deploymentId"]
    assert info["lastAttemptedDeployment"]["status"] == "Succeeded"


def test_second_deployment_flips_back(blue_green: BlueGreen) -> None:
    blue_green.deploy(blue_green.register("nginx:2"))
    revision = blue_green.register("nginx:3")
    assert blue_green.deploy(revision)["status"] == "Succeeded"
    service = blue_green.fargate.describe_service(SERVICE)
    assert service["taskDefinition"] == revision
    assert service["loadBalancers"][0]["targetGroupArn"] == blue_green.blue
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.blue


def test_yaml_appspec_with_lowercase_keys_is_read(blue_green: BlueGreen) -> None:
    revision = blue_green.register("nginx:2")
    content = (
        "version: 0.0\nresources:\n  - targetService:\n      type: AWS::ECS::Service\n      properties:\n"
        f"        taskDefinition: {revision}\n"
        "        loadBalancerInfo:\n          containerName: app\n          containerPort: 8080\n"
    )
    assert blue_green.deploy(revision, content=content)["status"] == "Succeeded"


def test_a_deployment_goes_through_its_steps_over_time(
    blue_green: BlueGreen, emulator: EmulatorProcess
) -> None:
    """Created, InProgress (test traffic first, then production), the termination wait, Succeeded."""
    emulator.set_timing(codedeploy_step=1, codedeploy_wait_minute=1)  # each step long enough to be seen
    revision = blue_green.register("nginx:2")
    original = blue_green.fargate.describe_service(SERVICE)["taskSets"][0]["id"]
    deployment_id = blue_green.start(revision)
    seen: list[tuple[str, str, str, int]] = []

    def status() -> str:
        info = blue_green.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        return str(info["status"])

    while not seen or seen[-1][0] not in ("Succeeded", "Failed"):
        before = status()
        test, production = (
            blue_green.forwards_to(listener)
            for listener in (blue_green.test_listener, blue_green.prod_listener)
        )
        task_sets = len(blue_green.fargate.describe_service(SERVICE)["taskSets"])
        step = (before, test, production, task_sets)
        # the four reads are not one snapshot: a step whose status moved on meanwhile mixes two, and is not kept
        if status() == before and (not seen or seen[-1] != step):
            seen.append(step)
        time.sleep(0.02)
    blue, green = blue_green.blue, blue_green.green
    assert seen[0] == ("Created", blue, blue, 1)
    assert ("InProgress", blue, blue, 2) in seen  # the replacement task set is up, no traffic yet
    assert ("InProgress", green, blue, 2) in seen  # test traffic first
    assert ("InProgress", green, green, 2) in seen  # production: the original waits out the termination time
    assert seen[-1] == ("Succeeded", green, green, 1)
    statuses = [step[0] for step in seen]
    assert sorted(set(statuses), key=statuses.index) == ["Created", "InProgress", "Succeeded"]
    [task_set] = blue_green.fargate.describe_service(SERVICE)["taskSets"]
    assert task_set["id"] != original


def test_a_group_refuses_a_second_deployment_while_one_runs(
    blue_green: BlueGreen, emulator: EmulatorProcess
) -> None:
    emulator.set_timing(codedeploy_step=1.5)  # room for the second request on a loaded machine
    running = blue_green.start(blue_green.register("nginx:2"))
    with pytest.raises(ClientError) as refused:
        blue_green.start(blue_green.register("nginx:3"))
    assert refused.value.response["Error"]["Code"] == "DeploymentLimitExceededException"
    assert running in refused.value.response["Error"]["Message"]
    blue_green.finished(running)
    assert blue_green.deploy(blue_green.register("nginx:3"))["status"] == "Succeeded"


def test_last_attempted_deployment_follows_a_running_deployment(
    blue_green: BlueGreen, emulator: EmulatorProcess
) -> None:
    emulator.set_timing(codedeploy_step=1.5)  # still Created when it is read, on a loaded machine
    deployment_id = blue_green.start(blue_green.register("nginx:2"))
    group = blue_green.codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)
    attempted = group["deploymentGroupInfo"]["lastAttemptedDeployment"]
    assert (attempted["deploymentId"], attempted["status"]) == (deployment_id, "Created")
    assert "endTime" not in attempted
    assert group["deploymentGroupInfo"]["lastSuccessfulDeployment"] == {}
    blue_green.finished(deployment_id)
    info = blue_green.codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)[
        "deploymentGroupInfo"
    ]
    assert (
        info["lastAttemptedDeployment"]["status"] == info["lastSuccessfulDeployment"]["status"] == "Succeeded"
    )


def test_failing_image_fails_and_a_rollback_deployment_follows(blue_green: BlueGreen) -> None:
    good = blue_green.deploy(blue_green.register("nginx:2"))
    before = blue_green.fargate.describe_service(SERVICE)
    deployment = blue_green.deploy(blue_green.register("example/crashloop:1"))
    assert deployment["status"] == "Failed"
    assert deployment["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    rollback_id = deployment["rollbackInfo"]["rollbackDeploymentId"]
    assert rollback_id not in (deployment["deploymentId"], good["deploymentId"])
    assert deployment["rollbackInfo"]["rollbackMessage"]
    rollback = blue_green.finished(rollback_id)
    assert (rollback["status"], rollback["creator"]) == ("Succeeded", "codeDeployRollback")
    assert rollback["rollbackInfo"]["rollbackTriggeringDeploymentId"] == deployment["deploymentId"]
    assert rollback["revision"] == good["revision"]
    group = blue_green.codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName=GROUP)
    info = group["deploymentGroupInfo"]
    assert info["lastAttemptedDeployment"]["deploymentId"] == rollback_id  # the rollback is the last attempt
    assert info["lastSuccessfulDeployment"]["deploymentId"] == rollback_id
    after = blue_green.fargate.describe_service(SERVICE)
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [t["id"] for t in after["taskSets"]] == [t["id"] for t in before["taskSets"]]
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.forwards_to(
        blue_green.test_listener
    )
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.green


def test_failing_image_without_automatic_rollback_only_fails(blue_green: BlueGreen) -> None:
    blue_green.codedeploy.update_deployment_group(
        applicationName=APPLICATION,
        currentDeploymentGroupName=GROUP,
        autoRollbackConfiguration={"enabled": False},
    )
    deployment = blue_green.deploy(blue_green.register("example/crashloop:1"))
    assert deployment["status"] == "Failed"
    assert not deployment.get("rollbackInfo")
    assert blue_green.codedeploy.list_deployments(applicationName=APPLICATION, deploymentGroupName=GROUP)[
        "deployments"
    ] == [deployment["deploymentId"]]
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.blue
    assert len(blue_green.fargate.describe_service(SERVICE)["taskSets"]) == 1


def test_stopping_a_running_deployment_puts_everything_back(
    blue_green: BlueGreen, emulator: EmulatorProcess
) -> None:
    emulator.set_timing(codedeploy_wait_minute=30)  # time to stop it during the termination wait
    before = blue_green.fargate.describe_service(SERVICE)
    deployment_id = blue_green.start(blue_green.register("nginx:2"))
    while blue_green.forwards_to(blue_green.prod_listener) != blue_green.green:  # during the termination wait
        time.sleep(0.02)
    blue_green.codedeploy.stop_deployment(deploymentId=deployment_id)
    assert (
        blue_green.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]["status"]
        == "Stopped"
    )
    after = blue_green.fargate.describe_service(SERVICE)
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [t["id"] for t in after["taskSets"]] == [t["id"] for t in before["taskSets"]]
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.blue
    assert blue_green.forwards_to(blue_green.test_listener) == blue_green.blue


@pytest.mark.parametrize(
    ("content", "task_definition", "code"),
    [("{not an appspec", "frontapp:1", "INVALID_REVISION"), (None, "missing-family:7", "ECS_UPDATE_ERROR")],
    ids=["invalid-appspec", "missing-task-definition"],
)
def test_bad_revision_fails_and_leaves_ecs_alone(
    blue_green: BlueGreen, content: str | None, task_definition: str, code: str
) -> None:
    before = blue_green.fargate.describe_service(SERVICE)
    deployment = blue_green.deploy(task_definition, content=content)
    assert deployment["status"] == "Failed"
    assert deployment["errorInformation"]["code"] == code
    assert "rollbackInfo" not in deployment or not deployment["rollbackInfo"]
    after = blue_green.fargate.describe_service(SERVICE)
    assert (after["taskDefinition"], after["taskSets"]) == (before["taskDefinition"], before["taskSets"])
    assert blue_green.forwards_to(blue_green.prod_listener) == blue_green.blue


def test_update_service_cannot_change_what_code_deploy_owns(blue_green: BlueGreen) -> None:
    revision = blue_green.register("nginx:2")
    ecs = blue_green.fargate.ecs
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=blue_green.fargate.cluster, service=SERVICE, taskDefinition=revision)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "CODE_DEPLOY deployment controller" in raised.value.response["Error"]["Message"]
    moved = [{"targetGroupArn": blue_green.green, "containerName": "app", "containerPort": 8080}]
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=blue_green.fargate.cluster, service=SERVICE, loadBalancers=moved)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    current = blue_green.fargate.describe_service(SERVICE)
    ecs.update_service(
        cluster=blue_green.fargate.cluster,
        service=SERVICE,
        taskDefinition=current["taskDefinition"],
        loadBalancers=current["loadBalancers"],
        networkConfiguration=current["networkConfiguration"],
        desiredCount=3,
    )
    assert blue_green.fargate.describe_service(SERVICE)["desiredCount"] == 3


def test_update_service_changes_only_what_aws_lets_it_on_a_code_deploy_service(blue_green: BlueGreen) -> None:
    ecs, cluster = blue_green.fargate.ecs, blue_green.fargate.cluster
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=cluster, service=SERVICE, enableExecuteCommand=True)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "Unable to update enableExecuteCommand" in raised.value.response["Error"]["Message"]
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    with pytest.raises(ClientError) as raised:
        ecs.update_service(cluster=cluster, service=SERVICE, capacityProviderStrategy=strategy)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    # enableExecuteCommand unchanged; the others are what AWS changes in place
    ecs.update_service(
        cluster=cluster, service=SERVICE, enableExecuteCommand=False, desiredCount=2,
        healthCheckGracePeriodSeconds=30, enableECSManagedTags=True, propagateTags="SERVICE",
    )  # fmt: skip
    after = blue_green.fargate.describe_service(SERVICE)
    assert (after["desiredCount"], after["healthCheckGracePeriodSeconds"], after["enableECSManagedTags"],
            after["propagateTags"], after["enableExecuteCommand"]) == (2, 30, True, "SERVICE", False)  # fmt: skip


def test_batch_get_update_and_delete_groups(blue_green: BlueGreen) -> None:
    codedeploy = blue_green.codedeploy
    answer = codedeploy.batch_get_deployment_groups(
        applicationName=APPLICATION, deploymentGroupNames=[GROUP, "nope"]
    )
    assert [group["deploymentGroupName"] for group in answer["deploymentGroupsInfo"]] == [GROUP]
    assert "nope" in answer["errorMessage"]
    codedeploy.update_deployment_group(
        applicationName=APPLICATION,
        currentDeploymentGroupName=GROUP,
        newDeploymentGroupName="renamed",
        deploymentConfigName="CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    )
    info = codedeploy.get_deployment_group(applicationName=APPLICATION, deploymentGroupName="renamed")
    assert (
        info["deploymentGroupInfo"]["deploymentConfigName"]
        == "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
    )
    assert codedeploy.list_deployment_groups(applicationName=APPLICATION)["deploymentGroups"] == ["renamed"]
    codedeploy.delete_deployment_group(applicationName=APPLICATION, deploymentGroupName="renamed")
    assert codedeploy.list_deployment_groups(applicationName=APPLICATION)["deploymentGroups"] == []
    codedeploy.delete_application(applicationName=APPLICATION)
    assert codedeploy.list_applications()["applications"] == []


def test_stop_deployment(boto: BotoFactory, blue_green: BlueGreen) -> None:
    codedeploy = blue_green.codedeploy
    finished = blue_green.deploy(blue_green.register("nginx:2"))
    with pytest.raises(ClientError) as raised:
        codedeploy.stop_deployment(deploymentId=finished["deploymentId"])
    assert raised.value.response["Error"]["Code"] == "DeploymentAlreadyCompletedException"
    codedeploy.create_application(applicationName="servers", computePlatform="Server")
    codedeploy.create_deployment_group(
        applicationName="servers",
        deploymentGroupName="all",
        serviceRoleArn="arn:aws:iam::123456789012:role/cd",
    )
    running = codedeploy.create_deployment(
        applicationName="servers",
        deploymentGroupName="all",
        revision={"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "zip"}},
    )["deploymentId"]
    assert codedeploy.stop_deployment(deploymentId=running)["status"] == "Succeeded"
    assert codedeploy.get_deployment(deploymentId=running)["deploymentInfo"]["status"] == "Stopped"
