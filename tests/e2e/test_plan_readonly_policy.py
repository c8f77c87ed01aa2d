"""The read-only policy of the pull-request workflow (``deploy/iam/reconciler-plan-readonly-policy.json``) allows
every AWS call a plan makes: ``reconciler plan`` in each output, on the example estate applied to the emulator,
with a drift by hand and a change in Git (so that the plan reads again what it reads only then: a family's
revisions), each call recorded by the reconciler's own count of AWS calls and mapped to its IAM action."""

from __future__ import annotations

import json
from collections import Counter

from reconciler.metrics import REGISTRY
from tests.deploy.test_iam_plan_policy import is_read
from tests.deploy.test_iam_policy import READ_ONLY_POLICY, policy_actions
from tests.e2e.conftest import CLI, BotoFactory, Estate, wait_until_settled

# the service of ``reconciler_aws_api_calls_total`` (botocore's service ID, hyphenated) → the IAM action prefix;
# an IAM action of these services is named after its operation
IAM_PREFIX = {
    "ecs": "ecs",
    "elastic-load-balancing-v2": "elasticloadbalancing",
    "application-auto-scaling": "application-autoscaling",
    "servicediscovery": "servicediscovery",
    "codedeploy": "codedeploy",
    "sts": "sts",
    "ec2": "ec2",
}


def calls() -> Counter[tuple[str, str]]:
    """Attempts so far in this process, by (service, operation)."""
    counted: Counter[tuple[str, str]] = Counter()
    for metric in REGISTRY.collect():
        if metric.name == "reconciler_aws_api_calls":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    counted[(sample.labels["service"], sample.labels["operation"])] += int(sample.value)
    return counted


def test_every_call_a_plan_makes_is_a_read_the_read_only_policy_allows(
    converged: Estate, cli: CLI, boto: BotoFactory
) -> None:
    boto("ecs").update_service(cluster="myapp-prod", service="scorekeep-api", desiredCount=5)
    converged.edit("services/wordpress.yaml", "awslogs-group: /ecs/wordpress", "awslogs-group: /ecs/wp")
    wait_until_settled(boto)

    before = calls()
    for output in ("text", "json", "markdown"):
        result = cli("plan", *converged.args(), "--output", output)
        assert result.code == 2, result.out + result.err
        if output == "json":
            changed = {(c["kind"], c["name"], c["cause"]) for c in result.json()["changes"]}
            assert ("Service", "scorekeep-api", "drift") in changed
            assert ("TaskDefinition", "wordpress", "desired") in changed  # a new revision to register
    made = calls() - before

    assert {service for service, _ in made} <= IAM_PREFIX.keys(), made
    actions = {f"{IAM_PREFIX[service]}:{operation}" for service, operation in made}
    assert {
        "ecs:DescribeServices",
        "elasticloadbalancing:DescribeRules",
        "ecs:ListTaskDefinitions",
    } <= actions
    assert all(is_read(action) for action in actions), sorted(a for a in actions if not is_read(a))
    allowed = policy_actions(json.loads(READ_ONLY_POLICY.read_text()))
    assert actions <= allowed, f"{READ_ONLY_POLICY.name} lacks {sorted(actions - allowed)}"
