"""``GitSource``: what a pass loads from a Git checkout (revision = commit SHA, problems named by their path in the
repository), and the ``--git-path`` it accepts. Real repositories on disk; no AWS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reconciler.errors import InvalidDesiredState
from reconciler.source.git import GitCheckouts
from reconciler.source.git_source import GitSource
from tests.source.conftest import Remote

CLUSTER = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: myapp-prod}\nspec: {}\n"
BROKEN = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {name: [\n"


def source(remote: Remote, cache: Path, subdir: str = "deploy") -> GitSource:
    checkouts = GitCheckouts(remote.url, allow_local=True, ref="main", cache_dir=cache)
    return GitSource(checkouts=checkouts, description="test", subdir=subdir, interval=60)


async def test_a_pass_loads_the_commit_it_was_given_with_the_sha_as_revision(
    remote: Remote,
    cache: Path,
) -> None:
    (remote.work / "deploy").mkdir()
    sha = remote.commit({"deploy/cluster.yaml": CLUSTER})
    desired = await source(remote, cache).load_async()  # the first load fetches: no wait for an interval
    assert desired.revision == sha
    assert [(r.kind, r.name) for r in desired] == [("Cluster", "myapp-prod")]


async def test_an_invalid_commit_names_its_problems_by_path_in_the_repository(
    remote: Remote,
    cache: Path,
) -> None:
    (remote.work / "deploy").mkdir()
    sha = remote.commit({"deploy/cluster.yaml": CLUSTER, "deploy/broken.yaml": BROKEN})
    with pytest.raises(InvalidDesiredState) as raised:
        await source(remote, cache).load_async()
    assert raised.value.revision == sha
    assert [p.file for p in raised.value.problems] == ["deploy/broken.yaml"]


async def test_a_commit_linking_out_of_the_repository_is_invalid_at_the_link(
    remote: Remote, cache: Path, tmp_path: Path
) -> None:
    """Links may lead anywhere inside the commit (outside ``--git-path`` too), never out of it."""
    marker = "MARKER_OUT_OF_TREE_7f3a"
    (tmp_path / "token").write_text(f"apiVersion: reconciler/v1\nkind: {marker}\n")
    (remote.work / "deploy").mkdir()
    (remote.work / "shared").mkdir()
    (remote.work / "deploy" / "shared.yaml").symlink_to("../shared/cluster.yaml")
    (remote.work / "deploy" / "evil.yaml").symlink_to(tmp_path / "token")
    sha = remote.commit({"shared/cluster.yaml": CLUSTER})
    with pytest.raises(InvalidDesiredState) as raised:
        await source(remote, cache).load_async()
    assert raised.value.revision == sha
    assert [str(p) for p in raised.value.problems] == [
        "deploy/evil.yaml:1: is a symbolic link pointing outside the repository: not followed"
    ]
    assert marker not in str(raised.value)


async def test_a_burst_of_requests_is_one_fetch_then_one_wake(remote: Remote, cache: Path) -> None:
    (remote.work / "deploy").mkdir()
    remote.commit({"deploy/cluster.yaml": CLUSTER})
    watched = source(remote, cache)
    newest = await _fetched(watched)
    wakes: list[str] = []
    stop = asyncio.Event()
    watching = asyncio.create_task(watched.watch(wakes.append, stop, debounce_ms=200))
    await asyncio.sleep(0.3)  # the watcher's first fetch finds nothing new: no wake
    for _ in range(10):
        assert watched.request_refresh()
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.6)
    stop.set()
    await asyncio.wait_for(watching, timeout=5)
    assert wakes == ["sync requested"]
    assert watched.checkouts.current is not None and watched.checkouts.current.sha == newest


async def _fetched(watched: GitSource) -> str:
    assert await watched.fetch()
    assert watched.checkouts.current is not None
    return watched.checkouts.current.sha


@pytest.mark.parametrize("subdir", ["/etc", "../elsewhere", "deploy/../../x"])
def test_git_path_must_stay_inside_the_repository(remote: Remote, cache: Path, subdir: str) -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        source(remote, cache, subdir)


async def test_a_new_commit_re_checks_only_the_files_it_changed(remote: Remote, cache: Path) -> None:
    """Each commit is checked out into a directory of its own; files are still known by their path in the
    repository, so the files a commit leaves alone are taken from the cache, and its documents are
    named by that path."""
    (remote.work / "deploy").mkdir()
    clusters = {f"deploy/c{i}.yaml": CLUSTER.replace("myapp-prod", f"c{i}") for i in range(5)}
    remote.commit(clusters)
    watched = source(remote, cache)
    first = await watched.load_async()
    hits = watched.cache.hits
    sha = remote.commit({"deploy/c0.yaml": CLUSTER.replace("myapp-prod", "renamed")})
    assert await watched.fetch()
    second = await watched.load_async()
    assert second.revision == sha != first.revision
    assert watched.cache.hits - hits == 4  # the four files the commit did not touch
    assert {(r.name, r.file) for r in second} == {("renamed", "deploy/c0.yaml")} | {
        (f"c{i}", f"deploy/c{i}.yaml") for i in range(1, 5)
    }
    assert await watched.load_async() is second  # the same commit again: the same desired state
