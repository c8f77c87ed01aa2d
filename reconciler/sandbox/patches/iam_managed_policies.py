"""IAM: the AWS managed policies an ECS estate attaches (AmazonECSTaskExecutionRolePolicy and friends).

Every AWS account has AWS's managed policies. moto has none unless ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``,
and then it parses all ~1,600 of them for every partition whenever IAM is first touched after a reset (about
1.4 s, paid by every test that resets the emulator). We load the ones an ECS on Fargate estate uses, parsed
once per process; with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` moto's own behaviour (all of them) is kept.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend
from moto.settings import load_iam_aws_managed_policies

from reconciler.sandbox.patches._wrapping import Method, replace_method

ECS_RELATED_POLICY = re.compile(
    r"ECS|ContainerService|ContainerRegistry|ElasticFileSystem|CloudWatchLogs|CloudWatchAgentServerPolicy"
    r"|SSMReadOnly|SecretsManagerReadWrite|ElasticLoadBalancing|XRayDaemonWriteAccess"
)


def apply() -> None:
    replace_method(IAMBackend, "_init_aws_policies", _ecs_related_policies_only)


def _ecs_related_policies_only(original: Method) -> Method:
    """AWS: every managed policy exists in every account. moto: none, or all at a cost of ~1.4 s per reset."""

    def init_aws_policies(self: Any) -> list[Any]:
        if load_iam_aws_managed_policies():
            result: list[Any] = original(self)
            return result
        return [
            AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in ecs_related_policy_data().items()
        ]

    return init_aws_policies


@functools.cache
def ecs_related_policy_data() -> dict[str, Any]:
    every_policy: dict[str, Any] = json.loads(aws_managed_policies_data)
    return {name: data for name, data in every_policy.items() if ECS_RELATED_POLICY.search(name)}
