"""``DirectorySource`` under a git-sync sidecar: the root is a symlink that the sidecar swaps to each new checkout.
A swap wakes the daemon, and a load reads the checkout the link pointed at when the load began."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from reconciler.source.directory import DirectorySource

CLUSTER = "apiVersion: reconciler/v1\nkind: Cluster\nmetadata: {{name: {name}}}\nspec: {{}}\n"


def checkout(parent: Path, name: str) -> Path:
    folder = parent / ".worktrees" / name
    folder.mkdir(parents=True)
    (folder / "cluster.yaml").write_text(CLUSTER.format(name=name))
    return folder


def swap(link: Path, target: Path) -> None:
    """What git-sync does: a new link beside the old one, renamed over it (atomic)."""
    fresh = link.with_name(f".{link.name}.new")
    fresh.symlink_to(target)
    fresh.replace(link)


async def test_a_symlink_swap_wakes_the_daemon_and_loads_the_new_checkout(tmp_path: Path) -> None:
    link = tmp_path / "current"
    swap(link, checkout(tmp_path, "first"))
    source = DirectorySource(root=link)
    first = source.load()
    assert [r.name for r in first] == ["first"]

    wakes: list[str] = []
    stop = asyncio.Event()
    watching = asyncio.create_task(source.watch(wakes.append, stop, debounce_ms=50))
    await asyncio.sleep(0.3)  # the watch is set up
    swap(link, checkout(tmp_path, "second"))
    for _ in range(50):
        if wakes:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(watching, timeout=5)
    assert wakes, "the swap did not wake the daemon"
    second = source.load()
    assert [r.name for r in second] == ["second"] and second.revision != first.revision


def test_files_keep_their_names_and_cache_entries_across_a_swap(tmp_path: Path) -> None:
    """A file a commit left alone is taken from the cache after a swap, and every document is named under the
    link, not under the checkout it points at (which git-sync deletes later)."""
    link = tmp_path / "current"
    first = checkout(tmp_path, "first")
    (first / "other.yaml").write_text(CLUSTER.format(name="other"))
    swap(link, first)
    source = DirectorySource(root=link)
    source.load()
    second = tmp_path / ".worktrees" / "second"
    shutil.copytree(first, second)
    (second / "cluster.yaml").write_text(CLUSTER.format(name="second"))
    swap(link, second)
    hits = source.cache.hits
    loaded = source.load()
    assert source.cache.hits - hits == 1  # other.yaml, unchanged
    assert {(r.name, r.file) for r in loaded} == {
        ("second", f"{link}/cluster.yaml"),
        ("other", f"{link}/other.yaml"),
    }
