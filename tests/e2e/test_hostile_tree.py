"""A hostile desired-state tree through the real commands and the daemon as deployed (a process of its own): a
symbolic link to a file outside the tree that holds a marker, and a FIFO named like a document.

The marker must show in no output, log line, ``/status`` or ``/metrics``; a FIFO must block nothing; the daemon
keeps its last good revision in force, and keeps answering ``/healthz``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.errors import ECHO_LIMIT
from tests.conftest import CLI, BotoFactory
from tests.e2e.conftest import Estate, Repo, count_api_calls
from tests.e2e.test_daemon import desired_count, free_port
from tests.e2e.test_security import http_get, ready, wait_for

MARKER = "MARKER_OUT_OF_TREE_7f3a"
PATH_MARKER = (
    "MARKER_PATH_c4e1"  # in the name of the folder of an out-of-tree file: its path is not shown either
)
INTERVAL = 2  # --interval of the daemons: /healthz is 503 after three without a tick
OUT_OF_TREE = f"apiVersion: reconciler/v1\nkind: {MARKER}\nmetadata:\n  name: {MARKER}\nspec: {{}}\n"
LINK_OUTSIDE = "is a symbolic link pointing outside the desired-state directory: not followed"
# a kind that would clear a terminal, paint it red and forge a log line, then fill it with 5000 characters
HOSTILE_KIND = '\x1b[2J\x1b[31mEVIL\r\n{"event": "forged"}' + "x" * 5000
HOSTILE_DOCUMENT = (
    f"apiVersion: reconciler/v1\nkind: {json.dumps(HOSTILE_KIND)}\nmetadata: {{name: a}}\nspec: {{}}\n"
)


def secret_outside(tmp_path: Path) -> Path:
    """A file outside the desired state that a commit or a volume could link to (a token, a credentials file)."""
    secret = tmp_path / "outside" / "token.yaml"
    secret.parent.mkdir()
    secret.write_text(OUT_OF_TREE)
    return secret


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_link_out_of_the_tree_is_refused_at_its_path_and_never_read(
    estate: Estate, cli: CLI, tmp_path: Path, command: str
) -> None:
    (estate.dir / "services" / "evil.yaml").symlink_to(secret_outside(tmp_path))
    (estate.dir / "scaling" / "more").symlink_to(tmp_path / "outside", target_is_directory=True)
    calls = count_api_calls()
    result = cli(command, *estate.args())
    assert result.code == 1, result.out + result.err
    assert result.err.splitlines() == [
        f"{estate.dir}/scaling/more:1: {LINK_OUTSIDE}",
        f"{estate.dir}/services/evil.yaml:1: {LINK_OUTSIDE}",
        "desired state invalid: 2 problem(s); nothing was applied",
    ]
    assert MARKER not in result.out + result.err
    assert count_api_calls() == calls  # not one AWS call, not even a read


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_a_hostile_value_is_echoed_cut_and_printable(estate: Estate, cli: CLI, command: str) -> None:
    (estate.dir / "services" / "hostile.yaml").write_text(HOSTILE_DOCUMENT)
    result = cli(command, *estate.args())
    assert result.code == 1, result.out + result.err
    problem = next(line for line in result.err.splitlines() if "hostile.yaml:2:" in line)
    assert problem.startswith(
        f"{estate.dir}/services/hostile.yaml:2: unknown kind '\\x1b[2J\\x1b[31mEVIL\\x0d\\x0a"
    )
    quoted = problem.split("unknown kind '", 1)[1].split("' (expected one of:", 1)[0]
    assert len(quoted) == ECHO_LIMIT and quoted.endswith("xxx...")  # 5000 characters cut to 100
    assert not any(character in result.out + result.err for character in "\x1b\r")
    assert not any(line.startswith('{"event"') for line in result.err.splitlines())  # no forged line


def test_validate_names_a_fifo_at_once_and_exits_1(estate: Estate) -> None:
    os.mkfifo(estate.dir / "services" / "pipe.yaml")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *estate.args()],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,  # a validate blocked on the FIFO fails here rather than hanging the suite
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{estate.dir}/services/pipe.yaml:1: is a FIFO, not a regular file: not read" in done.stderr
    assert time.monotonic() - started < 15


@dataclass
class DaemonProcess:
    base: str
    log_file: Path
    seen: list[str] = field(default_factory=list)  # every endpoint's answer that the test read

    def logs(self) -> str:
        return self.log_file.read_text()

    def get(self, path: str) -> str:
        self.seen.append(http_get(f"{self.base}{path}")[1])
        return self.seen[-1]


@contextmanager
def daemon_process(tmp_path: Path, *args: str) -> Iterator[DaemonProcess]:
    """``reconciler run ARGS`` as deployed, a process of its own with JSON logs to a file; stopped by SIGTERM,
    after which it must exit 0."""
    port = free_port()
    daemon = DaemonProcess(base=f"http://127.0.0.1:{port}", log_file=tmp_path / "daemon.log")
    command = [sys.executable, "-m", "reconciler", "run", *args, "--listen", f"127.0.0.1:{port}",
               "--interval", str(INTERVAL), "--log-format", "json"]  # fmt: skip
    with daemon.log_file.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    try:
        wait_for(lambda: ready(daemon.base))
        yield daemon
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert process.returncode == 0, daemon.logs()


def last_good_still_enforced(daemon: DaemonProcess, boto: BotoFactory) -> None:
    """A change by hand is corrected from the last good revision, and /healthz answers 200 after three intervals
    (a loop stuck on a FIFO would be 503 by then)."""
    boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=3)
    assert http_get(f"{daemon.base}/sync", method="POST")[0] == 202
    wait_for(lambda: desired_count(boto) == 1)
    time.sleep(3 * INTERVAL)
    assert http_get(f"{daemon.base}/healthz")[0] == 200


def test_the_daemon_reports_a_hostile_tree_keeps_its_last_good_state_and_answers(
    estate: Estate, tmp_path: Path, boto: BotoFactory
) -> None:
    with daemon_process(tmp_path, *estate.args()) as daemon:
        wait_for(lambda: desired_count(boto) == 1)
        good = json.loads(daemon.get("/status"))["revision"]

        # A link to a file outside the tree: reported at its path, its content never read.
        (estate.dir / "services" / "evil.yaml").symlink_to(secret_outside(tmp_path))
        (estate.dir / "services" / "hostile.yaml").write_text(HOSTILE_DOCUMENT)
        wait_for(lambda: "services/evil.yaml:" in daemon.logs())
        assert MARKER not in daemon.logs()
        assert f"services/evil.yaml:1: {LINK_OUTSIDE}" in daemon.logs()

        # A FIFO named like a document: reported at its path, and nothing blocks.
        os.mkfifo(estate.dir / "services" / "pipe.yaml")
        wait_for(lambda: "services/pipe.yaml:" in daemon.logs())  # a load stuck on it never says so
        assert "services/pipe.yaml:1: is a FIFO, not a regular file: not read" in daemon.logs()
        assert "reconciler_desired_state_valid 0.0" in daemon.get("/metrics")

        last_good_still_enforced(daemon, boto)
        assert json.loads(daemon.get("/status"))["revision"] == good
        daemon.get("/metrics")
    logs = daemon.logs()
    assert MARKER not in logs + "\n".join(daemon.seen)
    invalid = [json.loads(line) for line in logs.splitlines() if '"desired state invalid"' in line]
    hostile = [p for entry in invalid for p in entry["problems"] if "hostile.yaml:2:" in p]
    assert hostile and all("\\x1b[2J" in p and "\x1b" not in p and len(p) < 600 for p in hostile)
    assert all(json.loads(line)["event"] != "forged" for line in logs.splitlines() if line.startswith("{"))
    assert "keeping the last good desired state" in logs


def test_the_daemon_following_git_refuses_a_commit_linking_out_and_keeps_the_last_good(
    estate: Estate, repo: Repo, tmp_path: Path, boto: BotoFactory
) -> None:
    """A commit carrying a link to a file of the reconciler's host (its token file, say): the commit is invalid
    at the link's path, and neither the file's content nor even its path shows anywhere."""
    secret = tmp_path / f"run-{PATH_MARKER}" / "git-token.yaml"
    secret.parent.mkdir()
    secret.write_text(OUT_OF_TREE)
    first = repo.git("rev-parse", "HEAD")
    with daemon_process(
        tmp_path, "--vars", str(estate.vars_file), "--git-url", repo.url, "--git-allow-local",
        "--git-ref", "main", "--git-path", "deploy", "--git-interval", "1",
        "--git-cache-dir", str(tmp_path / "cache"),
    ) as daemon:  # fmt: skip
        wait_for(lambda: desired_count(boto) == 1)
        assert json.loads(daemon.get("/status"))["revision"] == first

        (repo.work / "deploy" / "services" / "evil.yaml").symlink_to(secret)
        evil = repo.commit("a link to the token file")
        wait_for(lambda: "deploy/services/evil.yaml" in daemon.logs())
        assert (
            "deploy/services/evil.yaml:1: is a symbolic link pointing outside the repository: not followed"
            in daemon.logs()
        )
        last_good_still_enforced(daemon, boto)
        status = json.loads(daemon.get("/status"))
        assert status["revision"] == first
        assert status["source"] == status["source"] | {"revision": evil, "lastError": ""}
        assert "reconciler_desired_state_valid 0.0" in daemon.get("/metrics")
    everything = daemon.logs() + "\n".join(daemon.seen)
    assert MARKER not in everything and PATH_MARKER not in everything
