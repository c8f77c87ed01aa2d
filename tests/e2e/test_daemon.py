"""The daemon end to end: converges, corrects drift on POST /sync, keeps its last good state when a commit is
invalid, serves its endpoints, and stops cleanly on SIGTERM within 10 s."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from reconciler.cli import run_command
from reconciler.live.clients import AwsClients
from reconciler.metrics import REGISTRY
from reconciler.model.resource import ResourceKey
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.runtime.status import print_status
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import Estate, count_api_calls

INVALID_DOCUMENT = (
    "apiVersion: reconciler/v1\nkind: Service\nmetadata: {name: broken}\nspec: {cluster: myapp-prod}\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def eventually(check: Callable[[], object], *, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def metric(base: str, name: str) -> float:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as response:
        text = await response.text()
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def counted(base: str, name: str, at_least: float, *, within: float = 5.0) -> float:
    """The metric once it has reached ``at_least``: a pass writes to AWS before it records what it did, so a test
    that sees AWS corrected waits for the pass's count."""
    await eventually(lambda: _reached(base, name, at_least), within=within)
    return await metric(base, name)


async def _reached(base: str, name: str, at_least: float) -> bool:
    return await metric(base, name) >= at_least


async def status_code(base: str, path: str, *, method: str = "GET") -> int:
    async with aiohttp.ClientSession() as http, http.request(method, f"{base}{path}") as response:
        return response.status


@asynccontextmanager
async def running_daemon(estate: Estate) -> AsyncIterator[tuple[Daemon, str]]:
    port = free_port()
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions())
        daemon = Daemon(
            source, engine, DaemonOptions(interval=60, debounce_ms=50, host="127.0.0.1", port=port)
        )
        task = asyncio.create_task(daemon.run())
        base = f"http://127.0.0.1:{port}"
        try:
            await eventually(lambda: _answers(base))
            yield daemon, base
        finally:
            started = time.monotonic()
            daemon.stop()
            await asyncio.wait_for(task, timeout=10)
            assert time.monotonic() - started < 10


async def _answers(base: str) -> bool:
    try:
        return await status_code(base, "/readyz") == 200
    except aiohttp.ClientError:
        return False


def desired_count(boto: BotoFactory) -> int:
    services = boto("ecs").describe_services(cluster="myapp-prod", services=["wordpress"])["services"]
    return int(services[0]["desiredCount"]) if services else -1


async def test_daemon_corrects_drift_and_keeps_the_last_good_state(estate: Estate, boto: BotoFactory) -> None:
    async with running_daemon(estate) as (daemon, base):
        assert desired_count(boto) == 1
        assert await metric(base, "reconciler_desired_state_valid") == 1
        assert await status_code(base, "/healthz") == 200
        await asyncio.to_thread(wait_until_settled, boto)  # the first pass's deployments have finished

        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=5)
        assert await status_code(base, "/sync", method="POST") == 202
        await eventually(lambda: desired_count(boto) == 1)
        await eventually(
            lambda: metric(base, 'reconciler_drift_corrected_total{kind="Service",target="default"}')
        )

        # A commit with one invalid document and one valid change: nothing of it is applied.
        estate.edit("services/wordpress.yaml", "desiredCount: 1", "desiredCount: 9")
        (estate.dir / "services" / "broken.yaml").write_text(INVALID_DOCUMENT)
        await eventually(lambda: _is(metric(base, "reconciler_desired_state_valid"), 0.0))
        assert desired_count(boto) == 1

        # ... while the last good state is still enforced.
        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=4)
        passes = daemon.passes
        await status_code(base, "/sync", method="POST")
        await eventually(lambda: daemon.passes > passes and desired_count(boto) == 1)

        async with aiohttp.ClientSession() as http, http.get(f"{base}/status") as response:
            statuses = {(r["kind"], r["name"]): r for r in (await response.json())["resources"]}
        assert statuses[("Service", "wordpress")]["state"] == "Synced"


async def _is(value: object, expected: float) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_invalid_state_at_start_writes_nothing(estate: Estate, boto: BotoFactory) -> None:
    (estate.dir / "services" / "broken.yaml").write_text(INVALID_DOCUMENT)
    port = free_port()
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    writes = count_api_calls(writes_only=True)
    async with AwsClients(region=None, endpoint_url=None) as clients:
        daemon = Daemon(source, Engine(clients, options=PlanOptions()), DaemonOptions(interval=60, port=port))
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: daemon.passes >= 1)
        await asyncio.sleep(0.2)
        assert not daemon.ready()
        daemon.stop()
        await asyncio.wait_for(task, timeout=10)
    assert count_api_calls(writes_only=True) == writes
    assert boto("ecs").list_clusters()["clusterArns"] == []


