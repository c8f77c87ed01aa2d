"""targets.yaml through the command line and the daemon, end to end: ``reconciler plan`` and ``apply`` over the
targets a desired-state directory declares, and ``reconciler run``'s fleet following the directory as it gains
and loses a target."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.runtime.one_shot import clients_of
from reconciler.runtime.options import fleet_of
from reconciler.settings import Settings
from tests.conftest import CLI, BotoFactory
from tests.e2e.test_daemon import eventually, free_port
from tests.e2e.test_targets import ESTATE, REFUSED, TARGETS, Accounts, network, prepared, status


def write_estate(root: Path, targets: dict[str, dict[str, Any]]) -> None:
    """targets.yaml with ``targets`` (each with its variables), a folder per target holding the estate."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "targets.yaml").write_text(
        yaml.safe_dump({"targets": targets, "folders": {n: n for n in targets}})
    )
    for name in targets:
        (root / name).mkdir(exist_ok=True)
        (root / name / "estate.yaml").write_text(ESTATE)


def declared(accounts: Accounts, *, refused: bool = False) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = {}
    for target in (*TARGETS, *((REFUSED,) if refused else ())):
        entry: dict[str, Any] = {"account": target.account, "region": target.region, "roleArn": target.role_arn,
                                 "externalId": target.external_id}  # fmt: skip
        if target in TARGETS:
            entry["vars"] = network(accounts, target)
        else:
            entry["vars"] = {"SUBNET": "subnet-0", "SECURITY_GROUP": "sg-0", "EXECUTION_ROLE_ARN": "none"}
        targets[target.name] = entry
    return targets


def test_plan_and_apply_over_targets_yaml(aws: str, boto: BotoFactory, cli: CLI, tmp_path: Path) -> None:
    accounts = prepared(boto)
    root = tmp_path / "desired-state"
    write_estate(root, declared(accounts, refused=True))
    result = cli("plan", str(root))
    assert result.code == 1, result.err
    assert "b-wrong" in result.err and "AccessDenied" in result.err
    allowed = ("--allowed-targets", "a-east,a-west,b-east")
    assert cli("plan", str(root), *allowed).code == 2
    result = cli("apply", str(root), *allowed)
    assert result.code == 0, result.out + result.err
    assert all(accounts.desired_count(target) == 1 for target in TARGETS)
    assert cli("plan", str(root), *allowed).code == 0
    assert boto("ecs").list_clusters()["clusterArns"] == []  # nothing in the process's own account


def test_a_target_without_a_role_is_the_process_own_account_in_its_region(
    aws: str, boto: BotoFactory, cli: CLI, tmp_path: Path
) -> None:
    """The reconciler's own documents, in the account it runs in: no role to assume, the target's Region."""
    ec2 = boto("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    variables = {
        "SUBNET": ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"],
        "SECURITY_GROUP": ec2.create_security_group(VpcId=vpc, GroupName="app", Description="app")["GroupId"],
        "EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    }
    boto("iam").create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument="{}")
    root = tmp_path / "desired-state"
    write_estate(root, {"home-west": {"account": "123456789012", "region": "us-west-2", "vars": variables}})
    result = cli("apply", str(root))
    assert result.code == 0, result.out + result.err
    (arn,) = boto("ecs", region_name="us-west-2").list_clusters()["clusterArns"]
    assert arn == "arn:aws:ecs:us-west-2:123456789012:cluster/apps"
    assert boto("ecs").list_clusters()["clusterArns"] == []  # not in the process's own Region


def test_a_target_without_a_role_in_another_account_is_refused_before_any_call(
    aws: str, boto: BotoFactory, cli: CLI, tmp_path: Path
) -> None:
    """The process's own credentials are of 123456789012: a role-less target naming another account is never
    read or written as if it were that account."""
    root = tmp_path / "desired-state"
    variables = {"SUBNET": "subnet-1", "SECURITY_GROUP": "sg-1", "EXECUTION_ROLE_ARN": "ecsTaskExecutionRole"}
    write_estate(root, {"elsewhere": {"account": "111111111111", "region": "us-west-2", "vars": variables}})
    for command in ("plan", "apply"):
        result = cli(command, str(root))
        assert result.code == 1, result.out + result.err
        assert (
            "target elsewhere: the reconciler's own credentials are of account 123456789012, not 111111111111"
            in (result.out + result.err)
        )
    assert boto("ecs", region_name="us-west-2").list_clusters()["clusterArns"] == []


