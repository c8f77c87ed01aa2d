"""The JSON Schema (draft 2020-12) of one desired-state document, for editors (``reconciler schema``).

The envelope is written from our own rules (``desired.envelope``); each kind's ``spec`` is generated from the
botocore input shape of the kind's create request, the same shape ``BotocoreSpecChecker`` checks against, so
the schema stays exactly as current as the installed SDK. The schema is a help for editors (completion, hover,
early errors), not the validator: ``reconciler validate`` stays the authority and checks more (references,
Fargate rules, undefined variables).

Layout: the root dispatches on ``kind`` with one ``if``/``then`` per kind, pointing ``spec`` at
``#/$defs/kind.<Kind>``; every AWS structure is one ``$defs`` entry ``<service>.<ShapeName>`` referenced by
``$ref``, so recursive shapes stay finite. Every scalar that is not free text also accepts a string holding
``${`` (a variable, substituted before validation).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from reconciler.model.kinds import KINDS, LISTENER, KindInfo
from reconciler.model.resource import API_VERSION, DeletionPolicy, Mode
from reconciler.model.targets import TARGET_NAME
from reconciler.shapes.checker import ALSO_REQUIRED, EXTRA_FIELD_SHAPES
from reconciler.shapes.models import input_shape, service_model

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_VARIABLE_DEF = "variable"
_METADATA_DEF = "metadata"
_MAX_DESCRIPTION = 300  # characters: a sentence or two on hover, and a schema of a reasonable size

_BLOCK = re.compile(r"</?(?:p|ul|ol|li|br|dl|dt|dd|note|important)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def schema_document() -> dict[str, Any]:
    """The whole JSON Schema of one desired-state document (a fresh dict on every call)."""
    builder = _SchemaBuilder()
    dispatch = [
        {
            "if": {"properties": {"kind": {"const": name}}, "required": ["kind"]},
            "then": {"properties": {"spec": {"$ref": f"#/$defs/{builder.add_kind(kind)}"}}},
        }
        for name, kind in sorted(KINDS.items())
    ]
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "reconciler desired-state document",
        "description": (
            f"One document of a reconciler desired-state directory ({API_VERSION}): the envelope, and the "
            "request of the AWS call that creates the resource as spec."
        ),
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": API_VERSION, "description": "The version of the document format."},
            "kind": {
                "enum": sorted(KINDS),
                "description": "The kind of resource; spec is the request of its AWS create call.",
            },
            "metadata": {"$ref": f"#/$defs/{_METADATA_DEF}"},
            "spec": {
                "type": "object",
                "description": "The AWS API request that creates the resource, without the name field.",
            },
        },
        "additionalProperties": False,
        "allOf": dispatch,
        "$defs": {
            _VARIABLE_DEF: {
                "type": "string",
                "pattern": r"\$\{",
                "description": "A ${NAME} or ${NAME:=default} variable, substituted before validation.",
            },
            _METADATA_DEF: _metadata_schema(),
            **builder.defs,
        },
    }


def _metadata_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Ours, not sent to AWS: the resource's name and how the reconciler treats it.",
        "required": ["name"],
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "pattern": r"\S",
                "description": "The resource's name: the request's name field (serviceName, Name, family…).",
            },
            "mode": {
                "anyOf": [{"enum": [mode.value for mode in Mode]}, _variable_ref()],
                "default": Mode.ENFORCE.value,
                "description": "enforce (default): correct drift. detect: report drift, never write.",
            },
            "deletionPolicy": {
                "anyOf": [{"enum": [policy.value for policy in DeletionPolicy]}, _variable_ref()],
                "default": DeletionPolicy.RETAIN.value,
                "description": (
                    "What removing the document from the repository does: Retain (default) reports the "
                    "resource as orphaned, Delete deletes it."
                ),
            },
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Free-form labels; not sent to AWS.",
            },
            "ignoreDifferences": {
                "type": "array",
                "items": {"type": "string"},
                "description": (
                    "Field paths, as `plan` prints them (containerDefinitions[app].image, tags.CostCenter), "
                    "where a difference between Git and AWS is never a change."
                ),
            },
            "target": {
                "type": "string",
                "pattern": f"^{TARGET_NAME.pattern}$",
                "description": (
                    "The target (a name in targets.yaml) this document is for, over its folder's. Written as "
                    "it is: no variables."
                ),
            },
            "pruneUnmanagedRules": {
                "anyOf": [{"type": "boolean"}, _variable_ref()],
                "default": False,
                "description": (
                    f"{LISTENER.kind} only: delete the listener's rules that no document declares, "
                    "instead of reporting them."
                ),
            },
        },
        "additionalProperties": False,
    }


class _SchemaBuilder:
    """Turns botocore shapes into schemas, collecting every structure as a ``$defs`` entry."""

    def __init__(self) -> None:
        self.defs: dict[str, Any] = {}

    def add_kind(self, kind: KindInfo) -> str:
        """Adds the ``spec`` schema of ``kind`` to ``defs``; returns its ``$defs`` key."""
        key = f"kind.{kind.kind}"
        shape = input_shape(kind.aws_service, kind.create_operation)
        properties = {
            name: self.member_schema(member, service=kind.aws_service)
            for name, member in shape.members.items()
            if name != kind.name_field
        }
        for field_name in sorted(kind.extra_fields):
            properties[field_name] = self._extra_field_schema(kind, field_name)
        required = (set(shape.required_members) - {kind.name_field}) | kind.required_fields
        operation = service_model(kind.aws_service).operation_model(kind.create_operation)
        summary = _description(operation.documentation)
        name_note = f" Without {kind.name_field}: it is metadata.name." if kind.name_field else ""
        self.defs[key] = {
            "type": "object",
            "description": (
                f"The request of {kind.aws_service} {kind.create_operation}.{name_note}"
                + (f" {summary}" if summary else "")
            ),
            "properties": properties,
            "required": sorted(required),
            "additionalProperties": False,
        }
        return key

    def _extra_field_schema(self, kind: KindInfo, field_name: str) -> dict[str, Any]:
        source = EXTRA_FIELD_SHAPES.get((kind.kind, field_name))
        if source is None:  # no AWS shape to describe it: anything goes, as in the checker
            return {
                "description": f"{field_name}: a field of ours beyond the AWS request (not checked here)."
            }
        service, operation = source
        return self.member_schema(input_shape(service, operation).members[field_name], service=service)

    def member_schema(self, shape: Any, *, service: str) -> dict[str, Any]:
        """The schema of a value of ``shape``, with the (member's) documentation as its description."""
        schema = self.value_schema(shape, service=service)
        description = _description(shape.documentation)
        if description:
            schema["description"] = description
        return schema

    def value_schema(self, shape: Any, *, service: str) -> dict[str, Any]:
        if getattr(shape, "is_document_type", False):
            return {}  # a free-form JSON document: anything goes
        type_name = shape.type_name
        if type_name == "structure":
            return {"$ref": f"#/$defs/{self._structure_def(shape, service=service)}"}
        if type_name == "list":
            return {"type": "array", "items": self.value_schema(shape.member, service=service)}
        if type_name == "map":
            return {"type": "object", "additionalProperties": self.value_schema(shape.value, service=service)}
        return _scalar_schema(shape)

    def _structure_def(self, shape: Any, *, service: str) -> str:
        key = f"{service}.{shape.name}"
        if key in self.defs:
            return key
        self.defs[key] = {}  # reserved first: a recursive member finds the key and refers to it
        members = shape.members
        required = {*shape.required_members, *ALSO_REQUIRED.get(shape.name, ())}
        schema: dict[str, Any] = {"type": "object"}
        description = _description(shape.documentation)
        if description:
            schema["description"] = description
        schema["properties"] = {
            name: self.member_schema(member, service=service) for name, member in members.items()
        }
        if required:
            schema["required"] = sorted(required)
        schema["additionalProperties"] = False
        self.defs[key] = schema
        return key


def _variable_ref() -> dict[str, Any]:
    return {"$ref": f"#/$defs/{_VARIABLE_DEF}"}  # a new dict each time: the caller owns the whole document


def _scalar_schema(shape: Any) -> dict[str, Any]:
    type_name = shape.type_name
    if type_name == "string":
        enum = list(getattr(shape, "enum", None) or [])
        return {"anyOf": [{"enum": enum}, _variable_ref()]} if enum else {"type": "string"}
    if type_name == "blob":
        return {"type": "string"}
    if type_name == "timestamp":
        return {"type": ["string", "number"]}  # ISO 8601 text (or epoch seconds), as the checker takes it
    json_type = _JSON_TYPES.get(type_name)
    if json_type is None:
        return {}  # a type botocore may add later: anything goes rather than a false error
    return {"anyOf": [{"type": json_type}, _variable_ref()]}


_JSON_TYPES: Mapping[str, str] = {
    "integer": "integer",
    "long": "integer",
    "double": "number",
    "float": "number",
    "boolean": "boolean",
}


def _description(documentation: str | None) -> str:
    """The first sentence or two of botocore's HTML documentation (its first paragraph), as plain text."""
    blocks = (
        _SPACE.sub(" ", html.unescape(_TAG.sub("", block))).strip()
        for block in _BLOCK.split(documentation or "")
    )
    text = next((block for block in blocks if block), "")
    if not text:
        return ""
    sentences = _SENTENCE_END.split(text)
    summary = sentences[0]
    second = sentences[1] if len(sentences) > 1 else ""
    if second and not second.endswith(":") and len(summary) + 1 + len(second) <= _MAX_DESCRIPTION:
        summary = f"{summary} {second}"
    if len(summary) > _MAX_DESCRIPTION:
        summary = summary[: _MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"
    return summary
