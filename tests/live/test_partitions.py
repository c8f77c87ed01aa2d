"""ARNs the reconciler builds take the partition of the account it works in (``aws-cn``, ``aws-us-gov``), as STS
reports the caller's own ARN."""

from __future__ import annotations

import pytest

from reconciler.live.clients import AwsClients
from reconciler.live.codedeploy import deployment_group_arn_prefix


@pytest.mark.parametrize(("region", "partition"), [("us-east-1", "aws"), ("cn-north-1", "aws-cn"),
                                                  ("us-gov-west-1", "aws-us-gov")])  # fmt: skip
async def test_a_deployment_group_arn_is_in_the_callers_partition(
    aws: str, region: str, partition: str
) -> None:
    async with AwsClients(region=region, endpoint_url=aws) as clients:
        prefix = await deployment_group_arn_prefix(clients)
    assert prefix == f"arn:{partition}:codedeploy:{region}:123456789012:deploymentgroup:"
