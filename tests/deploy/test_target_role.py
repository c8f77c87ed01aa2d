"""The target role, deploy/cloudformation/target-role.yaml: the role the reconciler assumes in each account it manages
as a target (targets.yaml, docs/targets.md), what it may do there and who may assume it.

- Its permissions are the management statements of deploy/iam/reconciler-policy.json, statement by statement: the
  same ``Sid``, actions, conditions and resources, on its own account's resources in any Region. Not the
  reconciler's bookkeeping (the lease table, the events queue) nor ``sts:AssumeRole``: those stay with the task role
  in the account the reconciler runs in.
- Its trust policy lets one principal, the task role (a parameter), call ``sts:AssumeRole`` and nothing else (no
  ``sts:TagSession``, no ``sts:SetSourceIdentity``), and only with the external ID (a ``NoEcho`` parameter).
- It is ready for StackSets: parameters only, no account ID or Region written in.
- Its name is the one the task role may assume.

``differences`` returns what sets the template apart from the policy file; the mutation test shows it finds a
dropped action, an added one, a widened condition or resource, and bookkeeping granted in a target account. The
last test creates the stack in the emulator, with moto's CloudFormation.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.conftest import BotoFactory
from tests.deploy.test_iam_policy import (
    POLICY,
    _glob,
    actions_of,
    load_template,
    policy_actions,
    statements,
    task_role_policy,
)

REPO = Path(__file__).resolve().parents[2]
TARGET_ROLE = REPO / "deploy" / "cloudformation" / "target-role.yaml"
STACK = "reconciler-target-role"
TASK_ROLE_ARN = "arn:aws:iam::123456789012:role/reconciler-bootstrap-TaskRole-ABCDEF"
# What stays with the task role: the lease table, the events queue, assuming the target roles
BOOKKEEPING_SERVICES = ("dynamodb", "sqs")
TASK_ROLE_ONLY = frozenset({"sts:AssumeRole"})
ACCOUNT_ARN = re.compile(r"arn:\$\{AWS::Partition\}:[a-z0-9-]+:\*?:\$\{AWS::AccountId\}:\S+\Z")


def _bookkeeping(statement: dict[str, Any]) -> bool:
    kinds = {a.split(":")[0] in BOOKKEEPING_SERVICES or a in TASK_ROLE_ONLY for a in actions_of(statement)}
    assert len(kinds) == 1, f"{statement['Sid']} mixes bookkeeping and management actions"
    return kinds == {True}


def management(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy that manage the estate: all but the reconciler's bookkeeping."""
    return [s for s in statements(document) if not _bookkeeping(s)]


def _resources(statement: dict[str, Any]) -> list[str]:
    found = statement["Resource"]
    return sorted(_glob(r) for r in ([found] if isinstance(found, (str, dict)) else found))


def _condition(statement: dict[str, Any]) -> str:
    def normal(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: normal(v) for k, v in value.items()}
        return sorted(value) if isinstance(value, list) else value

    return json.dumps(normal(statement.get("Condition")), sort_keys=True)


def differences(role_policy: dict[str, Any], file_policy: dict[str, Any]) -> list[str]:
    """How the target role's policy differs from the management statements of the policy file, per ``Sid``."""
    expected = {s["Sid"]: s for s in management(file_policy)}
    found = {s["Sid"]: s for s in statements(role_policy)}
    problems = [f"{sid}: missing from the target role" for sid in sorted(expected.keys() - found.keys())]
    problems += [
        f"{sid}: not a management statement of {POLICY.name}"
        for sid in sorted(found.keys() - expected.keys())
    ]
    for sid in sorted(expected.keys() & found.keys()):
        want, got = expected[sid], found[sid]
        if missing := sorted(actions_of(want) - actions_of(got)):
            problems.append(f"{sid}: actions missing {missing}")
        if extra := sorted(actions_of(got) - actions_of(want)):
            problems.append(f"{sid}: actions added {extra}")
        if got["Effect"] != want["Effect"]:
            problems.append(f"{sid}: Effect {got['Effect']}, not {want['Effect']}")
        if _condition(got) != _condition(want):
            problems.append(f"{sid}: Condition {_condition(got)}, not {_condition(want)}")
        if _resources(got) != _resources(want):
            problems.append(f"{sid}: Resource {_resources(got)}, not {_resources(want)}")
    return problems


