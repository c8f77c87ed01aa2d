"""The example estate in ``desired-state/``: every document parses, has the document envelope, is valid AWS
input by botocore's own request shapes (read here straight from botocore, independently of reconciler.shapes),
and uses only variables that exist. That it creates cleanly and converges through the reconciler is shown by
tests/e2e/test_convergence.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.validate import validate_parameters

from reconciler.model.kinds import KINDS
from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import REGION

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")
SESSION = botocore.session.get_session()


def _documents() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(ESTATE.rglob("*.y*ml")):
        if path.name == "vars.yaml" and path.parent == ESTATE:
            continue
        if any(part.startswith(("_", ".")) for part in path.relative_to(ESTATE).parts):
            continue  # skipped by the loader
        found += [(path, document) for document in yaml.safe_load_all(path.read_text()) if document]
    return found


def _substitute(node: Any, variables: dict[str, str]) -> Any:
    """``${NAME}`` and ``${NAME:=default}`` as the format says (a variable wins over a default)."""
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


def _request(document: dict[str, Any], variables: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    """The botocore input shape of the document's kind, and the request (spec, name field filled, our extra
    ``Attributes`` left out: they go to a Modify…Attributes call)."""
    kind = KINDS[document["kind"]]
    request = {
        k: v for k, v in _substitute(document["spec"], variables).items() if k not in kind.extra_fields
    }
    if kind.name_field:
        request[kind.name_field] = document["metadata"]["name"]
    shape = SESSION.get_service_model(kind.aws_service).operation_model(kind.create_operation).input_shape
    return shape, request


def _vars_yaml() -> dict[str, str]:
    loaded: dict[str, Any] = yaml.safe_load((ESTATE / "vars.yaml").read_text())
    assert all(isinstance(value, str) for value in loaded.values()), "quote every value in vars.yaml"
    return loaded


DOCUMENTS = _documents()


def test_the_estate_has_the_expected_resources() -> None:
    keys = sorted((document["kind"], document["metadata"]["name"]) for _, document in DOCUMENTS)
    assert keys == [
        ("Cluster", "myapp-prod"),
        ("DeploymentGroup", "frontapp"),
        ("DiscoveryService", "scorekeep-api"),
        ("Listener", "frontapp-http"),
        ("Listener", "frontapp-https"),
        ("Listener", "frontapp-test"),
        ("Listener", "wordpress-http"),
        ("ListenerRule", "catalog-production"),
        ("ListenerRule", "catalog-test"),
        ("ListenerRule", "frontapp-admin-denied"),
        ("ListenerRule", "scorekeep-frontend"),
        ("LoadBalancer", "frontapp-alb"),
        ("LoadBalancer", "wordpress-alb"),
        ("ScalableTarget", "frontapp"),
        ("ScalingPolicy", "frontapp-cpu60"),
        ("ScheduledAction", "frontapp-morning-scale-out"),
        ("ScheduledAction", "frontapp-night-scale-in"),
        ("Service", "catalog"),
        ("Service", "frontapp"),
        ("Service", "scorekeep-api"),
        ("Service", "scorekeep-frontend"),
        ("Service", "wordpress"),
        ("TargetGroup", "catalog-tg-a"),
        ("TargetGroup", "catalog-tg-b"),
        ("TargetGroup", "frontapp-tg01"),
        ("TargetGroup", "frontapp-tg02"),
        ("TargetGroup", "scorekeep-frontend-tg"),
        ("TargetGroup", "wordpress-tg"),
        ("TaskDefinition", "catalog"),
        ("TaskDefinition", "frontapp"),
        ("TaskDefinition", "scorekeep-api"),
        ("TaskDefinition", "scorekeep-frontend"),
        ("TaskDefinition", "wordpress"),
    ]


@pytest.mark.parametrize(("path", "document"), DOCUMENTS, ids=lambda value: getattr(value, "name", ""))
def test_each_document_is_valid_aws_input(path: Path, document: dict[str, Any]) -> None:
    assert document["apiVersion"] == "reconciler/v1"
    assert set(document) == {"apiVersion", "kind", "metadata", "spec"}
    name_field = KINDS[document["kind"]].name_field
    assert not name_field or name_field not in document["spec"], f"{path}: the name belongs in metadata.name"
    shape, request = _request(document, _vars_yaml())
    validate_parameters(request, shape)


async def test_the_seed_provides_every_variable_the_estate_uses(aws: str) -> None:
    seeded = await seed_base_infrastructure(endpoint_url=aws, region=REGION)
    variables = _vars_yaml() | seeded  # what `reconciler sandbox` does: seeded IDs override vars.yaml
    for _, document in DOCUMENTS:
        _request(document, variables)  # raises KeyError on an undefined variable without a default


def test_vars_yaml_defines_every_variable_the_seed_overrides() -> None:
    from tests.sandbox.test_seed import EXPECTED_VARIABLES

    assert set(_vars_yaml()) >= EXPECTED_VARIABLES
