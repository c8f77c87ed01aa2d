"""The example estate in ``desired-state/``: every document parses, has the SPEC §1 envelope, is valid AWS
input by botocore's own request shapes, uses only variables that exist, and creates cleanly in the seeded
emulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.validate import validate_parameters

from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import REGION, BotoFactory

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")
# kind → (botocore operation whose input ``spec`` is, the field ``metadata.name`` fills)
OPERATIONS = {
    "Cluster": ("CreateCluster", "clusterName"),
    "TaskDefinition": ("RegisterTaskDefinition", "family"),
    "Service": ("CreateService", "serviceName"),
}
ECS_MODEL = botocore.session.get_session().get_service_model("ecs")


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(ESTATE.rglob("*.y*ml")):
        if path.name == "vars.yaml" and path.parent == ESTATE:
            continue
        if any(part.startswith(("_", ".")) for part in path.relative_to(ESTATE).parts):
            continue  # skipped by the loader (SPEC §1): e.g. ``_next/``, checked by test_next_estate.py
        found += [(path, document) for document in yaml.safe_load_all(path.read_text()) if document]
    return found


def _substitute(node: Any, variables: dict[str, str]) -> Any:
    """``${NAME}`` and ``${NAME:=default}`` as SPEC §1 says (a variable wins over a default)."""
    if isinstance(node, dict):
        return {key: _substitute(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, variables) for item in node]
    if isinstance(node, str):
        return VARIABLE.sub(lambda match: _value_of(match, variables), node)
    return node


def _value_of(match: re.Match[str], variables: dict[str, str]) -> str:
    name, default = match.group(1), match.group(2)
    if name in variables:
        return str(variables[name])
    if default is None:
        raise KeyError(f"undefined variable {name}")
    return default


def _request(document: dict[str, Any], variables: dict[str, str]) -> tuple[str, dict[str, Any]]:
    operation, name_field = OPERATIONS[document["kind"]]
    return operation, {**_substitute(document["spec"], variables), name_field: document["metadata"]["name"]}


def _vars_yaml() -> dict[str, str]:
    loaded: dict[str, Any] = yaml.safe_load((ESTATE / "vars.yaml").read_text())
    assert all(isinstance(value, str) for value in loaded.values()), "quote every value in vars.yaml"
    return loaded


DOCUMENTS = _documents()


def test_the_estate_has_the_expected_resources() -> None:
    keys = sorted((document["kind"], document["metadata"]["name"]) for _, document in DOCUMENTS)
    assert keys == [
        ("Cluster", "myapp-prod"),
        ("Service", "frontapp"),
        ("Service", "wordpress"),
        ("TaskDefinition", "frontapp"),
        ("TaskDefinition", "wordpress"),
    ]


@pytest.mark.parametrize(("path", "document"), DOCUMENTS, ids=lambda value: getattr(value, "name", ""))
def test_each_document_is_valid_aws_input(path: Path, document: dict[str, Any]) -> None:
    assert document["apiVersion"] == "reconciler/v1"
    assert set(document) == {"apiVersion", "kind", "metadata", "spec"}
    operation, name_field = OPERATIONS[document["kind"]]
    assert name_field not in document["spec"], f"{path}: the name belongs in metadata.name"
    _, request = _request(document, _vars_yaml())
    validate_parameters(request, ECS_MODEL.operation_model(operation).input_shape)


async def test_the_seed_provides_every_variable_the_estate_needs_and_it_creates_cleanly(
    aws: str, boto: BotoFactory
) -> None:
    seeded = await seed_base_infrastructure(endpoint_url=aws, region=REGION)
    variables = _vars_yaml() | seeded  # what `reconciler sandbox` does: seeded IDs override vars.yaml
    ecs = boto("ecs")
    order = ["Cluster", "TaskDefinition", "Service"]
    for _, document in sorted(DOCUMENTS, key=lambda item: order.index(item[1]["kind"])):
        operation, request = _request(document, variables)
        getattr(ecs, botocore.xform_name(operation))(**request)
    services = ecs.describe_services(cluster="myapp-prod", services=["frontapp", "wordpress"])["services"]
    assert {service["serviceName"]: service["runningCount"] for service in services} == {
        "frontapp": 2,
        "wordpress": 1,
    }
    wordpress = ecs.describe_task_definition(taskDefinition="wordpress")["taskDefinition"]
    assert wordpress["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"] == seeded["WORDPRESS_EFS_ID"]


def test_vars_yaml_defines_every_variable_the_seed_overrides() -> None:
    from tests.sandbox.test_seed import EXPECTED_VARIABLES

    assert set(_vars_yaml()) >= EXPECTED_VARIABLES
