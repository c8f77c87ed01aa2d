"""The envelope every document shares (``apiVersion``, ``kind``, ``metadata``, ``spec``), as pydantic models.

The envelope is ours, so pydantic describes it; ``spec`` is AWS's and is checked against botocore's shapes
elsewhere. Pydantic's errors are turned into ``(path, message)`` pairs so the loader can point at the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from reconciler.errors import echoed, printable
from reconciler.model.kinds import KINDS, LISTENER
from reconciler.model.ownership import MAX_TAG_VALUE, fits_tag
from reconciler.model.resource import API_VERSION, DeletionPolicy, Mode

LISTENER_KIND = LISTENER.kind

_FRIENDLY_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "string_type": "must be a string",
}


# A field path as the plan prints it: ``deploymentConfiguration.alarms``, ``containerDefinitions[app].image``.
FIELD_PATH = re.compile(r"[A-Za-z][\w-]*(\[[^\[\]]+\])*(\.[^.\[\]\s]+(\[[^\[\]]+\])*)*")


class Metadata(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"\S")
    mode: Mode = Mode.ENFORCE
    deletionPolicy: DeletionPolicy = DeletionPolicy.RETAIN
    labels: dict[str, str] = Field(default_factory=dict)
    # Listener only: rules on the listener that no document declares (added by hand) are deleted, not reported
    pruneUnmanagedRules: bool = False
    # paths, as the plan prints them, where a difference is never a change (Argo CD's ignoreDifferences)
    ignoreDifferences: list[str] = Field(default_factory=list)
    # the target (targets.yaml) the document is for, over its folder's; checked by ``desired/targets.py``
    target: str | None = None

    @field_validator("ignoreDifferences")
    @classmethod
    def _paths_as_printed(cls, value: list[str]) -> list[str]:
        for path in value:
            if not FIELD_PATH.fullmatch(path):
                raise ValueError(
                    f"'{echoed(path)}' is not a field path as the plan prints them "
                    "(fields joined by '.', list items as [name] or [0]: containerDefinitions[app].image)"
                )
        return value

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if printable(value) != value:  # it would reach AWS, metric labels and terminals as it is
            raise ValueError(f"metadata.name '{echoed(value)}' holds control characters")
        if not fits_tag(value) or len(value) > MAX_TAG_VALUE:
            raise ValueError(
                f"metadata.name '{echoed(value)}' cannot be kept in the reconciler:name tag: AWS allows at most "
                f"{MAX_TAG_VALUE} letters, digits, spaces and _ . : / = + - @"
            )
        return value


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    apiVersion: str
    kind: str
    metadata: Metadata
    spec: dict[str, Any]

    @field_validator("apiVersion")
    @classmethod
    def _known_api_version(cls, value: str) -> str:
        if value != API_VERSION:
            raise ValueError(f"unknown apiVersion '{echoed(value)}' (expected {API_VERSION})")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"unknown kind '{echoed(value)}' (expected one of: {', '.join(sorted(KINDS))})")
        return value

    @field_validator("metadata")
    @classmethod
    def _listener_only_fields(cls, value: Metadata, info: ValidationInfo) -> Metadata:
        kind = info.data.get("kind")
        if value.pruneUnmanagedRules and kind is not None and kind != LISTENER_KIND:
            raise ValueError(
                f"metadata.pruneUnmanagedRules: only a Listener document may set it, not a {kind}"
            )
        return value


def parse_envelope(document: Mapping[str, Any]) -> Envelope | list[tuple[str, str]]:
    """The validated envelope, or every problem as ``(path, message)`` (path like ``metadata.mode``)."""
    try:
        return Envelope.model_validate(document)
    except ValidationError as error:
        return [(_path_of(detail), _message_of(detail)) for detail in error.errors()]


def _path_of(detail: ErrorDetails) -> str:
    return ".".join(str(part) for part in detail["loc"])


def _message_of(detail: ErrorDetails) -> str:
    path = echoed(_path_of(detail))  # unknown fields are named by the user
    if detail["type"] == "value_error":
        return str(detail.get("ctx", {}).get("error", detail["msg"]))
    return f"{path}: {_FRIENDLY_MESSAGES.get(detail['type'], detail['msg'])}"
