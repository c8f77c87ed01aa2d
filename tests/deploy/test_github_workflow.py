"""The pull-request workflow (``deploy/github/plan-on-pull-request.yml``) finds its comment by the marker the
Markdown plan begins with, asks for no more than it needs, pins every action by commit, and tells "changes
pending" from a failure. Its schema and its security audit are ``make deploy-checks`` (check-jsonschema, zizmor)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.plan.markdown import MARKER

WORKFLOW = Path(__file__).resolve().parents[2] / "deploy" / "github" / "plan-on-pull-request.yml"


def load() -> dict[str, Any]:
    loaded: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as true
    return loaded


def steps() -> list[dict[str, Any]]:
    (job,) = load()["jobs"].values()
    found: list[dict[str, Any]] = job["steps"]
    return found


def test_the_comment_is_found_by_the_marker_the_markdown_plan_begins_with() -> None:
    (comment,) = [s for s in steps() if s.get("name") == "Comment on the pull request"]
    assert f"marker='{MARKER}'" in comment["run"]
    assert MARKER in next(s for s in steps() if s.get("id") == "plan")["run"]  # the note of a failed plan


def test_it_asks_for_the_oidc_token_the_comment_and_nothing_more() -> None:
    workflow = load()
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {"id-token": "write", "contents": "read", "pull-requests": "write"}
    assert list(workflow["on"]) == ["pull_request"]  # never pull_request_target: no secrets for forks' code


def test_every_action_is_pinned_by_a_full_commit_sha() -> None:
    used = [s["uses"] for s in steps() if "uses" in s]
    assert used
    for uses in used:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses


def test_the_plan_keeps_its_revisions_where_the_cache_step_saves_and_restores_them() -> None:
    (cache,) = [s for s in steps() if s.get("uses", "").startswith("actions/cache@")]
    plan = next(s for s in steps() if s.get("id") == "plan")
    assert plan["env"]["RECONCILER_CACHE_DIR"] == cache["with"]["path"]
    # a key of its own each run (a saved cache is never replaced), the newest earlier one restored
    assert "${{ github.run_id }}" in cache["with"]["key"]
    assert cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    names = [s.get("name") for s in steps()]
    assert names.index(cache["name"]) < names.index(plan["name"])


def run_step(step: dict[str, Any], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The step's script as GitHub runs it (``bash --noprofile --norc -eo pipefail``), with fakes first on PATH."""
    fakes = tmp_path / "bin"
    variables = {"PATH": f"{fakes}:{os.environ['PATH']}", "RUNNER_TEMP": str(tmp_path), **env}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=variables, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip


def fake(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/bash\n" + script)
    path.chmod(0o755)


@pytest.mark.parametrize(("code", "outcome"), [(0, "plan"), (2, "plan"), (1, "failed"), (3, "failed")])
def test_no_changes_and_changes_pending_are_a_plan_any_other_code_a_failure(
    tmp_path: Path, code: int, outcome: str
) -> None:
    plan = next(s for s in steps() if s.get("id") == "plan")
    fake(tmp_path / "venv" / "bin" / "reconciler", f"echo '{MARKER}'; echo 'the plan'; exit {code}")
    outputs = tmp_path / "outputs"
    done = run_step(
        plan, tmp_path, GITHUB_OUTPUT=str(outputs), DESIRED_STATE="desired-state", RUN_URL="https://x/1"
    )
    assert done.returncode == 0, done.stderr  # the step goes on to the comment whatever the plan's code
    assert outputs.read_text() == f"exit-code={code}\n"
    comment = (tmp_path / "plan.md").read_text()
    assert comment.startswith(MARKER + "\n")
    assert ("the plan" in comment) is (outcome == "plan")
    assert ("**The plan failed** (exit" in comment) is (outcome == "failed")
    (fail,) = [s for s in steps() if s.get("name") == "Fail when the plan did"]
    assert fail["if"] == "steps.plan.outputs.exit-code != '0' && steps.plan.outputs.exit-code != '2'"


OTHERS = [  # a comment by someone else that begins with the marker, and another comment of the workflow's author
    {"id": 5, "user": {"login": "mallory"}, "body": f"{MARKER}\nnot the plan"},
    {"id": 6, "user": {"login": "github-actions[bot]"}, "body": "another workflow's comment"},
]
OURS = {"id": 42, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nthe last plan"}


@pytest.mark.parametrize(
    ("comments", "call"),
    [
        (OTHERS, "POST repos/acme/estate/issues/7/comments"),
        ([*OTHERS, OURS], "PATCH repos/acme/estate/issues/comments/42"),
    ],
)
def test_the_comment_posted_before_is_edited_and_a_first_one_posted(
    tmp_path: Path, comments: list[dict[str, Any]], call: str
) -> None:
    """``gh`` faked: a listing answers ``comments`` through the step's own ``--jq`` filter; anything else is
    recorded. jq comes with the Makefile (`make test`), as chromium does: a missing one fails here, never skips."""
    assert shutil.which("jq"), "jq is missing: `make test` installs it (Makefile, JQ)"
    (comment,) = [s for s in steps() if s.get("name") == "Comment on the pull request"]
    listing, calls = tmp_path / "comments.json", tmp_path / "calls"
    listing.write_text(json.dumps(comments))
    fake(
        tmp_path / "bin" / "gh",
        f"""
args=("$@")
for i in "${{!args[@]}}"; do
  if [ "${{args[$i]}}" = --jq ]; then jq -r "${{args[$((i + 1))]}}" < "{listing}"; exit; fi
done
echo "$*" >> "{calls}"
""",
    )
    (tmp_path / "plan.md").write_text(f"{MARKER}\nthe plan\n")
    done = run_step(comment, tmp_path, GITHUB_REPOSITORY="acme/estate", PULL_REQUEST="7", GH_TOKEN="t")
    assert done.returncode == 0, done.stderr
    method, path = call.split()
    assert calls.read_text() == f"api --method {method} {path} -F body=@{tmp_path}/plan.md\n"
