"""``metadata.ignoreDifferences``: paths as the plan prints them are accepted for every kind, and reach the
resource; unknown ones are refused at their line (the bad-input corpus has those cases)."""

from __future__ import annotations

import pytest

from reconciler.desired.spec_checker import unknown_field_path
from reconciler.model.kinds import KINDS
from reconciler.shapes import BotocoreSpecChecker

CHECKER = BotocoreSpecChecker()


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("Service", "desiredCount"),
        ("Service", "deploymentConfiguration.alarms"),
        ("Service", "networkConfiguration.awsvpcConfiguration.subnets"),
        ("Service", "loadBalancers[0].targetGroupArn"),
        ("Service", "tags.CostCenter"),
        ("TaskDefinition", "containerDefinitions[app].image"),
        ("TaskDefinition", "containerDefinitions[app].environment[LOG_LEVEL]"),
        ("TaskDefinition", "containerDefinitions[app].logConfiguration.options.awslogs-group"),
        ("Listener", "DefaultActions"),
        ("TargetGroup", "HealthCheckPath"),
        ("ScalableTarget", "MinCapacity"),
        ("DiscoveryService", "RoutingPolicy"),  # lifted out of DnsConfig in the plan's form
        ("DiscoveryService", "DnsConfig.DnsRecords[A].TTL"),
    ],
)
def test_a_path_as_the_plan_prints_it_is_known(kind: str, path: str) -> None:
    assert unknown_field_path(KINDS[kind], path, CHECKER) == ""


@pytest.mark.parametrize(
    ("kind", "path", "unknown"),
    [
        ("Service", "desiredCounts", "desiredCounts: unknown field (did you mean 'desiredCount'?)"),
        ("Service", "deploymentConfiguration.alarm", "deploymentConfiguration.alarm: unknown field"),
        (
            "TaskDefinition",
            "containerDefinitions[app].imagee",
            "containerDefinitions[0].imagee: unknown field",
        ),
        ("Listener", "RoutingPolicy", "RoutingPolicy: unknown field"),
    ],
)
def test_an_unknown_path_says_where_it_went_wrong(kind: str, path: str, unknown: str) -> None:
    assert unknown in unknown_field_path(KINDS[kind], path, CHECKER)
