"""Cloud Map from Git: a ``DiscoveryService`` in the sandbox's private DNS namespace (named by its DNS
name), referenced by name from ``Service.spec.serviceRegistries``; drift on TTL and on routing policy is reported
with its path and corrected by one apply."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate

DISCOVERY = """
apiVersion: reconciler/v1
kind: DiscoveryService
metadata: {name: wordpress, deletionPolicy: Delete}
spec:
  NamespaceId: myapp.local
  Description: wordpress tasks, by DNS
  DnsConfig:
    RoutingPolicy: MULTIVALUE
    DnsRecords: [{Type: A, TTL: 60}]
  HealthCheckCustomConfig: {FailureThreshold: 1}
  Tags: [{Key: team, Value: marketing}]
"""


@pytest.fixture
def discovered(estate: Estate, cli: CLI, boto: BotoFactory) -> Estate:
    (estate.dir / "services" / "wordpress-discovery.yaml").write_text(DISCOVERY)
    estate.edit(
        "services/wordpress.yaml", "  healthCheckGracePeriodSeconds: 60\n",
        "  healthCheckGracePeriodSeconds: 60\n  serviceRegistries: [{registryArn: wordpress}]\n",
    )  # fmt: skip
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    return estate


def discovery_service(boto: BotoFactory) -> dict[str, Any]:
    client = boto("servicediscovery")
    summary = next(s for s in client.list_services()["Services"] if s["Name"] == "wordpress")
    found: dict[str, Any] = client.get_service(Id=summary["Id"])["Service"]
    return found


def test_a_discovery_service_is_created_and_referenced_by_name(
    discovered: Estate, cli: CLI, boto: BotoFactory
) -> None:
    found = discovery_service(boto)
    assert found["NamespaceId"] == discovered.variables["PRIVATE_NAMESPACE_ID"]
    assert found["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 60}]
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert [r["registryArn"] for r in service["serviceRegistries"]] == [found["Arn"]]
    assert cli("plan", *discovered.args()).code == 0  # and nothing to do after


def test_ttl_drift_is_reported_and_corrected(discovered: Estate, cli: CLI, boto: BotoFactory) -> None:
    found = discovery_service(boto)
    boto("servicediscovery").update_service(
        Id=found["Id"], Service={"Description": found["Description"],
                                 "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 300}]}},
    )  # fmt: skip
    plan = cli("plan", *discovered.args(), "--output", "json").json()
    change = next(c for c in plan["changes"] if c["kind"] == "DiscoveryService")
    assert (change["action"], change["cause"]) == ("update", "drift")
    assert [d["path"] for d in change["diff"]] == ["DnsConfig.DnsRecords[A].TTL"]
    assert cli("apply", *discovered.args()).code == 0
    assert discovery_service(boto)["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 60}]
    assert cli("plan", *discovered.args()).code == 0


def test_routing_policy_drift_is_corrected_by_a_new_service(
    discovered: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """AWS cannot change a routing policy in place: someone re-created the service by hand (with our tags) as
    WEIGHTED. The plan replaces it, as drift, and the ECS service is pointed at the new one in the same apply.
    (AWS refuses to delete a Cloud Map service while tasks are registered in it: the person scaled wordpress to
    0 first and waited for its tasks to stop.)"""
    client = boto("servicediscovery")
    boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=0)
    old = discovery_service(boto)
    deadline = time.monotonic() + 30
    while client.list_instances(ServiceId=old["Id"])["Instances"]:
        assert time.monotonic() < deadline, "the tasks did not stop"
        time.sleep(0.1)
    tags = client.list_tags_for_resource(ResourceARN=old["Arn"])["Tags"]
    client.delete_service(Id=old["Id"])
    client.create_service(
        Name="wordpress", NamespaceId=old["NamespaceId"], Description=old["Description"], Tags=tags,
        DnsConfig={"RoutingPolicy": "WEIGHTED", "DnsRecords": [{"Type": "A", "TTL": 60}]},
        HealthCheckCustomConfig={"FailureThreshold": 1},
    )  # fmt: skip
    plan = cli("plan", *discovered.args(), "--output", "json").json()
    change = next(c for c in plan["changes"] if c["kind"] == "DiscoveryService")
    assert (change["action"], change["cause"]) == ("replace", "drift")
    assert [d["path"] for d in change["diff"]] == ["RoutingPolicy"]
    assert cli("apply", *discovered.args()).code == 0
    now = discovery_service(boto)
    assert now["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert [r["registryArn"] for r in service["serviceRegistries"]] == [now["Arn"]]
    wait_until_settled(boto)
    assert cli("plan", *discovered.args()).code == 0


def test_a_namespace_that_does_not_exist_is_a_problem_of_the_file(estate: Estate, cli: CLI) -> None:
    (estate.dir / "discovery.yaml").write_text(DISCOVERY.replace("myapp.local", "nowhere.local"))
    result = cli("plan", *estate.args())
    assert result.code == 1
    assert (
        "discovery.yaml:6: spec.NamespaceId: Cloud Map namespace 'nowhere.local' does not exist" in result.err
    )
