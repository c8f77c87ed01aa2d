"""botocore's service models, loaded once per process: the single place that reads them.

The request shapes are how ``spec`` is validated and which fields an update call can change; both
stay exactly as current as the installed SDK, with no hand-written copy of AWS's fields.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import botocore.session


@lru_cache(maxsize=1)
def _session() -> Any:
    return botocore.session.get_session()


def data_loader() -> Any:
    """The loader that holds every service model read, for the AWS clients to share: each session of its own
    would hold its own copy of the same models (megabytes each)."""
    return _session().get_component("data_loader")


@lru_cache(maxsize=32)
def service_model(service: str) -> Any:
    """botocore's ``ServiceModel`` of ``service`` (``"ecs"``, ``"elbv2"``…)."""
    return _session().get_service_model(service)


@lru_cache(maxsize=256)
def input_shape(service: str, operation: str) -> Any:
    """The request ``StructureShape`` of ``operation`` (``"RegisterTaskDefinition"``)."""
    return service_model(service).operation_model(operation).input_shape


def updatable_fields(service: str, operation: str) -> frozenset[str]:
    """The names of the request members of ``operation``: what that call can send."""
    shape = input_shape(service, operation)
    return frozenset(shape.members) if shape is not None else frozenset()
