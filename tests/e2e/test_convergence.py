"""From an empty account to a converged estate, and no false drift afterwards."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.metrics import REGISTRY
from tests.conftest import BotoFactory
from tests.e2e.conftest import CLI, Estate, count_api_calls


def test_apply_creates_everything_and_the_next_plan_is_empty(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    first = cli("apply", *estate.args())
    assert first.code == 0, first.out + first.err
    assert " 0 failed, 0 not applied" in first.out

    plan = cli("plan", *estate.args(), "--output", "json")
    assert plan.code == 0, plan.out
    assert plan.json()["changes"] == []

    ecs = boto("ecs")
    services = ecs.describe_services(cluster="myapp-prod", services=["frontapp", "wordpress"])["services"]
    assert sorted(s["serviceName"] for s in services if s["status"] == "ACTIVE") == ["frontapp", "wordpress"]


def test_ten_further_passes_change_nothing_and_register_no_revisions(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    writes_before = count_api_calls(writes_only=True)
    for _ in range(10):
        result = cli("apply", *converged.args())
        assert result.code == 0
        assert "0 applied, 0 failed, 0 not applied" in result.out, result.out
    assert count_api_calls(writes_only=True) == writes_before

    plan = cli("plan", *converged.args())
    assert plan.code == 0 and "No changes" in plan.out
    ecs = boto("ecs")
    for family in ("frontapp", "wordpress", "scorekeep-frontend", "scorekeep-api"):
        arns: list[Any] = ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
        assert len(arns) == 1, arns


def test_plan_against_an_empty_account_changes_nothing(estate: Estate, cli: CLI, boto: BotoFactory) -> None:
    writes_before = count_api_calls(writes_only=True)
    plan = cli("plan", *estate.args(), "--output", "json")
    assert plan.code == 2
    actions = {(c["action"], c["cause"]) for c in plan.json()["changes"]}
    assert actions == {("create", "missing")}
    assert {c["kind"] for c in plan.json()["changes"]} == {
        "Cluster", "TaskDefinition", "Service", "TargetGroup", "LoadBalancer", "Listener", "ListenerRule",
        "ScalableTarget", "ScalingPolicy", "ScheduledAction", "DiscoveryService", "DeploymentGroup",
    }  # fmt: skip
    assert count_api_calls(writes_only=True) == writes_before
    assert boto("ecs").list_clusters()["clusterArns"] == []


def test_one_failing_resource_does_not_block_unrelated_ones(
    estate: Estate, cli: CLI, boto: BotoFactory
) -> None:
    """wordpress points at a subnet that does not exist: it fails, and frontapp is still created."""
    estate.set_var("WORDPRESS_SUBNET_OVERRIDE", "subnet-00000000000000000")
    estate.edit(
        "services/wordpress.yaml",
        "- ${PRIVATE_SUBNET_A}",
        "- ${WORDPRESS_SUBNET_OVERRIDE}",
    )
    result = cli("apply", *estate.args())
    assert result.code == 1
    assert "failed: Service wordpress (create)" in result.err
    services = boto("ecs").describe_services(cluster="myapp-prod", services=["frontapp", "wordpress"])[
        "services"
    ]
    assert [s["serviceName"] for s in services if s["status"] == "ACTIVE"] == ["frontapp"]


def test_a_service_removed_from_git_is_pruned_only_with_delete_policy(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    ecs = boto("ecs")
    ecs.create_service(
        cluster="myapp-prod", serviceName="by-hand", desiredCount=0
    )  # someone else's: never touched
    converged.edit(
        "services/wordpress.yaml",
        "kind: Service\nmetadata:\n  name: wordpress\n",
        "kind: Service\nmetadata:\n  name: wordpress\n  deletionPolicy: Delete\n",
    )
    assert cli("apply", *converged.args()).code == 0  # the policy is recorded in the service's tags
    text = (converged.dir / "services" / "wordpress.yaml").read_text()
    (converged.dir / "services" / "wordpress.yaml").write_text(
        text.split("---")[0]
    )  # keep only its task definition
    for path in ("load-balancers/wordpress.yaml",):
        (converged.dir / path).unlink()

    plan = cli("plan", *converged.args(), "--output", "json").json()
    assert ("Service", "wordpress", "delete", "orphan") in {
        (c["kind"], c["name"], c["action"], c["cause"]) for c in plan["changes"]
    }
    assert cli("apply", *converged.args()).code == 0
    active = {
        s["serviceName"]
        for s in ecs.describe_services(cluster="myapp-prod", services=["wordpress", "by-hand", "frontapp"])[
            "services"
        ]
        if s["status"] == "ACTIVE"
    }
    assert active == {"frontapp", "by-hand"}


def test_the_api_budget_paces_the_writes_of_a_whole_estate(
    estate: Estate, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the default share (half AWS's rates), the example estate's ~20 ELBv2 writes outrun the bucket's burst of
    10: the calls wait for tokens instead of being throttled by AWS, and the wait is counted."""
    monkeypatch.setenv("RECONCILER_API_BUDGET", "0.5")

    def waited() -> float:
        return (
            REGISTRY.get_sample_value(
                "reconciler_aws_budget_wait_seconds_total", {"service": "elastic-load-balancing-v2"}
            )
            or 0.0
        )

    before = waited()
    assert cli("apply", *estate.args()).code == 0
    assert waited() - before > 1.0