async def test_the_daemon_follows_the_targets_of_the_directory(
    aws: str, boto: BotoFactory, tmp_path: Path
) -> None:
    accounts = prepared(boto)
    root = tmp_path / "desired-state"
    targets = declared(accounts)
    write_estate(root, {name: targets[name] for name in ("a-east", "b-east")})
    port = free_port()
    settings = Settings(dir=root, listen=f"127.0.0.1:{port}", interval=60, debounce_ms=50)
    base = f"http://127.0.0.1:{port}"
    async with clients_of(settings) as home:
        fleet = fleet_of(settings, home)
        task = asyncio.create_task(fleet.run())
        try:
            a_east, a_west, b_east = TARGETS
            for target in (a_east, b_east):
                await eventually(lambda t=target: accounts.desired_count(t) == 1)  # type: ignore[misc]
            assert accounts.client(a_west, "ecs").list_clusters()["clusterArns"] == []
            # a-west declared: its loop starts and converges it; b-east dropped: its loop stops, nothing deleted
            shutil.rmtree(root / "b-east")
            write_estate(root, {name: targets[name] for name in ("a-east", "a-west")})
            await eventually(lambda: accounts.desired_count(a_west) == 1)
            await eventually(lambda: set(fleet.loops) == {"a-east", "a-west"})
            body = await status(base)
            assert [t["name"] for t in body["targets"]] == ["a-east", "a-west"]
            assert {r["target"] for r in body["resources"]} == {"a-east", "a-west"}
            assert accounts.desired_count(b_east) == 1  # left as it was
        finally:
            fleet.stop()
            await asyncio.wait_for(task, timeout=15)


@pytest.mark.parametrize(
    ("break_it", "where", "says"),
    [
        (  # b-east's service runs a-east's task definition: a reference across targets
            lambda root: (root / "b-east" / "estate.yaml").write_text(
                ESTATE.replace(
                    "kind: TaskDefinition\nmetadata: {name: web}",
                    "kind: TaskDefinition\nmetadata: {name: web-b}",
                )
            ),
            "b-east/estate.yaml:",
            "never cross targets",
        ),
        (  # a document naming a target targets.yaml does not declare
            lambda root: (root / "a-east" / "extra.yaml").write_text(
                "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: more, target: nowhere}\nspec: {}\n"
            ),
            "a-east/extra.yaml:3",
            "nowhere",
        ),
        (  # one folder mapped twice
            lambda root: (root / "targets.yaml").write_text(
                (root / "targets.yaml").read_text().replace("folders:\n", "folders:\n  a-east/: a-west\n")
            ),
            "targets.yaml:",
            "mapped twice",
        ),
    ],
    ids=["reference-across-targets", "unknown-target", "folder-mapped-twice"],
)
def test_an_invalid_targets_estate_is_refused_at_its_line_and_nothing_is_written(
    aws: str, boto: BotoFactory, cli: CLI, tmp_path: Path, break_it: Any, where: str, says: str
) -> None:
    accounts = prepared(boto)
    root = tmp_path / "desired-state"
    write_estate(root, declared(accounts))
    break_it(root)
    for command in ("validate", "plan", "apply"):
        result = cli(command, str(root))
        assert result.code == 1, (command, result.out, result.err)
        problem = next((line for line in (result.out + result.err).splitlines() if where in line), "")
        assert says in problem, (command, result.out + result.err)
    assert all(accounts.desired_count(target) == -1 for target in TARGETS)  # no cluster in any target
    assert boto("ecs").list_clusters()["clusterArns"] == []
