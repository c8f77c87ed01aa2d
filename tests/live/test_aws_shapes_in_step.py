"""The few AWS facts the code keeps as constants stay in step with botocore's models, and call outcomes are
classified as the metric promises."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.apply.ecs import CLUSTER_CAPACITY_FIELDS, CLUSTER_UPDATE_FIELDS, SERVICE_UPDATE_FIELDS
from reconciler.live.clients import classify
from reconciler.model.kinds import SERVICE
from reconciler.shapes import updatable_fields


def test_update_fields_come_from_botocore_without_identity_fields() -> None:
    assert {
        "desiredCount",
        "networkConfiguration",
        "deploymentConfiguration",
        "propagateTags",
    } <= SERVICE_UPDATE_FIELDS
    assert not {"cluster", "service", "taskDefinition", "forceNewDeployment"} & SERVICE_UPDATE_FIELDS
    assert {"settings", "configuration"} <= CLUSTER_UPDATE_FIELDS
    assert {"capacityProviders", "defaultCapacityProviderStrategy"} == CLUSTER_CAPACITY_FIELDS


def test_every_service_field_is_either_updatable_or_a_replace() -> None:
    """A CreateService field that UpdateService lacks must be planned as a replace, or it would loop as drift."""
    create = updatable_fields("ecs", "CreateService")
    not_state = {"serviceName", "cluster", "taskDefinition", "tags", *SERVICE.request_only_fields}
    assert create - not_state - SERVICE_UPDATE_FIELDS == SERVICE.replace_fields


def _error(code: str, status: int = 400) -> dict[str, Any]:
    return {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


@pytest.mark.parametrize(
    ("parsed", "exception", "outcome"),
    [
        ({"ResponseMetadata": {"HTTPStatusCode": 200}}, None, "ok"),
        (_error("ThrottlingException"), None, "throttled"),
        (_error("TooManyRequestsException", 429), None, "throttled"),
        (_error("RequestLimitExceeded", 503), None, "throttled"),
        (_error("InvalidParameterException"), None, "error"),
        (_error("ServerException", 500), None, "error"),
        (None, ConnectionResetError(), "error"),
    ],
)
def test_each_attempt_is_classified(parsed: Any, exception: Any, outcome: str) -> None:
    assert classify(parsed, exception) == outcome