def _template() -> dict[str, Any]:
    return load_template(TARGET_ROLE)


def _role(template: dict[str, Any]) -> dict[str, Any]:
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 1, "one role"
    properties: dict[str, Any] = roles[0]["Properties"]
    return properties


def role_policy(template: dict[str, Any]) -> dict[str, Any]:
    (policy,) = _role(template)["Policies"]
    document: dict[str, Any] = policy["PolicyDocument"]
    return document


# --- its permissions ---------------------------------------------------------------------------------------------


def test_the_role_holds_the_management_statements_of_the_policy_file() -> None:
    file_policy = json.loads(POLICY.read_text())
    problems = differences(role_policy(_template()), file_policy)
    assert not problems, "\n".join(problems)
    # and the rest of the file is what the task role keeps for itself
    kept = policy_actions(file_policy) - policy_actions({"Statement": management(file_policy)})
    assert {a.split(":")[0] for a in kept} == {"dynamodb", "sqs", "sts"}
    assert {a for a in kept if a.startswith("sts:")} == TASK_ROLE_ONLY


def _drop(action: str) -> Callable[[dict[str, Any]], None]:
    def mutate(policy: dict[str, Any]) -> None:
        (statement,) = [s for s in statements(policy) if action in actions_of(s)]
        statement["Action"] = sorted(actions_of(statement) - {action})

    return mutate


def _add_to(sid: str, action: str) -> Callable[[dict[str, Any]], None]:
    def mutate(policy: dict[str, Any]) -> None:
        (statement,) = [s for s in statements(policy) if s["Sid"] == sid]
        statement["Action"] = sorted(actions_of(statement) | {action})

    return mutate


def _pass_roles_to_any_service(policy: dict[str, Any]) -> None:
    statement = next(s for s in statements(policy) if "iam:PassRole" in actions_of(s))
    statement["Condition"] = {"StringLike": {"iam:PassedToService": "*"}}


def _clusters_anywhere(policy: dict[str, Any]) -> None:
    statement = next(s for s in statements(policy) if "ecs:CreateCluster" in actions_of(s))
    statement["Resource"] = "*"


def _grant_the_lease_table(policy: dict[str, Any]) -> None:
    lease = next(s for s in statements(json.loads(POLICY.read_text())) if "dynamodb:PutItem" in actions_of(s))
    policy["Statement"].append(lease)


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "drop ecs:UpdateService": _drop("ecs:UpdateService"),
    "drop iam:CreateServiceLinkedRole": _drop("iam:CreateServiceLinkedRole"),
    "add ecs:ExecuteCommand": _add_to(
        "EcsClustersServicesAndTaskDefinitionTagsOfAnyNameTheRepoDeclares", "ecs:ExecuteCommand"
    ),
    "pass roles to any service": _pass_roles_to_any_service,
    "clusters on *": _clusters_anywhere,
    "grant the lease table": _grant_the_lease_table,
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_role_that_drops_adds_or_widens_anything_differs(mutation: str) -> None:
    policy = copy.deepcopy(role_policy(_template()))
    MUTATIONS[mutation](policy)
    assert differences(policy, json.loads(POLICY.read_text()))


def test_the_role_acts_on_its_own_account_in_any_region() -> None:
    for statement in statements(role_policy(_template())):
        resources = statement["Resource"]
        for resource in [resources] if isinstance(resources, (str, dict)) else resources:
            if resource == "*":
                continue
            arn = resource["Fn::Sub"]
            # this account only, never another's; any Region (prod-eu and prod-us share the role), IAM has none
            assert ACCOUNT_ARN.match(arn), arn


