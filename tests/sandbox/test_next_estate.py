"""The estate of issue 3 in ``desired-state/_next/`` (load balancers and autoscaling, not loaded yet): every
document is valid AWS input by botocore's request shapes, uses only variables the seed or ``vars.yaml``
define, and the whole estate creates cleanly in the seeded, patched emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest
import yaml
from botocore.validate import validate_parameters

from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import REGION, BotoFactory
from tests.sandbox.test_example_estate import DOCUMENTS as CORE_DOCUMENTS
from tests.sandbox.test_example_estate import _request as core_request
from tests.sandbox.test_example_estate import _substitute, _vars_yaml

NEXT = Path(__file__).resolve().parents[2] / "desired-state" / "_next"
# kind → (botocore service, operation whose input ``spec`` is, the field ``metadata.name`` fills or None)
OPERATIONS = {
    "LoadBalancer": ("elbv2", "CreateLoadBalancer", "Name"),
    "TargetGroup": ("elbv2", "CreateTargetGroup", "Name"),
    "Listener": ("elbv2", "CreateListener", None),
    "ListenerRule": ("elbv2", "CreateRule", None),
    "ScalableTarget": ("application-autoscaling", "RegisterScalableTarget", None),
    "ScalingPolicy": ("application-autoscaling", "PutScalingPolicy", "PolicyName"),
    "ScheduledAction": ("application-autoscaling", "PutScheduledAction", "ScheduledActionName"),
}
CREATION_ORDER = list(OPERATIONS)
SESSION = botocore.session.get_session()


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(NEXT.rglob("*.y*ml")):
        found += [(path, document) for document in yaml.safe_load_all(path.read_text()) if document]
    return found


DOCUMENTS = _documents()


def _request(document: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """The AWS request of a document: variables replaced, the name field added, ``Attributes`` left out."""
    _, _, name_field = OPERATIONS[document["kind"]]
    spec = {
        key: value for key, value in _substitute(document["spec"], variables).items() if key != "Attributes"
    }
    return spec | ({name_field: document["metadata"]["name"]} if name_field else {})


def test_the_next_estate_has_the_expected_resources() -> None:
    keys = sorted((document["kind"], document["metadata"]["name"]) for _, document in DOCUMENTS)
    assert keys == [
        ("Listener", "frontapp-http"),
        ("Listener", "frontapp-https"),
        ("Listener", "frontapp-test"),
        ("Listener", "wordpress-http"),
        ("ListenerRule", "frontapp-api"),
        ("LoadBalancer", "frontapp-alb"),
        ("LoadBalancer", "wordpress-alb"),
        ("ScalableTarget", "frontapp"),
        ("ScalingPolicy", "frontapp-cpu60"),
        ("ScheduledAction", "frontapp-morning-scale-out"),
        ("ScheduledAction", "frontapp-night-scale-in"),
        ("TargetGroup", "frontapp-tg01"),
        ("TargetGroup", "frontapp-tg02"),
        ("TargetGroup", "wordpress-tg"),
    ]


@pytest.mark.parametrize(("path", "document"), DOCUMENTS, ids=lambda value: getattr(value, "name", ""))
def test_each_document_is_valid_aws_input(path: Path, document: dict[str, Any]) -> None:
    assert document["apiVersion"] == "reconciler/v1"
    assert set(document) == {"apiVersion", "kind", "metadata", "spec"}
    service, operation, name_field = OPERATIONS[document["kind"]]
    assert name_field is None or name_field not in document["spec"], (
        f"{path}: the name belongs in metadata.name"
    )
    model = SESSION.get_service_model(service)
    validate_parameters(_request(document, _vars_yaml()), model.operation_model(operation).input_shape)
    if "Attributes" in document["spec"]:
        modify = (
            "ModifyLoadBalancerAttributes"
            if document["kind"] == "LoadBalancer"
            else "ModifyTargetGroupAttributes"
        )
        request = {
            "Attributes": document["spec"]["Attributes"],
            "LoadBalancerArn": "x",
            "TargetGroupArn": "x",
        }
        shape = model.operation_model(modify).input_shape
        validate_parameters({key: request[key] for key in shape.members}, shape)


class _Creator:
    """Creates each document the way the reconciler will: names resolved to ARNs, attributes applied."""

    def __init__(self, boto: BotoFactory, variables: dict[str, str]) -> None:
        self.elbv2, self.aas = boto("elbv2"), boto("application-autoscaling")
        self.variables = variables
        self.arns: dict[str, str] = {}

    def create(self, document: dict[str, Any]) -> None:
        kind, name = document["kind"], document["metadata"]["name"]
        request = self._resolved(_request(document, self.variables))
        _, operation, _ = OPERATIONS[kind]
        client = (
            self.elbv2 if kind in ("LoadBalancer", "TargetGroup", "Listener", "ListenerRule") else self.aas
        )
        answer = getattr(client, botocore.xform_name(operation))(**request)
        attributes = document["spec"].get("Attributes")
        if kind == "LoadBalancer":
            self.arns[name] = answer["LoadBalancers"][0]["LoadBalancerArn"]
            if attributes:
                self.elbv2.modify_load_balancer_attributes(
                    LoadBalancerArn=self.arns[name], Attributes=attributes
                )
        elif kind == "TargetGroup":
            self.arns[name] = answer["TargetGroups"][0]["TargetGroupArn"]
            if attributes:
                self.elbv2.modify_target_group_attributes(
                    TargetGroupArn=self.arns[name], Attributes=attributes
                )
        elif kind == "Listener":
            listener = answer["Listeners"][0]
            self.arns[f"{request['LoadBalancerArn']}:{listener['Port']}"] = listener["ListenerArn"]

    def _resolved(self, request: dict[str, Any]) -> dict[str, Any]:
        for field in ("LoadBalancerArn", "ListenerArn"):
            if field in request:
                request[field] = self._arn(request[field])
        for action in request.get("DefaultActions", []) + request.get("Actions", []):
            if "TargetGroupArn" in action:
                action["TargetGroupArn"] = self.arns[action["TargetGroupArn"]]
        return request

    def _arn(self, reference: str) -> str:
        balancer, _, port = reference.partition(":")
        return self.arns[f"{self.arns[balancer]}:{port}"] if port else self.arns[balancer]


async def test_the_next_estate_creates_cleanly_in_the_seeded_emulator(aws: str, boto: BotoFactory) -> None:
    variables = _vars_yaml() | await seed_base_infrastructure(endpoint_url=aws, region=REGION)
    ecs = boto("ecs")
    for kind in ("Cluster", "TaskDefinition", "Service"):
        for _, document in CORE_DOCUMENTS:
            if document["kind"] == kind:
                operation, request = core_request(document, variables)
                getattr(ecs, botocore.xform_name(operation))(**request)
    creator = _Creator(boto, variables)
    for _, document in sorted(DOCUMENTS, key=lambda item: CREATION_ORDER.index(item[1]["kind"])):
        creator.create(document)

    elbv2, aas = creator.elbv2, creator.aas
    frontapp = creator.arns["frontapp-alb"]
    listeners = elbv2.describe_listeners(LoadBalancerArn=frontapp)["Listeners"]
    assert sorted(listener["Port"] for listener in listeners) == [80, 443, 1443]
    https = next(listener for listener in listeners if listener["Port"] == 443)
    assert https["Certificates"] == [{"CertificateArn": variables["FRONTAPP_CERTIFICATE_ARN"]}]
    rules = elbv2.describe_rules(ListenerArn=https["ListenerArn"])["Rules"]
    assert sorted(rule["Priority"] for rule in rules) == ["10", "default"]
    attributes = elbv2.describe_target_group_attributes(TargetGroupArn=creator.arns["frontapp-tg01"])[
        "Attributes"
    ]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in attributes
    [wordpress_tg] = elbv2.describe_target_groups(Names=["wordpress-tg"])["TargetGroups"]
    assert wordpress_tg["Matcher"] == {"HttpCode": "200,302"}
    [target] = aas.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 4)
    assert len(aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]) == 1
    assert len(aas.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"]) == 2
