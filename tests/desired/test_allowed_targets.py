"""``--allowed-targets``: which targets' desired states are reconciled, and which names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.desired.allowed_targets import allowed
from reconciler.errors import InvalidDesiredState
from reconciler.model.resource import DesiredResource, DesiredState
from reconciler.model.targets import Target
from reconciler.settings import Settings
from tests.conftest import CLI


def cluster(name: str, target: str) -> DesiredResource:
    return DesiredResource(kind="Cluster", name=name, spec={}, file=f"{target}/c.yaml", line=1)


def part(target: str, *names: str) -> DesiredState:
    return DesiredState(resources=tuple(cluster(n, target) for n in names), revision="r1", target=target)


PROD = Target("prod-eu", account="111111111111", region="eu-west-1", file="targets.yaml", line=2)
STAGE = Target("staging", account="222222222222", region="us-east-1", file="targets.yaml", line=6)
EMPTY = Target("dr", account="333333333333", region="eu-central-1", file="targets.yaml", line=10)
PARTS = (part("staging", "web"), part("prod-eu", "web", "api"))  # in file order: staging's folder first
WITH_TARGETS = DesiredState(
    resources=tuple(r for p in PARTS for r in p.resources),
    revision="r1",
    targets=(PROD, STAGE, EMPTY),
    parts=PARTS,
)
WITHOUT = part("default", "web")


@pytest.mark.parametrize(
    ("desired", "option", "expected"),
    [
        (WITHOUT, [], {"default": ["web"]}),
        (WITHOUT, ["default"], {"default": ["web"]}),
        # targets.yaml's order; a declared target without documents is reconciled too (its orphans)
        (WITH_TARGETS, [], {"prod-eu": ["web", "api"], "staging": ["web"], "dr": []}),
        (WITH_TARGETS, ["staging"], {"staging": ["web"]}),
        (WITH_TARGETS, ["dr", "prod-eu"], {"prod-eu": ["web", "api"], "dr": []}),
        (WITH_TARGETS, frozenset({"staging", "dr"}), {"staging": ["web"], "dr": []}),
    ],
)
def test_only_the_allowed_targets_are_reconciled(
    desired: DesiredState, option: list[str], expected: dict[str, list[str]]
) -> None:
    found = allowed(desired, option)
    assert {name: [r.name for r in state] for name, state in found.items()} == expected
    assert list(found) == list(expected)
    assert all(state.target == name and state.revision == "r1" for name, state in found.items())


@pytest.mark.parametrize(
    ("desired", "option", "messages"),
    [
        (
            WITHOUT,
            ["prod-eu"],
            ["targets.yaml:1: --allowed-targets names 'prod-eu', which is not a target "
             "(no targets.yaml: the only target is 'default')"],
        ),
        (
            WITH_TARGETS,
            ["staging", "prod-us", "default"],
            ["targets.yaml:1: --allowed-targets names 'default', which is not a target "
             "(targets.yaml declares 'prod-eu', 'staging', 'dr')",
             "targets.yaml:1: --allowed-targets names 'prod-us', which is not a target "
             "(targets.yaml declares 'prod-eu', 'staging', 'dr')"],
        ),
        (
            WITH_TARGETS,
            ["prod\x1b[2J"],  # echoed as an escape, never sent to a terminal
            ["targets.yaml:1: --allowed-targets names 'prod\\x1b[2J', which is not a target "
             "(targets.yaml declares 'prod-eu', 'staging', 'dr')"],
        ),
    ],
)  # fmt: skip
def test_a_name_no_target_has_makes_the_desired_state_invalid(
    desired: DesiredState, option: list[str], messages: list[str]
) -> None:
    with pytest.raises(InvalidDesiredState) as raised:
        allowed(desired, option)
    assert [str(p) for p in raised.value.problems] == messages
    assert raised.value.revision == "r1"


EXAMPLE = Path(__file__).resolve().parents[2] / "desired-state"


def test_validate_and_plan_refuse_a_target_the_desired_state_does_not_declare(
    cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = (
        "targets.yaml:1: --allowed-targets names 'prod-eu', which is not a target "
        "(no targets.yaml: the only target is 'default')"
    )
    assert cli("validate", str(EXAMPLE), "--allowed-targets", "default").code == 0
    for command in ("validate", "plan", "apply"):  # refused once loaded, before AWS is asked anything
        result = cli(command, str(EXAMPLE), "--allowed-targets", "default,prod-eu")
        assert result.code == 1, (command, result.out, result.err)
        assert refused in result.err.splitlines(), command
    monkeypatch.setenv("RECONCILER_ALLOWED_TARGETS", "prod-eu, default")
    assert Settings().allowed_targets == frozenset({"prod-eu", "default"})
    assert refused in cli("validate", str(EXAMPLE)).err.splitlines()
