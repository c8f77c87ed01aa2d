"""``schema_document()``: the JSON Schema editors use takes every real document and rejects what ``validate`` does."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator, Draft202012Validator, ValidationError

from reconciler.cli import run_command
from reconciler.desired.envelope import Envelope, Metadata
from reconciler.model.kinds import KINDS
from reconciler.shapes.json_schema import schema_document

DESIRED_STATE = Path(__file__).resolve().parents[2] / "desired-state"
MAX_SCHEMA_BYTES = 3_000_000


class _TextTimestampLoader(yaml.SafeLoader):
    """SafeLoader reading timestamps as text, as the reconciler's reader does (``yaml_reader._TEXT_TAGS``)."""


_TextTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _desired_files() -> list[Path]:
    return sorted(
        path
        for path in DESIRED_STATE.rglob("*.yaml")
        if path != DESIRED_STATE / "vars.yaml"
        and not any(part.startswith(("_", ".")) for part in path.relative_to(DESIRED_STATE).parts)
    )


def _documents() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in _desired_files():
        with path.open(encoding="utf-8") as stream:
            for index, document in enumerate(yaml.load_all(stream, Loader=_TextTimestampLoader)):
                if document is not None:
                    yield f"{path.relative_to(DESIRED_STATE)}#{index}", document


DOCUMENTS = dict(_documents())


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return schema_document()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def real_document(kind: str, name: str | None = None) -> dict[str, Any]:
    """A deep copy of a document of the repository's desired state."""
    for document in DOCUMENTS.values():
        if document["kind"] == kind and name in (None, document["metadata"]["name"]):
            return copy.deepcopy(document)
    raise AssertionError(f"no {kind} {name or ''} in {DESIRED_STATE}")


def errors_of(validator: Draft202012Validator, document: dict[str, Any]) -> list[ValidationError]:
    return list(validator.iter_errors(document))


def unknown_field_error(errors: list[ValidationError], field: str) -> ValidationError:
    """The error rejecting ``field``: JSON Schema reports it at the object that holds it, naming it."""
    matches = [
        error
        for error in errors
        if error.validator == "additionalProperties" and repr(field) in error.message
    ]
    assert matches, f"no error names {field!r}: {[error.message for error in errors]}"
    return matches[0]


# (6) the schema itself, and its size


def test_the_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_schema_is_json_of_a_reasonable_size(schema: dict[str, Any]) -> None:
    size = len(json.dumps(schema, indent=2).encode())
    print(f"\nschema_document(): {size} bytes of JSON (indent 2), {len(schema['$defs'])} $defs")
    assert json.loads(json.dumps(schema)) == schema
    assert size < MAX_SCHEMA_BYTES


