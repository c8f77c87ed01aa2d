"""A service that ECS deploys itself (BLUE_GREEN, LINEAR, CANARY) on the happy path, and what its rules must not
reject. The bad inputs themselves, each at its FILE:LINE, are in ``corpus_strategies``."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.model.references import declared_by_reference, dependencies
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus_strategies import strategy_estate
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()


def loaded(tmp_path: Path, files: dict[str, str | bytes]) -> DesiredState:
    write_tree(tmp_path / "ds", files)
    return load_desired_state(tmp_path / "ds", check_spec=CHECKER)


def test_a_blue_green_estate_loads_and_the_service_waits_for_its_pair_and_rules(tmp_path: Path) -> None:
    desired = loaded(tmp_path, strategy_estate())
    service = desired.get("Service", "web")
    assert service is not None
    needs = dependencies(service, declared_by_reference(desired))
    assert {
        ResourceKey("TargetGroup", "web-tg"), ResourceKey("TargetGroup", "web-tg-green"),
        ResourceKey("ListenerRule", "web-prod"), ResourceKey("ListenerRule", "web-test"),
    } <= needs  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        # ARNs are taken as written: nothing to resolve, nothing to dangle
        ("alternateTargetGroupArn: web-tg-green",
         "alternateTargetGroupArn: arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/1"),
        ("testListenerRule: web-test",
         "testListenerRule: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/a/1/2/3"),
        # a role by ARN, as any role field
        ("roleArn: ecs-infrastructure", "roleArn: arn:aws:iam::123456789012:role/ecs-infrastructure"),
    ],
)  # fmt: skip
def test_what_the_references_accept(tmp_path: Path, change: tuple[str, str]) -> None:
    loaded(tmp_path, strategy_estate(("service.yaml", *change)))