def test_its_name_is_the_one_the_task_role_may_assume() -> None:
    name = _role(_template())["RoleName"]
    for document in (json.loads(POLICY.read_text()), task_role_policy(load_template())):
        (statement,) = [s for s in statements(document) if "sts:AssumeRole" in actions_of(s)]
        assert actions_of(statement) == TASK_ROLE_ONLY
        assert _glob(statement["Resource"]) == f"arn:aws:iam::*:role/{name}"
        assert "Condition" not in statement


# --- who may assume it --------------------------------------------------------------------------------------------


def test_only_the_task_role_may_assume_it_and_only_with_the_external_id() -> None:
    template = _template()
    role = _role(template)
    (statement,) = statements(role["AssumeRolePolicyDocument"])
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Ref": "ReconcilerTaskRoleArn"}}
    # Not sts:TagSession nor sts:SetSourceIdentity: the reconciler passes neither session tags nor a source identity
    assert actions_of(statement) == {"sts:AssumeRole"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    # Role chaining (the task role's session assumes this role) caps a session at one hour anyway
    assert role.get("MaxSessionDuration", 3600) == 3600


def test_the_external_id_is_a_required_hidden_parameter_sts_accepts() -> None:
    parameters = _template()["Parameters"]
    external_id = parameters["ExternalId"]
    assert external_id["NoEcho"] is True
    assert "Default" not in external_id and "Default" not in parameters["ReconcilerTaskRoleArn"]
    shape = (
        botocore.session.get_session()
        .get_service_model("sts")
        .operation_model("AssumeRole")
        .input_shape.members["ExternalId"]
    )
    assert (external_id["MinLength"], external_id["MaxLength"]) == (
        shape.metadata["min"],
        shape.metadata["max"],
    )
    allowed = re.compile(external_id["AllowedPattern"])
    sts_pattern = re.compile(rf"(?:{shape.metadata['pattern']})\Z")
    for value in ("a1", "o-abc123/prod@acme.example:+=,.-_", "x" * 1224):
        assert allowed.match(value) and sts_pattern.match(value), value
    for value in ("has space", "semi;colon", "quote'"):
        assert not allowed.match(value) and not sts_pattern.match(value), value


# --- ready for StackSets ------------------------------------------------------------------------------------------


def test_the_template_has_parameters_only_and_nothing_account_specific() -> None:
    template = _template()
    text = json.dumps(template)  # the template as CloudFormation reads it: no comments
    assert not re.search(r"\b\d{12}\b", text), "an account ID written in"
    assert not re.search(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-[a-z]+-\d\b", text), (
        "a Region written in"
    )
    assert "arn:aws:" not in text, "ARNs take ${AWS::Partition}"
    assert not template.get("Conditions") and "Fn::ImportValue" not in text  # nothing a StackSet cannot give
    assert set(template["Parameters"]) == {"ReconcilerTaskRoleArn", "ExternalId"}
    assert template["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": ["Role", "Arn"]}


# --- in the emulator ----------------------------------------------------------------------------------------------


def test_the_stack_creates_the_role_as_written(aws: str, boto: BotoFactory) -> None:
    template = _template()
    cloudformation = boto("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=TARGET_ROLE.read_text(),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "ReconcilerTaskRoleArn", "ParameterValue": TASK_ROLE_ARN},
            {"ParameterKey": "ExternalId", "ParameterValue": "reconciler-4f1c2a"},
        ],
    )
    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    name = _role(template)["RoleName"]
    assert outputs["RoleArn"] == f"arn:aws:iam::123456789012:role/{name}"

    iam = boto("iam")
    role = iam.get_role(RoleName=name)["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": TASK_ROLE_ARN}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": "reconciler-4f1c2a"}}
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    inline = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    if isinstance(inline, str):  # moto's CloudFormation stores the document as a Python repr, not as JSON
        inline = ast.literal_eval(inline)
    management_actions = policy_actions({"Statement": management(json.loads(POLICY.read_text()))})
    assert policy_actions(inline) == management_actions
    # the account's own ARNs, resolved
    (clusters,) = [s for s in statements(inline) if "ecs:CreateCluster" in actions_of(s)]
    assert "arn:aws:ecs:*:123456789012:cluster/*" in clusters["Resource"]
