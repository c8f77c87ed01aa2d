"""A small Fargate estate for the patch tests: a VPC with a subnet and a security group, a cluster, and a
task definition, created with boto3 in a freshly reset emulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import BotoFactory


@dataclass(frozen=True)
class FargateEstate:
    ecs: Any
    cluster: str
    task_definition: str
    subnet: str
    security_group: str

    def create_service(self, name: str, **request: Any) -> dict[str, Any]:
        """CreateService with sensible Fargate defaults; a request value of None leaves that field out."""
        defaults = {
            "cluster": self.cluster,
            "serviceName": name,
            "taskDefinition": self.task_definition,
            "desiredCount": 2,
            "launchType": "FARGATE",
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.security_group]}
            },
        }
        merged = {key: value for key, value in (defaults | request).items() if value is not None}
        service: dict[str, Any] = self.ecs.create_service(**merged)["service"]
        return service

    def until(
        self, name: str, check: Callable[[dict[str, Any]], bool], *, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll DescribeServices until ``check(service)`` holds (time passes in the emulator); the service then."""
        return poll(lambda: self.describe_service(name), check, timeout=timeout)

    def register(self, image: str) -> str:
        """A new revision of the task definition, its container ``app`` on port 8080 running ``image``."""
        answer = self.ecs.register_task_definition(
            family=self.task_definition,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="256",
            memory="512",
            containerDefinitions=[{"name": "app", "image": image, "portMappings": [{"containerPort": 8080}]}],
        )
        arn: str = answer["taskDefinition"]["taskDefinitionArn"]
        return arn

    def settled(self, name: str) -> dict[str, Any]:
        """The service once its PRIMARY deployment has COMPLETED and it runs only that one."""
        return self.until(name, lambda s: [d["rolloutState"] for d in s["deployments"]] == ["COMPLETED"])

    def inactive(self, name: str) -> dict[str, Any]:
        """The service once a deletion has drained it."""
        return self.until(name, lambda s: s["status"] == "INACTIVE")

    def describe_service(self, name: str, *, cluster: str | None = None) -> dict[str, Any]:
        answer = self.ecs.describe_services(cluster=cluster or self.cluster, services=[name])
        assert answer["failures"] == [], answer["failures"]
        service: dict[str, Any] = answer["services"][0]
        return service


def poll(
    read: Callable[[], dict[str, Any]],
    check: Callable[[dict[str, Any]], bool],
    *,
    timeout: float,
    every: float = 0.05,
) -> dict[str, Any]:
    """``read()`` again and again until ``check`` holds of what it reads (time passes in the emulator); that then."""
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if check(found):
            return found
        assert time.monotonic() < deadline, f"not reached in {timeout} s: {found}"
        time.sleep(every)


@pytest.fixture
def fargate(boto: BotoFactory) -> FargateEstate:
    ec2, ecs = boto("ec2"), boto("ecs")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)
    ecs.create_cluster(clusterName="myapp-prod")
    ecs.register_task_definition(
        family="frontapp",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[{"name": "app", "image": "nginx", "portMappings": [{"containerPort": 8080}]}],
    )
    return FargateEstate(
        ecs=ecs,
        cluster="myapp-prod",
        task_definition="frontapp",
        subnet=subnet["Subnet"]["SubnetId"],
        security_group=group["GroupId"],
    )
