"""A blue/green estate in a China region (cn-north-1, partition ``aws-cn``). CodeDeploy answers with no deployment
group ARN, so the reconciler builds it to read the group's tags: in the caller's partition, or its own group would
look like someone else's on every pass."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate
from tests.e2e.test_blue_green import BLUE_GREEN

CHINA = "cn-north-1"
CLUSTER = """
apiVersion: reconciler/v1
kind: Cluster
metadata: {name: myapp-prod}
spec: {}
---
"""
ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@pytest.fixture
def in_china(boto: BotoFactory, monkeypatch: pytest.MonkeyPatch) -> BotoFactory:
    """The reconciler's region is cn-north-1; returns the ``boto`` of that region."""
    monkeypatch.setenv("AWS_REGION", CHINA)
    monkeypatch.setenv("AWS_DEFAULT_REGION", CHINA)
    return functools.partial(boto, region_name=CHINA)


@pytest.fixture
def china_estate(in_china: BotoFactory, tmp_path: Path) -> Estate:
    """The blue/green estate of test_blue_green.py with a cluster, and the network and role it needs, made as a
    person would (the sandbox's seed attaches AWS managed policies by their ``arn:aws`` ARNs, absent in China)."""
    ec2 = in_china("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{CHINA}{zone}")["Subnet"]
        for n, zone in ((1, "a"), (2, "b"))
    ]
    group = ec2.create_security_group(GroupName="app", Description="app tasks", VpcId=vpc)["GroupId"]
    role = in_china("iam").create_role(
        RoleName="ecs-execution", AssumeRolePolicyDocument=json.dumps(ECS_TASKS_TRUST)
    )
    variables = {
        "VPC_ID": vpc,
        "PRIVATE_SUBNET_A": subnets[0]["SubnetId"],
        "PRIVATE_SUBNET_B": subnets[1]["SubnetId"],
        "APP_SECURITY_GROUP": group,
        "EXECUTION_ROLE_ARN": role["Role"]["Arn"],
    }
    root = tmp_path / "estate"
    root.mkdir()
    (root / "blue-green.yaml").write_text(CLUSTER + BLUE_GREEN)
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text(yaml.safe_dump(variables))
    return Estate(dir=root, vars_file=vars_file, variables=variables)


def test_a_deployment_group_in_china_is_recognised_as_ours(
    china_estate: Estate, in_china: BotoFactory, cli: CLI
) -> None:
    account = in_china("sts").get_caller_identity()["Account"]
    result = cli("apply", *china_estate.args())
    assert result.code == 0, result.out + result.err
    arn = f"arn:aws-cn:codedeploy:{CHINA}:{account}:deploymentgroup:bg/bg"
    tags = in_china("codedeploy").list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {"Key": "reconciler:instance", "Value": "default"} in tags
    wait_until_settled(in_china)
    plan = cli("plan", *china_estate.args(), "--output", "json").json()  # the group it made is its own
    assert plan["changes"] == [], [(c["kind"], c["name"], c["action"]) for c in plan["changes"]]

    china_estate.edit("blue-green.yaml", "nginx:1.27", "nginx:1.28")  # a CodeDeploy deployment of the group
    result = cli("apply", *china_estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(in_china)
    service = in_china("ecs").describe_services(cluster="myapp-prod", services=["bg"])["services"][0]
    assert service["taskDefinition"].startswith(f"arn:aws-cn:ecs:{CHINA}:{account}:task-definition/bg:")
    task = in_china("ecs").describe_task_definition(taskDefinition=service["taskDefinition"])[
        "taskDefinition"
    ]
    assert task["containerDefinitions"][0]["image"] == "public.ecr.aws/nginx/nginx:1.28"
    assert cli("plan", *china_estate.args()).code == 0
