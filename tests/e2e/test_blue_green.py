"""Blue/green through CodeDeploy from Git: a CODE_DEPLOY service, its target group pair, production and
test listeners, and the deployment group, all declared. An image change is one CodeDeploy deployment and no
UpdateService; after it the other target group of the pair is live and the plan is clean, three times over; a
real drift on either target group is still reported. The sandbox completes deployments (patches/codedeploy.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate, calls_of

BLUE_GREEN = """
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: bg-tg01}
spec: {Protocol: HTTP, Port: 8080, VpcId: "${VPC_ID}", TargetType: ip, HealthCheckPath: /health}
---
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: bg-tg02}
spec: {Protocol: HTTP, Port: 8080, VpcId: "${VPC_ID}", TargetType: ip, HealthCheckPath: /health}
---
apiVersion: reconciler/v1
kind: LoadBalancer
metadata: {name: bg-alb}
spec: {Type: application, Scheme: internal, Subnets: ["${PRIVATE_SUBNET_A}", "${PRIVATE_SUBNET_B}"]}
---
apiVersion: reconciler/v1
kind: Listener
metadata: {name: bg-prod}
spec: {LoadBalancerArn: bg-alb, Protocol: HTTP, Port: 80, DefaultActions: [{Type: forward, TargetGroupArn: bg-tg01}]}
---
apiVersion: reconciler/v1
kind: Listener
metadata: {name: bg-test}
spec: {LoadBalancerArn: bg-alb, Protocol: HTTP, Port: 1443, DefaultActions: [{Type: forward, TargetGroupArn: bg-tg01}]}
---
apiVersion: reconciler/v1
kind: TaskDefinition
metadata: {name: bg}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  executionRoleArn: ${EXECUTION_ROLE_ARN}
  containerDefinitions:
    - {name: app, image: "public.ecr.aws/nginx/nginx:1.27", portMappings: [{containerPort: 8080}]}
---
apiVersion: reconciler/v1
kind: Service
metadata: {name: bg}
spec:
  cluster: myapp-prod
  taskDefinition: bg
  desiredCount: 1
  launchType: FARGATE
  deploymentController: {type: CODE_DEPLOY}
  loadBalancers: [{targetGroupArn: bg-tg01, containerName: app, containerPort: 8080}]
  networkConfiguration:
    awsvpcConfiguration: {subnets: ["${PRIVATE_SUBNET_A}", "${PRIVATE_SUBNET_B}"], securityGroups: ["${APP_SECURITY_GROUP}"]}
---
apiVersion: reconciler/v1
kind: DeploymentGroup
metadata: {name: bg}
spec:
  applicationName: bg
  serviceRoleArn: ${EXECUTION_ROLE_ARN}
  deploymentConfigName: CodeDeployDefault.ECSAllAtOnce
  deploymentStyle: {deploymentType: BLUE_GREEN, deploymentOption: WITH_TRAFFIC_CONTROL}
  blueGreenDeploymentConfiguration:
    deploymentReadyOption: {actionOnTimeout: CONTINUE_DEPLOYMENT}
    terminateBlueInstancesOnDeploymentSuccess: {action: TERMINATE, terminationWaitTimeInMinutes: 5}
  autoRollbackConfiguration: {enabled: true, events: [DEPLOYMENT_FAILURE]}
  ecsServices: [{clusterName: myapp-prod, serviceName: bg}]
  loadBalancerInfo:
    targetGroupPairInfoList:
      - targetGroups: [{name: bg-tg01}, {name: bg-tg02}]
        prodTrafficRoute: {listenerArns: ["bg-alb:80"]}
        testTrafficRoute: {listenerArns: ["bg-alb:1443"]}
