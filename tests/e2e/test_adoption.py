"""Existing resources with a declared name are adopted, not duplicated; cluster capacity providers are written
through PutClusterCapacityProviders."""

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
