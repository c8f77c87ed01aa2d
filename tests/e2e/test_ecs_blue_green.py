"""A service that ECS deploys itself (``strategy: BLUE_GREEN``) through the real command line and the emulator,
which runs ECS's lifecycle (it shifts the rules' weights and swaps the pair at the end of each deployment, the first
included): its alternate target group and rules named by document name reach AWS as ARNs, the pair as ECS leaves
it is in sync, a hand edit of the production rule's weights goes back to the live primary target group, and a Git
change is one UpdateService without touching the rules.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import BotoFactory, wait_until_settled
from tests.desired.corpus import TASK
from tests.e2e.conftest import CLI, REGION, calls_of
from tests.e2e.test_listener_rules import Site

CLUSTER = "bg-prod"


def _document(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    metadata = {"name": name} if kind == "TaskDefinition" else {"name": name, "deletionPolicy": "Delete"}
    return {"apiVersion": "reconciler/v1", "kind": kind, "metadata": metadata, "spec": spec}


def _forward(blue: int, green: int) -> list[dict[str, Any]]:
    groups = [
        {"TargetGroupArn": "web-blue", "Weight": blue},
        {"TargetGroupArn": "web-green", "Weight": green},
    ]
    return [{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]


def _site() -> list[dict[str, Any]]:
    """An ALB with a production listener (80) and a test listener (8080), a rule on each forwarding to the pair
    web-blue/web-green, and the service ECS deploys blue/green through them."""
    not_found = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}]
    network = {
        "subnets": ["${PRIVATE_SUBNET_A}", "${PRIVATE_SUBNET_B}"],
        "securityGroups": ["${APP_SECURITY_GROUP}"],
    }
    balancer = {
        "targetGroupArn": "web-blue", "containerName": "web", "containerPort": 80,
        "advancedConfiguration": {"alternateTargetGroupArn": "web-green", "productionListenerRule": "web-prod",
                                  "testListenerRule": "web-test-rule", "roleArn": "ecs-infrastructure-role"},
    }  # fmt: skip
    return [
        _document("Cluster", CLUSTER, {}),
        *yaml.safe_load_all(TASK),
        *(_document("TargetGroup", name, {"Protocol": "HTTP", "Port": 80, "VpcId": "${VPC_ID}", "TargetType": "ip"})
          for name in ("web-blue", "web-green")),
        _document("LoadBalancer", "web-alb", {
            "Type": "application", "Scheme": "internet-facing", "Subnets": ["${PUBLIC_SUBNET_A}", "${PUBLIC_SUBNET_B}"],
            "SecurityGroups": ["${WEB_SECURITY_GROUP}"],
        }),
        *(_document("Listener", name, {"LoadBalancerArn": "web-alb", "Protocol": "HTTP", "Port": port,
                                       "DefaultActions": not_found})
          for name, port in (("web-http", 80), ("web-test", 8080))),
        *(_document("ListenerRule", name, {"ListenerArn": f"web-alb:{port}", "Priority": 10, "Actions": _forward(100, 0),
                                           "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}]})
          for name, port in (("web-prod", 80), ("web-test-rule", 8080))),
        _document("Service", "web", {
            "cluster": CLUSTER, "taskDefinition": "web", "desiredCount": 2, "launchType": "FARGATE",
            "networkConfiguration": {"awsvpcConfiguration": network},
            "deploymentConfiguration": {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5},
            "loadBalancers": [balancer],
        }),
    ]  # fmt: skip


@pytest.fixture
def site(aws: str, tmp_path: Path, cli: CLI, boto: BotoFactory) -> Site:
    variables = asyncio.run(seed_base_infrastructure(endpoint_url=aws, region=REGION))
    site = Site(tmp_path, dict(variables), text=yaml.safe_dump_all(_site(), sort_keys=False))
    result = cli("apply", *site.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    return site


def _service(boto: BotoFactory) -> dict[str, Any]:
    described: dict[str, Any] = boto("ecs").describe_services(cluster=CLUSTER, services=["web"])["services"][
        0
    ]
    return described


def _arns(boto: BotoFactory) -> dict[str, str]:
    """Target group and rule name → ARN, as AWS holds them."""
    elbv2 = boto("elbv2")
    found = {
        tg["TargetGroupName"]: tg["TargetGroupArn"] for tg in elbv2.describe_target_groups()["TargetGroups"]
    }
    lb = elbv2.describe_load_balancers(Names=["web-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    for listener in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]:
        rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
        rule = next(r for r in rules if not r["IsDefault"])
        found["web-prod" if listener["Port"] == 80 else "web-test-rule"] = rule["RuleArn"]
    return found


def _weights(boto: BotoFactory, rule_arn: str) -> dict[str, int]:
    [rule] = boto("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"]
    return {g["TargetGroupArn"]: g["Weight"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}


def _set_weights(boto: BotoFactory, rule_arn: str, weights: dict[str, int]) -> None:
    groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
    boto("elbv2").modify_rule(
        RuleArn=rule_arn, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}]
    )


def _plan(cli: CLI, site: Site) -> dict[str, Any]:
    result = cli("plan", *site.args("--output", "json"))
    assert result.code in (0, 2), result.out + result.err
    plan: dict[str, Any] = json.loads(result.out)
    return plan


def test_names_reach_aws_as_arns_and_the_service_as_ecs_leaves_it_is_in_sync(
    site: Site, cli: CLI, boto: BotoFactory
) -> None:
    arns = _arns(boto)
    balancer = _service(boto)["loadBalancers"][0]
    # the first deployment ended on the alternate target group, as every deployment does
    assert balancer["targetGroupArn"] == arns["web-green"]
    assert balancer["advancedConfiguration"]["alternateTargetGroupArn"] == arns["web-blue"]
    assert balancer["advancedConfiguration"]["productionListenerRule"] == arns["web-prod"]
    assert balancer["advancedConfiguration"]["testListenerRule"] == arns["web-test-rule"]
    assert balancer["advancedConfiguration"]["roleArn"].endswith(":role/ecs-infrastructure-role")
    assert _weights(boto, arns["web-prod"]) == {arns["web-blue"]: 0, arns["web-green"]: 100}
    plan = _plan(cli, site)
    assert plan["changes"] == []
    assert {(o["kind"], o["name"]) for o in plan["owned"] if o["owner"] == "ECS"} == {
        ("Service", "web"), ("ListenerRule", "web-prod"), ("ListenerRule", "web-test-rule"),
    }  # fmt: skip
    modified = calls_of("ModifyRule")
    assert cli("apply", *site.args()).code == 0
    assert calls_of("ModifyRule") == modified


@pytest.fixture
def swapped(site: Site, boto: BotoFactory) -> dict[str, str]:
    """The site as ECS leaves it after its first deployment (green serving); the ARNs of its target groups and
    rules."""
    arns = _arns(boto)
    assert _service(boto)["loadBalancers"][0]["targetGroupArn"] == arns["web-green"]
    return arns


def test_production_traffic_moved_by_hand_goes_back_to_the_live_primary(
    site: Site, cli: CLI, boto: BotoFactory, swapped: dict[str, str]
) -> None:
    arns = swapped
    document_weights = {arns["web-blue"]: 100, arns["web-green"]: 0}
    _set_weights(boto, arns["web-prod"], document_weights)
    [change] = _plan(cli, site)["changes"]
    assert (change["kind"], change["name"], change["cause"]) == ("ListenerRule", "web-prod", "drift")
    assert cli("apply", *site.args()).code == 0
    assert _weights(boto, arns["web-prod"]) == {arns["web-blue"]: 0, arns["web-green"]: 100}


def test_a_git_change_is_one_updateservice_that_keeps_ecs_s_orientation(
    site: Site, cli: CLI, boto: BotoFactory, swapped: dict[str, str]
) -> None:
    arns = swapped
    site.edit("desiredCount: 2", "desiredCount: 3")
    site.edit("- containerPort: 80\n", "- containerPort: 8080\n")  # the task definition's
    site.edit("containerPort: 80\n", "containerPort: 8080\n")  # the load balancer's: UpdateService sends them
    updates, modified = calls_of("UpdateService"), calls_of("ModifyRule")
    assert cli("apply", *site.args()).code == 0
    assert calls_of("UpdateService") == updates + 1
    assert calls_of("ModifyRule") == modified
    service = _service(boto)
    assert service["desiredCount"] == 3
    [balancer] = service["loadBalancers"]
    assert (balancer["targetGroupArn"], balancer["containerPort"]) == (arns["web-green"], 8080)
    assert balancer["advancedConfiguration"]["alternateTargetGroupArn"] == arns["web-blue"]
