"""Listener rules as a set, and the load balancer checks that need live AWS, against the emulator:
rules added by hand on a managed listener (reported; deleted only when the listener's document opts in), rules
that swap priorities in one revision (one SetRulePriorities call, no transient clash), and an application load
balancer whose subnets are in one Availability Zone, or do not exist (a FILE:LINE problem at plan time).
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import reconciler.runtime.engine as engine_module
from reconciler.live.clients import AwsClients
from reconciler.live.elbv2 import Elbv2Reader
from reconciler.model.live import LiveState
from reconciler.model.resource import DesiredState
from reconciler.plan.live_checks import live_problems
from reconciler.plan.planner import PlanOptions
from reconciler.plan.types import Plan
from reconciler.sandbox.seed import seed_base_infrastructure
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory
from tests.e2e.conftest import CLI, REGION, calls_of

SITE = """\
apiVersion: reconciler/v1
kind: TargetGroup
metadata: {name: site-tg, deletionPolicy: Delete}
spec: {Protocol: HTTP, Port: 8080, VpcId: "${VPC_ID}", TargetType: ip, HealthCheckPath: /health}
---
apiVersion: reconciler/v1
kind: LoadBalancer
metadata: {name: site-alb, deletionPolicy: Delete}
spec:
  Type: application
  Scheme: internet-facing
  Subnets:
    - ${PUBLIC_SUBNET_A}
    - ${PUBLIC_SUBNET_B}
  SecurityGroups: ["${WEB_SECURITY_GROUP}"]
---
apiVersion: reconciler/v1
kind: Listener
metadata: {name: site-http, deletionPolicy: Delete}
spec:
  LoadBalancerArn: site-alb
  Protocol: HTTP
  Port: 80
  DefaultActions: [{Type: forward, TargetGroupArn: site-tg}]
