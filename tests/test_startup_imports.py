"""What each command imports when it starts, in a fresh process: ``reconciler --help`` no AWS library and none of
the layers, ``validate`` no AWS client library, ``plan`` and ``apply`` neither the daemon nor what only it uses.
``cli.py`` imports each command's module when that command runs (``commands/``); import-linter cannot tell an
import inside a function from one at the top of a module, so these tests hold it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AWS_LIBRARIES = ("aiobotocore", "botocore", "boto3", "aiohttp", "moto")
# What only the daemon, the importer, the schema or the sandbox use.
NOT_ONE_SHOT = (
    "reconciler.runtime.daemon",
    "reconciler.runtime.fleet",
    "reconciler.runtime.options",
    "reconciler.server",
    "reconciler.notify",
    "reconciler.events",
    "reconciler.source.git_source",
    "reconciler.importer",
    "reconciler.sandbox",
    "reconciler.shapes.json_schema",
    "reconciler.ui",
    "aiohttp.web",
    "moto",
)


def imported(*args: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The modules a fresh ``python -X importtime ARGS`` imported (its stderr's lines), and how it ended."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)  # fmt: skip
    modules = {
        line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")
    }
    return modules, done


def within(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.mark.parametrize("argv", [["--help"], ["plan", "--help"], ["run", "--help"]])
def test_help_imports_no_aws_library_nor_any_layer(argv: list[str]) -> None:
    modules, done = imported("-m", "reconciler", *argv)

    assert done.returncode == 0, done.stderr
    assert "usage: reconciler" in done.stdout
    assert within(modules, AWS_LIBRARIES) == []
    layers = within(modules, ("reconciler",))
    assert layers == ["reconciler", "reconciler.cli", "reconciler.commands"]


def test_the_parser_imports_no_aws_library() -> None:
    modules, done = imported("-c", "import reconciler.cli; reconciler.cli.build_parser()")

    assert done.returncode == 0, done.stderr
    assert within(modules, (*AWS_LIBRARIES, "pydantic", "structlog")) == []


def test_validate_imports_no_aws_client_and_nothing_of_the_daemon() -> None:
    modules, done = imported("-m", "reconciler", "validate", "desired-state")

    assert done.returncode == 0, done.stderr
    assert "resources valid" in done.stdout
    assert within(modules, ("aiobotocore", "aiohttp", "boto3", "reconciler.live", "reconciler.runtime")) == []
    assert within(modules, NOT_ONE_SHOT) == []
    assert "reconciler.shapes.checker" in modules  # the spec is checked against botocore's request shapes
    # it logs nothing: no structlog; it watches nothing: no watchfiles; botocore's models, not its clients
    assert within(modules, ("structlog", "watchfiles", "botocore.client", "botocore.session")) == []


def test_plan_and_apply_import_nothing_of_the_daemon() -> None:
    modules, done = imported("-c", "import reconciler.commands.passes")

    assert done.returncode == 0, done.stderr
    assert "reconciler.runtime.engine" in modules
    assert within(modules, NOT_ONE_SHOT) == []
    # what only ``apply``, ``--output markdown`` or the daemon's health judgement use is imported when they run
    assert within(modules, ("reconciler.apply", "reconciler.plan.markdown", "reconciler.live.health")) == []


LOADS = """
import sys
import botocore.loaders
loaded = []
load = botocore.loaders.Loader.load_service_model
def recorded(self, service_name, type_name, api_version=None):
    loaded.append((service_name, type_name))
    return load(self, service_name, type_name, api_version)
botocore.loaders.Loader.load_service_model = recorded
from reconciler.cli import run_command
assert run_command(["validate", sys.argv[1]]) == 0
print(sorted(loaded))
"""


def test_validate_loads_the_models_of_the_kinds_in_the_tree_once_each(tmp_path: Path) -> None:
    (tmp_path / "cluster.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: c}\nspec: {}\n", encoding="utf-8"
    )
    (tmp_path / "group.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: TargetGroup\nmetadata: {name: g}\n"
        "spec: {Protocol: HTTP, Port: 80, VpcId: vpc-1, TargetType: ip}\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, "-c", LOADS, str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[('ecs', 'service-2'), ('elbv2', 'service-2')]"
