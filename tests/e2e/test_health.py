"""A service's health apart from its sync, and its deployment history, end to end: the daemon on the example estate
in the emulator, whose ECS deployments take time, crash-loop and roll back as ECS's do."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from reconciler.live.clients import AwsClients
from reconciler.model.resource import ResourceKey
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import Estate
from tests.e2e.test_daemon import eventually, metric
from tests.e2e.test_rollouts import crash_loop_rolled_back, described, primary, status_of
from tests.e2e.test_targeted import daemon_on

WORDPRESS = "services/wordpress.yaml"
TAG = "${WORDPRESS_TAG:=6.6-apache}"
BREAKER_ON = "      enable: true\n      rollback: true"


def health_metric(health: str) -> str:
    return f'reconciler_resource_health{{health="{health}",kind="Service",name="wordpress",target="default"}}'


async def health_is(base: str, health: str, reason: str = "", service: str = "wordpress") -> bool:
    status = await status_of(base, "Service", service)
    return bool(status["health"] == health and reason in status["healthReason"])


async def _healthy_without_failure(base: str) -> bool:
    status = await status_of(base, "Service", "wordpress")
    return bool(status["health"] == "Healthy" and status["healthReason"] == "1 of 1 tasks running")


async def newest_deployment(base: str) -> dict[str, Any]:
    deployments: list[dict[str, Any]] = (await status_of(base, "Service", "wordpress"))["deployments"]
    return deployments[0] if deployments else {}


async def test_a_healthy_deployment_is_progressing_then_healthy(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    async with daemon_on(estate, interval=0.5) as (daemon, base):
        await asyncio.to_thread(wait_until_settled, boto)
        await eventually(lambda: health_is(base, "Healthy", "1 of 1 tasks running"))
        emulator.set_timing(ecs_rollout=3)  # the next rollouts: long enough to be seen rolling out
        estate.edit(WORDPRESS, TAG, "6.7-apache")
        await eventually(lambda: health_is(base, "Progressing", "is rolling out: 0 of 1 tasks running"))
        assert daemon.last_good is not None
        revision = daemon.last_good.revision
        assert await metric(base, health_metric("Progressing")) == 1
        await eventually(lambda: health_is(base, "Healthy", "1 of 1 tasks running"), within=15)
        assert (
            await metric(base, health_metric("Progressing")),
            await metric(base, health_metric("Healthy")),
        ) == (0, 1)
        newest = await newest_deployment(base)
        assert (newest["status"], newest["startedBy"], newest["revision"]) == (
            "SUCCESSFUL",
            "reconciler",
            revision,
        )
        assert newest["strategy"] == "ROLLING" and newest["startedAt"] and newest["finishedAt"]
        deployments = (await status_of(base, "Service", "wordpress"))["deployments"]
        assert [d["startedBy"] for d in deployments] == [
            "reconciler",
            "reconciler",
        ]  # and the one that created it


async def test_a_crash_looping_service_without_the_circuit_breaker_is_degraded(
    estate: Estate, boto: BotoFactory
) -> None:
    """A Git change to an image whose tasks never start, with the circuit breaker off: ECS keeps the deployment
    IN_PROGRESS for ever; the service is Degraded once as many tasks have failed as would have tripped the breaker."""
    async with daemon_on(estate, interval=0.5) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        estate.edit(WORDPRESS, BREAKER_ON, "      enable: false\n      rollback: false")
        estate.edit(WORDPRESS, TAG, "6.6-crashloop")
        await eventually(lambda: health_is(base, "Degraded", "tasks failed to start"), within=15)
        assert primary(described(boto))["rolloutState"] == "IN_PROGRESS"
        assert await metric(base, health_metric("Degraded")) == 1
        assert await metric(base, health_metric("Healthy")) == 0
        status = await status_of(base, "Service", "wordpress")
        assert status["state"] == "Synced", status  # in sync with Git, and not healthy
        newest = await newest_deployment(base)
        assert (newest["status"], newest["startedBy"]) == ("IN_PROGRESS", "reconciler")


async def test_a_deployment_the_circuit_breaker_fails_without_rollback_is_failed_while_in_sync(
    estate: Estate, boto: BotoFactory
) -> None:
    """The circuit breaker on, rollback off: ECS fails the deployment of the revision Git wants and leaves the service
    on it. The service is in sync with Git, Degraded, and its deployment failed (not deployed again until Git
    changes)."""
    async with daemon_on(estate, interval=0.5) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        estate.edit(WORDPRESS, BREAKER_ON, "      enable: true\n      rollback: false")
        estate.edit(WORDPRESS, TAG, "6.6-crashloop")
        await eventually(
            lambda: health_is(base, "Degraded", "failed: ECS deployment circuit breaker"), within=15
        )
        assert primary(described(boto))["rolloutState"] == "FAILED"
        await eventually(
            lambda: metric(
                base, 'reconciler_deployment_failed{kind="Service",name="wordpress",target="default"}'
            ),
            within=5,
        )
        status = await status_of(base, "Service", "wordpress")
        assert (status["state"], status["deployment"].endswith("failed")) == ("Synced", True), status
        newest = await newest_deployment(base)
        assert (newest["status"], newest["startedBy"]) == ("STOPPED", "reconciler")


async def test_a_rolled_back_deployment_is_degraded_then_healthy_on_the_old_revision(
    estate: Estate, boto: BotoFactory
) -> None:
    """wordpress has the circuit breaker on with rollback. A crash-looping image from Git fails and ECS rolls it
    back: the service is Degraded while it does; once the old revision runs again it is Healthy, its reason still
    saying what failed, for as long as Git asks for that revision (the failure is `reconciler_deployment_failed`'s to
    say); once Git is back on the old revision the failure is gone, and the history says it was rolled back."""
    async with daemon_on(estate, interval=0.5) as (daemon, base):
        good = await crash_loop_rolled_back(estate, boto)
        assert daemon.last_good is not None
        crashloop = daemon.last_good.revision  # the revision that asked for the crash-looping image
        await eventually(lambda: health_is(base, "Healthy", "ECS rolled back deployment"), within=15)
        assert (
            "not deployed again until Git changes"
            in (await status_of(base, "Service", "wordpress"))["healthReason"]
        )
        assert await metric(base, health_metric("Degraded")) == 0  # no longer
        assert (
            await metric(
                base, 'reconciler_deployment_failed{kind="Service",name="wordpress",target="default"}'
            )
            == 1
        )

        estate.edit(WORDPRESS, "6.6-crashloop", TAG)  # Git back on the revision the service runs
        await eventually(lambda: _healthy_without_failure(base), within=15)
        assert described(boto)["taskDefinition"] == good  # nothing deployed: it ran it already
        assert (
            await metric(
                base, 'reconciler_deployment_failed{kind="Service",name="wordpress",target="default"}'
            )
            == 0
        )
        assert (
            await metric(base, health_metric("Degraded")),
            await metric(base, health_metric("Healthy")),
        ) == (0, 1)
        rolled_back = await newest_deployment(base)
        assert rolled_back["status"] == "ROLLBACK_SUCCESSFUL"
        assert (rolled_back["startedBy"], rolled_back["revision"]) == ("reconciler", crashloop)
        assert "rolled back" in rolled_back["reason"]


async def test_a_canary_deployment_ecs_makes_is_progressing_through_its_stages_then_healthy(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    """catalog is deployed by ECS itself as a canary: while it rolls out, its health names the deployment's
    lifecycle stage (read from the service deployment, DescribeServices does not show it); then it is Healthy, and
    its history's newest entry is the reconciler's CANARY deployment."""
    async with daemon_on(estate, interval=0.5) as (daemon, base):
        await asyncio.to_thread(wait_until_settled, boto)
        await eventually(lambda: health_is(base, "Healthy", "2 of 2 tasks running", "catalog"))
        emulator.set_timing(ecs_deployment_minute=2)  # its bakes: 2 s for the canary's, 4 s at the end
        estate.edit("services/catalog.yaml", "catalog:${CATALOG_TAG}", "catalog:2.0.2")
        await eventually(lambda: health_is(base, "Progressing", "CANARY stage", "catalog"), within=15)
        await eventually(
            lambda: health_is(base, "Progressing", "CANARY stage BAKE_TIME", "catalog"), within=15
        )
        await eventually(lambda: health_is(base, "Healthy", "2 of 2 tasks running", "catalog"), within=20)
        assert daemon.last_good is not None
        newest = (await status_of(base, "Service", "catalog"))["deployments"][0]
        assert (newest["strategy"], newest["status"], newest["startedBy"], newest["revision"]) == (
            "CANARY",
            "SUCCESSFUL",
            "reconciler",
            daemon.last_good.revision,
        )


async def test_what_health_reads_is_read_only_when_it_may_have_changed(
    converged: Estate, boto: BotoFactory
) -> None:
    """A fresh engine lists each service's deployments once; then nothing, pass after pass, until a service's
    deployments change; a service that rolls out has its target group's health read at once."""
    source = DirectorySource(root=converged.dir, vars_files=(converged.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions())
        desired = source.load()

        async def spent_by_a_pass() -> tuple[Counter[str], PassOutcome]:
            before = clients.calls_by_operation()
            outcome = await engine.reconcile(desired)
            calls = clients.calls_by_operation()
            calls.subtract(before)
            return +calls, outcome

        first, _ = await spent_by_a_pass()
        # wordpress, catalog and scorekeep's two (frontapp's history is CodeDeploy's)
        assert first["ecs:ListServiceDeployments"] == 4
        assert first["ecs:DescribeServiceDeployments"] == 1  # their deployments, 20 a call
        for _ in range(3):
            steady, outcome = await spent_by_a_pass()
            assert not {op: n for op, n in steady.items() if op in HISTORY_READS}, steady
            # target health by turns: a sixtieth of the target groups a pass
            assert steady["elastic-load-balancing-v2:DescribeTargetHealth"] <= 1
        healths = {key: verdict.health.value for key, verdict in outcome.health.items()}
        assert healths[ResourceKey("Service", "wordpress")] == "Healthy"
        assert {h for key, h in healths.items() if key.kind != "TargetGroup"} == {"Healthy"}
        assert outcome.deployments["wordpress"][0].status == "SUCCESSFUL"

        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", forceNewDeployment=True)
        rolling, outcome = await spent_by_a_pass()
        assert rolling["ecs:ListServiceDeployments"] == 1 and rolling["ecs:DescribeServiceDeployments"] == 1
        assert rolling["elastic-load-balancing-v2:DescribeTargetHealth"] >= 1  # wordpress-tg, at once
        assert outcome.health[ResourceKey("Service", "wordpress")].health.value == "Progressing"
        assert outcome.health[ResourceKey("TargetGroup", "wordpress-tg")].read
        newest = outcome.deployments["wordpress"][0]
        assert (newest.status, engine.starters.who(newest)) == (
            "IN_PROGRESS",
            ("outside the reconciler", None),
        )


HISTORY_READS = {
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "codedeploy:BatchGetDeployments",
}
