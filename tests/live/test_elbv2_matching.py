"""Matching described listeners and rules to documents by their natural key (load balancer:port, :priority), for
resources to adopt: a document may name its load balancer or listener by name or by ARN, as the create calls take
them."""

from __future__ import annotations

import pytest

from reconciler.live.elbv2 import Found, fill_entries
from reconciler.model.live import LiveState
from reconciler.model.resource import DesiredResource, DesiredState

LB_ARN = "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
LISTENER_ARN = (
    "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8e"
)
RULE_ARN = LISTENER_ARN.replace(":listener/", ":listener-rule/") + "/9683b2d0"


def found() -> Found:
    listener = {"ListenerArn": LISTENER_ARN, "LoadBalancerArn": LB_ARN, "Port": 80, "Protocol": "HTTP"}
    rule = {"RuleArn": RULE_ARN, "Priority": "10", "IsDefault": False, "Conditions": [], "Actions": []}
    return Found(
        load_balancers=[{"LoadBalancerArn": LB_ARN, "LoadBalancerName": "web"}],
        listeners=[listener],
        rules=[(listener, rule)],
    )


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("Listener", {"LoadBalancerArn": "web", "Port": 80}),
        ("Listener", {"LoadBalancerArn": LB_ARN, "Port": 80}),
        ("ListenerRule", {"ListenerArn": "web:80", "Priority": 10}),
        ("ListenerRule", {"ListenerArn": LISTENER_ARN, "Priority": 10}),
    ],
    ids=["listener by load balancer name", "listener by load balancer ARN", "rule by listener name",
         "rule by listener ARN"],
)  # fmt: skip
def test_an_untagged_resource_is_matched_to_its_document_by_natural_key(
    kind: str, spec: dict[str, object]
) -> None:
    document = DesiredResource(kind=kind, name="doc", spec=spec, file="x.yaml", line=1)
    live = LiveState()
    fill_entries(live, DesiredState(revision="r", resources=(document,)), found(), instance="default")
    assert live.entries_of(kind)["doc"].arn == (LISTENER_ARN if kind == "Listener" else RULE_ARN)
