"""The emulator process: starts on a free port, answers, resets, and never outlives its parent."""

from __future__ import annotations

import subprocess

import boto3

from reconciler.sandbox.emulator import EmulatorProcess, start_emulator
from tests.conftest import FAKE_CREDENTIALS, REGION, BotoFactory


def test_reset_wipes_every_resource(emulator: EmulatorProcess, boto: BotoFactory) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="doomed")
    emulator.reset()
    assert ecs.list_clusters()["clusterArns"] == []


async def test_async_emulator_starts_on_a_free_port_and_stops() -> None:
    async with await start_emulator() as emulator:
        ecs = boto3.client("ecs", endpoint_url=emulator.url, region_name=REGION, **FAKE_CREDENTIALS)
        ecs.create_cluster(clusterName="one")
        await emulator.reset()
        assert ecs.list_clusters()["clusterArns"] == []
        process = emulator.process.process
    assert process.poll() is not None


def test_server_exits_when_its_parent_lets_go_of_stdin() -> None:
    """Closing stdin is what the OS does when the parent dies, however it dies."""
    emulator = EmulatorProcess.start()
    try:
        assert emulator.process.stdin is not None
        emulator.process.stdin.close()
        assert emulator.process.wait(timeout=10) == 0
    finally:
        emulator.stop()


def test_stop_is_idempotent() -> None:
    emulator = EmulatorProcess.start()
    emulator.stop()
    emulator.stop()
    assert not emulator.running
    try:
        emulator.process.wait(timeout=1)
    except subprocess.TimeoutExpired:  # pragma: no cover - would mean an orphan
        raise AssertionError("emulator still running after stop()") from None
