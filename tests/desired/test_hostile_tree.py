"""A hostile or broken desired-state tree: symbolic links out of it, FIFOs and other special files, link loops.

A link whose target is outside the tree is a problem at the link's path, and its target is never read: the
out-of-tree files here hold a marker that would show up in a problem (as an unknown kind, a variable name, a size)
if they were. Links that stay inside keep working, linked folders included, and no link makes the walk endless.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from reconciler.desired import FileCache, load_desired_state
from reconciler.desired.limits import MAX_FILE_BYTES
from reconciler.errors import InvalidDesiredState, Problem
from reconciler.shapes import BotocoreSpecChecker
from tests.files import write_tree

CHECKER = BotocoreSpecChecker()
MARKER = "MARKER_OUT_OF_TREE_7f3a"
CLUSTER = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata:\n  name: {name}\nspec: {{}}\n"
OUTSIDE_DOCUMENT = f"apiVersion: reconciler/v1\nkind: {MARKER}\nmetadata:\n  name: x\nspec: {{}}\n"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "ds", {"cluster.yaml": CLUSTER.format(name="prod")})
    write_tree(tmp_path / "outside", {"secret.yaml": OUTSIDE_DOCUMENT, "vars.yaml": f"{MARKER}-KEY: 1\n"})
    return tmp_path


def load(root: Path = Path("ds"), **options: object) -> tuple[Problem, ...]:
    """The problems of loading ``root`` (none when it is valid), within 10 s: a load that blocks fails."""
    found: list[tuple[Problem, ...]] = []

    def run() -> None:
        try:
            load_desired_state(root, check_spec=CHECKER, **options)  # type: ignore[arg-type]
            found.append(())
        except InvalidDesiredState as invalid:
            found.append(invalid.problems)

    thread = threading.Thread(target=run, daemon=True)  # a load blocked on a FIFO is left behind
    thread.start()
    thread.join(timeout=10)
    assert found, "the load did not finish within 10 s"
    return found[0]


def shown(problems: tuple[Problem, ...]) -> list[str]:
    everything = "\n".join(map(str, problems))
    assert MARKER not in everything
    return [str(problem) for problem in problems]


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_a_link_to_a_file_outside_the_tree_is_a_problem_and_never_read(in_tmp: Path, relative: bool) -> None:
    target = Path("../outside/secret.yaml") if relative else in_tmp / "outside" / "secret.yaml"
    (in_tmp / "ds" / "evil.yaml").symlink_to(target)
    assert shown(load()) == [
        "ds/evil.yaml:1: is a symbolic link pointing outside the desired-state directory: not followed"
    ]


def test_a_large_file_outside_is_not_even_measured(in_tmp: Path) -> None:
    (in_tmp / "outside" / "big.yaml").write_text("#" * (MAX_FILE_BYTES * 2))
    (in_tmp / "ds" / "big.yaml").symlink_to(in_tmp / "outside" / "big.yaml")
    assert shown(load()) == [
        "ds/big.yaml:1: is a symbolic link pointing outside the desired-state directory: not followed"
    ]


def test_a_link_to_a_folder_outside_the_tree_is_a_problem(in_tmp: Path) -> None:
    (in_tmp / "ds" / "services").symlink_to(in_tmp / "outside", target_is_directory=True)
    (in_tmp / "ds" / "nested").mkdir()
    (in_tmp / "ds" / "nested" / "up").symlink_to(Path("../.."), target_is_directory=True)  # the tree's parent
    assert shown(load()) == [
        "ds/nested/up:1: is a symbolic link pointing outside the desired-state directory: not followed",
        "ds/services:1: is a symbolic link pointing outside the desired-state directory: not followed",
    ]


def test_a_root_vars_file_linked_outside_is_a_problem_and_never_read(in_tmp: Path) -> None:
    (in_tmp / "ds" / "vars.yaml").symlink_to(in_tmp / "outside" / "vars.yaml")
    assert shown(load()) == [
        "ds/vars.yaml:1: is a symbolic link pointing outside the desired-state directory: not followed"
    ]


def test_links_out_of_the_tree_that_are_never_read_are_left_alone(in_tmp: Path) -> None:
    (in_tmp / "ds" / "README.md").symlink_to(in_tmp / "outside" / "secret.yaml")
    (in_tmp / "ds" / ".hidden.yaml").symlink_to(in_tmp / "outside" / "secret.yaml")
    (in_tmp / "ds" / "_skipped").symlink_to(in_tmp / "outside", target_is_directory=True)
    assert load() == ()


def test_a_fifo_is_a_problem_at_once_and_never_opened(in_tmp: Path) -> None:
    os.mkfifo(in_tmp / "ds" / "pipe.yaml")
    os.mkfifo(in_tmp / "ds" / "pipe.txt")  # not a document: not looked at
    (in_tmp / "ds" / "linked.yaml").symlink_to("pipe.yaml")
    assert shown(load()) == [
        "ds/linked.yaml:1: is a symbolic link to a FIFO, not a regular file: not read",
        "ds/pipe.yaml:1: is a FIFO, not a regular file: not read",
    ]


def test_a_fifo_as_vars_yaml_or_as_a_vars_file_never_blocks(in_tmp: Path) -> None:
    os.mkfifo(in_tmp / "ds" / "vars.yaml")
    os.mkfifo(in_tmp / "given.yaml")
    assert shown(load(vars_files=[Path("given.yaml")])) == [
        "ds/vars.yaml:1: is a FIFO, not a regular file: not read",
        "given.yaml:1: not a regular file (was it replaced while the desired state was loaded?)",
    ]


def test_a_unix_socket_is_a_problem(in_tmp: Path) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("ds/agent.yaml")
        assert shown(load()) == ["ds/agent.yaml:1: is a socket, not a regular file: not read"]


def test_links_inside_the_tree_keep_working_folders_included(in_tmp: Path) -> None:
    write_tree(in_tmp / "ds", {"_shared/common.yaml": CLUSTER.format(name="shared")})
    (in_tmp / "ds" / "alias.yml").symlink_to("cluster.yaml")  # read under both names: two documents
    (in_tmp / "ds" / "prod").mkdir()
    (in_tmp / "ds" / "prod" / "common").symlink_to(Path("../_shared"), target_is_directory=True)
    with pytest.raises(InvalidDesiredState) as raised:
        load_desired_state(Path("ds"), check_spec=CHECKER)
    assert [str(p) for p in raised.value.problems] == [
        "ds/cluster.yaml:4: duplicate Cluster 'prod' (first defined at ds/alias.yml:4)"
    ]
    (in_tmp / "ds" / "alias.yml").unlink()
    loaded = load_desired_state(Path("ds"), check_spec=CHECKER)
    assert sorted((r.name, r.file) for r in loaded) == [
        ("prod", "ds/cluster.yaml"),
        ("shared", "ds/prod/common/common.yaml"),
    ]


def test_link_loops_end_and_each_folder_is_read_once(in_tmp: Path) -> None:
    ds = in_tmp / "ds"
    write_tree(ds, {"_shared/common.yaml": CLUSTER.format(name="shared")})
    (ds / "self").symlink_to(Path(), target_is_directory=True)  # a loop
    (ds / "_shared" / "back").symlink_to(
        Path(".."), target_is_directory=True
    )  # a loop through a linked folder
    (ds / "a").symlink_to(Path("_shared"), target_is_directory=True)
    (ds / "b").symlink_to(Path("_shared"), target_is_directory=True)  # the same folder again: read once
    loaded = load_desired_state(Path("ds"), check_spec=CHECKER)
    assert sorted((r.name, r.file) for r in loaded) == [
        ("prod", "ds/cluster.yaml"),
        ("shared", "ds/a/common.yaml"),
    ]


def test_broken_and_looping_file_links_are_problems(in_tmp: Path) -> None:
    ds = in_tmp / "ds"
    (ds / "gone.yaml").symlink_to("nowhere.yaml")
    (ds / "ping.yaml").symlink_to("pong.yaml")
    (ds / "pong.yaml").symlink_to("ping.yaml")
    assert shown(load()) == [
        "ds/gone.yaml:1: is a broken symbolic link (its target does not exist)",
        "ds/ping.yaml:1: is a symbolic link in a loop: not followed",
        "ds/pong.yaml:1: is a symbolic link in a loop: not followed",
    ]


def test_the_root_may_be_a_link_and_what_counts_is_where_it_leads(in_tmp: Path) -> None:
    """git-sync's layout: the root is a link to the current checkout; links inside stay inside the checkout."""
    checkout = in_tmp / ".worktrees" / "abc"
    write_tree(checkout, {"_cluster.yaml": CLUSTER.format(name="synced")})
    (checkout / "alias.yaml").symlink_to("_cluster.yaml")
    (checkout / "leak.yaml").symlink_to(in_tmp / "outside" / "secret.yaml")
    (in_tmp / "current").symlink_to(checkout, target_is_directory=True)
    assert shown(load(Path("current"))) == [
        "current/leak.yaml:1: is a symbolic link pointing outside the desired-state directory: not followed"
    ]
    (checkout / "leak.yaml").unlink()
    loaded = load_desired_state(Path("current"), check_spec=CHECKER)
    assert [(r.name, r.file) for r in loaded] == [("synced", "current/alias.yaml")]


