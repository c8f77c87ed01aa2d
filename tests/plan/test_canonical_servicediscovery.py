"""Canonical form of a Cloud Map service: a document and GetService's answer for the same service are equal, and
the fields AWS cannot change in place are lifted to the top, where they are replace fields. Table-wise, pure."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.model.kinds import DISCOVERY_SERVICE
from reconciler.model.servicediscovery import canonical_discovery_service

DOCUMENT = {
    "NamespaceId": "ns-abc",
    "DnsConfig": {
        "RoutingPolicy": "MULTIVALUE",
        "DnsRecords": [{"Type": "SRV", "TTL": 10}, {"Type": "A", "TTL": 60}],
    },
    "HealthCheckCustomConfig": {"FailureThreshold": 1},
}
NAMESPACE_ARN = "arn:aws:servicediscovery:us-east-1:123456789012:namespace"
GET_SERVICE = {
    "Id": "srv-1", "Arn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1", "Name": "api",
    "CreateDate": "2026-11-22T00:00:00Z", "CreatorRequestId": "x", "InstanceCount": 2,
    "DnsConfig": {"NamespaceId": "ns-abc", "RoutingPolicy": "MULTIVALUE",
                  "DnsRecords": [{"Type": "A", "TTL": 60}, {"Type": "SRV", "TTL": 10}]},
    "HealthCheckCustomConfig": {"FailureThreshold": 1},
}  # fmt: skip


@pytest.mark.parametrize(
    ("desired", "live", "equal"),
    [
        (DOCUMENT, GET_SERVICE, True),  # namespace in DnsConfig or at the top; record order; read-only fields
        ({**DOCUMENT, "NamespaceId": "ns-other"}, GET_SERVICE, False),
        ({**DOCUMENT, "NamespaceId": f"{NAMESPACE_ARN}/ns-abc"}, GET_SERVICE, True),  # a shared namespace's ARN
        ({**DOCUMENT, "NamespaceId": f"{NAMESPACE_ARN}/ns-other"}, GET_SERVICE, False),
        ({**DOCUMENT, "DnsConfig": {**DOCUMENT["DnsConfig"], "RoutingPolicy": "WEIGHTED"}}, GET_SERVICE, False),
        ({**DOCUMENT, "DnsConfig": {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 300},
                                                                         {"Type": "SRV", "TTL": 10}]}},
         GET_SERVICE, False),
        # AWS answers FailureThreshold 1 whatever was sent: not a difference
        ({**DOCUMENT, "HealthCheckCustomConfig": {"FailureThreshold": 3}}, GET_SERVICE, True),
        ({**DOCUMENT, "HealthCheckCustomConfig": {}}, GET_SERVICE, True),
        # ... but a custom health check where the service has none is (a replace field)
        (DOCUMENT, {k: v for k, v in GET_SERVICE.items() if k != "HealthCheckCustomConfig"}, False),
    ],
)  # fmt: skip
def test_document_and_get_service_compare(desired: dict[str, Any], live: dict[str, Any], equal: bool) -> None:
    assert (canonical_discovery_service(desired) == canonical_discovery_service(live)) is equal


def test_namespace_and_routing_policy_are_replace_fields_and_records_are_not() -> None:
    canonical = canonical_discovery_service(DOCUMENT)
    assert canonical["NamespaceId"] == "ns-abc" and canonical["RoutingPolicy"] == "MULTIVALUE"
    assert set(canonical["DnsConfig"]) == {"DnsRecords"}
    assert {"NamespaceId", "RoutingPolicy", "HealthCheckCustomConfig"} <= DISCOVERY_SERVICE.replace_fields
    assert "DnsConfig" not in DISCOVERY_SERVICE.replace_fields
