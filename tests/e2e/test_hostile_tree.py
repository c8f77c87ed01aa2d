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
from pathlib import Path

import pytest

from reconciler.errors import ECHO_LIMIT
from tests.conftest import CLI, BotoFactory
from tests.e2e.conftest import Estate, count_api_calls
from tests.e2e.test_daemon import desired_count, free_port
from tests.e2e.test_security import http_get, ready, wait_for

MARKER = "MARKER_OUT_OF_TREE_7f3a"
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


def test_the_daemon_reports_a_hostile_tree_keeps_its_last_good_state_and_answers(
    estate: Estate, tmp_path: Path, boto: BotoFactory
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "daemon.log"
    command = [sys.executable, "-m", "reconciler", "run", *estate.args(), "--listen", f"127.0.0.1:{port}",
               "--interval", "2", "--log-format", "json"]  # fmt: skip
    with log_file.open("wb") as log:
        daemon = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ))
    seen: list[str] = []  # every endpoint's answer
    try:
        wait_for(lambda: ready(base))
        wait_for(lambda: desired_count(boto) == 1)
        good = http_get(f"{base}/status")[1]
        seen.append(good)

        # A link to a file outside the tree: reported at its path, its content never read.
        (estate.dir / "services" / "evil.yaml").symlink_to(secret_outside(tmp_path))
        (estate.dir / "services" / "hostile.yaml").write_text(HOSTILE_DOCUMENT)
        wait_for(lambda: "services/evil.yaml:" in log_file.read_text())
        assert MARKER not in log_file.read_text()
        assert f"services/evil.yaml:1: {LINK_OUTSIDE}" in log_file.read_text()

        # A FIFO named like a document: reported at its path, and nothing blocks.
        os.mkfifo(estate.dir / "services" / "pipe.yaml")
        wait_for(lambda: "services/pipe.yaml:" in log_file.read_text())  # a load stuck on it never says so
        assert "services/pipe.yaml:1: is a FIFO, not a regular file: not read" in log_file.read_text()
        assert "reconciler_desired_state_valid 0.0" in http_get(f"{base}/metrics")[1]

        # The last good revision is still enforced: a change by hand is corrected, and /healthz answers 200.
        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=3)
        assert http_get(f"{base}/sync", method="POST")[0] == 202
        wait_for(lambda: desired_count(boto) == 1)
        time.sleep(3 * 2)  # three intervals: a loop stuck on the FIFO would now be 503
        assert http_get(f"{base}/healthz")[0] == 200
        for path in ("/status", "/metrics"):
            seen.append(http_get(f"{base}{path}")[1])
        assert '"revision"' in seen[-2] and seen[-2].count(MARKER) == 0
        assert _revision(seen[-2]) == _revision(good)
    finally:
        daemon.terminate()
        daemon.wait(timeout=15)
    logs = log_file.read_text()
    assert daemon.returncode == 0, logs
    assert MARKER not in logs + "\n".join(seen)
    invalid = [json.loads(line) for line in logs.splitlines() if '"desired state invalid"' in line]
    hostile = [p for entry in invalid for p in entry["problems"] if "hostile.yaml:2:" in p]
    assert hostile and all("\\x1b[2J" in p and "\x1b" not in p and len(p) < 600 for p in hostile)
    assert all(json.loads(line)["event"] != "forged" for line in logs.splitlines() if line.startswith("{"))
    assert "keeping the last good desired state" in logs


def _revision(status: str) -> str:
    value = json.loads(status)["revision"]
    assert isinstance(value, str)
    return value
