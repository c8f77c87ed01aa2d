"""Drift during ECS rolling deployments, end to end against the emulator, whose deployments take time, crash-loop
and roll back as ECS's do: a hand-made deployment is overridden at once, the reconciler's own is waited for (up to
its deadline), a revision ECS rolled back is not deployed again until Git changes, and a service deleted by hand
is created again once it has drained."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from reconciler.plan.planner import PlanOptions
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.seed import create_events_queue
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import REGION, Estate
from tests.e2e.test_daemon import counted, eventually, metric
from tests.e2e.test_targeted import daemon_on

CLUSTER, SERVICE = "myapp-prod", "wordpress"


def described(boto: BotoFactory) -> dict[str, Any]:
    service: dict[str, Any] = boto("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][
        0
    ]
    return service


def primary(service: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def register_by_hand(boto: BotoFactory, image: str) -> str:
    """A revision of wordpress's family as someone would register it by hand: the running one, another image."""
    ecs = boto("ecs")
    running = ecs.describe_task_definition(taskDefinition=described(boto)["taskDefinition"])["taskDefinition"]
    request = {
        key: running[key]
        for key in ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
                    "volumes", "requiresCompatibilities", "cpu", "memory")
        if key in running
    }  # fmt: skip
    request["containerDefinitions"][0]["image"] = image
    arn: str = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    return arn


async def status_of(base: str, kind: str, name: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/status") as response:
        body = await response.json()
    return next(r for r in body["resources"] if (r["kind"], r["name"]) == (kind, name))


async def test_a_hand_made_deployment_of_a_crash_looping_revision_is_overridden_at_once(
    estate: Estate, boto: BotoFactory, aws: str, emulator: EmulatorProcess
) -> None:
    """Someone deploys a revision whose tasks never become healthy; ECS keeps that deployment IN_PROGRESS (its
    circuit breaker has not tripped yet). The reconciler puts its own revision back within seconds of the event,
    without waiting for that rollout and without registering anything."""
    emulator.set_timing(ecs_task_failure=60)  # no task of the bad revision fails during the test: no breaker
    queue_url = await create_events_queue(endpoint_url=aws, region=REGION)
    async with daemon_on(estate, queue_url=queue_url) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        ours = described(boto)["taskDefinition"]
        registered = await metric(
            base,
            'reconciler_aws_api_calls_total{operation="RegisterTaskDefinition",outcome="ok",service="ecs"}',
        )
        bad = register_by_hand(boto, "public.ecr.aws/docker/library/wordpress:crashloop")
        boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)
        assert primary(described(boto))["rolloutState"] == "IN_PROGRESS"
        started = time.monotonic()
        await eventually(lambda: described(boto)["taskDefinition"] == ours, within=10)
        took = time.monotonic() - started
        assert took < 2.5, took
        # the pass's outcome is recorded once its writes are done: the status follows the write by a moment
        await eventually(
            lambda: _says(status_of(base, "Service", SERVICE), "deployment", "overrides ECS deployment"),
            within=5,
        )
        assert "wordpress:" in (await status_of(base, "Service", SERVICE))["deployment"]
        assert (
            await metric(
                base,
                'reconciler_aws_api_calls_total{operation="RegisterTaskDefinition",outcome="ok",service="ecs"}',
            )
            == registered
        )
        await counted(base, 'reconciler_drift_corrected_total{kind="Service",target="default"}', 1)


