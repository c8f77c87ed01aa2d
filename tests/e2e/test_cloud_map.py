"""Cloud Map from Git: a ``DiscoveryService`` in the sandbox's private DNS namespace (named by its DNS
name), referenced by name from ``Service.spec.serviceRegistries``; drift on TTL and on routing policy is reported
with its path and corrected by one apply. A cluster names its Service Connect namespace by name too."""

from __future__ import annotations

import time
from typing import Any

import pytest

from reconciler.sandbox.emulator import EmulatorProcess
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


def instance_count(boto: BotoFactory, service_id: str) -> int:
    return len(boto("servicediscovery").list_instances(ServiceId=service_id)["Instances"])


def test_a_move_to_another_namespace_creates_first_and_deletes_once_the_tasks_left(
    discovered: Estate, cli: CLI, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    """AWS refuses to delete a Cloud Map service while tasks are registered in it, and ECS deregisters a task
    only when it stops. A Git change of namespace creates the new service, points the ECS service at it (a new
    deployment), and deletes the old one on the apply after its tasks have stopped."""
    emulator.set_timing(ecs_rollout=8)  # the old tasks outlive the apply and the plan after it
    client = boto("servicediscovery")
    old = discovery_service(boto)
    assert instance_count(boto, old["Id"]) > 0
    vpc = boto("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]  # moto: one namespace a VPC
    client.create_private_dns_namespace(Name="other.local", Vpc=vpc)
    other = next(n["Id"] for n in client.list_namespaces()["Namespaces"] if n["Name"] == "other.local")
    discovered.edit(
        "services/wordpress-discovery.yaml", "NamespaceId: myapp.local", "NamespaceId: other.local"
    )

    plan = cli("plan", *discovered.args(), "--output", "json").json()
    changes = {(c["kind"], c["name"]): c for c in plan["changes"]}
    replace = changes["DiscoveryService", "wordpress"]
    assert (replace["action"], replace.get("createFirst")) == ("replace", True)
    assert changes["Service", "wordpress"]["action"] == "update"  # pointed at the new one, in the same apply
    result = cli("apply", *discovered.args())
    assert result.code == 0, result.out + result.err

    new = discovery_service_in(boto, other)
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"][0]
    assert [r["registryArn"] for r in service["serviceRegistries"]] == [new["Arn"]]
    assert instance_count(boto, old["Id"]) > 0  # its tasks still run: kept, shown, held
    plan = cli("plan", *discovered.args(), "--output", "json").json()
    [waiting] = plan["changes"]
    assert (waiting["name"], waiting["action"]) == (f"wordpress (replaced: {old['Id']})", "delete")
    assert "still registered in it" in waiting["held"]
    held = cli("apply", *discovered.args())
    assert (held.code, "1 not applied" in held.out) == (1, True)  # not converged: said, nothing deleted
    assert client.get_service(Id=old["Id"])["Service"]["Id"] == old["Id"]
    wait_until_settled(boto)
    assert instance_count(boto, old["Id"]) == 0 and instance_count(boto, new["Id"]) > 0

    plan = cli("plan", *discovered.args(), "--output", "json").json()
    [deletion] = plan["changes"]
    assert (deletion["kind"], deletion["action"], deletion.get("held")) == (
        "DiscoveryService",
        "delete",
        None,
    )
    assert deletion["name"] == f"wordpress (replaced: {old['Id']})"
    assert cli("apply", *discovered.args()).code == 0
    remaining = {s["Id"] for s in client.list_services()["Services"]}
    assert (old["Id"] in remaining, new["Id"] in remaining) == (False, True)
    assert cli("plan", *discovered.args()).code == 0


def test_a_replace_within_the_namespace_is_held_while_tasks_are_registered(
    discovered: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """AWS allows one service of a name in a namespace and refuses to delete one with instances: no order of
    calls replaces it, so the plan says what to do, and the apply deletes nothing."""
    old = discovery_service(boto)
    discovered.edit(
        "services/wordpress-discovery.yaml", "RoutingPolicy: MULTIVALUE", "RoutingPolicy: WEIGHTED"
    )
    plan = cli("plan", *discovered.args(), "--output", "json").json()
    change = next(c for c in plan["changes"] if c["kind"] == "DiscoveryService")
    assert change["action"] == "replace"
    assert "declare a DiscoveryService with a new name" in change["held"]
    cli("apply", *discovered.args())
    assert discovery_service(boto)["Id"] == old["Id"]
    assert instance_count(boto, old["Id"]) > 0


def discovery_service_in(boto: BotoFactory, namespace: str) -> dict[str, Any]:
    client = boto("servicediscovery")
    found = [s for s in client.list_services()["Services"] if s["Name"] == "wordpress"]
    described = [client.get_service(Id=s["Id"])["Service"] for s in found]
    [service] = [s for s in described if s["NamespaceId"] == namespace]
    return service


def test_a_namespace_that_does_not_exist_is_a_problem_of_the_file(estate: Estate, cli: CLI) -> None:
    (estate.dir / "discovery.yaml").write_text(DISCOVERY.replace("myapp.local", "nowhere.local"))
    result = cli("plan", *estate.args())
    assert result.code == 1
    assert (
        "discovery.yaml:6: spec.NamespaceId: Cloud Map namespace 'nowhere.local' does not exist" in result.err
    )


def test_a_cluster_naming_its_service_connect_namespace_by_name_plans_clean(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """CreateCluster takes the namespace by name; AWS answers with its ARN, which is the same namespace."""
    estate.edit("clusters/myapp-prod.yaml", "  settings:\n",
                "  serviceConnectDefaults: {namespace: myapp.local}\n  settings:\n")  # fmt: skip
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    (cluster,) = boto("ecs").describe_clusters(clusters=["myapp-prod"])["clusters"]
    namespace = cluster["serviceConnectDefaults"]["namespace"]
    assert namespace.endswith(f":namespace/{estate.variables['PRIVATE_NAMESPACE_ID']}"), namespace
    plan = cli("plan", *estate.args(), "--output", "json").json()
    assert plan["changes"] == [], [(c["kind"], c["action"], c["cause"], c["diff"]) for c in plan["changes"]]


def test_a_failure_threshold_other_than_one_is_not_a_replace_every_pass(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """Cloud Map keeps FailureThreshold as 1 whatever is sent (AWS no longer supports it): a document asking for 3
    is applied once, and neither the plan nor the apply after it replaces the service."""
    (estate.dir / "discovery.yaml").write_text(
        DISCOVERY.replace("FailureThreshold: 1", "FailureThreshold: 3")
    )
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    created = discovery_service(boto)
    assert created["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    plan = cli("plan", *estate.args(), "--output", "json").json()
    assert plan["changes"] == [], [(c["kind"], c["action"], c["diff"]) for c in plan["changes"]]
    assert cli("apply", *estate.args()).code == 0
    assert discovery_service(boto)["Id"] == created["Id"]
