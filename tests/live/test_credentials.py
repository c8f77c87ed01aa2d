"""A target's clients over HTTP, against the emulator: with a role, every call acts in the role's account and
Region; a role that cannot be assumed fails each call with one error naming the target and the role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiobotocore.config import AioConfig

from reconciler.errors import Terminal
from reconciler.live.clients import AwsClients
from reconciler.live.credentials import RoleToAssume, assumed_credentials
from reconciler.model.targets import Target
from tests.conftest import BotoFactory
from tests.sandbox.test_sts_patches import OTHER, ROLE, in_account, trust


def test_the_session_name_defaults_to_the_instance() -> None:
    role = RoleToAssume.of(Target("eu", account=OTHER, role_arn=ROLE), instance="prod east")
    assert role == RoleToAssume("eu", ROLE, "reconciler-prod-east")
    assert RoleToAssume.of(Target("default"), instance="prod") is None
    named = Target("eu", role_arn=ROLE, external_id="x", session_name="mine")
    assert RoleToAssume.of(named, instance="prod") == RoleToAssume("eu", ROLE, "mine", "x")


async def test_clients_of_a_role_act_in_its_account_and_region(aws: str, boto: BotoFactory) -> None:
    in_account(boto("iam"), OTHER).create_role(
        RoleName="reconciler-target", AssumeRolePolicyDocument=trust("x-1")
    )
    role = RoleToAssume("eu", ROLE, "reconciler-test", "x-1")
    async with AwsClients(region="eu-west-1", endpoint_url=None, role=role) as clients:
        ecs = await clients.client("ecs")
        arn = (await ecs.create_cluster(clusterName="there"))["cluster"]["clusterArn"]
        await clients.check_credentials()  # assumed and fresh: nothing to say
    assert arn == f"arn:aws:ecs:eu-west-1:{OTHER}:cluster/there"
    assert boto("ecs").list_clusters()["clusterArns"] == []  # not in the process's own account


@pytest.mark.parametrize("external_id", ["wrong", None])
async def test_a_role_that_cannot_be_assumed_names_the_target_and_role(
    aws: str, boto: BotoFactory, external_id: str | None
) -> None:
    in_account(boto("iam"), OTHER).create_role(
        RoleName="reconciler-target", AssumeRolePolicyDocument=trust("x-1")
    )
    role = RoleToAssume("eu", ROLE, "reconciler-test", external_id)
    async with AwsClients(region="eu-west-1", endpoint_url=None, role=role) as clients:
        with pytest.raises(Terminal, match=f"^target eu: cannot assume role {ROLE}: "):
            await clients.check_credentials()  # what a pass asks first: it fails there, before any read
        ecs = await clients.client("ecs")
        for _ in range(2):  # every call, not only the first
            with pytest.raises(Terminal) as refused:
                await ecs.list_clusters()
            assert refused.value.code == "AccessDenied"
            assert str(refused.value).startswith(f"target eu: cannot assume role {ROLE}: ")


async def test_the_role_is_assumed_again_before_its_credentials_expire(aws: str, boto: BotoFactory) -> None:
    in_account(boto("iam"), OTHER).create_role(
        RoleName="reconciler-target", AssumeRolePolicyDocument=trust("x-1")
    )
    role = RoleToAssume("eu", ROLE, "reconciler-test", "x-1")
    clock = [datetime.now(UTC)]
    credentials = assumed_credentials(role, region="eu-west-1", endpoint_url=None, config=AioConfig(),
                                      now=lambda: clock[0])  # fmt: skip
    first = await credentials.get_frozen_credentials()
    expiry = credentials._expiry_time  # an hour from now: AssumeRole's default duration
    clock[0] = expiry - timedelta(minutes=20)  # not yet within botocore's refresh window
    assert (await credentials.get_frozen_credentials()).access_key == first.access_key
    clock[0] = expiry - timedelta(minutes=5)  # within it: assumed again
    second = await credentials.get_frozen_credentials()
    assert second.access_key != first.access_key
    assert credentials._expiry_time > expiry
