"""Existing resources with a declared name are adopted, not duplicated, and keep what their documents leave out;
cluster capacity providers are written through PutClusterCapacityProviders."""

from __future__ import annotations

from typing import Any

from tests.conftest import BotoFactory
from tests.e2e.conftest import CLI, Estate


def _tags(described: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in described.get("tags", [])}


def test_a_cluster_made_by_hand_is_adopted_and_tagged(estate: Estate, cli: CLI, boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(
        clusterName="myapp-prod", settings=[{"name": "containerInsights", "value": "disabled"}]
    )

    plan = cli("plan", *estate.args(), "--output", "json")
    cluster = next(c for c in plan.json()["changes"] if c["kind"] == "Cluster")
    assert (cluster["action"], cluster["cause"]) == ("adopt", "desired")
    assert "settings.containerInsights" in [d["path"] for d in cluster["diff"]]

    assert cli("apply", *estate.args()).code == 0
    (described,) = ecs.describe_clusters(clusters=["myapp-prod"], include=["TAGS", "SETTINGS"])["clusters"]
    assert _tags(described)["reconciler:instance"] == "default"
    assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert len(ecs.list_clusters()["clusterArns"]) == 1
    assert cli("plan", *estate.args()).code == 0


def test_a_cluster_owned_by_another_instance_is_left_alone(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="myapp-prod", tags=[{"key": "reconciler:instance", "value": "team-b"}])
    plan = cli("plan", *estate.args(), "--output", "json").json()
    assert plan["conflicts"] == [{"kind": "Cluster", "name": "myapp-prod", "owner": "team-b"}]
    assert "Cluster" not in {c["kind"] for c in plan["changes"]}


def test_capacity_providers_from_git_are_put_on_the_cluster(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    converged.edit(
        "clusters/myapp-prod.yaml",
        "  settings:\n",
        "  capacityProviders: [FARGATE, FARGATE_SPOT]\n"
        "  defaultCapacityProviderStrategy:\n"
        "    - {capacityProvider: FARGATE, weight: 1, base: 1}\n"
        "    - {capacityProvider: FARGATE_SPOT, weight: 3}\n"
        "  settings:\n",
    )
    plan = cli("plan", *converged.args(), "--output", "json").json()
    (change,) = plan["changes"]
    assert (change["kind"], change["action"], change["cause"]) == ("Cluster", "update", "desired")
    assert cli("apply", *converged.args()).code == 0
    (described,) = boto("ecs").describe_clusters(clusters=["myapp-prod"])["clusters"]
    assert sorted(described["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    assert cli("plan", *converged.args()).code == 0


HAND_MADE_TASK = """
apiVersion: reconciler/v1
kind: TaskDefinition
metadata: {name: handmade}
spec:
  requiresCompatibilities: [FARGATE]
  networkMode: awsvpc
  cpu: "256"
  memory: "512"
  executionRoleArn: ${EXECUTION_ROLE_ARN}
  containerDefinitions:
    - {name: app, image: "public.ecr.aws/nginx/nginx:1.27", portMappings: [{containerPort: 8080}]}
"""
HAND_MADE_SERVICE = """
---
apiVersion: reconciler/v1
kind: Service
metadata: {name: handmade}
spec:
  cluster: myapp-prod
  taskDefinition: handmade
  desiredCount: 1
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration: {subnets: ["${PRIVATE_SUBNET_A}"], securityGroups: ["${APP_SECURITY_GROUP}"]}
"""


def test_a_console_made_service_keeps_its_ecs_managed_tags_when_adopted(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """The console turns ECS managed tags on, CreateService leaves them off: a document that does not set
    enableECSManagedTags adopts such a service without turning them off."""
    document = estate.dir / "handmade.yaml"
    document.write_text(HAND_MADE_TASK)
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    ecs = boto("ecs")
    network = {"awsvpcConfiguration": {"subnets": [estate.variables["PRIVATE_SUBNET_A"]],
                                       "securityGroups": [estate.variables["APP_SECURITY_GROUP"]]}}  # fmt: skip
    ecs.create_service(
        cluster="myapp-prod", serviceName="handmade", taskDefinition="handmade", desiredCount=1,
        launchType="FARGATE", networkConfiguration=network, enableECSManagedTags=True,
    )  # fmt: skip
    document.write_text(HAND_MADE_TASK + HAND_MADE_SERVICE)

    plan = cli("plan", *estate.args(), "--output", "json").json()
    [change] = [c for c in plan["changes"] if (c["kind"], c["name"]) == ("Service", "handmade")]
    assert change["action"] == "adopt"
    assert [d["path"] for d in change["diff"] if not d["path"].startswith("tags")] == [], change["diff"]
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    described = ecs.describe_services(cluster="myapp-prod", services=["handmade"], include=["TAGS"])
    (service,) = described["services"]
    assert service["enableECSManagedTags"] is True
    assert {"key": "reconciler:instance", "value": "default"} in service["tags"]  # adopted
    assert cli("plan", *estate.args()).code == 0