def test_every_reference_resolves(schema: dict[str, Any]) -> None:
    def refs(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            if "$ref" in value:
                yield value["$ref"]
            for item in value.values():
                yield from refs(item)
        elif isinstance(value, list):
            for item in value:
                yield from refs(item)

    found = set(refs(schema))
    assert {f"#/$defs/kind.{kind}" for kind in KINDS} <= found
    assert {ref.removeprefix("#/$defs/") for ref in found} <= schema["$defs"].keys()


# (1) every document of the repository's desired state


def test_the_desired_state_covers_every_kind() -> None:
    assert {document["kind"] for document in DOCUMENTS.values()} == set(KINDS)


@pytest.mark.parametrize("where", sorted(DOCUMENTS))
def test_every_desired_state_document_validates(validator: Draft202012Validator, where: str) -> None:
    problems = [f"{error.json_path}: {error.message}" for error in errors_of(validator, DOCUMENTS[where])]
    assert problems == []


# (2) unknown spec fields


def test_an_unknown_top_level_spec_field_is_rejected(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    assert errors_of(validator, service) == []
    service["spec"]["desiredCountt"] = 2
    error = unknown_field_error(errors_of(validator, service), "desiredCountt")
    assert list(error.absolute_path) == ["spec"]


def test_an_unknown_field_inside_a_container_definition_is_rejected(validator: Draft202012Validator) -> None:
    task_definition = real_document("TaskDefinition", "frontapp")
    task_definition["spec"]["containerDefinitions"][0]["imagee"] = "nginx"
    error = unknown_field_error(errors_of(validator, task_definition), "imagee")
    assert list(error.absolute_path) == ["spec", "containerDefinitions", 0]


def test_an_unknown_field_in_target_group_attributes_is_rejected(validator: Draft202012Validator) -> None:
    target_group = real_document("TargetGroup")
    target_group["spec"]["Attributes"] = [{"Key": "deregistration_delay.timeout_seconds", "Valu": "30"}]
    errors = errors_of(validator, target_group)
    error = unknown_field_error(errors, "Valu")
    assert list(error.absolute_path) == ["spec", "Attributes", 0]
    assert any(error.validator == "required" and "'Value'" in error.message for error in errors)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("desiredCount", "two"),  # not an integer, and not a variable
        ("desiredCount", 2.5),
        ("launchType", "FARGATEE"),  # not in the enum
        ("enableECSManagedTags", "yes"),
        ("cluster", 3),  # a string field
        ("loadBalancers", {"targetGroupArn": "frontapp-tg01"}),  # a list
    ],
)
def test_a_wrong_type_or_enum_value_is_rejected(
    validator: Draft202012Validator, field: str, value: Any
) -> None:
    service = real_document("Service", "frontapp")
    service["spec"][field] = value
    errors = errors_of(validator, service)
    assert errors
    assert all(list(error.absolute_path) == ["spec", field] for error in errors)


def test_a_missing_required_field_is_rejected(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    del service["spec"]["taskDefinition"]  # ours (KindInfo.required_fields), optional in AWS's shape
    task_definition = real_document("TaskDefinition", "frontapp")
    del task_definition["spec"]["containerDefinitions"]  # AWS's
    for document, field in ((service, "taskDefinition"), (task_definition, "containerDefinitions")):
        messages = [error.message for error in errors_of(validator, document)]
        assert messages == [f"{field!r} is a required property"]


# (3) the envelope


def test_an_unknown_metadata_field_is_rejected(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    service["metadata"]["owner"] = "web"
    error = unknown_field_error(errors_of(validator, service), "owner")
    assert list(error.absolute_path) == ["metadata"]


def test_an_unknown_top_level_field_is_rejected(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    service["status"] = {}
    unknown_field_error(errors_of(validator, service), "status")


def test_an_unknown_kind_is_rejected(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    service["kind"] = "Servicee"
    errors = errors_of(validator, service)
    assert [list(error.absolute_path) for error in errors] == [["kind"]]
    assert errors[0].validator == "enum"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("apiVersion",), "reconciler/v2"),
        (("metadata", "mode"), "observe"),
        (("metadata", "deletionPolicy"), "delete"),
        (("metadata", "labels", "team"), 3),
        (("metadata", "name"), ""),
        (("metadata", "pruneUnmanagedRules"), "yes"),
        (("metadata", "target"), "${TARGET}"),  # the target decides the variables: never one itself
        (("metadata", "target"), 3),
    ],
)
def test_bad_envelope_values_are_rejected(
    validator: Draft202012Validator, path: tuple[str, ...], value: Any
) -> None:
    listener = real_document("Listener")
    target = listener
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = errors_of(validator, listener)
    assert errors
    assert all(tuple(error.absolute_path) == path for error in errors)


def test_a_document_may_name_its_target(validator: Draft202012Validator) -> None:
    service = real_document("Service", "frontapp")
    service["metadata"]["target"] = "prod-eu"
    assert not errors_of(validator, service)


def test_a_missing_metadata_name_is_rejected(validator: Draft202012Validator) -> None:
    cluster = real_document("Cluster")
    del cluster["metadata"]["name"]
    assert [error.message for error in errors_of(validator, cluster)] == ["'name' is a required property"]


def test_the_envelope_has_exactly_the_fields_of_the_pydantic_models(schema: dict[str, Any]) -> None:
    assert set(schema["properties"]) == set(Envelope.model_fields)
    assert set(schema["required"]) == {
        name for name, field in Envelope.model_fields.items() if field.is_required()
    }
    metadata = schema["$defs"]["metadata"]
    assert set(metadata["properties"]) == set(Metadata.model_fields)
    assert set(metadata["required"]) == {
        name for name, field in Metadata.model_fields.items() if field.is_required()
    }


# (4) variables in fields that are not strings


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("desiredCount", "${COUNT}"),
        ("desiredCount", "${COUNT:=2}"),
        ("enableECSManagedTags", "${MANAGED_TAGS:=true}"),
        ("launchType", "${LAUNCH_TYPE}"),
        ("healthCheckGracePeriodSeconds", "${GRACE}"),
    ],
)
def test_a_variable_is_accepted_in_an_integer_boolean_or_enum_field(
    validator: Draft202012Validator, field: str, value: str
) -> None:
    service = real_document("Service", "frontapp")
    service["spec"][field] = value
    assert errors_of(validator, service) == []


