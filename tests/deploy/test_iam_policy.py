"""The reconciler's IAM policy grants exactly the AWS actions its code calls: no fewer (AccessDenied in
production) and no more (least privilege).

The calls are found by static analysis of ``reconciler/`` without ``reconciler/sandbox/`` (the emulator's own
calls are not the daemon's). For every AWS service the code makes a client of (``.client("ecs")``, see
``reconciler/live/clients.py``), botocore's model names its operations; an operation is called when its
snake_case name appears in the source as an attribute (``ecs.create_service(``, ``client.list_tags_for_resource``
passed as a function) or as a string (``paginate(ecs, "list_clusters", …)``, ``getattr(aas, "put_scaling_policy")``,
a waiter name such as ``"services_inactive"``, which stands for the operation the waiter polls).

Several services share operation names (``create_service`` is ECS and Cloud Map; ``tag_resource`` five of them).
A name counts for the service of its receiver: the variable the file assigned a client to
(``cloud_map = await clients.client("servicediscovery")``), else a variable named after a service's client as the
code names them when passing one around (``ecs``, ``elbv2``, ``aas``, …); a string passed to a call together with
a client (``paginate(ecs, "list_services", …)``) has that client as its receiver. Without one (a string in a
table, a variable whose name says nothing), it counts for the one service, among those the file makes clients of,
that has the name. An attribution that stays ambiguous, or that no client explains, fails the test: it never
guesses, and it never counts a name for a service whose client is not at hand.

Some AWS actions are authorised by a call without being its name (``IMPLIED``, each with its reason): passing a
role, service-linked roles created on first use, the checks Application Auto Scaling makes on the caller, tags
sent with a create request. The code makes no DynamoDB client (the lease is not written yet), so the policy grants
no ``dynamodb:`` action; the test will ask for them when the lease lands.

One action is granted that no call in ``reconciler/`` needs to name (``TARGETS``): ``sts:AssumeRole`` on the role
each target of targets.yaml names (``deploy/cloudformation/target-role.yaml``), made with the task role's own
credentials, then again before the target's credentials expire. botocore's refreshing credentials can make that
call on the code's behalf, where no operation name in the source shows it; the test asks for it either way.

The CloudFormation bootstrap template repeats the policy inline in the task role (a template cannot include a
file); another test holds the two to the same statements, actions and conditions. A last one checks each
statement's resources against cfn-lint's copy of AWS's Service Authorization Reference: an action that takes no
resource ARN must be granted on "*" (under ARNs IAM would deny it), and a statement's ARNs must be of a resource
type its actions take.
"""

from __future__ import annotations

import ast
import importlib.resources
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import yaml
from botocore.exceptions import DataNotFoundError

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "reconciler"
EXCLUDED = (SOURCE / "sandbox",)
POLICY = REPO / "deploy" / "iam" / "reconciler-policy.json"
READ_ONLY_POLICY = REPO / "deploy" / "iam" / "reconciler-plan-readonly-policy.json"
TEMPLATE = REPO / "deploy" / "cloudformation" / "bootstrap.yaml"

# botocore's service name → the IAM action prefix. For these services an IAM action has its operation's name.
IAM_PREFIX = {
    "ecs": "ecs",
    "elbv2": "elasticloadbalancing",
    "application-autoscaling": "application-autoscaling",
    "servicediscovery": "servicediscovery",
    "codedeploy": "codedeploy",
    "sts": "sts",
    "ec2": "ec2",
    "dynamodb": "dynamodb",
    "sqs": "sqs",
}
# What the code names a client of each service when it passes one around (``async def _read_kind(aas, …)``).
CLIENT_NAMES = {
    "ecs": "ecs",
    "elbv2": "elbv2",
    "aas": "application-autoscaling",
    "servicediscovery": "servicediscovery",
    "codedeploy": "codedeploy",
    "sts": "sts",
    "ec2": "ec2",
    "dynamodb": "dynamodb",
    "sqs": "sqs",
}
# Variables that never hold an AWS client, though their attributes may share an operation's name: aiohttp's
# request in server.py (``request.query``, the query string, is not DynamoDB's Query).
NOT_CLIENTS = frozenset({"request"})
# Calls authorised by another action's name: SQS's batch calls need the single call's action ("Amazon SQS batch
# actions" in the SQS Developer Guide); there is no sqs:DeleteMessageBatch action to grant.
AUTHORISED_AS = {"sqs:DeleteMessageBatch": "sqs:DeleteMessage"}

