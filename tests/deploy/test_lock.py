"""The dependency lock (requirements/, written by `make lock`): complete, installed as written, and refused when
pyproject.toml has moved on without it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "requirements"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>\S+)(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def pins(lock: Path) -> dict[str, str]:
    """NAME → VERSION of every line of a lock that applies to this interpreter and platform."""
    found: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match and (match["marker"] is None or Marker(match["marker"]).evaluate()):
            found[canonicalize_name(match["name"])] = match["version"]
    return found


def hashes_of_each_pin(lock: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    name = ""
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            name = match["name"]
            counts[name] = 0
        elif line.strip().startswith("--hash=sha256:"):
            counts[name] += 1
    return counts


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "tools" / "lock.py"), "check"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("lock", ["dev", "runtime", "build", "uv"])
def test_every_pin_is_exact_and_hashed(lock: str) -> None:
    counts = hashes_of_each_pin(LOCKS / f"{lock}.txt")
    assert counts, f"{lock}.txt pins nothing"
    assert all(counts.values()), (
        f"pins without a hash in {lock}.txt: {[n for n, c in counts.items() if not c]}"
    )


def test_this_venv_is_exactly_the_lock() -> None:
    """`make test` installs requirements/dev.txt as written: every package at its locked version, and nothing
    the lock does not name (but the project itself)."""
    locked = pins(LOCKS / "dev.txt")
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if canonicalize_name(dist.metadata["Name"]) != "reconciler"
    }
    assert installed == locked


def test_the_image_runs_what_the_tests_ran() -> None:
    """The image's locks are the development lock's versions, so the image runs what the suite passed with."""
    development = pins(LOCKS / "dev.txt")
    for lock in ("runtime", "build"):
        for name, version in pins(LOCKS / f"{lock}.txt").items():
            assert development.get(name) == version, (
                f"{lock}.txt: {name}=={version}, dev.txt: {development.get(name)}"
            )


def test_every_dependency_of_the_project_is_in_the_runtime_lock() -> None:
    runtime = pins(LOCKS / "runtime.txt")
    for requirement in map(Requirement, metadata.requires("reconciler") or []):
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            name = canonicalize_name(requirement.name)
            assert name in runtime, f"{name} is a dependency but not in runtime.txt"
            assert requirement.specifier.contains(runtime[name], prereleases=True), (name, runtime[name])


@pytest.fixture
def copy_of_the_repo(tmp_path: Path) -> Path:
    for part in ("pyproject.toml", "requirements", "tools"):
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    return tmp_path


def test_the_committed_lock_matches_pyproject(copy_of_the_repo: Path) -> None:
    result = run_check(copy_of_the_repo)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"PyYAML>=6.0.2"', '"PyYAML>=6.0.3"'),  # a range narrowed
        ('"watchfiles>=1.0",', '"watchfiles>=1.0",\n    "rich>=13",'),  # a dependency added
        ('"ruff>=0.8",', ""),  # a development tool removed
        ('requires = ["setuptools>=77"]', 'requires = ["setuptools>=78"]'),  # the build backend
    ],
)
def test_a_stale_lock_fails_and_says_what_to_run(copy_of_the_repo: Path, old: str, new: str) -> None:
    pyproject = copy_of_the_repo / "pyproject.toml"
    text = pyproject.read_text()
    assert old in text, f"pyproject.toml no longer holds {old}"
    pyproject.write_text(text.replace(old, new))
    result = run_check(copy_of_the_repo)
    assert result.returncode == 1
    assert "make lock" in result.stderr
    assert "requirements/dev.txt" in result.stderr


def test_a_comment_or_a_tool_setting_in_pyproject_does_not_stale_the_lock(copy_of_the_repo: Path) -> None:
    pyproject = copy_of_the_repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("line-length = 110", "line-length = 111  # wider"))
    result = run_check(copy_of_the_repo)
    assert result.returncode == 0, result.stderr
