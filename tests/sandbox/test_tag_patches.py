"""Tags on ECS and ELBv2 resources, checked as AWS checks them (see patches/tags.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import BotoFactory
from tests.sandbox.conftest import FargateEstate

REFUSED = [
    pytest.param("owner", "a;b", id="semicolon-in-value"),
    pytest.param("own*er", "x", id="star-in-key"),
    pytest.param("k" * 129, "x", id="key-too-long"),
    pytest.param("owner", "v" * 257, id="value-too-long"),
    pytest.param("aws:owner", "x", id="reserved-key"),
    pytest.param("AWS:Owner", "x", id="reserved-key-any-case"),
]
ACCEPTED = {"reconciler:facts": "a=1 b/2 c:3 d+4 e-5 f_6 g.7 h@8", "Größe": "Ünïcode 9", "k" * 128: "v" * 256}


@pytest.mark.parametrize(("key", "value"), REFUSED)
def test_ecs_refuses_tags_aws_refuses(fargate: FargateEstate, key: str, value: str) -> None:
    with pytest.raises(ClientError) as refused:
        fargate.create_service("frontapp", tags=[{"key": key, "value": value}])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    arn = fargate.create_service("frontapp")["serviceArn"]
    with pytest.raises(ClientError) as refused:
        fargate.ecs.tag_resource(resourceArn=arn, tags=[{"key": key, "value": value}])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert fargate.ecs.list_tags_for_resource(resourceArn=arn)["tags"] == []


def test_ecs_refuses_a_reserved_value(fargate: FargateEstate) -> None:
    with pytest.raises(ClientError) as refused:
        fargate.ecs.create_cluster(clusterName="other", tags=[{"key": "owner", "value": "aws:me"}])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"


def test_ecs_accepts_what_aws_accepts(fargate: FargateEstate) -> None:
    tags = [{"key": key, "value": value} for key, value in ACCEPTED.items()]
    arn = fargate.create_service("frontapp", tags=tags)["serviceArn"]
    listed = fargate.ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    assert {tag["key"]: tag["value"] for tag in listed} == ACCEPTED


def test_ecs_allows_fifty_tags_a_resource(fargate: FargateEstate) -> None:
    arn = fargate.create_service("frontapp", tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])[
        "serviceArn"
    ]
    fargate.ecs.tag_resource(resourceArn=arn, tags=[{"key": "k0", "value": "changed"}])  # a key it has
    with pytest.raises(ClientError) as refused:
        fargate.ecs.tag_resource(resourceArn=arn, tags=[{"key": "k50", "value": "v"}])
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError):
        fargate.create_service("other", tags=[{"key": f"k{i}", "value": "v"} for i in range(51)])


def target_group(boto: BotoFactory, fargate: FargateEstate, **request: Any) -> Any:
    vpc = boto("ec2").describe_subnets(SubnetIds=[fargate.subnet])["Subnets"][0]["VpcId"]
    return boto("elbv2").create_target_group(
        Name="frontapp", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip", **request
    )["TargetGroups"][0]["TargetGroupArn"]


@pytest.mark.parametrize(("key", "value"), REFUSED)
def test_elbv2_refuses_tags_aws_refuses(
    boto: BotoFactory, fargate: FargateEstate, key: str, value: str
) -> None:
    with pytest.raises(ClientError) as refused:
        target_group(boto, fargate, Tags=[{"Key": key, "Value": value}])
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    arn = target_group(boto, fargate)
    with pytest.raises(ClientError) as refused:
        boto("elbv2").add_tags(ResourceArns=[arn], Tags=[{"Key": key, "Value": value}])
    assert refused.value.response["Error"]["Code"] == "ValidationError"


def test_elbv2_allows_fifty_tags_a_resource(boto: BotoFactory, fargate: FargateEstate) -> None:
    elbv2 = boto("elbv2")
    arn = target_group(boto, fargate, Tags=[{"Key": key, "Value": value} for key, value in ACCEPTED.items()])
    elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(47)])
    with pytest.raises(ClientError) as refused:
        elbv2.add_tags(ResourceArns=[arn], Tags=[{"Key": "one-too-many", "Value": "v"}])
    assert refused.value.response["Error"]["Code"] == "TooManyTags"
    [description] = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"]
    assert len(description["Tags"]) == 50
