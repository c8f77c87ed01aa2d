"""Values from the user's files that problems quote (an unknown kind, a field, key or variable name, a resource
name) come out cut to ``ECHO_LIMIT`` characters and with every control character written as an escape: a
document cannot paint a terminal, forge a log line or fill a log with megabytes through a problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.desired import load_desired_state
from reconciler.errors import ECHO_LIMIT, InvalidDesiredState, Problem, echoed
from reconciler.shapes import BotocoreSpecChecker
from tests.desired.corpus import TASK
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()
HOSTILE = "\x1b[2J\x1b[31mEVIL\r\nfake: log line\u202e" + "x" * 5000
HOSTILE_KEY = HOSTILE[:500]  # YAML reads no key longer than 1024 characters
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
CLUSTER = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata:\n  name: prod\nspec: {}\n"


def test_echoed_escapes_control_characters_and_cuts_long_values() -> None:
    assert echoed("Tusk") == "Tusk"
    assert echoed("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\x0ac\\u202ed"
    assert echoed(42) == "42"
    assert echoed("y" * ECHO_LIMIT) == "y" * ECHO_LIMIT
    cut = echoed("y" * (ECHO_LIMIT + 1))
    assert len(cut) == ECHO_LIMIT and cut.endswith("...")
    assert len(echoed("\x00" * 10_000_000)) == ECHO_LIMIT  # escapes count too; the rest is never looked at


def test_every_problem_is_printable_whatever_built_it() -> None:
    assert str(Problem("a\x07.yaml", 3, "said\nsomething")) == "a\\x07.yaml:3: said\\x0asomething"


def quoted(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


CASES = {
    "unknown-kind": (
        "a.yaml",
        f"apiVersion: reconciler/v1\nkind: {quoted(HOSTILE)}\nmetadata: {{name: a}}\nspec: {{}}\n",
    ),
    "unknown-api-version": ("a.yaml", CLUSTER.replace("reconciler/v1", quoted(HOSTILE))),
    "unknown-metadata-field": (
        "a.yaml",
        CLUSTER.replace("  name: prod", f"  name: prod\n  {quoted(HOSTILE_KEY)}: 1"),
    ),
    "unknown-spec-field": ("a.yaml", TASK.replace("spec:\n", f"spec:\n  {quoted(HOSTILE_KEY)}: 1\n")),
    "enum-value": ("a.yaml", TASK.replace("networkMode: awsvpc", f"networkMode: {quoted(HOSTILE)}")),
    "undefined-variable": ("a.yaml", TASK.replace("image: nginx", "image: ${" + "V" * 5000 + "}")),
    "bad-variable-name": ("vars.yaml", f"{quoted(HOSTILE_KEY)}: 1\n"),
    "duplicate-key": ("a.yaml", f"{quoted(HOSTILE_KEY)}: 1\n{quoted(HOSTILE_KEY)}: 2\n"),
    "tag": ("a.yaml", "a: !" + "t" * 5000 + " b\n"),
    "duplicate-name": ("a.yaml", (CLUSTER.replace("prod", quoted("p" * 5000)) + "---\n") * 2),
    "control-characters-in-a-name": ("a.yaml", CLUSTER.replace("prod", quoted("prod\x1b[31m"))),
    "dangling-reference": (
        "a.yaml",
        "apiVersion: reconciler/v1\nkind: Service\nmetadata: {name: s}\nspec:\n  cluster: c\n"
        f"  taskDefinition: {quoted('t' * 5000 + chr(0x1B))}\n",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_problems_quote_values_cut_and_printable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.chdir(tmp_path)
    file, text = CASES[case]
    write_tree(tmp_path / "ds", {file: text, **({"b.yaml": CLUSTER} if file == "vars.yaml" else {})})
    with pytest.raises(InvalidDesiredState) as raised:
        load_desired_state(Path("ds"), check_spec=CHECKER)
    problems = [p for p in raised.value.problems if p.file == f"ds/{file}"]
    assert problems, raised.value.problems
    for problem in problems:
        assert not CONTROL.search(str(problem)), str(problem)
        assert len(problem.message) < 2 * ECHO_LIMIT + 150, problem.message  # the quoted value is cut
    assert "x" * ECHO_LIMIT not in str(raised.value) and "EVIL\r" not in str(raised.value)


def test_a_file_or_folder_named_with_control_characters_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "ds", {"bad\x1b[2Jname.yaml": CLUSTER, "line\nbreak/c.yaml": CLUSTER})
    with pytest.raises(InvalidDesiredState) as raised:
        load_desired_state(Path("ds"), check_spec=CHECKER)
    assert [str(p) for p in raised.value.problems] == [
        "ds/bad\\x1b[2Jname.yaml:1: has control characters in its name: not read",
        "ds/line\\x0abreak:1: has control characters in its name: not read",
    ]