---
apiVersion: reconciler/v1
kind: ListenerRule
metadata: {name: site-api, deletionPolicy: Delete}
spec:
  ListenerArn: site-alb:80
  Priority: 10
  Conditions: [{Field: path-pattern, Values: [/api/*]}]
  Actions: [{Type: forward, TargetGroupArn: site-tg}]
---
apiVersion: reconciler/v1
kind: ListenerRule
metadata: {name: site-admin, deletionPolicy: Delete}
spec:
  ListenerArn: site-alb:80
  Priority: 20
  Conditions: [{Field: path-pattern, Values: [/admin/*]}]
  Actions: [{Type: forward, TargetGroupArn: site-tg}]
"""
OPT_IN = (
    "metadata: {name: site-http, deletionPolicy: Delete}",
    "metadata: {name: site-http, deletionPolicy: Delete, pruneUnmanagedRules: true}",
)


class Site:
    """A small desired-state directory of its own (one ALB, one listener, two rules, or ``text``) on the seeded
    network."""

    def __init__(self, root: Path, variables: dict[str, str], *, text: str = SITE) -> None:
        self.dir = root / "desired-state"
        self.dir.mkdir()
        self.file = self.dir / "site.yaml"
        self.file.write_text(text)
        self.vars_file = root / "vars.yaml"
        self.vars_file.write_text(yaml.safe_dump(variables))
        self.variables = variables

    def args(self, *more: str) -> list[str]:
        return [str(self.dir), "--vars", str(self.vars_file), *more]

    def edit(self, old: str, new: str) -> None:
        text = self.file.read_text()
        assert old in text, old
        self.file.write_text(text.replace(old, new, 1))

    def desired(self) -> DesiredState:
        return DirectorySource(root=self.dir, vars_files=(self.vars_file,)).load()


@pytest.fixture
def site(aws: str, tmp_path: Path) -> Site:
    variables = asyncio.run(seed_base_infrastructure(endpoint_url=aws, region=REGION))
    return Site(tmp_path, dict(variables))


@pytest.fixture
def applied(site: Site, cli: CLI) -> Site:
    result = cli("apply", *site.args())
    assert result.code == 0, result.out + result.err
    return site


def _listener_arn(boto: BotoFactory) -> str:
    elbv2 = boto("elbv2")
    lb = elbv2.describe_load_balancers(Names=["site-alb"])["LoadBalancers"][0]["LoadBalancerArn"]
    return str(elbv2.describe_listeners(LoadBalancerArn=lb)["Listeners"][0]["ListenerArn"])


def _priorities(boto: BotoFactory) -> dict[str, str]:
    """Path pattern → priority of every non-default rule on the listener."""
    rules = boto("elbv2").describe_rules(ListenerArn=_listener_arn(boto))["Rules"]
    return {r["Conditions"][0]["Values"][0]: r["Priority"] for r in rules if not r["IsDefault"]}


def _add_rule_by_hand(boto: BotoFactory, priority: int, path: str = "/by-hand/*") -> str:
    rule = boto("elbv2").create_rule(
        ListenerArn=_listener_arn(boto),
        Priority=priority,
        Conditions=[{"Field": "path-pattern", "Values": [path]}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
    )
    return str(rule["Rules"][0]["RuleArn"])


# --- 1. an application load balancer needs subnets in two zones, and subnets that exist ---------------------------


@pytest.fixture
def one_zone(site: Site, boto: BotoFactory) -> Iterator[Site]:
    """The load balancer's second subnet replaced by a new one in the first subnet's zone; a second load balancer
    that names a subnet that does not exist."""
    ec2 = boto("ec2")
    zone = ec2.describe_subnets(SubnetIds=[site.variables["PUBLIC_SUBNET_A"]])["Subnets"][0][
        "AvailabilityZone"
    ]
    same_zone = ec2.create_subnet(
        VpcId=site.variables["VPC_ID"], CidrBlock="10.0.3.0/24", AvailabilityZone=zone
    )
    site.variables["SAME_ZONE_SUBNET"] = same_zone["Subnet"]["SubnetId"]
    site.variables["ZONE"] = zone
    site.vars_file.write_text(yaml.safe_dump(site.variables))
    site.edit("    - ${PUBLIC_SUBNET_B}", "    - ${SAME_ZONE_SUBNET}")
    ghost = """
---
apiVersion: reconciler/v1
kind: LoadBalancer
metadata: {name: ghost-alb}
spec:
  Subnets: ["${PUBLIC_SUBNET_A}", subnet-0123456789abcdef0]
"""
    site.file.write_text(site.file.read_text() + ghost)
    yield site


def _line_of(site: Site, text: str, *, after: str = "") -> int:
    lines = site.file.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


async def _read(site: Site) -> tuple[DesiredState, LiveState]:
    desired = site.desired()
    live = LiveState()
    async with AwsClients(region=None, endpoint_url=None) as clients:
        await Elbv2Reader(clients, instance="default").read(desired, live)
    return desired, live


async def test_live_problems_name_the_subnets_line_of_a_one_zone_alb(one_zone: Site) -> None:
    desired, live = await _read(one_zone)
    problems = [str(p) for p in live_problems(desired, live)]
    file = str(desired.get("LoadBalancer", "site-alb").file)  # type: ignore[union-attr]
    subnets_line = _line_of(one_zone, "  Subnets:", after="name: site-alb")
    ghost_line = _line_of(one_zone, "  Subnets:", after="name: ghost-alb")
    zone = one_zone.variables["ZONE"]
    assert problems == [
        f"{file}:{subnets_line}: spec.Subnets: an application load balancer needs subnets in at least two "
        f"Availability Zones; {one_zone.variables['PUBLIC_SUBNET_A']} ({zone}), "
        f"{one_zone.variables['SAME_ZONE_SUBNET']} ({zone}) are all in {zone}",
        f"{file}:{ghost_line}: spec.Subnets[1]: subnet 'subnet-0123456789abcdef0' does not exist "
        "(or is not visible in this account and region)",
    ]


async def test_live_problems_accept_an_alb_in_two_zones(site: Site) -> None:
    desired, live = await _read(site)
    assert live_problems(desired, live) == []


async def test_the_zones_of_a_live_load_balancers_subnets_cost_no_ec2_call(
    applied: Site, boto: BotoFactory
) -> None:
    """A live load balancer names its subnets' zones: a steady-state pass never loads EC2's model (~20 MiB)."""
    desired = applied.desired()
    live = LiveState()
    async with AwsClients(region=None, endpoint_url=None) as clients:
        await Elbv2Reader(clients, instance="default").read(desired, live)
        ec2_calls = [key for key in clients.calls if key[1] == "DescribeSubnets"]
    subnets = [applied.variables["PUBLIC_SUBNET_A"], applied.variables["PUBLIC_SUBNET_B"]]
    described = boto("ec2").describe_subnets(SubnetIds=subnets)["Subnets"]
    assert {s: live.subnet_zones.get(s) for s in subnets} == {
        s["SubnetId"]: s["AvailabilityZone"] for s in described
    }
    assert ec2_calls == []
    assert live_problems(desired, live) == []


def test_plan_and_apply_refuse_a_one_zone_alb_and_write_nothing(
    one_zone: Site, cli: CLI, boto: BotoFactory
) -> None:
    for command in ("plan", "apply"):
        result = cli(command, *one_zone.args())
        assert result.code == 1, result.out + result.err
        assert (
            f"site.yaml:{_line_of(one_zone, '  Subnets:', after='name: site-alb')}: spec.Subnets:"
            in result.err
        )
    assert boto("elbv2").describe_target_groups()["TargetGroups"] == []


# --- 2. rules added by hand on a managed listener ----------------------------------------------------------------


def test_a_rule_added_by_hand_is_reported_as_unmanaged_and_left_alone(
    applied: Site, cli: CLI, boto: BotoFactory
) -> None:
    rule = _add_rule_by_hand(boto, 30)
    plan = cli("plan", *applied.args("--output", "json"))
    assert plan.code == 0, plan.out + plan.err  # a report, not a change
    assert plan.json()["changes"] == []
    assert plan.json()["unmanaged"] == [
        {
            "kind": "ListenerRule",
            "name": "site-alb:80:30",
            "arn": rule,
            "parent": "site-http",
            "reason": "no document declares this rule on listener site-http: left in place "
            "(set metadata.pruneUnmanagedRules: true on the listener's document to delete it)",
        }
    ]
    text = cli("plan", *applied.args()).out
    assert "? ListenerRule site-alb:80:30: unmanaged, on listener site-http, left in place" in text
    assert cli("apply", *applied.args()).code == 0
    assert _priorities(boto)["/by-hand/*"] == "30"


def test_a_listener_that_opts_in_deletes_rules_added_by_hand(
    applied: Site, cli: CLI, boto: BotoFactory
) -> None:
    _add_rule_by_hand(boto, 30)
    applied.edit(*OPT_IN)
    held = cli("plan", *applied.args("--output", "json", "--max-deletions", "0")).json()
    assert [(c["name"], c["action"], bool(c.get("held"))) for c in held["changes"]] == [
        ("site-alb:80:30", "delete", True)
    ]
    plan = cli("plan", *applied.args("--output", "json"))
    assert plan.code == 2
    [change] = plan.json()["changes"]
    assert (change["kind"], change["action"], change["cause"]) == ("ListenerRule", "delete", "orphan")
    assert change["reason"] == "unmanaged rule on listener site-http, whose document sets pruneUnmanagedRules"
    assert plan.json()["unmanaged"] == []

    result = cli("apply", *applied.args())
    assert result.code == 0, result.out + result.err
    assert "/by-hand/*" not in _priorities(boto)
    after = cli("plan", *applied.args("--output", "json"))
    assert (after.code, after.json()["changes"], after.json()["unmanaged"]) == (0, [], [])


def test_a_rule_added_by_hand_where_a_managed_rule_belongs(
    applied: Site, cli: CLI, boto: BotoFactory
) -> None:
    """The managed rule moved away by hand and another rule put at its priority: the tagged rule is still ours
    (drift), the other one is unmanaged; deleting it comes before moving ours back."""
    elbv2 = boto("elbv2")
    rules = elbv2.describe_rules(ListenerArn=_listener_arn(boto))["Rules"]
    ours = next(r["RuleArn"] for r in rules if r["Priority"] == "10")
    elbv2.set_rule_priorities(RulePriorities=[{"RuleArn": ours, "Priority": 15}])
    _add_rule_by_hand(boto, 10)
    plan = cli("plan", *applied.args("--output", "json")).json()
    assert [(c["name"], c["cause"]) for c in plan["changes"]] == [("site-api", "drift")]
    assert [u["name"] for u in plan["unmanaged"]] == ["site-alb:80:10"]

    applied.edit(*OPT_IN)
    move = next(c for c in asyncio.run(_engine_plan(applied)).changes if c.name == "site-api")
    assert "ListenerRule/site-alb:80:10" in [str(key) for key in move.depends_on]  # the deletion first
    result = cli("apply", *applied.args())
    assert result.code == 0, result.out + result.err
    assert _priorities(boto) == {"/api/*": "10", "/admin/*": "20"}
    assert cli("plan", *applied.args()).code == 0


async def _engine_plan(site: Site) -> Plan:
    async with AwsClients(region=None, endpoint_url=None) as clients:
        return await engine_module.Engine(clients, options=PlanOptions()).plan(site.desired())


def test_prune_unmanaged_rules_is_for_listeners_only(site: Site, cli: CLI) -> None:
    site.edit(
        "metadata: {name: site-tg, deletionPolicy: Delete}",
        "metadata: {name: site-tg, deletionPolicy: Delete, pruneUnmanagedRules: true}",
    )
    result = cli("validate", *site.args())
    assert result.code == 1
    assert (
        "site.yaml:3: metadata.pruneUnmanagedRules: only a Listener document may set it, not a TargetGroup"
        in (result.err)
    )


# --- 3. reordering rules ----------------------------------------------------------------------------------------


def test_rules_that_swap_priorities_move_together(applied: Site, cli: CLI, boto: BotoFactory) -> None:
    applied.edit("  Priority: 10", "  Priority: 99")
    applied.edit("  Priority: 20", "  Priority: 10")
    applied.edit("  Priority: 99", "  Priority: 20")
    plan = cli("plan", *applied.args("--output", "json")).json()
    assert sorted((c["name"], c["action"], c["diff"][0]["path"]) for c in plan["changes"]) == [
        ("site-admin", "update", "Priority"),
        ("site-api", "update", "Priority"),
    ]
    before = calls_of("SetRulePriorities")
    result = cli("apply", *applied.args())
    assert result.code == 0, result.out + result.err
    assert calls_of("SetRulePriorities") - before == 1
    assert _priorities(boto) == {"/api/*": "20", "/admin/*": "10"}
    assert cli("plan", *applied.args()).code == 0


def test_a_rule_is_created_where_another_moves_away(applied: Site, cli: CLI, boto: BotoFactory) -> None:
    applied.edit("  Priority: 10", "  Priority: 30")
    extra = textwrap.dedent(
        """
        ---
        apiVersion: reconciler/v1
        kind: ListenerRule
        metadata: {name: site-new, deletionPolicy: Delete}
        spec:
          ListenerArn: site-alb:80
          Priority: 10
          Conditions: [{Field: path-pattern, Values: [/new/*]}]
          Actions: [{Type: forward, TargetGroupArn: site-tg}]
        """
    )
    applied.file.write_text(applied.file.read_text() + extra)
    result = cli("apply", *applied.args())
    assert result.code == 0, result.out + result.err
    assert _priorities(boto) == {"/api/*": "30", "/admin/*": "20", "/new/*": "10"}
    assert cli("plan", *applied.args()).code == 0
