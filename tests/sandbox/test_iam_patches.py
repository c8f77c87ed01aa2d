"""The IAM patch, shown over HTTP (see patches/iam_managed_policies.py)."""

from __future__ import annotations

from tests.conftest import BotoFactory


def test_aws_managed_execution_policy_can_be_attached(boto: BotoFactory) -> None:
    iam = boto("iam")
    iam.create_role(RoleName="ecsTaskExecutionRole", AssumeRolePolicyDocument="{}")
    policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    iam.attach_role_policy(RoleName="ecsTaskExecutionRole", PolicyArn=policy_arn)
    attached = iam.list_attached_role_policies(RoleName="ecsTaskExecutionRole")["AttachedPolicies"]
    assert [policy["PolicyArn"] for policy in attached] == [policy_arn]
