"""botocore's service models, loaded once per process: the single place that reads them.

The request shapes are how ``spec`` is validated and which fields an update call can change; both
stay exactly as current as the installed SDK, with no hand-written copy of AWS's fields.

They are read with botocore's loader and ``ServiceModel`` alone, not through a botocore session: a session imports
botocore's client and documentation machinery (~0.1 s), which ``validate`` never needs. The loader searches what a
session's would (``AWS_DATA_PATH``, then ``~/.aws/models``, then botocore's own data), except a ``data_path`` set
in the AWS config file, which only a session reads.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from botocore.loaders import create_loader
from botocore.model import ServiceModel


@lru_cache(maxsize=1)
def data_loader() -> Any:
    """The loader that holds every service model read, for the AWS clients to share: each session of its own
    would hold its own copy of the same models (megabytes each)."""
    return create_loader(os.environ.get("AWS_DATA_PATH"))


@lru_cache(maxsize=32)
def service_model(service: str) -> Any:
    """botocore's ``ServiceModel`` of ``service`` (``"ecs"``, ``"elbv2"``…)."""
    return ServiceModel(data_loader().load_service_model(service, "service-2"), service_name=service)


@lru_cache(maxsize=256)
def input_shape(service: str, operation: str) -> Any:
    """The request ``StructureShape`` of ``operation`` (``"RegisterTaskDefinition"``)."""
    return service_model(service).operation_model(operation).input_shape


def updatable_fields(service: str, operation: str) -> frozenset[str]:
    """The names of the request members of ``operation``: what that call can send."""
    shape = input_shape(service, operation)
    return frozenset(shape.members) if shape is not None else frozenset()