def test_in_a_repository_links_may_lead_anywhere_in_it_but_not_out(in_tmp: Path) -> None:
    repository = in_tmp / "checkout"
    write_tree(repository, {"common/cluster.yaml": CLUSTER.format(name="common"), "deploy/.keep": ""})
    (repository / "deploy" / "cluster.yaml").symlink_to("../common/cluster.yaml")
    loaded = load_desired_state(repository / "deploy", check_spec=CHECKER, repository=repository)
    assert [r.name for r in loaded] == ["common"]
    assert load(repository / "deploy") != ()  # without the repository, the same link leads out of the tree

    (repository / "deploy" / "evil.yaml").symlink_to("../../outside/secret.yaml")
    problems = shown(load(repository / "deploy", repository=repository))
    assert problems == [
        "checkout/deploy/evil.yaml:1: is a symbolic link pointing outside the repository: not followed"
    ]


def test_the_stat_cache_keeps_working_through_links_and_sees_one_turned_outward(in_tmp: Path) -> None:
    ds = in_tmp / "ds"
    (ds / "_c.yaml").write_text(CLUSTER.format(name="linked"))
    (ds / "link.yaml").symlink_to("_c.yaml")
    cache = FileCache(racy_ns=0)  # trust stat at once (the files were written just now)
    time.sleep(0.05)
    assert load(cache=cache) == ()
    assert load(cache=cache) == () and cache.unread == 2  # cluster.yaml and link.yaml: neither read again

    (ds / "link.yaml").unlink()
    (ds / "link.yaml").symlink_to(in_tmp / "outside" / "secret.yaml")
    assert shown(load(cache=cache)) == [
        "ds/link.yaml:1: is a symbolic link pointing outside the desired-state directory: not followed"
    ]
