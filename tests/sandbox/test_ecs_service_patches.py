"""Each ECS service patch, shown over HTTP: the emulator answers as AWS does (see patches/ecs_services.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.conftest import FargateEstate

AWS_DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
}


def test_create_keeps_the_fields_moto_dropped(fargate: FargateEstate) -> None:
    fargate.create_service(
        "frontapp",
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        healthCheckGracePeriodSeconds=60,
        enableExecuteCommand=True,
        enableECSManagedTags=True,
        propagateTags="SERVICE",
        placementConstraints=[],
    )
    service = fargate.describe_service("frontapp")
    assert service["deploymentConfiguration"] == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    }
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["enableExecuteCommand"] is True
    assert service["enableECSManagedTags"] is True
    assert service["propagateTags"] == "SERVICE"


def test_describe_returns_aws_defaults(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    service = fargate.describe_service("frontapp")
    assert service["deploymentConfiguration"] == AWS_DEFAULT_DEPLOYMENT_CONFIGURATION
    assert service["propagateTags"] == "NONE"
    assert service["enableECSManagedTags"] is False
    assert service["enableExecuteCommand"] is False
    assert service["platformVersion"] == "LATEST"
    assert service["platformFamily"] == "Linux"
    assert service["deploymentController"] == {"type": "ECS"}
    assert service["schedulingStrategy"] == "REPLICA"
    assert "createdAt" in service
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [fargate.subnet]


def test_capacity_provider_strategy_is_kept_and_launch_type_left_out(fargate: FargateEstate) -> None:
    strategy = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    fargate.create_service("frontapp", launchType=None, capacityProviderStrategy=strategy)
    service = fargate.describe_service("frontapp")
    assert service["capacityProviderStrategy"] == strategy
    assert "launchType" not in service
    assert service["platformVersion"] == "LATEST"


def test_service_settles_once_its_deployment_completes(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp", desiredCount=2)
    service = fargate.settled("frontapp")
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    [deployment] = service["deployments"]
    assert deployment["status"] == "PRIMARY"
    assert deployment["runningCount"] == deployment["desiredCount"] == 2
    assert deployment["taskDefinition"] == service["taskDefinition"]


def test_duplicate_create_of_an_active_service_fails(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    with pytest.raises(ClientError) as raised:
        fargate.create_service("frontapp", desiredCount=5)
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    assert raised.value.response["Error"]["Message"] == "Creation of service was not idempotent."
    assert fargate.describe_service("frontapp")["desiredCount"] == 2


def test_a_create_repeated_with_its_client_token_returns_the_service_it_made(fargate: FargateEstate) -> None:
    """AWS's idempotency: a retry whose first answer was lost gets the service back, not an error."""
    first = fargate.create_service("frontapp", clientToken="token-1")
    again = fargate.create_service("frontapp", clientToken="token-1")
    assert (again["serviceArn"], again["createdAt"]) == (first["serviceArn"], first["createdAt"])
    with pytest.raises(ClientError) as raised:
        fargate.create_service("frontapp", clientToken="token-2")
    assert raised.value.response["Error"]["Message"] == "Creation of service was not idempotent."


def test_a_deleted_service_can_be_created_again(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    fargate.inactive("frontapp")
    fargate.create_service("frontapp", desiredCount=1)
    assert fargate.describe_service("frontapp")["status"] == "ACTIVE"


def test_list_services_matches_the_cluster_exactly(fargate: FargateEstate) -> None:
    fargate.ecs.create_cluster(clusterName="prod")
    fargate.create_service("frontapp")
    fargate.create_service("other", cluster="prod")
    listed = fargate.ecs.list_services(cluster="prod")["serviceArns"]
    assert [arn.rsplit("/", 1)[-1] for arn in listed] == ["other"]


def test_list_services_omits_deleted_services(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    fargate.create_service("wordpress")
    fargate.ecs.delete_service(cluster=fargate.cluster, service="wordpress", force=True)
    listed = fargate.ecs.list_services(cluster=fargate.cluster)["serviceArns"]
    assert [arn.rsplit("/", 1)[-1] for arn in listed] == ["frontapp"]


def test_list_services_pages_by_ten_by_default(fargate: FargateEstate) -> None:
    for index in range(12):
        fargate.create_service(f"svc-{index:02d}", desiredCount=0)
    first = fargate.ecs.list_services(cluster=fargate.cluster)
    assert len(first["serviceArns"]) == 10
    second = fargate.ecs.list_services(cluster=fargate.cluster, nextToken=first["nextToken"])
    assert len(second["serviceArns"]) == 2
    assert "nextToken" not in second
    paginator = fargate.ecs.get_paginator("list_services")
    pages = list(paginator.paginate(cluster=fargate.cluster, PaginationConfig={"PageSize": 5}))
    assert [len(page["serviceArns"]) for page in pages] == [5, 5, 2]


def test_describe_rejects_more_than_ten_services(fargate: FargateEstate) -> None:
    with pytest.raises(ClientError) as raised:
        fargate.ecs.describe_services(cluster=fargate.cluster, services=[f"svc-{i}" for i in range(11)])
    assert raised.value.response["Error"]["Code"] == "InvalidParameterException"
    answer = fargate.ecs.describe_services(cluster=fargate.cluster, services=[f"svc-{i}" for i in range(10)])
    assert len(answer["failures"]) == 10


def test_deleted_service_is_described_as_inactive(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    service = fargate.inactive("frontapp")
    assert (service["desiredCount"], service["runningCount"]) == (0, 0)


def test_update_or_delete_of_a_deleted_service_fails(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    fargate.inactive("frontapp")
    with pytest.raises(ClientError) as update_failed:
        fargate.ecs.update_service(cluster=fargate.cluster, service="frontapp", desiredCount=1)
    with pytest.raises(ClientError) as delete_failed:
        fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    for raised in (update_failed, delete_failed):
        assert raised.value.response["Error"]["Code"] == "ServiceNotActiveException"


def test_update_merges_deployment_configuration_and_starts_a_deployment(fargate: FargateEstate) -> None:
    created = fargate.create_service("frontapp")
    fargate.ecs.register_task_definition(
        family="frontapp",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="512",
        memory="1024",
        containerDefinitions=[{"name": "app", "image": "nginx:2"}],
    )
    fargate.ecs.update_service(
        cluster=fargate.cluster,
        service="frontapp",
        taskDefinition="frontapp",
        desiredCount=3,
        deploymentConfiguration={"maximumPercent": 150},
    )
    service = fargate.describe_service("frontapp")
    assert service["taskDefinition"].endswith(":task-definition/frontapp:2")
    assert service["deploymentConfiguration"]["maximumPercent"] == 150
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 100
    [deployment] = fargate.settled("frontapp")["deployments"]
    assert deployment["id"] != created["deployments"][0]["id"]
    assert (deployment["taskDefinition"], deployment["runningCount"]) == (service["taskDefinition"], 3)
    assert fargate.describe_service("frontapp")["runningCount"] == 3


def test_tags_on_services(fargate: FargateEstate) -> None:
    arn = fargate.create_service("frontapp", tags=[{"key": "a", "value": "1"}])["serviceArn"]
    fargate.ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}, {"key": "a", "value": "3"}])
    fargate.ecs.untag_resource(resourceArn=arn, tagKeys=["b"])
    assert fargate.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "a", "value": "3"}]
    described = fargate.ecs.describe_services(
        cluster=fargate.cluster, services=["frontapp"], include=["TAGS"]
    )
    assert described["services"][0]["tags"] == [{"key": "a", "value": "3"}]
