"""ECS's own canary and blue/green deployments of the example estate's catalog, with the daemon running, against
the emulator, which plays ECS's part (it shifts the rules' weights through the strategy's steps, bakes, swaps the
pair, and rolls back a deployment whose tasks fail): a Git image bump is one UpdateService and ECS does the rest,
with no rule or listener written by the reconciler and a plan with no changes at every step; a crash-looping
revision is rolled back by ECS and not deployed again; a hand edit of the production rule is ECS's business during
a deployment and corrected to the live target group after one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.seed import create_events_queue
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import REGION, Estate
from tests.e2e.test_daemon import counted, eventually, metric
from tests.e2e.test_rollouts import status_of
from tests.e2e.test_targeted import daemon_on

CLUSTER, SERVICE, PRODUCTION = "myapp-prod", "catalog", "catalog-production"
WRITES = {
    name: f'reconciler_aws_api_calls_total{{operation="{name}",outcome="ok",service="{service}"}}'
    for service, name in (("elbv2", "ModifyRule"), ("elbv2", "ModifyListener"), ("ecs", "UpdateService"))
}


def _service(boto: BotoFactory) -> dict[str, Any]:
    found: dict[str, Any] = boto("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    return found


def _serving(boto: BotoFactory) -> str:
    """The target group ECS serves catalog's production traffic from, by name."""
    return str(_service(boto)["loadBalancers"][0]["targetGroupArn"]).split("/")[1]


def _weights(boto: BotoFactory) -> dict[str, int]:
    """The production rule's weights, by target group name."""
    rule = _service(boto)["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
    [described] = boto("elbv2").describe_rules(RuleArns=[rule])["Rules"]
    groups = described["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"].split("/")[1]: g["Weight"] for g in groups}