_SCALING_CHECKS = ("cloudwatch:DescribeAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms")
# Actions AWS authorises on a call besides the call's own action: "called action → what it also needs".
IMPLIED: dict[str, tuple[str, ...]] = {
    # taskRoleArn / executionRoleArn of a task definition (condition iam:PassedToService ecs-tasks.amazonaws.com)
    "ecs:RegisterTaskDefinition": ("iam:PassRole",),
    # serviceRoleArn of a deployment group (condition iam:PassedToService codedeploy.amazonaws.com)
    "codedeploy:CreateDeploymentGroup": ("iam:PassRole",),
    "codedeploy:UpdateDeploymentGroup": ("iam:PassRole",),
    # CreateDeployment reads the group's deployment config and registers the AppSpec revision it is given
    # (the minimal policy of aws-actions/amazon-ecs-deploy-task-definition for CODE_DEPLOY services)
    "codedeploy:CreateDeployment": (
        "codedeploy:GetDeploymentConfig",
        "codedeploy:RegisterApplicationRevision",
    ),
    # AWSServiceRoleForElasticLoadBalancing is created by the account's first load balancer
    "elasticloadbalancing:CreateLoadBalancer": ("iam:CreateServiceLinkedRole",),
    # Register creates AWSServiceRoleForApplicationAutoScaling_ECSService on first use; a ScalableTarget's Tags
    # are sent with it (tag on create); and Application Auto Scaling validates that the caller may itself use the
    # target service and CloudWatch alarms (ecs:DescribeServices and ecs:UpdateService are called anyway).
    "application-autoscaling:RegisterScalableTarget": (
        "iam:CreateServiceLinkedRole",
        "application-autoscaling:TagResource",
        "ecs:DescribeServices",
        "ecs:UpdateService",
        *_SCALING_CHECKS,
    ),
    "application-autoscaling:PutScalingPolicy": _SCALING_CHECKS,
}
# Needed for targets (targets.yaml): each target's role is assumed with the task role's credentials, whether the
# code calls AssumeRole itself or botocore's refreshing credentials call it for the code.
TARGETS = frozenset({"sts:AssumeRole"})


@dataclass(frozen=True)
class Use:
    """One mention of an operation (or waiter) name in the source."""

    file: Path
    line: int
    name: str
    receiver: str | None  # the variable the attribute is read from; None for a string


@dataclass(frozen=True)
class Operations:
    """Per snake_case name: the (service, OperationName) pairs it may stand for, operations and waiters alike."""

    by_name: dict[str, set[tuple[str, str]]]

    @classmethod
    def of(cls, services: set[str]) -> Operations:
        session = botocore.session.get_session()
        by_name: dict[str, set[tuple[str, str]]] = {}
        for service in services:
            for operation in session.get_service_model(service).operation_names:
                by_name.setdefault(botocore.xform_name(operation), set()).add((service, operation))
            try:
                waiters = session.get_waiter_model(service)
            except DataNotFoundError:  # the service has no waiters
                continue
            for waiter in waiters.waiter_names:
                polled = waiters.get_waiter(waiter).operation
                by_name.setdefault(botocore.xform_name(waiter), set()).add((service, polled))
        return cls(by_name)


def source_files() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*.py") if not any(p.is_relative_to(e) for e in EXCLUDED))


def _client_call(node: ast.AST | None) -> str | None:
    """``"ecs"`` for ``….client("ecs")``, ``await ….client("ecs")`` or ``….transient("ec2")``; else None."""
    if isinstance(node, ast.Await):
        node = node.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("client", "transient")
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


