"""Who made a call, from CloudTrail's ``userIdentity``: one row per kind of identity.

The records are AWS's own examples, not invented shapes: the CloudTrail User Guide's "CloudTrail userIdentity
element" (an IAM user, an assumed role, a request on behalf of an IAM Identity Center user, and the field list:
``Root``'s ``userName`` is the account alias, ``AWSService`` names the service in ``invokedBy``); the IAM Identity
Center User Guide, "CloudTrail use cases for IAM Identity Center" (``onBehalfOf`` on an ``IdentityCenterUser`` or an
``Unknown`` identity), "Logging IAM Identity Center API calls with AWS CloudTrail" and "Permission sets" (a user
signed in through Identity Center acts through a role named ``AWSReservedSSO_<permission set>_<id>``, with their
user name as the session's); the IAM User Guide's "Using service-linked roles" (path ``/aws-service-role/``).
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model.principal import Principal, PrincipalType, principal_of

IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAJ45Q7YFFAREXAMPLE",
    "arn": "arn:aws:iam::123456789012:user/Alice",
    "accountId": "123456789012",
    "accessKeyId": "",
    "userName": "Alice",
}
ASSUMED_ROLE = {
    "type": "AssumedRole",
    "principalId": "AROAIDPPEZS35WEXAMPLE:AssumedRoleSessionName",
    "arn": "arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName",
    "accountId": "123456789012",
    "accessKeyId": "",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAIDPPEZS35WEXAMPLE",
            "arn": "arn:aws:iam::123456789012:role/RoleToBeAssumed",
            "accountId": "123456789012",
            "userName": "RoleToBeAssumed",
        },
        "attributes": {"mfaAuthenticated": "false", "creationDate": "20131102T010628Z"},
    },
}
IDENTITY_CENTER_USER = {
    "type": "IdentityCenterUser",
    "accountId": "123456789012",
    "onBehalfOf": {
        "userId": "544894e8-80c1-707f-60e3-3ba6510dfac1",
        "identityStoreArn": "arn:aws:identitystore::123456789012:identitystore/d-9067642ac7",
    },
    "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE",
}
SSO_SESSION = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEID:john.doe@example.com",
    "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/john.doe@example.com",
    "accountId": "123456789012",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEID",
            "arn": "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/"
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
            "accountId": "123456789012",
            "userName": "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        },
        "attributes": {"mfaAuthenticated": "false", "creationDate": "20240102T030405Z"},
    },
}
SERVICE_LINKED = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEID:AutoScaling",
    "arn": "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForApplicationAutoScaling_ECSService/AutoScaling",
    "accountId": "123456789012",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEID",
            "arn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
            "AWSServiceRoleForApplicationAutoScaling_ECSService",
            "accountId": "123456789012",
            "userName": "AWSServiceRoleForApplicationAutoScaling_ECSService",
        },
    },
    "invokedBy": "ecs.application-autoscaling.amazonaws.com",
}
ROOT = {
    "type": "Root",
    "principalId": "123456789012",
    "arn": "arn:aws:iam::123456789012:root",
    "accountId": "123456789012",
    "accessKeyId": "",
}


@pytest.mark.parametrize(
    ("identity", "kind", "name"),
    [
        (IAM_USER, PrincipalType.USER, "Alice"),
        (ASSUMED_ROLE, PrincipalType.ROLE, "RoleToBeAssumed/MySessionName"),
        (IDENTITY_CENTER_USER, PrincipalType.SSO, "544894e8-80c1-707f-60e3-3ba6510dfac1"),
        (IDENTITY_CENTER_USER | {"type": "Unknown"}, PrincipalType.SSO,  # "Your workflows should accept both"
         "544894e8-80c1-707f-60e3-3ba6510dfac1"),
        (SSO_SESSION, PrincipalType.SSO, "john.doe@example.com"),
        (SERVICE_LINKED, PrincipalType.SERVICE, "ecs.application-autoscaling.amazonaws.com"),
        ({"type": "AWSService", "invokedBy": "codedeploy.amazonaws.com"}, PrincipalType.SERVICE,
         "codedeploy.amazonaws.com"),
        (ROOT, PrincipalType.ROOT, "root"),
        (ROOT | {"userName": "acme-prod"}, PrincipalType.ROOT, "acme-prod"),  # the account's alias
        ({"type": "AWSAccount", "principalId": "AIDAEXAMPLE", "accountId": "111122223333"},
         PrincipalType.UNKNOWN, "AIDAEXAMPLE"),
        ({"type": "SomethingNew"}, PrincipalType.UNKNOWN, "SomethingNew"),
        (None, PrincipalType.UNKNOWN, ""),
        ("IAMUser", PrincipalType.UNKNOWN, ""),
        ({"type": "AssumedRole", "arn": 7}, PrincipalType.ROLE, ""),  # not the documented shape: no error
    ],
)  # fmt: skip
def test_each_kind_of_identity_is_resolved(identity: Any, kind: PrincipalType, name: str) -> None:
    principal = principal_of(identity)
    assert (principal.type, principal.name) == (kind, name)


def test_a_principal_keeps_its_arn_and_account_for_the_record() -> None:
    assert principal_of(ASSUMED_ROLE).as_json() == {
        "type": "role",
        "name": "RoleToBeAssumed/MySessionName",
        "arn": "arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName",
        "account": "123456789012",
    }
    assert principal_of(None).as_json() == {"type": "unknown", "name": ""}
    assert str(Principal(PrincipalType.USER, "", account="123456789012")) == "user of account 123456789012"
    assert str(principal_of(SSO_SESSION)) == "sso john.doe@example.com"