def _set_weights(boto: BotoFactory, weights: dict[str, int]) -> None:
    """A person moving the production rule's traffic with the console or the CLI."""
    elbv2 = boto("elbv2")
    rule = _service(boto)["loadBalancers"][0]["advancedConfiguration"]["productionListenerRule"]
    arns = {g["TargetGroupName"]: g["TargetGroupArn"] for g in elbv2.describe_target_groups()["TargetGroups"]}
    groups = [{"TargetGroupArn": arns[name], "Weight": weight} for name, weight in weights.items()]
    elbv2.modify_rule(RuleArn=rule, Actions=[{"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}])


def _deploying(boto: BotoFactory) -> bool:
    return any(d.get("rolloutState") == "IN_PROGRESS" for d in _service(boto)["deployments"])


async def _writes(base: str) -> dict[str, float]:
    return {name: await metric(base, series) for name, series in WRITES.items()}


@asynccontextmanager
async def _planner(estate: Estate) -> AsyncIterator[Any]:
    """``reconciler plan`` of the estate, as a fresh process would make it (its own clients and caches)."""
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:

        async def plan() -> Any:
            return await Engine(clients, options=PlanOptions()).plan(source.load())

        yield plan


async def _health(base: str) -> str:
    return str((await status_of(base, "Service", SERVICE)).get("health", ""))


async def test_a_canary_rollout_from_git_is_ecs_s_own_with_a_clean_plan_at_every_step(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    """catalog deploys as a canary (10 %, one minute, then the rest; a bake of two minutes): the image bump is one
    UpdateService; the rule's weights go through 10 % on the new target group, then 100 %, all of it by ECS; the
    plan has no changes at each step seen; /status says Progressing, then Healthy; the pair is swapped after."""
    async with daemon_on(estate, interval=0.5) as (_, base), _planner(estate) as plan:
        await asyncio.to_thread(wait_until_settled, boto)
        await eventually(lambda: _says_health(base, "Healthy"), within=15)
        before, serving = await _writes(base), _serving(boto)
        idle = next(name for name in _weights(boto) if name != serving)
        emulator.set_timing(ecs_deployment_minute=2)  # a canary bake of 2 s, a final bake of 4 s
        estate.edit("vars.yaml", 'CATALOG_TAG: "2.0.1"', 'CATALOG_TAG: "2.0.2"')
        await eventually(lambda: _deploying(boto), within=15)  # the reconciler's UpdateService is made
        seen: list[dict[str, int]] = []
        healths: set[str] = set()
        deadline = time.monotonic() + 60
        while not seen or _deploying(boto) or _serving(boto) == serving:
            assert time.monotonic() < deadline, (seen, healths)
            weights = _weights(boto)
            if not seen or weights != seen[-1]:
                seen.append(weights)
                current = await plan()
                assert current.reported_changes == [], (weights, current.reported_changes)
            healths.add(await _health(base))
            await asyncio.sleep(0.2)
        assert {serving: 90, idle: 10} in seen, seen  # the canary step
        assert seen[-1] == {serving: 0, idle: 100}, seen
        assert _serving(boto) == idle  # ECS serves from the other target group now
        assert "Progressing" in healths, healths
        await eventually(lambda: _says_health(base, "Healthy"), within=15)
        after = await _writes(base)
        assert (after["ModifyRule"], after["ModifyListener"]) == (
            before["ModifyRule"],
            before["ModifyListener"],
        )
        assert after["UpdateService"] == before["UpdateService"] + 1
        assert (await plan()).reported_changes == []


async def _says_health(base: str, health: str) -> bool:
    return await _health(base) == health


def _blue_green(estate: Estate) -> None:
    """catalog deployed blue/green (all at once) instead of as a canary."""
    estate.edit("services/catalog.yaml", "strategy: CANARY", "strategy: BLUE_GREEN")
    estate.edit(
        "services/catalog.yaml",
        "    canaryConfiguration:\n      canaryPercent: 10\n      canaryBakeTimeInMinutes: 1\n",
        "",
    )


async def test_a_crash_looping_blue_green_revision_is_rolled_back_by_ecs_and_not_deployed_again(
    estate: Estate, boto: BotoFactory
) -> None:
    _blue_green(estate)
    async with daemon_on(estate, interval=0.5) as (daemon, base):
        await asyncio.to_thread(wait_until_settled, boto)
        good, serving = _service(boto)["taskDefinition"], _serving(boto)
        estate.edit("vars.yaml", 'CATALOG_TAG: "2.0.1"', 'CATALOG_TAG: "2.0.2-crashloop"')
        await eventually(lambda: _service(boto)["taskDefinition"] != good, within=15)  # deployed
        await eventually(lambda: _says_health(base, "Degraded"), within=30)
        status = await status_of(base, "Service", SERVICE)
        assert status["healthReason"], status
        await eventually(  # ECS rolled back: the old revision runs, from the same target group, at 100
            lambda: _service(boto)["taskDefinition"] == good and not _deploying(boto), within=30
        )
        assert _serving(boto) == serving and _weights(boto)[serving] == 100
        await eventually(
            lambda: metric(
                base, f'reconciler_deployment_failed{{kind="Service",name="{SERVICE}",target="default"}}'
            ),
            within=15,
        )
        updates, passes = await metric(base, WRITES["UpdateService"]), daemon.passes
        await eventually(lambda: daemon.passes >= passes + 10, within=30)
        assert (
            await metric(base, WRITES["UpdateService"]) == updates
        )  # the failed revision is not tried again
        assert _service(boto)["taskDefinition"] == good
        status = await status_of(base, "Service", SERVICE)
        newest = status["deployments"][0]
        assert "ROLLBACK" in newest["status"] or "rolled back" in newest["reason"], newest
        assert newest["startedBy"] == "reconciler", newest
        await eventually(lambda: _says_health(base, "Healthy"), within=15)  # on the old revision


async def test_ecs_s_traffic_is_left_alone_mid_bake_and_a_hand_edit_after_is_corrected_by_its_event(
    estate: Estate, boto: BotoFactory, aws: str, emulator: EmulatorProcess
) -> None:
    queue_url = await create_events_queue(endpoint_url=aws, region=REGION)
    async with daemon_on(estate, queue_url=queue_url) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        serving = _serving(boto)
        idle = next(name for name in _weights(boto) if name != serving)
        emulator.set_timing(ecs_deployment_minute=4)  # a final bake of 8 s
        estate.edit("vars.yaml", 'CATALOG_TAG: "2.0.1"', 'CATALOG_TAG: "2.0.2"')
        await eventually(lambda: _deploying(boto) and _weights(boto) == {serving: 0, idle: 100}, within=30)
        before = await _writes(base)
        _set_weights(boto, {serving: 50, idle: 50})  # mid-bake, by hand: ECS's to deal with
        await asyncio.sleep(3)  # the event arrives and its targeted pass runs
        assert _deploying(boto)
        assert _weights(boto) == {serving: 50, idle: 50}
        assert (await _writes(base))["ModifyRule"] == before["ModifyRule"]

        await asyncio.to_thread(wait_until_settled, boto)  # the bake ends; ECS serves from the other group
        assert _serving(boto) == idle
        rules = 'reconciler_drift_corrected_total{kind="ListenerRule",target="default"}'
        before = await metric(base, rules)
        async with aiohttp.ClientSession() as http, http.post(f"{base}/sync") as response:
            assert response.status == 202  # a full pass: the weights left by hand go to the live group
        await eventually(lambda: _weights(boto) == {serving: 0, idle: 100}, within=15)
        corrected = await counted(base, rules, before + 1)  # that pass has recorded its correction
        _set_weights(boto, {serving: 100, idle: 0})  # production traffic sent to the idle target group
        started = time.monotonic()
        await eventually(lambda: _weights(boto) == {serving: 0, idle: 100}, within=10)
        assert time.monotonic() - started < 2.5  # through the event, not the interval
        assert await counted(base, rules, corrected + 1) == corrected + 1
