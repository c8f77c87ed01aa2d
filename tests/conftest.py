"""Fixtures shared by every test: the emulator (moto's server, patched, in its own process) and AWS settings.

``emulator`` starts once per test session; ``aws`` wipes its state before a test and points the AWS SDKs at it
through the environment; ``boto`` makes boto3 clients for that test, the way a person with the AWS CLI would
cause drift by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from reconciler.cli import run_command
from reconciler.sandbox.emulator import EmulatorProcess

REGION = "us-east-1"
FAKE_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

BotoFactory = Callable[..., Any]


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """The patched emulator, in its own process for the whole session; ``.url`` is its address."""
    with EmulatorProcess.start() as process:
        yield process


@pytest.fixture
def aws(emulator: EmulatorProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty emulator and an AWS environment pointing at it; returns the emulator's URL."""
    emulator.reset()
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
