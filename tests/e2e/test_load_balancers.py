"""Load balancers, target groups, listeners and rules from Git: converge, stay converged, and every
drift made through the ELBv2 API is reported with its path and corrected by one apply."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import CLI, Estate

LOAD_BALANCING = """
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: shop-tg01, deletionPolicy: Delete}
spec:
  Protocol: HTTP
  Port: 8080
  VpcId: ${VPC_ID}
  TargetType: ip
  HealthCheckPath: /health
  HealthCheckIntervalSeconds: 15
  Matcher: {HttpCode: "200"}
  Attributes:
    - {Key: deregistration_delay.timeout_seconds, Value: "30"}
---
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: shop-tg02, deletionPolicy: Delete}
spec: {Protocol: HTTP, Port: 8080, VpcId: "${VPC_ID}", TargetType: ip, HealthCheckPath: /health}
---
apiVersion: reconciler/v1
kind: LoadBalancer
metadata: {name: shop-alb, deletionPolicy: Delete}
spec:
  Type: application
  Scheme: internet-facing
  Subnets: ["${PUBLIC_SUBNET_A}", "${PUBLIC_SUBNET_B}"]
  SecurityGroups: ["${WEB_SECURITY_GROUP}"]
---
apiVersion: reconciler/v1
kind: Listener
metadata: {name: shop-https, deletionPolicy: Delete}
spec:
  LoadBalancerArn: shop-alb
  Protocol: HTTPS
  Port: 443
  SslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06
  Certificates: [{CertificateArn: "${CERTIFICATE_ARN}"}]
  DefaultActions: [{Type: forward, TargetGroupArn: shop-tg01}]
---
apiVersion: reconciler/v1
kind: Listener
metadata: {name: shop-http, deletionPolicy: Delete}
spec:
  LoadBalancerArn: shop-alb
  Protocol: HTTP
  Port: 80
  DefaultActions:
    - Type: redirect
      RedirectConfig: {Protocol: HTTPS, Port: "443", StatusCode: HTTP_301}
