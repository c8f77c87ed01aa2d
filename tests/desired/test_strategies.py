"""A service that ECS deploys itself (BLUE_GREEN, LINEAR, CANARY) on the happy path, and what its rules must not
reject. The bad inputs themselves, each at its FILE:LINE, are in ``corpus_strategies``."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.desired.strategies import on_two_load_balancers
from reconciler.model.references import declared_by_reference, dependencies
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus_strategies import strategy_estate
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()
LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener"


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


_BAKE = "    bakeTimeInMinutes: 5\n"


@pytest.mark.parametrize(
    "changes",
    [
        # the edges of AWS's ranges, and a step that is a multiple of 0.1 only up to float rounding
        [("strategy: BLUE_GREEN", "strategy: LINEAR"),
         (_BAKE, f"{_BAKE}    linearConfiguration: {{stepPercent: 3.0, stepBakeTimeInMinutes: 0}}\n")],
        [("strategy: BLUE_GREEN", "strategy: LINEAR"),
         (_BAKE, f"{_BAKE}    linearConfiguration: {{stepPercent: 33.3, stepBakeTimeInMinutes: 1440}}\n")],
        [("strategy: BLUE_GREEN", "strategy: CANARY"),
         (_BAKE, f"{_BAKE}    canaryConfiguration: {{canaryPercent: 0.1, canaryBakeTimeInMinutes: 1440}}\n")],
        [("bakeTimeInMinutes: 5", "bakeTimeInMinutes: 0")],
        # LINEAR and CANARY take AWS's default steps and bake time
        [("strategy: BLUE_GREEN", "strategy: CANARY"), (_BAKE, "")],
        # a Lambda function by version or alias; a pause where a pause is allowed
        [("function:smoke-test", "function:smoke-test:live")],
        [("- hookTargetArn: arn:aws:lambda:us-east-1:123456789012:function:smoke-test\n        roleArn: ecs-hooks",
          "- targetType: PAUSE")],
        # rules given by ARN: nothing to compare across documents
        [("productionListenerRule: web-prod",
          "productionListenerRule: arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/a/1/2/3")],
        # a test rule is optional
        [("        testListenerRule: web-test\n", "")],
    ],
)  # fmt: skip
def test_what_the_strategy_rules_accept(tmp_path: Path, changes: list[tuple[str, str]]) -> None:
    loaded(tmp_path, strategy_estate(*(("service.yaml", old, new) for old, new in changes)))


def test_a_blue_green_service_without_a_load_balancer_loads(tmp_path: Path) -> None:
    """ECS deploys it blue/green without shifting traffic (Service Connect, or nothing in front)."""
    files = strategy_estate()
    service = str(files["service.yaml"])
    files["service.yaml"] = service[: service.index("  loadBalancers:")]
    loaded(tmp_path, files)


def test_rules_on_listeners_of_one_load_balancer_written_by_arn_load(tmp_path: Path) -> None:
    listener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web-alb/50dc6c495c0c9188/{}"
    files = strategy_estate(
        ("rule-prod.yaml", "ListenerArn: web-alb:80", f"ListenerArn: {listener.format('f2f7dc8efc522ab2')}"),
        (
            "rule-test.yaml",
            "ListenerArn: web-alb:8080",
            f"ListenerArn: {listener.format('0e8f8ef37cf3b2a9')}",
        ),
    )
    loaded(tmp_path, files)


@pytest.mark.parametrize(
    ("one", "other", "two"),
    [
        ("web-alb:80", "web-alb:8080", False),
        ("web-alb:80", "api-alb:8080", True),
        (f"{LISTENER_ARN}/app/web-alb/1/a", f"{LISTENER_ARN}/app/web-alb/1/b", False),
        (f"{LISTENER_ARN}/app/web-alb/1/a", f"{LISTENER_ARN}/app/api-alb/2/b", True),
        ("web-alb:80", f"{LISTENER_ARN}/app/api-alb/2/b", False),  # a name and an ARN: not known to differ
    ],
)
def test_which_listeners_surely_belong_to_two_load_balancers(one: str, other: str, two: bool) -> None:
    assert on_two_load_balancers(one, other) is two