@dataclass
class Module:
    """One source file: the services it makes clients of, and what each variable holding a client is."""

    path: Path
    tree: ast.Module
    clients: set[str]  # every ``.client("…")`` in the file
    variables: dict[str, set[str]]  # ``cloud_map = await clients.client("servicediscovery")`` → cloud_map

    @classmethod
    def parse(cls, path: Path) -> Module:
        tree = ast.parse(path.read_text(), filename=str(path))
        clients = {s for node in ast.walk(tree) if (s := _client_call(node))}
        variables: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and (service := _client_call(node.value)):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        variables.setdefault(target.id, set()).add(service)
        return cls(path, tree, clients, variables)

    def service_named(self, variable: str | None) -> str | None:
        """The service of the client this variable holds: assigned in this file, or named by convention."""
        if variable is None:
            return None
        assigned = self.variables.get(variable, set())
        if len(assigned) == 1:
            return next(iter(assigned))
        return None if assigned else CLIENT_NAMES.get(variable)

    def mentions(self, names: set[str]) -> Iterator[Use]:
        """Attributes and strings that are operation names; a string passed to a call along with a client
        (``paginate(ecs, "list_services", …)``) has that client as its receiver."""
        string_receivers: dict[int, str] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                clients = [a.id for a in node.args if isinstance(a, ast.Name) and self.service_named(a.id)]
                for arg in node.args:
                    if clients and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        string_receivers[id(arg)] = clients[0]
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute) and node.attr in names:
                receiver = node.value.id if isinstance(node.value, ast.Name) else None
                if receiver not in NOT_CLIENTS:
                    yield Use(self.path, node.lineno, node.attr, receiver)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                yield Use(self.path, node.lineno, node.value, string_receivers.get(id(node)))


@dataclass
class CodeActions:
    actions: dict[str, list[str]]  # IAM action → where the code calls it (file:line)
    unexplained: list[str]  # mentions no client explains, or more than one could
    services: set[str]


def code_actions() -> CodeActions:
    modules = [Module.parse(path) for path in source_files()]
    services = set().union(*(m.clients for m in modules))
    operations = Operations.of(services)
    found = CodeActions(actions={}, unexplained=[], services=services)
    for module in modules:
        for use in module.mentions(set(operations.by_name)):
            candidates = operations.by_name[use.name]
            named = module.service_named(use.receiver)
            if named is not None:
                matching = {c for c in candidates if c[0] == named}
            else:  # a string in a table, or a client under a name that says nothing: the file's clients
                matching = {c for c in candidates if c[0] in module.clients}
            where = f"{module.path.relative_to(REPO)}:{use.line}"
            if len(matching) != 1:
                options = sorted(f"{s}:{o}" for s, o in candidates)
                found.unexplained.append(f"{where} {use.name} could be any of {options}")
                continue
            ((service, operation),) = matching
            action = f"{IAM_PREFIX[service]}:{operation}"
            found.actions.setdefault(AUTHORISED_AS.get(action, action), []).append(where)
    return found


def with_implied(called: set[str]) -> set[str]:
    return called | {needed for action in called for needed in IMPLIED.get(action, ())}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return [found] if isinstance(found, dict) else list(found)