---
apiVersion: reconciler/v1
kind: ListenerRule
metadata: {name: shop-api, deletionPolicy: Delete}
spec:
  ListenerArn: shop-alb:443
  Priority: 10
  Conditions:
    - {Field: path-pattern, Values: [/api/*]}
    - {Field: host-header, Values: [api.example.com]}
  Actions: [{Type: forward, TargetGroupArn: shop-tg02}]
"""


@pytest.fixture
def balanced(estate: Estate, cli: CLI, boto: BotoFactory) -> Estate:
    estate.set_var("CERTIFICATE_ARN", estate.variables["FRONTAPP_CERTIFICATE_ARN"])
    (estate.dir / "load-balancing.yaml").write_text(LOAD_BALANCING)
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    return estate


def _arn(boto: BotoFactory, kind: str, name: str) -> str:
    elbv2 = boto("elbv2")
    if kind == "TargetGroup":
        return str(elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]["TargetGroupArn"])
    lb = elbv2.describe_load_balancers(Names=["shop-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    listeners = {
        str(li["Port"]): li["ListenerArn"] for li in elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"]
    }
    if kind == "Listener":
        return str(listeners[name])
    rules = elbv2.describe_rules(ListenerArn=listeners["443"])["Rules"]
    return str(next(r["RuleArn"] for r in rules if r["Priority"] == name))


def test_the_whole_path_converges_and_stays_converged(balanced: Estate, cli: CLI, boto: BotoFactory) -> None:
    for _ in range(10):
        plan = cli("plan", *balanced.args(), "--output", "json")
        assert (plan.code, plan.json()["changes"]) == (0, [])
    service = boto("ecs").describe_services(cluster="myapp-prod", services=["frontapp"])["services"][0]
    assert service["loadBalancers"][0]["targetGroupArn"] == _arn(boto, "TargetGroup", "frontapp-tg01")


def drift_health_check(boto: BotoFactory) -> None:
    boto("elbv2").modify_target_group(
        TargetGroupArn=_arn(boto, "TargetGroup", "shop-tg01"),
        HealthCheckPath="/",
        HealthCheckIntervalSeconds=60,
    )


def drift_matcher(boto: BotoFactory) -> None:
    boto("elbv2").modify_target_group(
        TargetGroupArn=_arn(boto, "TargetGroup", "shop-tg01"), Matcher={"HttpCode": "200-499"}
    )


def drift_deregistration_delay(boto: BotoFactory) -> None:
    boto("elbv2").modify_target_group_attributes(
        TargetGroupArn=_arn(boto, "TargetGroup", "shop-tg01"),
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "300"}],
    )


def drift_forward_target(boto: BotoFactory) -> None:
    target = _arn(boto, "TargetGroup", "shop-tg02")
    boto("elbv2").modify_listener(
        ListenerArn=_arn(boto, "Listener", "443"),
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target}],
    )


def drift_redirect_removed(boto: BotoFactory) -> None:
    target = _arn(boto, "TargetGroup", "shop-tg01")
    boto("elbv2").modify_listener(
        ListenerArn=_arn(boto, "Listener", "80"),
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target}],
    )


def drift_certificate(boto: BotoFactory) -> None:
    other = boto("acm").request_certificate(DomainName="evil.example.com")["CertificateArn"]
    boto("elbv2").modify_listener(
        ListenerArn=_arn(boto, "Listener", "443"), Certificates=[{"CertificateArn": other}]
    )


def drift_rule_path(boto: BotoFactory) -> None:
    conditions = [
        {"Field": "path-pattern", "Values": ["/admin/*"]},
        {"Field": "host-header", "Values": ["api.example.com"]},
    ]
    boto("elbv2").modify_rule(RuleArn=_arn(boto, "ListenerRule", "10"), Conditions=conditions)


def drift_rule_host(boto: BotoFactory) -> None:
    conditions = [
        {"Field": "path-pattern", "Values": ["/api/*"]},
        {"Field": "host-header", "Values": ["evil.example.com"]},
    ]
    boto("elbv2").modify_rule(RuleArn=_arn(boto, "ListenerRule", "10"), Conditions=conditions)


def drift_rule_priority(boto: BotoFactory) -> None:
    rule = _arn(boto, "ListenerRule", "10")
    boto("elbv2").set_rule_priorities(RulePriorities=[{"RuleArn": rule, "Priority": 20}])


def drift_rule_target(boto: BotoFactory) -> None:
    target = _arn(boto, "TargetGroup", "shop-tg01")
    boto("elbv2").modify_rule(
        RuleArn=_arn(boto, "ListenerRule", "10"), Actions=[{"Type": "forward", "TargetGroupArn": target}]
    )


def drift_rule_deleted(boto: BotoFactory) -> None:
    boto("elbv2").delete_rule(RuleArn=_arn(boto, "ListenerRule", "10"))


DRIFTS: list[tuple[Callable[[BotoFactory], None], str, str, str]] = [
    (drift_health_check, "TargetGroup", "shop-tg01", "HealthCheckPath"),
    (drift_matcher, "TargetGroup", "shop-tg01", "Matcher.HttpCode"),
    (
        drift_deregistration_delay,
        "TargetGroup",
        "shop-tg01",
        "Attributes.deregistration_delay.timeout_seconds",
    ),
    (
        drift_forward_target,
        "Listener",
        "shop-https",
        "DefaultActions[0].ForwardConfig.TargetGroups[0].TargetGroupArn",
    ),
    (drift_redirect_removed, "Listener", "shop-http", "DefaultActions[0].Type"),
    (drift_certificate, "Listener", "shop-https", "Certificates[0].CertificateArn"),
    (drift_rule_path, "ListenerRule", "shop-api", "Conditions[1].Values"),
    (drift_rule_host, "ListenerRule", "shop-api", "Conditions[0].Values"),
    (drift_rule_priority, "ListenerRule", "shop-api", "Priority"),
    (
        drift_rule_target,
        "ListenerRule",
        "shop-api",
        "Actions[0].ForwardConfig.TargetGroups[0].TargetGroupArn",
    ),
]


@pytest.mark.parametrize(("make_drift", "kind", "name", "path"), DRIFTS, ids=[d[0].__name__ for d in DRIFTS])
def test_load_balancing_drift_is_reported_and_corrected(
    balanced: Estate,
    cli: CLI,
    boto: BotoFactory,
    make_drift: Callable[[BotoFactory], None],
    kind: str,
    name: str,
    path: str,
) -> None:
    make_drift(boto)
    plan = cli("plan", *balanced.args(), "--output", "json")
    assert plan.code == 2, plan.out + plan.err
    changes = [(c["kind"], c["name"], c["cause"]) for c in plan.json()["changes"]]
    assert (kind, name, "drift") in changes, changes
    change = next(c for c in plan.json()["changes"] if (c["kind"], c["name"]) == (kind, name))
    assert path in [d["path"] for d in change["diff"]], change["diff"]

    applied = cli("apply", *balanced.args())
    assert applied.code == 0, applied.out + applied.err
    after = cli("plan", *balanced.args(), "--output", "json")
    assert (after.code, after.json()["changes"]) == (0, [])


def test_removed_documents_are_deleted_in_reverse_order_or_kept_as_orphans(
    balanced: Estate, cli: CLI, boto: BotoFactory
) -> None:
    retain_tg01 = LOAD_BALANCING.replace("deletionPolicy: Delete", "deletionPolicy: Retain", 1)
    (balanced.dir / "load-balancing.yaml").write_text(retain_tg01)
    assert cli("apply", *balanced.args()).code == 0  # shop-tg01 now says Retain
    (balanced.dir / "load-balancing.yaml").unlink()

    plan = cli("plan", *balanced.args(), "--output", "json").json()
    deletions = [(c["kind"], c["name"]) for c in plan["changes"] if c["action"] == "delete"]
    assert deletions == [
        ("ListenerRule", "shop-api"),
        ("Listener", "shop-http"),
        ("Listener", "shop-https"),
        ("LoadBalancer", "shop-alb"),
        ("TargetGroup", "shop-tg02"),
    ]
    assert [(o["kind"], o["name"]) for o in plan["orphans"]] == [("TargetGroup", "shop-tg01")]
    assert cli("apply", *balanced.args()).code == 0
    elbv2 = boto("elbv2")
    assert "shop-alb" not in [
        lb["LoadBalancerName"] for lb in elbv2.describe_load_balancers()["LoadBalancers"]
    ]
    groups = {tg["TargetGroupName"] for tg in elbv2.describe_target_groups()["TargetGroups"]}
    assert "shop-tg01" in groups and "shop-tg02" not in groups


def test_a_rule_deleted_by_hand_is_recreated(balanced: Estate, cli: CLI, boto: BotoFactory) -> None:
    """AWS keeps no trace of a deleted rule: a fresh ``plan`` can only say it is missing."""
    drift_rule_deleted(boto)
    plan = cli("plan", *balanced.args(), "--output", "json").json()
    assert [(c["kind"], c["action"], c["cause"]) for c in plan["changes"]] == [
        ("ListenerRule", "create", "missing")
    ]
    assert cli("apply", *balanced.args()).code == 0
    assert cli("plan", *balanced.args()).code == 0


async def test_a_running_reconciler_knows_a_vanished_rule_is_drift(
    balanced: Estate, boto: BotoFactory
) -> None:
    """The daemon saw the rule in sync on its last pass, so its disappearance is drift, counted as such."""
    source = DirectorySource(root=balanced.dir, vars_files=(balanced.vars_file,))
    desired = source.load()
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions())
        assert (await engine.reconcile(desired)).plan.changes == []
        drift_rule_deleted(boto)
        plan = await engine.plan(desired)
    assert [(c.kind, c.action.value, c.cause.value) for c in plan.changes] == [
        ("ListenerRule", "create", "drift")
    ]


def test_a_used_target_group_is_not_replaced_in_place(balanced: Estate, cli: CLI) -> None:
    balanced.edit("load-balancers/frontapp.yaml", "  Port: 8080\n", "  Port: 9090\n")  # frontapp-tg01, in use
    plan = cli("plan", *balanced.args(), "--output", "json").json()
    change = next(c for c in plan["changes"] if c["name"] == "frontapp-tg01")
    assert change["action"] == "replace" and "AWS cannot delete it" in change["held"]
    assert cli("apply", *balanced.args()).code == 1  # not converged, and nothing deleted
    assert "frontapp-tg01" in cli("plan", *balanced.args()).out


SPARE_GROUP = """
---
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: shop-spare, deletionPolicy: Delete}
spec: {Protocol: HTTP, Port: 8080, VpcId: "${VPC_ID}", TargetType: ip}
"""


@pytest.mark.parametrize("handed_over", [False, True])
async def test_a_running_reconciler_decides_a_deletion_on_fresh_tags(
    balanced: Estate, boto: BotoFactory, handed_over: bool
) -> None:
    """Tags are cached between passes, but a deletion is decided on tags read in that pass: a target group whose
    owner tag was removed by hand after the reconciler last read it is no longer ours, so it is not pruned."""
    manifest = balanced.dir / "load-balancing.yaml"
    manifest.write_text(LOAD_BALANCING + SPARE_GROUP)
    source = DirectorySource(root=balanced.dir, vars_files=(balanced.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions(), tag_refresh_passes=100)  # no refresh in this test
        await engine.reconcile(source.load())
        assert (await engine.reconcile(source.load())).plan.changes == []  # the spare group's tags are cached
        manifest.write_text(LOAD_BALANCING)
        if handed_over:
            boto("elbv2").remove_tags(ResourceArns=[_arn(boto, "TargetGroup", "shop-spare")],
                                      TagKeys=["reconciler:instance"])  # fmt: skip
        before = clients.calls_by_operation()
        outcome = await engine.reconcile(source.load())
        calls = clients.calls_by_operation() - before
    deleted = [(c.kind, c.name) for c in outcome.result.applied if c.action.value == "delete"]
    assert deleted == ([] if handed_over else [("TargetGroup", "shop-spare")])
    # the cached tags are read again; only when they changed is the whole pass read and planned again
    assert calls["elastic-load-balancing-v2:DescribeLoadBalancers"] == (2 if handed_over else 1)
    groups = {tg["TargetGroupName"] for tg in boto("elbv2").describe_target_groups()["TargetGroups"]}
    assert ("shop-spare" in groups) is handed_over


async def test_a_running_reconciler_reads_back_the_tags_it_wrote(balanced: Estate) -> None:
    """After a pass writes a target group's tags, the next pass reads them back instead of trusting its cache: it
    finds nothing to do at the first attempt (no second read and plan)."""
    source = DirectorySource(root=balanced.dir, vars_files=(balanced.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions(), tag_refresh_passes=100)
        assert (await engine.reconcile(source.load())).plan.changes == []
        balanced.edit("load-balancing.yaml", "HealthCheckPath: /health}", "HealthCheckPath: /health, Tags: "
                      "[{Key: team, Value: shop}]}")  # fmt: skip
        applied = (await engine.reconcile(source.load())).result.applied
        assert [(c.name, sorted(c.changed_fields)) for c in applied] == [("shop-tg02", ["tags"])]
        before = clients.calls_by_operation()
        assert (await engine.reconcile(source.load())).plan.changes == []
        calls = clients.calls_by_operation() - before
    assert calls["elastic-load-balancing-v2:DescribeLoadBalancers"] == 1
