"""How long one-shot commands take as fresh processes: what a user waits for before anything happens.

Each command is run as a process of its own, ``--runs`` times (5), and the median wall time printed:

  * ``reconciler --help``;
  * ``reconciler validate desired-state``: the example estate, offline;
  * ``reconciler plan`` of N Fargate services (``--services``, 100; each with its own task definition family, the
    estate of bench/steady_state.py) against the emulator, in the steady state: the estate is applied first
    (``reconciler apply``) and its deployments left to settle, then each ``plan`` finds no change (exit 0). Twice:
    with the task definition revisions the run before kept in ``--cache-dir`` (a user's plan after the first,
    and any plan against AWS itself, where the cache directory is the default), and with none kept (a first run:
    against an ``--endpoint-url`` nothing is kept unless ``--cache-dir`` is given);
  * the import of ``reconciler.cli``: ``python -X importtime``'s total for it, and the wall time of
    ``python -c "import reconciler.cli"`` less that of ``python -c pass``.

Each is measured twice: as users run it ("installed": a venv made as the image makes it, the runtime lock and
the checkout as a wheel, ~10 s to build), against which the targets are judged; and in the project's venv ("dev
venv": the development tools too, and the editable install's import hook, which make every import slower).

Printed as one table with the machine, the date, the commit and the load average (figures taken on a loaded
machine are not comparable). ``--write`` appends the table to bench/RESULTS.md; the exit code is 1 when a target is
missed.

    python bench/startup.py [--services 100] [--runs 5] [--write]

Run it with the project's venv: its ``reconciler`` is the "dev venv" column, and its checkout the one measured
(another checkout's venv measures that checkout: a figure before a change).
The estate is applied with ``--api-budget 0``, and ``plan`` runs with it too: the emulator has no AWS rates, and at
the default budget a fresh process's ``plan`` waits for it to describe each task definition (its cache is cold).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import yaml

import reconciler
from reconciler.live.clients import AwsClients
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.seed import seed_base_infrastructure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from steady_state import REGION, settled, write_estate  # the estate of the steady-state bench

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# The checkout measured: the one the venv's ``reconciler`` runs (its desired-state/ is the example estate).
ROOT = Path(reconciler.__file__).resolve().parent.parent
PYTHON = Path(sys.executable)
RECONCILER = PYTHON.parent / "reconciler"
# Targets: the medians of fresh processes on the 2-CPU machine of bench/RESULTS.md.
TARGETS = {"help": 0.15, "validate": 0.5, "plan": 0.8}


def timed(argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    """The wall seconds of one run of ``argv``; exits when it does not end with 0 (for ``plan``: no change)."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)}: exit {done.returncode}\n{done.stdout[-1000:]}\n{done.stderr[-2000:]}")
    return seconds


def median_of(runs: int, argv: Sequence[str], env: dict[str, str] | None = None) -> float:
    timed(argv, env)  # once unmeasured: the page cache, .pyc files
    return statistics.median(timed(argv, env) for _ in range(runs))


def importtime_of(python: Path, module: str) -> float:
    """``python -X importtime -c "import MODULE"``: the cumulative seconds of ``module``'s line."""
    done = subprocess.run([str(python), "-X", "importtime", "-c", f"import {module}"],
                          cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    for line in done.stderr.splitlines():
        fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1e6
    raise SystemExit(f"-X importtime printed no line for {module}")


def installed(venv: Path) -> Path:
    """A venv installed as the image installs the reconciler (Dockerfile): the runtime lock and the checkout as a
    wheel, without the development tools (import-linter brings rich, which structlog then imports) nor the
    editable install's import hook. Its ``python``."""
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for lock in ("build.txt", "runtime.txt"):
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "--no-deps",
                        "-r", str(ROOT / "requirements" / lock)], check=True)  # fmt: skip
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", str(ROOT)],
                   check=True, capture_output=True)  # fmt: skip
    return python


