"""End-to-end harness: the example estate, seeded into the emulator, driven through the real command line.

``estate`` copies ``desired-state/`` into a temporary directory (tests edit it as a user edits the repo) and writes
the sandbox's seeded IDs into a ``--vars`` file, exactly as ``reconciler sandbox`` hands them over.
``cli`` runs a command in-process and returns its exit code and output; ``api_calls`` counts what reached AWS.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from reconciler.metrics import REGISTRY
from reconciler.sandbox.seed import seed_base_infrastructure
from tests.conftest import (  # noqa: F401 - the e2e tests import them from here
    CLI,
    BotoFactory,
    Result,
    wait_until_settled,
)

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@dataclass
class Estate:
    dir: Path
    vars_file: Path
    variables: dict[str, str]

    def args(self) -> list[str]:
        return [str(self.dir), "--vars", str(self.vars_file)]

    def set_var(self, name: str, value: str) -> None:
        self.variables[name] = value
        self.vars_file.write_text(yaml.safe_dump(self.variables))

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.dir / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def estate(aws: str, tmp_path: Path) -> Estate:
    variables = asyncio.run(seed_base_infrastructure(endpoint_url=aws, region=REGION))
    root = tmp_path / "desired-state"
    shutil.copytree(REPO / "desired-state", root)
    vars_file = tmp_path / "sandbox-vars.yaml"
    vars_file.write_text(yaml.safe_dump(variables))
    return Estate(dir=root, vars_file=vars_file, variables=dict(variables))


def calls_of(operation: str) -> int:
    """Attempts of one operation (``CreateDeployment``) counted so far (in this process)."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "reconciler_aws_api_calls":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total") and s.labels["operation"] == operation
            )
    return int(total)


def count_api_calls(*, writes_only: bool = False) -> int:
    """Attempts counted in ``reconciler_aws_api_calls_total`` so far (in this process)."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name != "reconciler_aws_api_calls":
            continue
        for sample in metric.samples:
            if not sample.name.endswith("_total"):
                continue
            operation = sample.labels["operation"]
            if writes_only and operation.startswith(("Describe", "List", "Get", "BatchGet")):
                continue
            total += sample.value
    return int(total)


@pytest.fixture
def converged(estate: Estate, cli: CLI, boto: BotoFactory) -> Estate:
    """The example estate applied from an empty account, checked to be converged, and its deployments finished."""
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    return estate


@dataclass
class Drifter:
    """Changes the desiredCount of ``services`` by hand (3, 4, 3, …), straight to the emulator, every ``every``
    seconds until ``stop`` is set: something for the replica of the moment to correct, again and again."""

    boto: BotoFactory
    services: tuple[str, ...]
    every: float
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        ecs, count = self.boto("ecs"), 3
        while not self.stop.wait(self.every):
            count = 3 if count == 4 else 4
            for service in self.services:
                ecs.update_service(cluster="myapp-prod", service=service, desiredCount=count)


@dataclass
class Repo:
    """A working clone the test commits in, and the bare remote it pushes to."""

    work: Path
    remote: Path

    @property
    def url(self) -> str:
        return self.remote.as_uri()

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.work, check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        self.git("push", "-q", "--force", "origin", "HEAD:main")
        return self.git("rev-parse", "HEAD")

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.work / relative
        text = path.read_text()
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(estate: Estate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name, value in {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
                        "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
                        "HOME": str(tmp_path)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", remote.as_uri(), str(work)], check=True, capture_output=True)
    shutil.copytree(estate.dir, work / "deploy")
    made = Repo(work=work, remote=remote)
    made.git("checkout", "-q", "-b", "main")
    made.commit("the example estate")
    return made