"""


@pytest.fixture
def blue_green(estate: Estate, cli: CLI, boto: BotoFactory) -> Estate:
    (estate.dir / "blue-green.yaml").write_text(BLUE_GREEN)
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    return estate


def serving(boto: BotoFactory) -> tuple[str, str]:
    """(target group name, task definition image) the service serves from now."""
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["bg"])["services"][0]
    group_arn = service["loadBalancers"][0]["targetGroupArn"]
    group = boto("elbv2").describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"][0][
        "TargetGroupName"
    ]
    task = boto("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return group, task["containerDefinitions"][0]["image"]


def test_image_changes_deploy_through_codedeploy_and_either_target_group_is_in_sync(
    blue_green: Estate, cli: CLI, boto: BotoFactory
) -> None:
    assert cli("plan", *blue_green.args()).code == 0
    assert serving(boto)[0] == "bg-tg01"
    expected = ["bg-tg02", "bg-tg01", "bg-tg02"]
    for number, group in enumerate(expected, start=1):
        old, new = f"nginx:1.2{6 + number}", f"nginx:1.2{7 + number}"
        blue_green.edit("blue-green.yaml", old, new)
        plan = cli("plan", *blue_green.args(), "--output", "json").json()
        service = next(c for c in plan["changes"] if c["kind"] == "Service")
        assert "taskDefinition" in {d["path"].split(".")[0] for d in service["diff"]}
        deployments, updates = calls_of("CreateDeployment"), calls_of("UpdateService")
        assert cli("apply", *blue_green.args()).code == 0
        assert (calls_of("CreateDeployment") - deployments, calls_of("UpdateService") - updates) == (1, 0)
        wait_until_settled(boto)  # the deployment takes time
        assert serving(boto) == (group, f"public.ecr.aws/nginx/{new}")
        after = cli("plan", *blue_green.args(), "--output", "json").json()
        assert after["changes"] == [], after  # the other target group, and the listeners on it, are in sync


def test_a_real_drift_on_either_target_group_is_reported(
    blue_green: Estate, cli: CLI, boto: BotoFactory
) -> None:
    blue_green.edit("blue-green.yaml", "nginx:1.27", "nginx:1.28")
    assert cli("apply", *blue_green.args()).code == 0  # now serving from bg-tg02
    wait_until_settled(boto)  # once the deployment has finished
    elbv2 = boto("elbv2")
    for name in ("bg-tg01", "bg-tg02"):
        arn = elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group(TargetGroupArn=arn, HealthCheckPath="/changed-by-hand")
    plan = cli("plan", *blue_green.args(), "--output", "json").json()
    drifted = sorted((c["name"], c["cause"], [d["path"] for d in c["diff"]]) for c in plan["changes"])
    assert drifted == [("bg-tg01", "drift", ["HealthCheckPath"]), ("bg-tg02", "drift", ["HealthCheckPath"])]
    assert cli("apply", *blue_green.args()).code == 0
    assert cli("plan", *blue_green.args()).code == 0


def test_listener_weights_across_the_pair_are_not_drift(
    blue_green: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """Mid-deployment, CodeDeploy shifts traffic by weights across the pair: not drift; a forward elsewhere is."""
    elbv2 = boto("elbv2")
    groups = {
        n: elbv2.describe_target_groups(Names=[n])["TargetGroups"][0]["TargetGroupArn"]
        for n in ("bg-tg01", "bg-tg02")
    }
    lb = elbv2.describe_load_balancers(Names=["bg-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    prod = next(li for li in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"] if li["Port"] == 80)
    shifting: dict[str, Any] = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": groups["bg-tg01"], "Weight": 20}, {"TargetGroupArn": groups["bg-tg02"], "Weight": 80}]}}  # fmt: skip
    elbv2.modify_listener(ListenerArn=prod["ListenerArn"], DefaultActions=[shifting])
    assert cli("plan", *blue_green.args()).code == 0
    elbv2.modify_listener(ListenerArn=prod["ListenerArn"], DefaultActions=[{"Type": "fixed-response",
                          "FixedResponseConfig": {"StatusCode": "503"}}])  # fmt: skip
    plan = cli("plan", *blue_green.args(), "--output", "json").json()
    assert [(c["name"], c["cause"]) for c in plan["changes"]] == [("bg-prod", "drift")]


def test_a_failed_deployment_is_reported_and_not_retried_until_git_changes(
    blue_green: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """The sandbox fails (and rolls back) a deployment whose image names ``crashloop``."""
    blue_green.edit("blue-green.yaml", "nginx/nginx:1.27", "nginx/crashloop:1")
    assert cli("apply", *blue_green.args()).code == 0  # the deployment is started; CodeDeploy fails it
    wait_until_settled(boto)  # failed, and its rollback deployment finished
    assert serving(boto) == ("bg-tg01", "public.ecr.aws/nginx/nginx:1.27")  # rolled back: nothing moved
    deployments = calls_of("CreateDeployment")
    for _ in range(2):
        plan = cli("plan", *blue_green.args(), "--output", "json").json()
        service = next(c for c in plan["changes"] if c["kind"] == "Service")
        assert "ended Failed" in service["held"] and "not retried until Git changes" in service["held"]
        assert cli("apply", *blue_green.args()).code == 1  # not converged, and says why
    assert calls_of("CreateDeployment") == deployments  # not re-attempted
    blue_green.edit("blue-green.yaml", "nginx/crashloop:1", "nginx/nginx:1.28")
    assert cli("apply", *blue_green.args()).code == 0
    assert calls_of("CreateDeployment") == deployments + 1
    wait_until_settled(boto)
    assert serving(boto) == ("bg-tg02", "public.ecr.aws/nginx/nginx:1.28")


def test_what_neither_updates_nor_deploys_replaces_the_service(
    blue_green: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """UpdateService changes only a few fields of a CODE_DEPLOY service and a CodeDeploy deployment only what its
    tasks run: turning on ECS Exec is neither, so the plan replaces the service, says why, and the apply does it."""
    ecs = boto("ecs")
    before = ecs.describe_services(cluster="myapp-prod", services=["bg"])["services"][0]
    assert before["enableExecuteCommand"] is False
    blue_green.edit(
        "blue-green.yaml", "  launchType: FARGATE\n", "  launchType: FARGATE\n  enableExecuteCommand: true\n"
    )
    plan = cli("plan", *blue_green.args(), "--output", "json").json()
    [change] = [c for c in plan["changes"] if c["kind"] == "Service"]
    assert (change["action"], [d["path"] for d in change["diff"]]) == ("replace", ["enableExecuteCommand"])
    assert "enableExecuteCommand of a CODE_DEPLOY service change neither" in change["reason"], change
    result = cli("apply", *blue_green.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    after = ecs.describe_services(cluster="myapp-prod", services=["bg"])["services"][0]
    assert (after["enableExecuteCommand"], after["status"]) == (True, "ACTIVE")
    assert after["createdAt"] > before["createdAt"]  # a new service
    assert cli("plan", *blue_green.args()).code == 0