def actions_of(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def policy_actions(document: dict[str, Any]) -> set[str]:
    return {a for s in statements(document) if s["Effect"] == "Allow" for a in actions_of(s)}


# --- CloudFormation YAML: short-form intrinsics (!Ref, !Sub, …) read as their long form -------------------------


class TemplateLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus CloudFormation's short-form tags: ``!Ref X`` → ``{"Ref": "X"}``,
    ``!GetAtt A.B`` → ``{"Fn::GetAtt": ["A", "B"]}``, ``!Sub s`` → ``{"Fn::Sub": s}``, and so on."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=TemplateLoader)  # a SafeLoader
    return loaded


def task_role_policy(template: dict[str, Any]) -> dict[str, Any]:
    (policy,) = template["Resources"]["TaskRole"]["Properties"]["Policies"]
    document: dict[str, Any] = policy["PolicyDocument"]
    return document


# --- the tests ----------------------------------------------------------------------------------------------------


def test_the_policy_grants_exactly_the_actions_the_code_calls() -> None:
    found = code_actions()
    assert not found.unexplained, (
        "calls no client explains (name the client after its service):\n" + "\n".join(found.unexplained)
    )
    assert found.services <= set(IAM_PREFIX), f"clients of services this test cannot map: {found.services}"
    needed = with_implied(set(found.actions)) | TARGETS
    granted = policy_actions(json.loads(POLICY.read_text()))

    missing = sorted(needed - granted)
    extra = sorted(granted - needed)
    assert not missing and not extra, (
        f"{POLICY.relative_to(REPO)} differs from the code.\n"
        + "".join(
            f"  missing (called at {', '.join(found.actions.get(a, ['implied']))}): {a}\n" for a in missing
        )
        + "".join(f"  granted but never called: {a}\n" for a in extra)
    )


def test_the_analysis_sees_every_way_the_code_names_a_call() -> None:
    """Not vacuous: each form of mention is found, and each shared name lands on the right service only."""
    actions = code_actions().actions
    assert {
        "ecs:CreateService",  # ecs.create_service(…)
        "servicediscovery:CreateService",  # client.create_service(…), in the Cloud Map writer
        "codedeploy:ListTagsForResource",  # client.list_tags_for_resource passed as a function
        "ecs:ListClusters",  # paginate(ecs, "list_clusters", …)
        "application-autoscaling:DescribeScalingPolicies",  # READS table → get_paginator(operation)
        "elasticloadbalancing:SetSubnets",  # LOAD_BALANCER_CALLS table → getattr(elbv2, …)
        "ecs:DescribeServices",  # also the "services_inactive" waiter
        "elasticloadbalancing:DescribeTags",  # elbv2.describe_tags in a module that makes no client
        "ec2:DescribeSubnets",
        "sts:GetCallerIdentity",
    } <= set(actions)
    waiter = [w for w in actions["ecs:DescribeServices"] if w.startswith("reconciler/apply/ecs.py")]
    assert waiter, "the services_inactive waiter of apply/ecs.py polls DescribeServices"
    # ECS service tags hold the scaling facts: aas code tags the *ECS* service, never a scaling resource
    assert "application-autoscaling:TagResource" not in actions
    assert "ecs:ListTagsForResource" not in actions  # only Cloud Map's and CodeDeploy's are called
    # the lease: its table made when missing, the item put (taken, renewed) and deleted (released)
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",  # the table_exists waiter
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",  # --shards auto: the live members
        "dynamodb:GetItem",  # the caches' snapshot: its head item
        "dynamodb:BatchGetItem",  # ... its chunks
        "dynamodb:BatchWriteItem",  # ... written, and the last one's deleted
    }


def test_an_attribute_of_a_web_request_is_no_aws_call(tmp_path: Path) -> None:
    """A request's ``query`` is not DynamoDB's Query, even in a file that makes a DynamoDB client."""
    source = tmp_path / "server.py"
    source.write_text(
        'dynamodb = clients.client("dynamodb")\n'
        'found = dynamodb.query(TableName="t")\n'
        'target = request.query.get("target")\n'
    )
    uses = Module.parse(source).mentions({"query"})
    assert [(use.line, use.receiver) for use in uses] == [(2, "dynamodb")]


def test_the_bootstrap_task_role_holds_the_same_statements_as_the_policy_file() -> None:
    template_policy = task_role_policy(load_template())
    file_policy = json.loads(POLICY.read_text())

    assert policy_actions(template_policy) == policy_actions(file_policy), {
        "only in the template": sorted(policy_actions(template_policy) - policy_actions(file_policy)),
        "only in the JSON file": sorted(policy_actions(file_policy) - policy_actions(template_policy)),
    }
    by_sid = {s["Sid"]: (actions_of(s), s.get("Condition")) for s in statements(file_policy)}
    assert {s["Sid"]: (actions_of(s), s.get("Condition")) for s in statements(template_policy)} == by_sid


