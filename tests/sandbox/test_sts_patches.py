"""The AssumeRole patch, shown over HTTP (see patches/sts_assume_role.py): a missing role and a wrong external ID
are refused as AWS refuses them, and the credentials of a role assumed act in the role's account."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest

from tests.conftest import BotoFactory

OTHER = "111111111111"
ROLE = f"arn:aws:iam::{OTHER}:role/reconciler-target"


def trust(external_id: str | None) -> str:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "sts:AssumeRole",
    }
    if external_id is not None:
        statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def in_account(client: Any, account: str) -> Any:
    """A client whose requests the emulator puts in ``account`` (an administrator of it, making the role)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def test_role_with_external_id_is_assumed_only_with_it(boto: BotoFactory) -> None:
    in_account(boto("iam"), OTHER).create_role(
        RoleName="reconciler-target", AssumeRolePolicyDocument=trust("x-1")
    )
    sts = boto("sts")
    for wrong in ({}, {"ExternalId": "x-2"}):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            sts.assume_role(RoleArn=ROLE, RoleSessionName="ss", **wrong)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert ROLE in refused.value.response["Error"]["Message"]
    answer = sts.assume_role(RoleArn=ROLE, RoleSessionName="ss", ExternalId="x-1")
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER}:assumed-role/reconciler-target/ss"


def test_missing_role_is_refused(boto: BotoFactory) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        boto("sts").assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/nobody", RoleSessionName="ss")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_assumed_credentials_act_in_the_roles_account(boto: BotoFactory) -> None:
    in_account(boto("iam"), OTHER).create_role(
        RoleName="reconciler-target", AssumeRolePolicyDocument=trust(None)
    )
    credentials = boto("sts").assume_role(RoleArn=ROLE, RoleSessionName="ss")["Credentials"]
    theirs = boto(
        "ecs",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    arn = theirs.create_cluster(clusterName="only-there")["cluster"]["clusterArn"]
    assert f":{OTHER}:cluster/only-there" in arn
    assert boto("ecs").list_clusters()["clusterArns"] == []
    assert theirs.list_clusters()["clusterArns"] == [arn]
