"""Each ELBv2 patch, shown over HTTP: the emulator answers as AWS does (see patches/elbv2_*.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BotoFactory


@dataclass(frozen=True)
class Network:
    elbv2: Any
    vpc: str
    subnet_a: str
    subnet_b: str
    subnet_a2: str
    security_group: str

    def create_alb(self, name: str = "frontapp-alb", **request: Any) -> dict[str, Any]:
        settings = {
            "Name": name,
            "Subnets": [self.subnet_a, self.subnet_b],
            "SecurityGroups": [self.security_group],
        }
        balancer: dict[str, Any] = self.elbv2.create_load_balancer(**(settings | request))["LoadBalancers"][0]
        return balancer

    def create_target_group(self, name: str = "frontapp-tg01", **request: Any) -> dict[str, Any]:
        settings = {"Name": name, "Protocol": "HTTP", "Port": 8080, "VpcId": self.vpc, "TargetType": "ip"}
        group: dict[str, Any] = self.elbv2.create_target_group(**(settings | request))["TargetGroups"][0]
        return group

    def create_listener(self, balancer: str, target_group: str, port: int = 80) -> dict[str, Any]:
        listener: dict[str, Any] = self.elbv2.create_listener(
            LoadBalancerArn=balancer,
            Protocol="HTTP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
        )["Listeners"][0]
        return listener

    def create_rule(self, listener: str, target_group: str, priority: int, path: str) -> dict[str, Any]:
        rule: dict[str, Any] = self.elbv2.create_rule(
            ListenerArn=listener,
            Priority=priority,
            Conditions=[{"Field": "path-pattern", "Values": [path]}],
            Actions=[{"Type": "forward", "TargetGroupArn": target_group}],
        )["Rules"][0]
        return rule


@pytest.fixture
def network(boto: BotoFactory) -> Network:
    ec2 = boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, zone: str) -> str:
        return str(ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"])

    group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    return Network(
        elbv2=boto("elbv2"),
        vpc=vpc,
        subnet_a=subnet("10.0.0.0/24", "us-east-1a"),
        subnet_b=subnet("10.0.1.0/24", "us-east-1b"),
        subnet_a2=subnet("10.0.2.0/24", "us-east-1a"),
        security_group=group,
    )


def _error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


# --- creation -------------------------------------------------------------------------------------------


def test_creating_a_load_balancer_again_with_the_same_settings_returns_it(network: Network) -> None:
    first = network.create_alb()
    again = network.create_alb()
    assert again["LoadBalancerArn"] == first["LoadBalancerArn"]
    assert len(network.elbv2.describe_load_balancers()["LoadBalancers"]) == 1
    assert first["Scheme"] == "internet-facing"


def test_creating_a_load_balancer_with_a_taken_name_and_other_settings_fails(network: Network) -> None:
    network.create_alb()
    with pytest.raises(ClientError) as raised:
        network.create_alb(Scheme="internal")
    assert _error_code(raised) == "DuplicateLoadBalancerName"
    assert len(network.elbv2.describe_load_balancers()["LoadBalancers"]) == 1


@pytest.mark.parametrize("second", ["none", "same-zone"])
def test_an_alb_needs_subnets_in_two_zones(network: Network, second: str) -> None:
    subnets = [network.subnet_a] + ([network.subnet_a2] if second == "same-zone" else [])
    with pytest.raises(ClientError) as raised:
        network.create_alb(Subnets=subnets)
    assert _error_code(raised) == "ValidationError"
    assert "two different Availability Zones" in raised.value.response["Error"]["Message"]


def test_a_network_load_balancer_may_use_one_subnet(network: Network) -> None:
    balancer = network.create_alb("nlb", Type="network", Subnets=[network.subnet_a], SecurityGroups=[])
    assert balancer["Type"] == "network"


def test_creating_a_target_group_again_returns_it_unless_settings_differ(network: Network) -> None:
    first = network.create_target_group(HealthCheckPath="/health")
    assert network.create_target_group(HealthCheckPath="/health")["TargetGroupArn"] == first["TargetGroupArn"]
    with pytest.raises(ClientError) as raised:
        network.create_target_group(HealthCheckPath="/other")
    assert _error_code(raised) == "DuplicateTargetGroupName"
    assert len(network.elbv2.describe_target_groups()["TargetGroups"]) == 1


def test_load_balancer_attributes_have_aws_defaults(network: Network) -> None:
    arn = network.create_alb()["LoadBalancerArn"]
    answer = network.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    attributes = {item["Key"]: item["Value"] for item in answer}
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["routing.http2.enabled"] == "true"
    assert attributes["load_balancing.cross_zone.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "false"
    network.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "idle_timeout.timeout_seconds", "Value": "120"}]
    )
    answer = network.elbv2.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in answer


def test_target_group_attributes_have_aws_defaults(network: Network) -> None:
    arn = network.create_target_group()["TargetGroupArn"]
    answer = network.elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    attributes = {item["Key"]: item["Value"] for item in answer}
    assert attributes["deregistration_delay.timeout_seconds"] == "300"
    assert attributes["stickiness.enabled"] == "false"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "86400"
    assert attributes["slow_start.duration_seconds"] == "0"
    assert attributes["load_balancing.algorithm.type"] == "round_robin"


# --- listeners and rules ----------------------------------------------------------------------------------


def test_a_forward_to_one_target_group_comes_back_in_both_forms(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    group = network.create_target_group()["TargetGroupArn"]
    network.create_listener(balancer, group)
    network.elbv2.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=8080,
        DefaultActions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": group}]}}],
    )
    listeners = network.elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
    for listener in listeners:
        [action] = listener["DefaultActions"]
        assert action["TargetGroupArn"] == group
        assert action["ForwardConfig"] == {
            "TargetGroups": [{"TargetGroupArn": group, "Weight": 1}],
            "TargetGroupStickinessConfig": {"Enabled": False},
        }


def test_path_and_host_conditions_come_back_in_both_forms(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    group = network.create_target_group()["TargetGroupArn"]
    listener = network.create_listener(balancer, group)["ListenerArn"]
    legacy = network.create_rule(listener, group, 10, "/api/*")
    network.elbv2.create_rule(
        ListenerArn=listener,
        Priority=20,
        Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["a.example.com"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": group}],
    )
    rules = {rule["Priority"]: rule for rule in network.elbv2.describe_rules(ListenerArn=listener)["Rules"]}
    assert rules["10"]["Conditions"] == [
        {"Field": "path-pattern", "Values": ["/api/*"], "PathPatternConfig": {"Values": ["/api/*"]}}
    ]
    assert rules["20"]["Conditions"] == [
        {
            "Field": "host-header",
            "Values": ["a.example.com"],
            "HostHeaderConfig": {"Values": ["a.example.com"]},
        }
    ]
    assert rules["10"]["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"] == group
    network.elbv2.modify_rule(
        RuleArn=legacy["RuleArn"],
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/v2/*"]}}],
    )
    [modified] = network.elbv2.describe_rules(RuleArns=[legacy["RuleArn"]])["Rules"]
    assert modified["Conditions"][0]["Values"] == ["/v2/*"]


def test_rule_priorities_can_be_swapped_in_one_call(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    group = network.create_target_group()["TargetGroupArn"]
    listener = network.create_listener(balancer, group)["ListenerArn"]
    first = network.create_rule(listener, group, 1, "/a")["RuleArn"]
    second = network.create_rule(listener, group, 2, "/b")["RuleArn"]
    answer = network.elbv2.set_rule_priorities(
        RulePriorities=[{"RuleArn": first, "Priority": 2}, {"RuleArn": second, "Priority": 1}]
    )
    assert {rule["RuleArn"]: rule["Priority"] for rule in answer["Rules"]} == {first: "2", second: "1"}
    described = network.elbv2.describe_rules(RuleArns=[first, second])["Rules"]
    assert {rule["RuleArn"]: rule["Priority"] for rule in described} == {first: "2", second: "1"}


def test_a_priority_that_stays_in_use_is_refused(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    group = network.create_target_group()["TargetGroupArn"]
    listener = network.create_listener(balancer, group)["ListenerArn"]
    first = network.create_rule(listener, group, 1, "/a")["RuleArn"]
    network.create_rule(listener, group, 2, "/b")
    with pytest.raises(ClientError) as raised:
        network.elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": first, "Priority": 2}])
    assert _error_code(raised) == "PriorityInUse"
    with pytest.raises(ClientError) as repeated:
        network.elbv2.set_rule_priorities(
            RulePriorities=[{"RuleArn": first, "Priority": 5}, {"RuleArn": first, "Priority": 5}]
        )
    assert _error_code(repeated) == "ValidationError"
    [unchanged] = network.elbv2.describe_rules(RuleArns=[first])["Rules"]
    assert unchanged["Priority"] == "1"


# --- reads and tags ---------------------------------------------------------------------------------------


def test_every_describe_call_pages_by_page_size(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    network.create_alb("second-alb")
    groups = [network.create_target_group(f"tg-{index}")["TargetGroupArn"] for index in range(3)]
    listener = network.create_listener(balancer, groups[0])["ListenerArn"]
    for port in (81, 82):
        network.create_listener(balancer, groups[0], port=port)
    for priority in (1, 2):
        network.create_rule(listener, groups[1], priority, f"/{priority}")
    calls = {
        "describe_load_balancers": ({}, "LoadBalancers", [1, 1]),
        "describe_target_groups": ({}, "TargetGroups", [1, 1, 1]),
        "describe_listeners": ({"LoadBalancerArn": balancer}, "Listeners", [1, 1, 1]),
        "describe_rules": ({"ListenerArn": listener}, "Rules", [1, 1, 1]),  # two rules and the default one
    }
    for operation, (request, key, sizes) in calls.items():
        pages = network.elbv2.get_paginator(operation).paginate(**request, PaginationConfig={"PageSize": 1})
        assert [len(page[key]) for page in pages] == sizes, operation
        assert "NextMarker" not in getattr(network.elbv2, operation)(**request)


def test_page_size_above_400_is_refused(network: Network) -> None:
    with pytest.raises(ClientError) as raised:
        network.elbv2.describe_target_groups(PageSize=401)
    assert _error_code(raised) == "ValidationError"


def test_describe_tags_reads_listeners_and_rules(network: Network) -> None:
    balancer = network.create_alb(Tags=[{"Key": "reconciler:instance", "Value": "default"}])[
        "LoadBalancerArn"
    ]
    group = network.create_target_group()["TargetGroupArn"]
    listener = network.create_listener(balancer, group)["ListenerArn"]
    rule = network.create_rule(listener, group, 1, "/a")["RuleArn"]
    network.elbv2.add_tags(ResourceArns=[listener, rule], Tags=[{"Key": "team", "Value": "web"}])
    answer = network.elbv2.describe_tags(ResourceArns=[balancer, group, listener, rule])["TagDescriptions"]
    tags = {item["ResourceArn"]: item["Tags"] for item in answer}
    assert tags == {
        balancer: [{"Key": "reconciler:instance", "Value": "default"}],
        group: [],
        listener: [{"Key": "team", "Value": "web"}],
        rule: [{"Key": "team", "Value": "web"}],
    }


def test_describe_tags_fails_for_a_resource_that_is_gone(network: Network) -> None:
    balancer = network.create_alb()["LoadBalancerArn"]
    group = network.create_target_group()["TargetGroupArn"]
    listener = network.create_listener(balancer, group)["ListenerArn"]
    rule = network.create_rule(listener, group, 1, "/a")["RuleArn"]
    network.elbv2.delete_rule(RuleArn=rule)
    with pytest.raises(ClientError) as raised:
        network.elbv2.describe_tags(ResourceArns=[listener, rule])
    assert _error_code(raised) == "RuleNotFound"
    network.elbv2.delete_load_balancer(LoadBalancerArn=balancer)
    with pytest.raises(ClientError) as raised:
        network.elbv2.describe_tags(ResourceArns=[balancer])
    assert _error_code(raised) == "LoadBalancerNotFound"


def test_describe_tags_takes_at_most_20_arns(network: Network) -> None:
    group = network.create_target_group()["TargetGroupArn"]
    assert len(network.elbv2.describe_tags(ResourceArns=[group] * 20)["TagDescriptions"]) >= 1
    with pytest.raises(ClientError) as raised:
        network.elbv2.describe_tags(ResourceArns=[group] * 21)
    assert _error_code(raised) == "ValidationError"


def test_a_resource_takes_50_tags_and_no_more(network: Network) -> None:
    group = network.create_target_group()["TargetGroupArn"]
    network.elbv2.add_tags(ResourceArns=[group], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    network.elbv2.add_tags(ResourceArns=[group], Tags=[{"Key": "k0", "Value": "changed"}])
    with pytest.raises(ClientError) as raised:
        network.elbv2.add_tags(ResourceArns=[group], Tags=[{"Key": "k50", "Value": "v"}])
    assert _error_code(raised) == "TooManyTags"
    [description] = network.elbv2.describe_tags(ResourceArns=[group])["TagDescriptions"]
    assert len(description["Tags"]) == 50