def test_roles_are_passed_and_service_linked_roles_created_only_for_the_services_that_need_them() -> None:
    for document in (json.loads(POLICY.read_text()), task_role_policy(load_template())):
        passed = {
            s["Condition"]["StringEquals"]["iam:PassedToService"]
            for s in statements(document)
            if "iam:PassRole" in actions_of(s)
        }
        # ECS assumes the roles of a blue/green service's traffic shift and lifecycle hooks
        assert passed == {"ecs-tasks.amazonaws.com", "codedeploy.amazonaws.com", "ecs.amazonaws.com"}
        (linked,) = [s for s in statements(document) if "iam:CreateServiceLinkedRole" in actions_of(s)]
        assert set(linked["Condition"]["StringEquals"]["iam:AWSServiceName"]) == {
            "elasticloadbalancing.amazonaws.com",
            "ecs.application-autoscaling.amazonaws.com",
        }
        for statement in statements(document):
            assert statement["Effect"] == "Allow"
            assert not any("*" in a for a in actions_of(statement)), "no wildcard actions"
            if actions_of(statement) & {"iam:PassRole", "iam:CreateServiceLinkedRole"}:
                assert statement["Resource"] != "*", statement["Sid"]


def _service_authorization_reference() -> dict[str, Any]:
    """cfn-lint's copy of AWS's Service Authorization Reference: per service, each action's resource types and
    each resource type's ARN formats (cfn-lint is pinned in pyproject.toml)."""
    data = importlib.resources.files("cfnlint") / "data" / "AdditionalSpecs" / "Policies.json"
    loaded: dict[str, Any] = json.loads(data.read_text())
    return loaded


def _arn_format(arn_format: str) -> re.Pattern[str]:
    """A resource type's ARN format (``arn:${Partition}:ecs:${Region}:${Account}:cluster/.*``) as a regex that a
    policy's ARN pattern (``arn:aws:ecs:*:*:cluster/*``) matches, ``*`` and all, when it names that type."""
    regex = ""
    for part in re.split(r"(\$\{[^}]+\}|\.\*)", arn_format):
        if part == "${Partition}":
            regex += "aws"
        elif part in ("${Region}", "${Account}"):
            regex += "[^:]*"
        elif part == ".*" or part.startswith("${"):
            regex += ".*"
        else:
            regex += re.escape(part)
    return re.compile(regex + r"\Z")


def _glob(resource: str | dict[str, str]) -> str:
    """A policy resource as a glob; the template's ``!Sub`` ARNs with their account and region as ``*``."""
    if isinstance(resource, str):
        return resource
    arn = resource["Fn::Sub"].replace("${AWS::Partition}", "aws")
    return re.sub(r"\$\{AWS::[A-Za-z]+\}", "*", arn)


def test_a_statement_names_resources_only_for_actions_that_take_those_resource_arns() -> None:
    """An action that takes no resource ARN, put in a statement with ARNs, is denied: it must be on "*". And a
    scoped statement must name, for each of its actions, ARNs of a resource type that the action takes."""
    reference = _service_authorization_reference()
    documents = [json.loads(path.read_text()) for path in (POLICY, READ_ONLY_POLICY)]
    for document in (*documents, task_role_policy(load_template())):
        for statement in statements(document):
            resources = statement["Resource"]
            if resources == "*":
                continue
            patterns = [_glob(r) for r in ([resources] if isinstance(resources, (str, dict)) else resources)]
            for action in actions_of(statement):
                prefix, name = action.split(":")
                service = reference[prefix]
                types = service["Actions"][name.lower()].get("Resources", [])
                assert types, f"{statement['Sid']}: {action} takes no resource ARN; grant it on '*'"
                formats = [_arn_format(f) for t in types for f in service["Resources"][t]["ARNFormats"]]
                assert any(f.match(p) for f in formats for p in patterns), (
                    f"{statement['Sid']}: no resource of {action} ({types}) matches {patterns}"
                )
