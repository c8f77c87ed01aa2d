"""Targeted passes and event-driven drift detection end to end, on the example estate in the emulator.

A commit that changes one service is applied by a pass that reads only that service's unit and what it refers to
(no listing of clusters, services, Cloud Map or CodeDeploy); a commit that removes a document gets a full pass;
a hand-made change is corrected at once when an AWS event names it (the emulator emits CloudTrail-shaped events
for others' writes, as EventBridge delivers them), long before the interval; the queue's junk costs nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import structlog

from reconciler.events.queue import EventQueue
from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules, OperationFaults
from reconciler.sandbox.faults import FaultProxyProcess
from reconciler.sandbox.seed import create_events_queue
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import REGION, Estate
from tests.e2e.test_daemon import _answers, counted, desired_count, eventually, free_port, metric
from tests.e2e.test_security import add_secret_variable

INTERVAL = 300.0  # no full pass by the clock during a test: what happens is the targeted passes' doing
LISTINGS = (
    "ecs:ListClusters",
    "ecs:ListServices",
    "servicediscovery:ListServices",
    "codedeploy:ListApplications",
)


@asynccontextmanager
async def daemon_on(
    estate: Estate,
    *,
    queue_url: str | None = None,
    interval: float = INTERVAL,
    plan_options: PlanOptions | None = None,
) -> AsyncIterator[tuple[Daemon, str]]:
    port = free_port()
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=plan_options or PlanOptions())
        options = DaemonOptions(interval=interval, debounce_ms=50, host="127.0.0.1", port=port)
        events = EventQueue(clients, queue_url) if queue_url else None
        daemon = Daemon(source, engine, options, events=events)
        task = asyncio.create_task(daemon.run())
        base = f"http://127.0.0.1:{port}"
        try:
            await eventually(lambda: _answers(base), within=30)
            await eventually(lambda: daemon.passes >= 1 and daemon.tracker.passes >= 1, within=30)
            yield daemon, base
        finally:
            daemon.stop()
            await asyncio.wait_for(task, timeout=10)


def image_of(boto: BotoFactory, service: str) -> str:
    ecs = boto("ecs")
    running = ecs.describe_services(cluster="myapp-prod", services=[service])["services"][0]["taskDefinition"]
    return str(
        ecs.describe_task_definition(taskDefinition=running)["taskDefinition"]["containerDefinitions"][0][
            "image"
        ]
    )


async def test_a_commit_to_one_service_is_a_targeted_pass(estate: Estate, boto: BotoFactory) -> None:
    async with daemon_on(estate) as (daemon, base):
        calls = daemon.engine.clients.calls_by_operation()
        targeted = await metric(base, 'reconciler_targeted_passes_total{trigger="desired"}')
        estate.edit("services/wordpress.yaml", "${WORDPRESS_TAG:=6.6-apache}", "6.7-apache")
        await eventually(lambda: image_of(boto, "wordpress").endswith(":6.7-apache"))
        await eventually(
            lambda: _more(metric(base, 'reconciler_targeted_passes_total{trigger="desired"}'), targeted)
        )
        spent = daemon.engine.clients.calls_by_operation()
        spent.subtract(calls)
        assert not {op: n for op, n in spent.items() if op in LISTINGS and n}, +spent
        assert spent["ecs:DescribeServices"] == 1  # wordpress only: the other three were not asked
        assert spent["elastic-load-balancing-v2:DescribeTargetGroups"] == 1  # by name: wordpress-tg
        assert sum(spent.values()) < 20  # a full pass of this estate reads about 40 times
        statuses = {(r["kind"], r["name"]): r for r in daemon.status()["resources"]}  # type: ignore[union-attr]
        assert statuses[("Service", "wordpress")]["state"] == "Synced"
        assert len(statuses) > 20  # a targeted pass keeps every other resource's status


async def test_a_commit_that_removes_a_document_gets_a_full_pass(estate: Estate, boto: BotoFactory) -> None:
    async with daemon_on(estate) as (daemon, _):
        passes = daemon.tracker.passes  # full passes only
        calls = daemon.engine.clients.calls_by_operation()["ecs:ListClusters"]
        text = (estate.dir / "scaling" / "frontapp.yaml").read_text()
        documents = text.split("\n---\n")
        (estate.dir / "scaling" / "frontapp.yaml").write_text("\n---\n".join(documents[:-1]) + "\n")
        await eventually(lambda: daemon.tracker.passes > passes)
        assert daemon.engine.clients.calls_by_operation()["ecs:ListClusters"] > calls


async def test_a_hand_made_change_is_corrected_at_once_through_events(
    estate: Estate, boto: BotoFactory, aws: str
) -> None:
    queue_url = await create_events_queue(endpoint_url=aws, region=REGION)
    async with daemon_on(estate, queue_url=queue_url) as (_, base):
        await asyncio.sleep(1)  # the first pass's own writes carry our user agent: no events for them
        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=5)
        started = time.monotonic()
        await eventually(lambda: desired_count(boto) == 1, within=30)
        took = time.monotonic() - started
        assert took < 15 < INTERVAL, took  # an event, not the interval
        assert await metric(base, 'reconciler_events_received_total{result="matched"}') >= 1
        assert await metric(base, 'reconciler_targeted_passes_total{trigger="event"}') >= 1
        await counted(base, 'reconciler_drift_corrected_total{kind="Service",target="default"}', 1)
        assert await metric(base, 'reconciler_events_received_total{result="own"}') == 0


async def test_junk_on_the_events_queue_is_counted_and_dropped(estate: Estate, boto: BotoFactory) -> None:
    sqs = boto("sqs")
    queue_url = sqs.create_queue(QueueName="junk-events")["QueueUrl"]
    async with daemon_on(estate, queue_url=queue_url) as (daemon, base):
        invalid = await metric(base, 'reconciler_events_received_total{result="invalid"}')
        passes = daemon.passes
        for body in ("{not json", json.dumps(["a list"]), json.dumps({"detail-type": "x", "detail": {}})):
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        await eventually(
            lambda: _more(metric(base, 'reconciler_events_received_total{result="invalid"}'), invalid + 1)
        )
        await eventually(lambda: _empty(boto, queue_url), within=30)
        assert daemon.passes == passes  # nothing named: no pass
        assert await metric(base, "reconciler_desired_state_valid") == 1


async def test_the_events_queue_failing_never_stops_the_daemon(
    estate: Estate, boto: BotoFactory, aws: str
) -> None:
    missing = f"{aws}/123456789012/no-such-queue"
    async with daemon_on(estate, queue_url=missing) as (daemon, base):
        await eventually(lambda: metric(base, 'reconciler_events_received_total{result="error"}'))
        await asyncio.to_thread(wait_until_settled, boto)  # the first pass's deployments have finished
        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=5)
        passes = daemon.passes
        async with aiohttp.ClientSession() as http, http.post(f"{base}/sync") as response:
            assert response.status == 202
        await eventually(lambda: daemon.passes > passes and desired_count(boto) == 1)


async def _more(value: object, than: float) -> bool:
    return bool(await value > than)  # type: ignore[operator]


def _empty(boto: BotoFactory, url: str) -> bool:
    attributes = boto("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(v) for v in attributes.values()) == 0


async def test_a_change_does_not_wait_for_a_slow_full_pass(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    """Reads slowed to make a full pass last seconds (as at thousands of services): a commit arriving while one
    reads is applied first (the full pass stops before writing anything, then runs again), not after it."""
    slow = FaultRules(operations=[OperationFaults(match="*:Describe*", latency_ms=700)])
    with FaultProxyProcess.start(emulator.url, slow) as proxy:
        port = free_port()
        source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
        async with AwsClients(region=None, endpoint_url=proxy.url) as clients:
            engine = Engine(clients, options=PlanOptions())
            daemon = Daemon(
                source, engine, DaemonOptions(interval=1, debounce_ms=50, host="127.0.0.1", port=port)
            )
            task = asyncio.create_task(daemon.run())
            try:
                await eventually(
                    lambda: daemon.tracker.passes >= 2, within=120
                )  # converged; full passes go on
                started = time.monotonic()
                full_passes = daemon.tracker.passes
                estate.edit("services/wordpress.yaml", "${WORDPRESS_TAG:=6.6-apache}", "6.7-apache")
                await eventually(lambda: image_of(boto, "wordpress").endswith(":6.7-apache"), within=60)
                took = time.monotonic() - started
                assert daemon.tracker.passes == full_passes, "the commit waited for a full pass to end"
                assert took < 8, took  # a full pass here takes longer: reads in series of 700 ms
                await eventually(
                    lambda: daemon.tracker.passes > full_passes, within=60
                )  # and the full pass ran
            finally:
                daemon.stop()
                await asyncio.wait_for(task, timeout=15)


async def test_a_secret_written_in_clear_is_warned_about_again_only_when_its_document_changes(
    estate: Estate, boto: BotoFactory
) -> None:
    """The daemon warns about each secret-looking value written in clear when it first loads its document, and
    again when a commit changes that document; a commit elsewhere does not repeat the estate's warnings (nor walk
    every task definition to find them)."""
    add_secret_variable(estate, "s3cr3t-in-clear")

    def warnings(logs: list[MutableMapping[str, Any]]) -> list[object]:
        return [e["problem"] for e in logs if e["event"] == "a value that looks secret is written in clear"]

    with structlog.testing.capture_logs() as logs:
        async with daemon_on(estate) as (_, base):
            assert len(warnings(logs)) == 1
            passes = await metric(base, 'reconciler_targeted_passes_total{trigger="desired"}')
            estate.edit(
                "load-balancers/wordpress.yaml",
                "HealthCheckIntervalSeconds: 30",
                "HealthCheckIntervalSeconds: 20",
            )
            await eventually(
                lambda: _more(metric(base, 'reconciler_targeted_passes_total{trigger="desired"}'), passes)
            )
            assert len(warnings(logs)) == 1
            estate.edit("services/wordpress.yaml", "${WORDPRESS_TAG:=6.6-apache}", "6.7-apache")
            await eventually(lambda: image_of(boto, "wordpress").endswith(":6.7-apache"))
            assert len(warnings(logs)) == 2
            assert warnings(logs)[0] == warnings(logs)[1]
