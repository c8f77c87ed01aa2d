"""The chaos suite: the example estate created from an empty account through the fault proxy with 10 %
of calls failing (throttles, 5xx, connection resets, read timeouts) converges, the daemon never exits; and an
`apply` killed with SIGKILL at random points, then started again, converges too. Either way there are no
duplicate services, target groups, rules or policies, and at most one extra task definition revision per family
(a registration whose answer was lost cannot be told from one never made)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules
from reconciler.sandbox.faults import FaultProxyProcess
from tests.conftest import CLI, BotoFactory
from tests.e2e.conftest import Estate
from tests.e2e.test_daemon import free_port

FAULTS = FaultRules(
    seed=11, throttle=0.04, server_error=0.03, reset=0.02, read_timeout=0.01, read_timeout_seconds=4
)
FAMILIES = ("frontapp", "wordpress", "scorekeep-frontend", "scorekeep-api")


@pytest.fixture
def faulty(emulator: EmulatorProcess, aws: str) -> Iterator[FaultProxyProcess]:
    with FaultProxyProcess.start(emulator.url, FAULTS) as process:
        yield process


def _converged(cli: CLI, estate: Estate) -> bool:
    plan = cli("plan", *estate.args(), "--output", "json")  # straight to the emulator: no faults
    return plan.code == 0


def _assert_no_duplicates(boto: BotoFactory, estate: Estate) -> None:
    ecs, elbv2 = boto("ecs"), boto("elbv2")
    services = ecs.list_services(cluster="myapp-prod")["serviceArns"]
    assert len(services) == 5, services
    groups = [g["TargetGroupName"] for g in elbv2.describe_target_groups()["TargetGroups"]]
    assert sorted(groups) == sorted(set(groups)) and len(groups) == 6, groups
    balancers = elbv2.describe_load_balancers()["LoadBalancers"]
    listeners = [li for lb in balancers for li in elbv2.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]]  # fmt: skip
    assert len(listeners) == 4
    rules = [r for li in listeners for r in elbv2.describe_rules(ListenerArn=li["ListenerArn"])["Rules"]]
    assert sum(1 for r in rules if not r["IsDefault"]) == 4
    policies = boto("application-autoscaling").describe_scaling_policies(ServiceNamespace="ecs")
    assert len(policies["ScalingPolicies"]) == 1
    revisions = Counter(
        arn.rsplit("/", 1)[-1].split(":")[0]
        for family in FAMILIES
        for arn in ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]
    )
    assert all(revisions[f] in (1, 2) for f in FAMILIES), revisions
    assert len(boto("servicediscovery").list_services()["Services"]) == 1


def _healthy_within(url: str, *, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200
        except urllib.error.HTTPError:
            time.sleep(0.5)
    return False


def test_the_estate_converges_with_ten_percent_of_calls_failing(
    estate: Estate, faulty: FaultProxyProcess, cli: CLI, boto: BotoFactory, tmp_path: Path
) -> None:
    port = free_port()
    command = [
        sys.executable, "-m", "reconciler", "run", *estate.args(), "--listen", f"127.0.0.1:{port}",
        "--endpoint-url", faulty.url, "--interval", "1", "--aws-read-timeout", "2", "--log-format", "json",
    ]  # fmt: skip
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        daemon = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 150
        while not _converged(cli, estate):
            assert daemon.poll() is None, log.read_text()[-3000:]  # the daemon never exits
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(2)
        # /healthz is 503 while one pass outlasts 3 intervals, which a pass whose calls time out at
        # 2 s can, with --interval 1: the loop must tick again soon after, not at the instant of asking.
        assert _healthy_within(f"http://127.0.0.1:{port}/healthz", seconds=20), log.read_text()[-3000:]
        assert daemon.poll() is None
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)
    counts = faulty.counts()
    failed = sum(n for (_, _, outcome), n in counts.items() if outcome not in ("forwarded", "unparsed"))
    total = sum(counts.values())
    assert failed / total >= 0.05, (failed, total)  # the faults really were injected
    _assert_no_duplicates(boto, estate)


def test_apply_killed_at_random_points_converges_when_started_again(
    estate: Estate, emulator: EmulatorProcess, cli: CLI, boto: BotoFactory
) -> None:
    """Each call takes 250 ms more (through the proxy), so that an apply lasts long enough to be cut anywhere."""
    chance = random.Random(7)
    slow = FaultProxyProcess.start(emulator.url, FaultRules(latency_ms=250))
    command = [sys.executable, "-m", "reconciler", "apply", *estate.args(), "--endpoint-url", slow.url]
    kills = 0
    for _ in range(20):
        apply = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.7, 4.0))  # the interpreter starts in ~0.8 s; an apply then takes seconds
        if apply.poll() is None:
            apply.kill()
            kills += 1
        apply.wait()
    assert kills >= 15, kills  # most runs really were cut short
    final = subprocess.run(command, capture_output=True, timeout=120, check=False)
    slow.stop()
    assert final.returncode == 0, final.stdout.decode()[-3000:] + final.stderr.decode()[-3000:]
    assert _converged(cli, estate)
    _assert_no_duplicates(boto, estate)