async def test_without_events_the_override_comes_within_one_interval(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    emulator.set_timing(ecs_task_failure=60)
    async with daemon_on(estate, interval=3.0) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        ours = described(boto)["taskDefinition"]
        boto("ecs").update_service(
            cluster=CLUSTER, service=SERVICE, taskDefinition=register_by_hand(boto, "wordpress:crashloop")
        )
        started = time.monotonic()
        await eventually(lambda: described(boto)["taskDefinition"] == ours, within=15)
        assert time.monotonic() - started < 3.0 * 1.1 + 2, "more than one interval (jittered) and a pass"
        await counted(base, 'reconciler_drift_corrected_total{kind="Service",target="default"}', 1)


async def test_a_revision_ecs_rolled_back_is_not_deployed_again_until_git_changes(
    estate: Estate, boto: BotoFactory, aws: str
) -> None:
    """wordpress has the circuit breaker on with rollback. A Git image bump to a crash-looping image is deployed;
    ECS fails it and rolls back. The reconciler reports it and makes no further UpdateService for that revision;
    the next Git change deploys normally."""
    async with daemon_on(estate, interval=0.5) as (daemon, base):
        good = await crash_loop_rolled_back(estate, boto)
        await eventually(
            lambda: metric(
                base, 'reconciler_deployment_failed{kind="Service",name="wordpress",target="default"}'
            ),
            within=15,
        )
        updates = await metric(
            base, 'reconciler_aws_api_calls_total{operation="UpdateService",outcome="ok",service="ecs"}'
        )
        passes = daemon.passes
        await eventually(lambda: daemon.passes >= passes + 10, within=30)
        assert (
            await metric(
                base, 'reconciler_aws_api_calls_total{operation="UpdateService",outcome="ok",service="ecs"}'
            )
            == updates
        )
        assert described(boto)["taskDefinition"] == good
        status = await status_of(base, "Service", SERVICE)
        assert status["deployment"].endswith("failed"), status
        assert "rolled back" in status["lastError"]

        estate.edit("services/wordpress.yaml", "6.6-crashloop", "6.7-apache")  # the fix, from Git
        await eventually(
            lambda: (
                described(boto)["taskDefinition"] != good
                and primary(described(boto))["rolloutState"] == "COMPLETED"
            ),
            within=30,
        )
        await eventually(
            lambda: _metric_is(
                base, 'reconciler_deployment_failed{kind="Service",name="wordpress",target="default"}', 0
            ),
            within=15,
        )


async def crash_loop_rolled_back(estate: Estate, boto: BotoFactory) -> str:
    """Once the estate has settled, Git moves wordpress (circuit breaker on, with rollback) to an image whose tasks
    never start; the reconciler deploys it, and ECS fails it and rolls back. The revision wordpress runs again."""
    await asyncio.to_thread(wait_until_settled, boto)
    good: str = described(boto)["taskDefinition"]
    estate.edit("services/wordpress.yaml", "${WORDPRESS_TAG:=6.6-apache}", "6.6-crashloop")
    await eventually(lambda: described(boto)["taskDefinition"] != good, within=15)  # deployed
    await eventually(
        lambda: (
            described(boto)["taskDefinition"] == good
            and primary(described(boto))["rolloutState"] == "COMPLETED"
        ),
        within=30,
    )  # ECS rolled back
    return good


async def _says(status: Any, field: str, text: str) -> bool:
    return text in (await status).get(field, "")


async def _metric_is(base: str, name: str, value: float) -> bool:
    return await metric(base, name) == value


async def _drift_during_a_rollout_from_git(estate: Estate, boto: BotoFactory) -> None:
    """An image change from Git starts the reconciler's own rollout; while it runs, someone scales by hand."""
    estate.edit("services/wordpress.yaml", "${WORDPRESS_TAG:=6.6-apache}", "6.7-apache")
    await eventually(lambda: primary(described(boto))["rolloutState"] == "IN_PROGRESS", within=10)
    boto("ecs").update_service(cluster=CLUSTER, service=SERVICE, desiredCount=3)


async def test_drift_waits_for_the_reconcilers_own_deployment_until_its_deadline(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    async with daemon_on(estate, interval=0.5) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        emulator.set_timing(ecs_rollout=6)  # the next rollouts: the estate's first ones are done
        await _drift_during_a_rollout_from_git(estate, boto)
        await asyncio.sleep(2)  # several passes, during the rollout
        assert described(boto)["desiredCount"] == 3, "corrected during the reconciler's own rollout"
        assert "is rolling out" in (await status_of(base, "Service", SERVICE))["lastError"]
        await eventually(lambda: described(boto)["desiredCount"] == 1, within=15)  # once it has finished
        assert primary(described(boto))["rolloutState"] == "COMPLETED"


async def test_past_the_deadline_drift_is_corrected_during_the_reconcilers_own_deployment(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    async with daemon_on(estate, interval=0.5, plan_options=PlanOptions(deployment_deadline=2)) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto, timeout=60)
        emulator.set_timing(ecs_rollout=12)  # the next rollouts: the estate's first ones are done
        await _drift_during_a_rollout_from_git(estate, boto)
        await eventually(lambda: described(boto)["desiredCount"] == 1, within=10)
        assert primary(described(boto))["rolloutState"] == "IN_PROGRESS"  # not waited for: past its deadline
        await eventually(
            lambda: _says(status_of(base, "Service", SERVICE), "deployment", "deadline"), within=5
        )
        overdue = 'reconciler_deployment_overdue{kind="Service",name="wordpress",target="default"}'
        assert await metric(base, overdue) == 1  # alerted on, not only said
        await eventually(lambda: primary(described(boto))["rolloutState"] == "COMPLETED", within=30)

        async def cleared() -> bool:
            return await metric(base, overdue) == 0

        await eventually(cleared, within=5)  # the deployment ended


async def test_a_service_deleted_by_hand_is_created_again_once_it_has_drained(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    emulator.set_timing(ecs_drain=3)
    async with daemon_on(estate, interval=0.5) as (_, base):
        await asyncio.to_thread(wait_until_settled, boto)
        boto("ecs").delete_service(cluster=CLUSTER, service=SERVICE, force=True)
        assert described(boto)["status"] == "DRAINING"
        await asyncio.sleep(1.5)
        assert described(boto)["status"] == "DRAINING"
        assert "still draining" in (await status_of(base, "Service", SERVICE))["lastError"]
        await eventually(lambda: described(boto)["status"] == "ACTIVE", within=15)
        assert await metric(base, 'reconciler_apply_errors_total{kind="Service",action="create"}') == 0
