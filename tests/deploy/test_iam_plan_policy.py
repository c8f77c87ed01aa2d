"""The plan's read-only IAM policy (the pull-request workflow's role) grants reads only, and every read of the
reconciler's own policy that a plan may make.

What a plan really calls is recorded against the emulator in ``tests/e2e/test_plan_readonly_policy.py``; here, the
policy's own text: every action a read by its name, of a real action of its service, no wildcard, nothing but
Allow; and the same reads as ``reconciler-policy.json`` (which ``test_iam_policy.py`` holds to the code) but
those only other commands make, so a read the code adds reaches both policies. Its resources are checked with
the other policy's (``test_iam_policy.py``)."""

from __future__ import annotations

import json
import re

import pytest

from tests.deploy.test_iam_policy import (
    POLICY,
    READ_ONLY_POLICY,
    _service_authorization_reference,
    actions_of,
    policy_actions,
    statements,
)

READS = ("Describe", "List", "Get", "BatchGet")  # the action names of reads in the services the plan calls
# reads of reconciler-policy.json that a plan never makes, and why
NOT_FOR_PLANS = {
    "dynamodb:DescribeTable": "the leader lease of the daemon (--lease-table); a plan takes no lease",
    "dynamodb:GetItem": "the daemon's caches kept in the lease table; a plan keeps none",
    "dynamodb:BatchGetItem": "the daemon's caches kept in the lease table; a plan keeps none",
    "cloudwatch:DescribeAlarms": "checked by Application Auto Scaling on the writes that register scaling",
}


def is_read(action: str) -> bool:
    return action.split(":", 1)[1].startswith(READS)


@pytest.mark.parametrize(
    ("action", "read"),
    [
        ("ecs:DescribeServices", True),
        ("codedeploy:BatchGetDeploymentGroups", True),
        ("ecs:UpdateService", False),
        ("elasticloadbalancing:ModifyTargetGroup", False),
        ("ecs:TagResource", False),
        ("codedeploy:GetDeploymentConfig", True),
        ("ecs:*", False),
    ],
)
def test_what_counts_as_a_read(action: str, read: bool) -> None:
    assert is_read(action) is read


def test_the_read_only_policy_grants_reads_of_real_actions_and_nothing_else() -> None:
    document = json.loads(READ_ONLY_POLICY.read_text())
    reference = _service_authorization_reference()
    for statement in statements(document):
        assert set(statement) == {"Sid", "Effect", "Action", "Resource"}, statement  # no NotAction, no Deny
        assert statement["Effect"] == "Allow"
        for action in actions_of(statement):
            assert "*" not in action and "?" not in action, f"{action}: no wildcard"
            assert is_read(action), f"{statement['Sid']}: {action} is not a read"
            prefix, name = action.split(":")
            assert name.lower() in reference[prefix]["Actions"], f"{action} is no action of {prefix}"


def test_the_read_only_policy_holds_the_reconciler_policy_s_reads_but_those_no_plan_makes() -> None:
    granted = policy_actions(json.loads(READ_ONLY_POLICY.read_text()))
    reads = {a for a in policy_actions(json.loads(POLICY.read_text())) if is_read(a)}
    assert NOT_FOR_PLANS.keys() <= reads, "a read no longer in reconciler-policy.json: drop it here"
    assert granted == reads - NOT_FOR_PLANS.keys(), {
        "missing": sorted(reads - NOT_FOR_PLANS.keys() - granted),
        "not a read of reconciler-policy.json": sorted(granted - reads),
    }


def test_the_documented_trust_policy_admits_pull_requests_of_one_repository_only() -> None:
    readme = (READ_ONLY_POLICY.parent / "README.md").read_text()
    (block,) = re.findall(r"```json\n(.*?)```", readme.split("### Its trust policy")[1], flags=re.S)
    (statement,) = json.loads(block)["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/token.actions.githubusercontent.com")
    assert set(statement["Condition"]) == {"StringEquals"}  # no StringLike: no wildcard in the subject
    condition = statement["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert re.fullmatch(
        r"repo:[\w.-]+/[\w.-]+:pull_request", condition["token.actions.githubusercontent.com:sub"]
    )