def test_sigterm_stops_the_daemon_within_ten_seconds(estate: Estate) -> None:
    port = free_port()
    command = [sys.executable, "-m", "reconciler", "run", *estate.args(), "--listen", f"127.0.0.1:{port}"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("daemon never became ready")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
    finally:
        process.kill()
        output = process.stdout.read().decode() if process.stdout else ""
    assert '"event": "daemon stopped"' in output


async def test_daemon_waits_for_a_directory_that_does_not_exist_yet(
    estate: Estate, boto: BotoFactory
) -> None:
    """A git-sync sidecar may not have cloned yet when the reconciler starts: keep serving, pick it up later."""
    later = estate.dir.parent / "not-cloned-yet"
    port = free_port()
    source = DirectorySource(root=later, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        options = DaemonOptions(interval=60, debounce_ms=50, host="127.0.0.1", port=port)
        daemon = Daemon(source, Engine(clients, options=PlanOptions()), options)
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: daemon.passes >= 1)
        assert not task.done() and not daemon.ready()
        estate.dir.rename(later)
        await status_code(f"http://127.0.0.1:{port}", "/sync", method="POST")
        await eventually(daemon.ready)
        assert desired_count(boto) == 1
        daemon.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_a_pass_over_its_timeout_is_an_error_and_the_loop_goes_on(estate: Estate) -> None:
    port = free_port()
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    base = f"http://127.0.0.1:{port}"
    async with AwsClients(region=None, endpoint_url=None) as clients:
        options = DaemonOptions(interval=0.2, pass_timeout=0.001, host="127.0.0.1", port=port)
        daemon = Daemon(source, Engine(clients, options=PlanOptions()), options)
        errors_before = REGISTRY.get_sample_value("reconciler_cycles_total", {"result": "error"}) or 0.0
        task = asyncio.create_task(daemon.run())
        await eventually(lambda: daemon.passes >= 3)
        assert await metric(base, 'reconciler_cycles_total{result="error"}') >= errors_before + 2
        assert not task.done() and await status_code(base, "/healthz") == 200
        daemon.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_a_revision_invalid_against_live_aws_is_reported_as_invalid(
    estate: Estate, boto: BotoFactory
) -> None:
    async with running_daemon(estate) as (_, base):
        estate.edit(
            "load-balancers/wordpress.yaml", "    - ${PUBLIC_SUBNET_B}\n", "    - ${PUBLIC_SUBNET_A}\n"
        )
        await eventually(lambda: _is(metric(base, "reconciler_desired_state_valid"), 0.0))
        assert await status_code(base, "/healthz") == 200  # the loop goes on


async def test_another_actor_fighting_a_managed_field_is_reported_within_three_passes(
    estate: Estate, boto: BotoFactory
) -> None:
    fighting = 'reconciler_resource_fighting{kind="Service",name="wordpress",target="default"}'
    async with running_daemon(estate) as (daemon, base):
        await eventually(lambda: daemon.tracker.passes > 0)
        await asyncio.to_thread(wait_until_settled, boto)  # the first pass's deployments have finished
        start = daemon.tracker.passes  # passes done
        for _ in range(2):  # someone scales wordpress by hand, again right after each correction
            boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=5)
            done = daemon.tracker.passes
            assert await status_code(base, "/sync", method="POST") == 202
            await eventually(lambda: daemon.tracker.passes > done and desired_count(boto) == 1)  # noqa: B023
        assert await metric(base, fighting) == 1.0
        assert daemon.tracker.passes - start <= 3
        for _ in range(3):  # left alone for 3 passes, it is no longer fighting
            done = daemon.tracker.passes
            await status_code(base, "/sync", method="POST")
            await eventually(lambda: daemon.tracker.passes > done)  # noqa: B023
        assert await metric(base, fighting) == 0.0


async def test_status_command_prints_the_daemon_status_as_a_table(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_daemon(estate) as (daemon, base):
        assert await print_status(base) == 0
        table = capsys.readouterr().out
        assert await print_status(base, "wordpress") == 0
        detail = capsys.readouterr().out
        assert await print_status(base, "Service/nothing") == 1
    assert daemon.last_good is not None and f"revision {daemon.last_good.revision}" in table
    header, *rows = [line for line in table.splitlines() if line.startswith(("KIND", "Service", "Cluster"))]
    assert header.split()[:5] == ["KIND", "NAME", "STATE", "HEALTH", "REVISION"]
    # the pass created everything: what it created is read, and judged, by the next
    assert ["Service", "wordpress", "Synced", "Unknown"] in [row.split()[:4] for row in rows]
    assert "33 resources: 33 Synced; health: 33 Unknown" in table
    assert detail.splitlines()[:3] == [
        "Service/wordpress",
        f"state        Synced at revision {daemon.last_good.revision[:12]}, last change "
        f"{daemon.tracker.statuses[ResourceKey('Service', 'wordpress')].lastChange}",
        "health       Unknown: created by this pass: read by the next",
    ]
    assert detail.splitlines()[-1] == "no deployments read yet"


def test_status_command_exits_1_when_the_daemon_is_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(["status", "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot read" in capsys.readouterr().err


async def test_status_lists_the_fields_left_to_another_owner(estate: Estate) -> None:
    async with running_daemon(estate) as (_, base):

        async def frontapp() -> dict[str, Any]:
            async with aiohttp.ClientSession() as http, http.get(f"{base}/status") as response:
                body = await response.json()
            return next(r for r in body["resources"] if (r["kind"], r["name"]) == ("Service", "frontapp"))

        async def listed() -> bool:
            return "owned" in await frontapp()

        await eventually(listed)
        assert (await frontapp())["owned"] == [
            {"path": "desiredCount", "owner": "Application Auto Scaling"},  # it is scaled
            {"path": "loadBalancers[].targetGroupArn", "owner": "CodeDeploy"},  # and deployed blue/green
        ]
