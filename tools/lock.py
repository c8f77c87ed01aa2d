"""The dependency lock: ``requirements/*.txt``, every package pinned to one version with its hashes.

``pyproject.toml`` keeps the ranges the code supports; the lock says which release of each package, direct or
transitive, a venv, CI and the container image install, so that ``make test`` on any day installs what it passed
with last time. The files are requirements files with hashes, the format pip installs with ``--require-hashes``
and that every Python tool reads. ``uv pip compile --universal`` writes them: one resolution that holds on every
platform and Python from 3.11 on (pip-tools resolves for the machine it runs on only), and uv itself comes from a
hashed lock of its own, ``requirements/uv.txt``.

    python3 tools/lock.py write UV [--upgrade]   # `make lock`: resolve anew, keeping each pin that still fits
                                                 # (with --upgrade, `make lock UPGRADE=1`: the newest releases)
    python3 tools/lock.py check    # fail if pyproject.toml's dependencies changed since the lock was written

Every file carries the digest of what it was resolved from (the dependency tables of ``pyproject.toml`` and the
pin of uv), so ``check`` needs neither the network nor a venv: it runs with the machine's Python, before anything
is installed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = REPO / "pyproject.toml"
LOCKS = REPO / "requirements"
UV_IN = LOCKS / "uv.in"
DIGEST_PREFIX = "# inputs-sha256: "
MINIMUM_PYTHON = "3.11"
# Locked beside the build backend: the installer itself, so that a venv and the image install with a known pip.
BUILD_TOOLS = ("pip",)


@dataclass(frozen=True)
class Lock:
    """One lock file: what it is for and what ``uv pip compile`` resolves it from."""

    name: str
    purpose: str
    extras: tuple[str, ...] = ()
    project: bool = True  # the project's own dependencies
    build: bool = False  # the installer and the build backend (pip, and pyproject's build-system.requires)
    uv: bool = False  # the lock tool itself
    constrained: bool = True  # the same versions as dev.txt, where both hold a package

    @property
    def path(self) -> Path:
        return LOCKS / f"{self.name}.txt"


# dev.txt first: the others are constrained to its versions, so that the image runs what the tests passed with.
LOCK_FILES = (
    Lock(
        "dev",
        "make test and make run: the project, the sandbox, the checks",
        extras=("dev",),
        build=True,
        constrained=False,
    ),
    Lock("runtime", "the container image: what `reconciler` needs to run"),
    Lock(
        "build",
        "the container image's builder: the installer and the build backend that makes the wheel",
        project=False,
        build=True,
    ),
    Lock("uv", "make lock: the tool that writes these files", project=False, uv=True, constrained=False),
)


def inputs_digest() -> str:
    """What every lock is resolved from, as one digest: any change to a range or to uv's pin changes it."""
    pyproject = tomllib.loads(PYPROJECT.read_text())
    project = pyproject["project"]
    inputs = {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "build-system.requires": [*BUILD_TOOLS, *pyproject["build-system"]["requires"]],
        "uv.in": UV_IN.read_text().splitlines(),
        "locks": [(lock.name, lock.extras, lock.project, lock.build, lock.uv) for lock in LOCK_FILES],
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def check() -> int:
    digest = inputs_digest()
    stale = []
    for lock in LOCK_FILES:
        if not lock.path.exists():
            stale.append(f"{lock.path.relative_to(REPO)} is missing")
            continue
        recorded = next(
            (
                line.removeprefix(DIGEST_PREFIX).strip()
                for line in lock.path.read_text().splitlines()
                if line.startswith(DIGEST_PREFIX)
            ),
            None,
        )
        if recorded != digest:
            stale.append(f"{lock.path.relative_to(REPO)} was not written from this pyproject.toml")
    if stale:
        print("The dependency lock is stale:", *stale, sep="\n  ", file=sys.stderr)
        print("Run `make lock` and commit requirements/.", file=sys.stderr)
        return 1
    print(f"lock: requirements/ matches pyproject.toml ({len(LOCK_FILES)} files)")
    return 0


def write(uv: str, *, upgrade: bool) -> int:
    pyproject = tomllib.loads(PYPROJECT.read_text())
    digest = inputs_digest()
    with tempfile.TemporaryDirectory() as tmp:
        build_in = Path(tmp) / "build-system.in"
        build_in.write_text("\n".join([*BUILD_TOOLS, *pyproject["build-system"]["requires"]]) + "\n")
        for lock in LOCK_FILES:
            sources = [str(PYPROJECT)] if lock.project else []
            sources += [str(build_in)] if lock.build else []
            sources += [str(UV_IN)] if lock.uv else []
            command = [
                uv, "pip", "compile", *sources,
                *(f"--extra={extra}" for extra in lock.extras),
                *(["--constraints", str(LOCK_FILES[0].path)] if lock.constrained else []),
                "--universal", f"--python-version={MINIMUM_PYTHON}", "--generate-hashes",
                "--no-emit-package=reconciler", "--custom-compile-command=make lock",
                *(["--upgrade"] if upgrade else []), "--quiet", "--output-file", str(lock.path),
            ]  # fmt: skip
            subprocess.run(command, check=True, cwd=REPO)
            body = lock.path.read_text().replace(str(Path(tmp)) + "/", "")
            lock.path.write_text(f"# {lock.purpose}\n{DIGEST_PREFIX}{digest}\n{body}")
            print(f"lock: wrote {lock.path.relative_to(REPO)}")
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["check"]:
            return check()
        case ["write", uv]:
            return write(uv, upgrade=False)
        case ["write", uv, "--upgrade"]:
            return write(uv, upgrade=True)
        case _:
            print(__doc__, file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
