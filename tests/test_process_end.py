"""``reconciler`` ends its process with ``os._exit`` once a command is done (``cli.end_process``): what it printed
must all be out, through a pipe, and its exit code must be the command's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def reconciler(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip


def test_a_long_output_through_a_pipe_is_out_whole() -> None:
    done = reconciler("schema")

    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 64 * 1024  # more than a pipe's buffer
    assert json.loads(done.stdout)["title"].startswith("reconciler")


def test_the_exit_code_and_the_last_line_are_the_commands(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("apiVersion: reconciler/v1\nkind: Nope\nmetadata: {name: x}\n")
    done = reconciler("validate", str(tmp_path))

    assert done.returncode == 1
    assert done.stderr.endswith("nothing was applied\n"), done.stderr
    valid = reconciler("validate", "desired-state")
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("desired-state: ") and valid.stdout.endswith(")\n"), valid.stdout
