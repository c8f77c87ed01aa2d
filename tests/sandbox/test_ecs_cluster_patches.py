"""Each ECS cluster patch, shown over HTTP (see patches/ecs_clusters.py and patches/ecs_service_connect.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BotoFactory
from tests.sandbox.conftest import FargateEstate

INSIGHTS_ON = [{"name": "containerInsights", "value": "enabled"}]
INSIGHTS_OFF = [{"name": "containerInsights", "value": "disabled"}]


def test_update_cluster_settings_is_implemented(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="myapp-prod", settings=INSIGHTS_ON)
    answer = ecs.update_cluster_settings(cluster="myapp-prod", settings=INSIGHTS_OFF)
    assert answer["cluster"]["settings"] == INSIGHTS_OFF
    described = ecs.describe_clusters(clusters=["myapp-prod"], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == INSIGHTS_OFF


def test_update_cluster_with_settings_works_too(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="myapp-prod")
    ecs.update_cluster(cluster="myapp-prod", settings=INSIGHTS_ON)
    described = ecs.describe_clusters(clusters=["myapp-prod"], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == INSIGHTS_ON


def test_describe_clusters_includes_settings_and_tags_only_when_asked(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="myapp-prod", settings=INSIGHTS_ON, tags=[{"key": "Env", "value": "prod"}])
    plain = ecs.describe_clusters(clusters=["myapp-prod"])["clusters"][0]
    assert "settings" not in plain
    assert "tags" not in plain
    full = ecs.describe_clusters(clusters=["myapp-prod"], include=["SETTINGS", "TAGS"])["clusters"][0]
    assert full["settings"] == INSIGHTS_ON
    assert full["tags"] == [{"key": "Env", "value": "prod"}]


def test_cluster_counts_active_services_and_their_tasks(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp", desiredCount=2)
    fargate.create_service("wordpress", desiredCount=1)
    fargate.ecs.delete_service(cluster=fargate.cluster, service="wordpress", force=True)
    fargate.settled("frontapp")
    cluster = fargate.ecs.describe_clusters(clusters=[fargate.cluster])["clusters"][0]
    assert cluster["activeServicesCount"] == 1
    assert (cluster["runningTasksCount"], cluster["pendingTasksCount"]) == (2, 0)


def test_a_cluster_with_active_services_cannot_be_deleted(fargate: FargateEstate) -> None:
    fargate.create_service("frontapp")
    with pytest.raises(ClientError) as raised:
        fargate.ecs.delete_cluster(cluster=fargate.cluster)
    assert raised.value.response["Error"]["Code"] == "ClusterContainsServicesException"
    fargate.ecs.delete_service(cluster=fargate.cluster, service="frontapp", force=True)
    with pytest.raises(ClientError) as draining:  # while its tasks stop, the service is DRAINING
        fargate.ecs.delete_cluster(cluster=fargate.cluster)
    assert draining.value.response["Error"]["Code"] == "ClusterContainsServicesException"
    fargate.inactive("frontapp")
    assert fargate.ecs.delete_cluster(cluster=fargate.cluster)["cluster"]["status"] == "INACTIVE"


def test_tags_on_clusters(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    arn = ecs.create_cluster(clusterName="myapp-prod", tags=[{"key": "a", "value": "1"}])["cluster"][
        "clusterArn"
    ]
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "b", "value": "2"}])
    ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
    assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}]


def _namespaces(boto: BotoFactory) -> dict[str, str]:
    """Cloud Map namespace name → ARN."""
    return {ns["Name"]: ns["Arn"] for ns in boto("servicediscovery").list_namespaces()["Namespaces"]}


def test_a_service_connect_namespace_named_by_name_is_answered_as_its_arn(boto: BotoFactory) -> None:
    vpc = boto("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    boto("servicediscovery").create_private_dns_namespace(Name="myapp.local", Vpc=vpc)
    arn = _namespaces(boto)["myapp.local"]
    ecs = boto("ecs")
    made = ecs.create_cluster(clusterName="myapp-prod", serviceConnectDefaults={"namespace": "myapp.local"})
    assert made["cluster"]["serviceConnectDefaults"] == {"namespace": arn}
    ecs.create_cluster(clusterName="other", serviceConnectDefaults={"namespace": arn})
    described = ecs.describe_clusters(clusters=["myapp-prod", "other"])["clusters"]
    assert [c["serviceConnectDefaults"] for c in described] == [{"namespace": arn}] * 2


def test_a_new_service_connect_namespace_name_creates_an_http_namespace(boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="myapp-prod")
    ecs.update_cluster(cluster="myapp-prod", serviceConnectDefaults={"namespace": "connect"})
    arn = _namespaces(boto)["connect"]
    namespace = boto("servicediscovery").get_namespace(Id=arn.rsplit("/", 1)[-1])["Namespace"]
    assert namespace["Type"] == "HTTP"
    described = ecs.describe_clusters(clusters=["myapp-prod"])["clusters"][0]
    assert described["serviceConnectDefaults"] == {"namespace": arn}
    ecs.update_cluster(cluster="myapp-prod", settings=[{"name": "containerInsights", "value": "enabled"}])
    described = ecs.describe_clusters(clusters=["myapp-prod"])["clusters"][0]
    assert described["serviceConnectDefaults"] == {"namespace": arn}  # an update without them keeps them
    ecs.update_cluster(cluster="myapp-prod", serviceConnectDefaults={"namespace": ""})
    assert "serviceConnectDefaults" not in ecs.describe_clusters(clusters=["myapp-prod"])["clusters"][0]
    assert list(_namespaces(boto)) == ["connect"]  # the namespace stays in Cloud Map
