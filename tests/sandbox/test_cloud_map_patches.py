"""Cloud Map and the ECS services registered in it, shown over HTTP (see patches/cloud_map.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BotoFactory
from tests.sandbox.conftest import FargateEstate


def cloud_map_service(boto: BotoFactory, fargate: FargateEstate, name: str, **request: Any) -> dict[str, Any]:
    discovery = boto("servicediscovery")
    namespaces = discovery.list_namespaces()["Namespaces"]
    if namespaces:
        namespace = namespaces[0]["Id"]
    else:
        vpc = boto("ec2").describe_subnets(SubnetIds=[fargate.subnet])["Subnets"][0]["VpcId"]
        discovery.create_private_dns_namespace(Name="myapp.local", Vpc=vpc)
        namespace = discovery.list_namespaces()["Namespaces"][0]["Id"]
    service: dict[str, Any] = discovery.create_service(
        Name=name,
        NamespaceId=namespace,
        DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}]},
        **request,
    )["Service"]
    return service


def instances(boto: BotoFactory, service_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = boto("servicediscovery").list_instances(ServiceId=service_id)["Instances"]
    return found


def test_running_tasks_register_and_stopped_tasks_deregister(
    boto: BotoFactory, fargate: FargateEstate
) -> None:
    registry = cloud_map_service(boto, fargate, "api")
    fargate.create_service("frontapp", desiredCount=2, serviceRegistries=[{"registryArn": registry["Arn"]}])
    assert instances(boto, registry["Id"]) == []  # no task runs yet
    fargate.settled("frontapp")
    registered = instances(boto, registry["Id"])
    assert len(registered) == 2
    assert registered[0]["Attributes"]["ECS_SERVICE_NAME"] == "frontapp"
    assert "AWS_INSTANCE_IPV4" in registered[0]["Attributes"]
    fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", desiredCount=1)
    fargate.until("frontapp", lambda s: s["runningCount"] == 1)
    assert len(instances(boto, registry["Id"])) == 1


def test_a_cloud_map_service_with_instances_cannot_be_deleted(
    boto: BotoFactory, fargate: FargateEstate
) -> None:
    discovery = boto("servicediscovery")
    registry = cloud_map_service(boto, fargate, "api")
    fargate.create_service("frontapp", desiredCount=1, serviceRegistries=[{"registryArn": registry["Arn"]}])
    fargate.settled("frontapp")
    with pytest.raises(ClientError) as refused:
        discovery.delete_service(Id=registry["Id"])
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"
    fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    assert len(instances(boto, registry["Id"])) == 1  # the task is still stopping
    fargate.inactive("frontapp")
    assert instances(boto, registry["Id"]) == []
    discovery.delete_service(Id=registry["Id"])
    assert discovery.list_services()["Services"] == []


def test_moving_a_service_to_another_registry_moves_its_instances_once_the_old_tasks_stop(
    boto: BotoFactory, fargate: FargateEstate
) -> None:
    old, new = (cloud_map_service(boto, fargate, name) for name in ("api", "api-v2"))
    fargate.create_service("frontapp", desiredCount=2, serviceRegistries=[{"registryArn": old["Arn"]}])
    fargate.settled("frontapp")
    fargate.ecs.update_service(
        cluster=fargate.cluster, service="frontapp", serviceRegistries=[{"registryArn": new["Arn"]}]
    )
    assert len(fargate.describe_service("frontapp")["deployments"]) == 2  # a new deployment
    assert len(instances(boto, old["Id"])) == 2  # the old tasks still run
    fargate.settled("frontapp")
    assert (len(instances(boto, old["Id"])), len(instances(boto, new["Id"]))) == (0, 2)


def test_failure_threshold_reads_back_as_one(boto: BotoFactory, fargate: FargateEstate) -> None:
    service = cloud_map_service(boto, fargate, "api", HealthCheckCustomConfig={"FailureThreshold": 5})
    assert service["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    read = boto("servicediscovery").get_service(Id=service["Id"])["Service"]
    assert read["HealthCheckCustomConfig"] == {"FailureThreshold": 1}


def test_a_second_service_of_a_name_in_a_namespace_is_refused(
    boto: BotoFactory, fargate: FargateEstate
) -> None:
    first = cloud_map_service(boto, fargate, "api", CreatorRequestId="first")
    with pytest.raises(ClientError) as refused:
        cloud_map_service(boto, fargate, "API")  # a DNS name: case does not tell them apart
    assert refused.value.response["Error"]["Code"] == "ServiceAlreadyExists"
    assert cloud_map_service(boto, fargate, "api", CreatorRequestId="first")["Id"] == first["Id"]  # a retry
    assert [s["Id"] for s in boto("servicediscovery").list_services()["Services"]] == [first["Id"]]


def test_instance_count_follows_the_registered_tasks(boto: BotoFactory, fargate: FargateEstate) -> None:
    discovery = boto("servicediscovery")
    registry = cloud_map_service(boto, fargate, "api")
    assert discovery.get_service(Id=registry["Id"])["Service"]["InstanceCount"] == 0
    fargate.create_service("frontapp", desiredCount=2, serviceRegistries=[{"registryArn": registry["Arn"]}])
    fargate.settled("frontapp")
    assert discovery.get_service(Id=registry["Id"])["Service"]["InstanceCount"] == 2
    assert [s["InstanceCount"] for s in discovery.list_services()["Services"]] == [2]