async def applied_estate(root: Path, endpoint: str, services: int, env: dict[str, str]) -> None:
    """The emulator seeded as the sandbox seeds it, the estate written under ``root`` (the seeded subnets and
    roles in its vars.yaml), applied with ``reconciler apply``, and its deployments settled."""
    variables = await seed_base_infrastructure(endpoint_url=endpoint, region=REGION)
    write_estate(root, services, full=False)
    (root / "vars.yaml").write_text(yaml.safe_dump(dict(variables)), encoding="utf-8")
    aws = ["--endpoint-url", endpoint, "--region", REGION, "--api-budget", "0"]  # the apply is not measured
    print(f"apply {services} services: {timed([str(RECONCILER), 'apply', str(root), *aws], env=env):.1f} s")
    async with AwsClients(region=REGION, endpoint_url=endpoint) as clients:
        print(f"deployments settled after {await settled(clients):.1f} s more")


def measure(
    services: int, runs: int, pythons: dict[str, Path], *, kept: bool = True
) -> dict[str, dict[str, float]]:
    """Per install (``pythons``: name → its python), the figures of the table. ``kept``: ``plan`` with kept
    revisions too (a checkout from before ``--cache-dir`` had none: its ``plan`` is the figure without)."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench")  # the bench's own clients
    figures: dict[str, dict[str, float]] = {}
    for name, python in pythons.items():
        command = str(python.parent / "reconciler")
        figures[name] = {
            "help": median_of(runs, [command, "--help"]),
            "validate": median_of(runs, [command, "validate", "desired-state"]),
            "importtime": statistics.median(importtime_of(python, "reconciler.cli") for _ in range(runs)),
            "import": median_of(runs, [str(python), "-c", "import reconciler.cli"])
            - median_of(runs, [str(python), "-c", "pass"]),
        }
    with EmulatorProcess.start() as emulator, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(applied_estate(Path(tmp), emulator.url, services, env))
        aws = ["--endpoint-url", emulator.url, "--region", REGION, "--api-budget", "0"]
        for name, python in pythons.items():
            plan = [str(python.parent / "reconciler"), "plan", tmp, *aws]
            figures[name]["plan-cold"] = median_of(runs, plan, env)  # exit 0: no change in the steady state
            with tempfile.TemporaryDirectory() as cache:  # the first, unmeasured run fills it
                with_cache = [*plan, "--cache-dir", cache] if kept else plan
                figures[name]["plan"] = median_of(runs, with_cache, env)
    return figures


ROWS = (
    ("help", "`reconciler --help`"),
    ("validate", "`reconciler validate desired-state`"),
    ("plan", "`reconciler plan`, {services} services, steady state"),
    ("plan-cold", "… the same, no task definition revision kept by a run before"),
    ("importtime", "import of `reconciler.cli`, `-X importtime`"),
    ("import", "import of `reconciler.cli`, less `python -c pass`"),
)


def table(figures: dict[str, dict[str, float]], services: int, runs: int, load: str) -> list[str]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip()  # fmt: skip
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.node() or 'vm'}: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    names = list(figures)
    lines = [
        f"\n## {when}, {machine}, load average {load} before, `bench/startup.py --services {services}` on {commit}\n",
        f"| median of {runs} fresh processes, s | {' | '.join(names)} | target s |",
        "|---|" + "---|" * (len(names) + 1),
    ]
    for key, what in ROWS:
        target = TARGETS.get(key)
        cells = " | ".join(f"{figures[name][key]:.2f}" for name in names)
        lines.append(
            f"| {what.format(services=services)} | {cells} | {'' if target is None else f'≤ {target}'} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    parser.add_argument("--no-kept", dest="kept", action="store_false",
                        help="no plan with --cache-dir: to measure a checkout from before it existed")  # fmt: skip
    args = parser.parse_args()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())  # the bench's own processes load it after
    with tempfile.TemporaryDirectory() as venv:
        pythons = {"installed": installed(Path(venv)), "dev venv": PYTHON}
        figures = measure(args.services, args.runs, pythons, kept=args.kept)
    lines = table(figures, args.services, args.runs, load)
    print("\n".join(lines))
    if args.write:
        with RESULTS.open("a") as results:
            results.write("\n".join(lines) + "\n")
    judged = figures["installed"]  # what users run: the image, or a pip install
    missed = [name for name, target in TARGETS.items() if judged[name] > target]
    print(f"targets missed: {', '.join(missed)}" if missed else "targets met")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