def test_variables_are_accepted_in_nested_fields_and_metadata(validator: Draft202012Validator) -> None:
    task_definition = real_document("TaskDefinition", "frontapp")
    container = task_definition["spec"]["containerDefinitions"][0]
    container["essential"] = "${ESSENTIAL}"
    container["portMappings"][0]["containerPort"] = "${PORT:=8080}"
    task_definition["metadata"]["mode"] = "${MODE:=detect}"
    task_definition["metadata"]["deletionPolicy"] = "${DELETION_POLICY}"
    assert errors_of(validator, task_definition) == []


# (5) the name field belongs in metadata.name


@pytest.mark.parametrize("kind", sorted(name for name, info in KINDS.items() if info.name_field))
def test_the_name_field_is_rejected_in_spec(validator: Draft202012Validator, kind: str) -> None:
    document = real_document(kind)
    name_field = KINDS[kind].name_field
    document["spec"][name_field] = document["metadata"]["name"]
    error = unknown_field_error(errors_of(validator, document), name_field)
    assert list(error.absolute_path) == ["spec"]


def test_the_name_field_of_a_service_and_a_target_group(schema: dict[str, Any]) -> None:
    assert "serviceName" not in schema["$defs"]["kind.Service"]["properties"]
    assert "Name" not in schema["$defs"]["kind.TargetGroup"]["properties"]
    assert "Attributes" in schema["$defs"]["kind.TargetGroup"]["properties"]


# Editors: the YAML language server validates with draft-07 semantics, so the schema must mean the same there


def test_the_schema_means_the_same_under_draft_07(schema: dict[str, Any]) -> None:
    draft_07 = Draft7Validator({**schema, "$schema": "http://json-schema.org/draft-07/schema#"})
    for where, document in DOCUMENTS.items():
        assert list(draft_07.iter_errors(document)) == [], where
    task_definition = real_document("TaskDefinition", "frontapp")
    task_definition["spec"]["containerDefinitions"][0]["imagee"] = "nginx"
    task_definition["spec"]["containerDefinitions"][0]["essential"] = "${ESSENTIAL}"
    unknown_field_error(list(draft_07.iter_errors(task_definition)), "imagee")
    assert len(list(draft_07.iter_errors(task_definition))) == 1


def test_the_schema_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema_document()


@pytest.mark.parametrize("path", _desired_files(), ids=lambda p: p.relative_to(DESIRED_STATE).as_posix())
def test_each_example_file_names_the_schema_for_editors(path: Path) -> None:
    """Its first line is the YAML language server's modeline, naming where `make schema` writes the schema."""
    first = path.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), first
    assert (
        path.parent / first.removeprefix(prefix)
    ).resolve() == DESIRED_STATE / ".schema/reconciler.schema.json"
