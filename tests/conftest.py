"""Fixtures shared by every test: the emulator (moto's server, patched, in its own process) and AWS settings.

``emulator`` starts once per test session; ``aws`` wipes its state before a test and points the AWS SDKs at it
through the environment; ``boto`` makes boto3 clients for that test, the way a person with the AWS CLI would
cause drift by hand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from reconciler.cli import run_command
from reconciler.sandbox.emulator import EmulatorProcess

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

BotoFactory = Callable[..., Any]


# How long the emulator's steps take in the tests (reconciler/sandbox/timing.py): AWS's shape, in seconds. A test
# that needs every step at once asks for it (``emulator.set_timing(instant=True)``); the next reset undoes it.
TEST_TIMES = {
    "SANDBOX_ECS_ROLLOUT_SECONDS": "1",
    "SANDBOX_ECS_TASK_FAILURE_SECONDS": "0.2",
    "SANDBOX_ECS_DRAIN_SECONDS": "1",
    "SANDBOX_CODEDEPLOY_STEP_SECONDS": "0.3",
    "SANDBOX_CODEDEPLOY_WAIT_MINUTE_SECONDS": "0.2",
    "SANDBOX_ECS_DEPLOYMENT_MINUTE_SECONDS": "0.05",
    "SANDBOX_ECS_LIFECYCLE_STAGE_SECONDS": "0.02",
}
SETTLE_TIMEOUT_SECONDS = 30.0


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """The patched emulator, in its own process for the whole session; ``.url`` is its address."""
    with EmulatorProcess.start(extra_env=TEST_TIMES) as process:
        yield process


@pytest.fixture
def aws(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """An empty emulator and an AWS environment pointing at it; returns the emulator's URL."""
    emulator.reset()
    # A daemon keeps what it read in --cache-dir across restarts. An emptied emulator gives the same task definition
    # ARNs to other content, which AWS never does: each test's daemons keep theirs apart.
    monkeypatch.setenv("RECONCILER_CACHE_DIR", str(tmp_path / "reconciler-cache"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.url)
    # The client-side API budget paces writes at half AWS's rates (ELBv2: 1.5 a second after a burst of 10), which
    # would only slow these tests down; it has its own (tests/live/test_budget.py, bench/steady_state.py).
    monkeypatch.setenv("RECONCILER_API_BUDGET", "0")
    return emulator.url


@pytest.fixture
def boto(aws: str) -> BotoFactory:
    """``boto("ecs")`` → a boto3 client for the emulator (extra keyword arguments go to ``boto3.client``)."""

    def make_client(service: str, **options: Any) -> Any:
        settings: dict[str, Any] = {"endpoint_url": aws, "region_name": REGION, **FAKE_CREDENTIALS}
        return boto3.client(service, **(settings | options))

    return make_client


def wait_until_settled(make_client: BotoFactory, *, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
    """Poll the emulator over HTTP until no ECS service of any cluster has a deployment IN_PROGRESS and no CodeDeploy
    deployment is running: what a person waits for before looking again."""
    ecs, codedeploy = make_client("ecs"), make_client("codedeploy")
    deadline = time.monotonic() + timeout
    while True:
        busy = _busy_services(ecs) + _busy_deployments(codedeploy)
        if not busy:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still busy after {timeout} s: {busy}")
        time.sleep(0.1)


def _busy_services(ecs: Any) -> list[str]:
    busy = []
    for cluster in ecs.list_clusters()["clusterArns"]:
        arns = [
            arn
            for page in ecs.get_paginator("list_services").paginate(cluster=cluster)
            for arn in page["serviceArns"]
        ]
        for start in range(0, len(arns), 10):
            for service in ecs.describe_services(cluster=cluster, services=arns[start : start + 10])[
                "services"
            ]:
                if any(d.get("rolloutState") == "IN_PROGRESS" for d in service.get("deployments", [])):
                    busy.append(service["serviceName"])
    return busy


def _busy_deployments(codedeploy: Any) -> list[str]:
    running = ["Created", "Queued", "InProgress", "Baking", "Ready"]
    return list(codedeploy.list_deployments(includeOnlyStatuses=running).get("deployments", []))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.out)
        return loaded


CLI = Callable[..., Result]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    def run(*args: str) -> Result:
        capsys.readouterr()
        code = run_command(list(args))
        captured = capsys.readouterr()
        return Result(code=code, out=captured.out, err=captured.err)

    return run


_STARTED = time.time()  # in the controller of a run: screenshots newer than this are this run's
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".screenshots"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the browser tests left their screenshots (``tests/e2e/test_ui_browser.py``): a passing test's own
    output is not shown, and with workers not even a failing one's prints reach the terminal at once."""
    taken = sorted(p.name for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= _STARTED)
    if taken:
        terminalreporter.write_line(f"screenshots of the web UI in {SCREENSHOTS}: {', '.join(taken)}")
