"""The bootstrap, then the hand-over: what deploy/cloudformation/bootstrap.yaml creates is what
deploy/desired-state/ declares, so the reconciler's first pass over its own desired state adopts its cluster,
task definition and service without changing them, and the pass after that has nothing to do.

The stack is created in the emulator with moto's CloudFormation, from the real template, except where moto's
CloudFormation is not AWS's; those resources are created with boto3 calls made from the template's own properties
(its intrinsics resolved by ``Resolver``), so the template stays the single source:

- ``AWS::ECS::*``: moto's CloudFormation keeps only a service's cluster, task definition and desired count (its
  launch type becomes EC2, which the reconciler would rightly plan as a replace), a task definition's containers,
  volumes and memory, and a cluster's name. The three are registered through the ECS API from the template's
  properties instead (PascalCase → the API's camelCase, ``ClusterSettings`` → ``settings``).
- ``ManagedPolicyArns`` of a role are ignored: the policy is attached with ``AttachRolePolicy``.
- ``SecurityGroupEgress`` is added to, not substituted for, the default allow-all rule: the default rule is
  revoked and the template's rules authorised.
- A role's inline policy document is stored as a Python ``repr`` (GetRolePolicy returns that string, not a
  JSON document); the test reads it back with ``ast.literal_eval``.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.source.directory import load_directory
from tests.conftest import CLI, REGION, BotoFactory
from tests.deploy.test_iam_policy import POLICY, load_template, policy_actions

REPO = Path(__file__).resolve().parents[2]
DESIRED = REPO / "deploy" / "desired-state"
STACK = "reconciler-bootstrap"
ACCOUNT = "123456789012"  # moto's
NO_VALUE = object()  # AWS::NoValue: the property, or list item, is left out
# Where CloudFormation's property name is not the API's parameter name with its first letter lower-cased
ECS_PARAMETER_NAMES = {"ClusterSettings": "settings"}
FREE_FORM = {"Options", "DockerLabels"}  # maps whose keys are data, not property names


# --- CloudFormation's intrinsics, for the resources created outside moto's CloudFormation -----------------------


class Resolver:
    """Resolves ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::If`` (with the template's conditions) against the
    stack's parameters and the resources created so far."""

    def __init__(self, template: dict[str, Any], parameters: dict[str, str], *, region: str = REGION) -> None:
        defaults = {k: str(p["Default"]) for k, p in template["Parameters"].items() if "Default" in p}
        self.refs: dict[str, Any] = defaults | parameters
        self.refs |= {"AWS::Region": region, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
        self.attributes: dict[str, Any] = {}  # "Logical.Attribute" → value
        self.conditions = {name: self._condition(c, template) for name, c in template["Conditions"].items()}

    def _condition(self, expression: Any, template: dict[str, Any]) -> bool:
        if isinstance(expression, dict) and "Condition" in expression:
            return self._condition(template["Conditions"][expression["Condition"]], template)
        ((function, arguments),) = expression.items()
        if function == "Fn::Equals":
            left, right = (self(a) for a in arguments)
            return bool(left == right)
        if function == "Fn::Not":
            return not self._condition(arguments[0], template)
        raise NotImplementedError(function)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [r for r in map(self, value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        intrinsics: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::If": self._if,
            "Fn::Sub": self._sub,
        }
        if len(value) == 1 and (function := next(iter(value))) in intrinsics:
            return intrinsics[function](value[function])
        return {k: r for k, v in value.items() if (r := self(v)) is not NO_VALUE}

    def _ref(self, name: str) -> Any:
        return NO_VALUE if name == "AWS::NoValue" else self.refs[name]

    def _get_att(self, arguments: list[str]) -> Any:
        return self.attributes[".".join(arguments)]

    def _if(self, arguments: list[Any]) -> Any:
        condition, then, otherwise = arguments
        return self(then if self.conditions[condition] else otherwise)

    def _sub(self, text: str) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            return str(self.refs[name] if name in self.refs else self.attributes[name])

        return re.sub(r"\$\{([^}]+)\}", one, text)


def ecs_request(properties: dict[str, Any]) -> dict[str, Any]:
    """An ECS resource's CloudFormation properties as the request of the API call that creates it."""

    def convert(value: Any, free_form: bool = False) -> Any:
        if isinstance(value, list):
            return [convert(v) for v in value]
        if not isinstance(value, dict) or free_form:
            return value
        return {
            ECS_PARAMETER_NAMES.get(k, k[:1].lower() + k[1:]): convert(v, free_form=k in FREE_FORM)
            for k, v in value.items()
        }

    converted: dict[str, Any] = convert(properties)
    return converted


# --- the bootstrap ---------------------------------------------------------------------------------------------


@dataclass
class Bootstrap:
    outputs: dict[str, str]
    parameters: dict[str, str]
    template: dict[str, Any]
    resolve: Resolver

    def variables(self) -> dict[str, str]:
        """deploy/desired-state's variables, from the stack's outputs and parameters (as vars.yaml says)."""
        given = self.resolve.refs
        return {
            "AWS_REGION": REGION,
            "RECONCILER_IMAGE": given["Image"],
            "RECONCILER_CPU_ARCHITECTURE": given["CpuArchitecture"],
            "RECONCILER_SUBNET_A": given["SubnetA"],
            "RECONCILER_SUBNET_B": given["SubnetB"],
            "RECONCILER_ASSIGN_PUBLIC_IP": given["AssignPublicIp"],
            "RECONCILER_SECURITY_GROUP": self.outputs["SecurityGroupId"],
            "RECONCILER_EXECUTION_ROLE_ARN": self.outputs["ExecutionRoleArn"],
            "RECONCILER_TASK_ROLE_ARN": self.outputs["TaskRoleArn"],
            "RECONCILER_GIT_URL": given["GitUrl"],
            "RECONCILER_GIT_REF": given["GitRef"],
            "RECONCILER_GIT_PATH": given["GitPath"],
            "RECONCILER_GIT_INTERVAL": given["GitInterval"],
            "RECONCILER_INSTANCE": given["Instance"],
            "RECONCILER_MODE": given["Mode"],
            "RECONCILER_INTERVAL": given["Interval"],
            "RECONCILER_EVENTS_QUEUE_URL": self.outputs["EventsQueueUrl"],
        }


def _network(boto: BotoFactory) -> dict[str, str]:
    ec2 = boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")
        for i, zone in enumerate("ab", start=1)
    ]
    prometheus = ec2.create_security_group(GroupName="prometheus", Description="Prometheus", VpcId=vpc)
    return {
        "VpcId": vpc,
        "SubnetA": subnets[0]["Subnet"]["SubnetId"],
        "SubnetB": subnets[1]["Subnet"]["SubnetId"],
        "PrometheusSecurityGroupId": prometheus["GroupId"],
    }


def _references(value: Any) -> set[str]:
    """The logical names a piece of template refers to with ``Ref`` or ``Fn::GetAtt``."""
    if isinstance(value, list):
        return set().union(*map(_references, value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = {value["Ref"]} if "Ref" in value else set()
    if "Fn::GetAtt" in value:
        found.add(value["Fn::GetAtt"][0])
    return found.union(*map(_references, value.values()))


def _create_stack(boto: BotoFactory, template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    """moto's CloudFormation creates everything but the ECS resources (see the module's docstring)."""
    ecs = {name for name, r in template["Resources"].items() if r["Type"].startswith("AWS::ECS::")}
    body = {
        **template,
        "Resources": {k: v for k, v in template["Resources"].items() if k not in ecs},
        "Outputs": {k: v for k, v in template["Outputs"].items() if not _references(v) & ecs},
    }
    cloudformation = boto("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(body),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _finish_what_moto_skips(boto: BotoFactory, bootstrap: Bootstrap) -> None:
    """Managed policies and egress rules, as the template states them."""
    resources = bootstrap.template["Resources"]
    iam = boto("iam")
    for logical in ("ExecutionRole", "TaskRole"):
        role = bootstrap.outputs[f"{logical}Arn"].rsplit("/", 1)[-1]
        for policy in bootstrap.resolve(resources[logical]["Properties"].get("ManagedPolicyArns", [])):
            iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    ec2 = boto("ec2")
    group = bootstrap.outputs["SecurityGroupId"]
    everything = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[everything])
    for rule in bootstrap.resolve(resources["SecurityGroup"]["Properties"]["SecurityGroupEgress"]):
        ec2.authorize_security_group_egress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": rule["IpProtocol"],
                    "FromPort": rule["FromPort"],
                    "ToPort": rule["ToPort"],
                    "IpRanges": [{"CidrIp": rule["CidrIp"], "Description": rule["Description"]}],
                }
            ],
        )


def _create_ecs_resources(boto: BotoFactory, bootstrap: Bootstrap) -> None:
    """Cluster, task definition and service through the ECS API, from the template's properties."""
    resources = bootstrap.template["Resources"]
    resolve = bootstrap.resolve
    resolve.refs |= {
        "LogGroup": "/ecs/reconciler",
        "SecurityGroup": bootstrap.outputs["SecurityGroupId"],
        "EventsQueue": bootstrap.outputs["EventsQueueUrl"],
    }
    resolve.attributes |= {
        "SecurityGroup.GroupId": bootstrap.outputs["SecurityGroupId"],
        "TaskRole.Arn": bootstrap.outputs["TaskRoleArn"],
        "ExecutionRole.Arn": bootstrap.outputs["ExecutionRoleArn"],
    }
    ecs = boto("ecs")
    cluster = ecs.create_cluster(**ecs_request(resolve(resources["Cluster"]["Properties"])))["cluster"]
    resolve.refs["Cluster"] = cluster["clusterName"]
    task_definition = ecs.register_task_definition(
        **ecs_request(resolve(resources["TaskDefinition"]["Properties"]))
    )["taskDefinition"]
    resolve.refs["TaskDefinition"] = task_definition["taskDefinitionArn"]
    service = ecs.create_service(**ecs_request(resolve(resources["Service"]["Properties"])))["service"]
    resolve.attributes["Service.Name"] = service["serviceName"]


@pytest.fixture
def bootstrap(aws: str, boto: BotoFactory) -> Bootstrap:
    template = load_template()
    parameters = _network(boto) | {
        "Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/reconciler:0.1.0",
        "GitUrl": "https://github.com/acme/ecs-estate.git",
        "GitPath": "prod",
        "CreateLeaseTable": "true",
    }
    bootstrap = Bootstrap(
        outputs=_create_stack(boto, template, parameters),
        parameters=parameters,
        template=template,
        resolve=Resolver(template, parameters),
    )
    _finish_what_moto_skips(boto, bootstrap)
    _create_ecs_resources(boto, bootstrap)
    return bootstrap


@pytest.fixture
def vars_file(bootstrap: Bootstrap, tmp_path: Path) -> Path:
    path = tmp_path / "bootstrap-vars.yaml"
    path.write_text(yaml.safe_dump(bootstrap.variables()))
    return path


# --- the tests -----------------------------------------------------------------------------------------------------


def test_the_reconcilers_own_desired_state_is_valid_offline(cli: CLI) -> None:
    result = cli("validate", str(DESIRED))
    assert result.code == 0, result.out + result.err


def test_the_template_and_the_desired_state_declare_the_same_three_resources_field_for_field() -> None:
    """Both ways, without AWS: the template's ECS properties as API requests, with vars.yaml's values as the
    stack's parameters and outputs, equal the documents (the plan compares only what a document sets)."""
    desired = load_directory(DESIRED, [], {})
    variables = yaml.safe_load((DESIRED / "vars.yaml").read_text())
    template = load_template()
    parameter_of = {
        "Image": "RECONCILER_IMAGE",
        "CpuArchitecture": "RECONCILER_CPU_ARCHITECTURE",
        "SubnetA": "RECONCILER_SUBNET_A",
        "SubnetB": "RECONCILER_SUBNET_B",
        "AssignPublicIp": "RECONCILER_ASSIGN_PUBLIC_IP",
        "GitUrl": "RECONCILER_GIT_URL",
        "GitRef": "RECONCILER_GIT_REF",
        "GitPath": "RECONCILER_GIT_PATH",
        "GitInterval": "RECONCILER_GIT_INTERVAL",
        "Instance": "RECONCILER_INSTANCE",
        "Mode": "RECONCILER_MODE",
        "Interval": "RECONCILER_INTERVAL",
    }
    resolve = Resolver(
        template, {p: str(variables[v]) for p, v in parameter_of.items()}, region=variables["AWS_REGION"]
    )
    resolve.refs |= {
        "LogGroup": "/ecs/reconciler",
        "SecurityGroup": variables["RECONCILER_SECURITY_GROUP"],
        "Cluster": "platform-tools",
        "TaskDefinition": "reconciler",  # a document names the family, the template its revision
        "EventsQueue": variables["RECONCILER_EVENTS_QUEUE_URL"],
    }
    resolve.attributes |= {
        "TaskRole.Arn": variables["RECONCILER_TASK_ROLE_ARN"],
        "ExecutionRole.Arn": variables["RECONCILER_EXECUTION_ROLE_ARN"],
    }
    name_field = {"Cluster": "clusterName", "TaskDefinition": "family", "Service": "serviceName"}
    for logical, field in name_field.items():
        (document,) = desired.of_kind(logical)
        from_template = ecs_request(resolve(template["Resources"][logical]["Properties"]))
        assert from_template == {field: document.name, **document.spec}, logical


def test_the_stack_creates_the_roles_network_logs_and_lease_table(
    bootstrap: Bootstrap, boto: BotoFactory
) -> None:
    iam = boto("iam")
    task_role = bootstrap.outputs["TaskRoleArn"].rsplit("/", 1)[-1]
    (name,) = iam.list_role_policies(RoleName=task_role)["PolicyNames"]
    inline = iam.get_role_policy(RoleName=task_role, PolicyName=name)["PolicyDocument"]
    if isinstance(inline, str):  # moto's CloudFormation stores the document as a Python repr, not as JSON
        inline = ast.literal_eval(inline)
    assert policy_actions(inline) == policy_actions(json.loads(POLICY.read_text()))
    execution_role = bootstrap.outputs["ExecutionRoleArn"].rsplit("/", 1)[-1]
    attached = iam.list_attached_role_policies(RoleName=execution_role)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonECSTaskExecutionRolePolicy"]

    (group,) = boto("ec2").describe_security_groups(GroupIds=[bootstrap.outputs["SecurityGroupId"]])[
        "SecurityGroups"
    ]
    (ingress,) = group["IpPermissions"]
    assert (ingress["FromPort"], ingress["ToPort"]) == (8080, 8080)
    assert [p["GroupId"] for p in ingress["UserIdGroupPairs"]] == [
        bootstrap.parameters["PrometheusSecurityGroupId"]
    ]
    (egress,) = group["IpPermissionsEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)

    (log_group,) = boto("logs").describe_log_groups(logGroupNamePrefix="/ecs/reconciler")["logGroups"]
    assert log_group["retentionInDays"] == 30
    table = boto("dynamodb").describe_table(TableName="reconciler-lease")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert bootstrap.outputs["LeaseTableName"] == "reconciler-lease"


def test_after_the_bootstrap_the_reconciler_adopts_itself_without_a_change(
    bootstrap: Bootstrap, vars_file: Path, cli: CLI, boto: BotoFactory
) -> None:
    args = [str(DESIRED), "--vars", str(vars_file)]

    plan = cli("plan", *args, "--output", "json")
    assert plan.code == 2, plan.out + plan.err
    changes = json.loads(plan.out)["changes"]
    assert not [c for c in changes if c["action"] in ("delete", "replace")], changes
    # Adoption only: the template and the desired state describe the same three resources, field for field.
    adopted = {
        (c["kind"], c["name"]): (
            c["action"],
            [d for d in c["diff"] if not d["path"].startswith("tags.reconciler:")],
        )
        for c in changes
    }
    assert adopted == {
        ("Cluster", "platform-tools"): ("adopt", []),
        ("TaskDefinition", "reconciler"): ("adopt", []),
        ("Service", "reconciler"): ("adopt", []),
    }

    applied = cli("apply", *args)
    assert applied.code == 0, applied.out + applied.err
    again = cli("plan", *args, "--output", "json")
    assert again.code == 0, again.out + again.err
    assert json.loads(again.out)["changes"] == []

    ecs = boto("ecs")  # no new revision, no redeployment of the reconciler by itself
    assert ecs.list_task_definitions(familyPrefix="reconciler")["taskDefinitionArns"] == [
        bootstrap.resolve.refs["TaskDefinition"]
    ]
    (service,) = ecs.describe_services(cluster="platform-tools", services=["reconciler"], include=["TAGS"])[
        "services"
    ]
    assert service["taskDefinition"] == bootstrap.resolve.refs["TaskDefinition"]
    assert {t["key"]: t["value"] for t in service["tags"]}["reconciler:instance"] == "default"
    assert service["deploymentConfiguration"]["maximumPercent"] == 100
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 0
