"""A long-running source re-reads only the files that changed since its last load (``desired.loader.FileCache``):
what it returns is what a fresh load returns, and a change of variables re-reads everything."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from reconciler.errors import InvalidDesiredState
from reconciler.source.directory import DirectorySource

ESTATE = Path(__file__).resolve().parents[2] / "desired-state"


def test_unchanged_files_come_from_the_cache_and_changes_are_seen(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    source = DirectorySource(root=root)
    first = source.load()
    files = len({r.file for r in first})
    assert source.cache.hits == 0

    service = root / "services" / "wordpress.yaml"
    service.write_text(service.read_text().replace("desiredCount: 1", "desiredCount: 4", 1))
    second = source.load()
    assert source.cache.hits == files - 1  # every file but the one edited
    assert second.get("Service", "wordpress").spec["desiredCount"] == 4  # type: ignore[union-attr]
    assert second == DirectorySource(root=root).load()  # the same as a load without a cache

    (root / "vars.yaml").write_text((root / "vars.yaml").read_text() + "\nEXTRA_VARIABLE: x\n")
    hits = source.cache.hits
    source.load()
    assert source.cache.hits == hits  # new variables: every document is substituted and checked again


def test_a_broken_file_is_reported_every_load_not_only_the_first(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    (root / "broken.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: Service\nmetadata: {name: x}\nspec: {}\n"
    )
    source = DirectorySource(root=root)
    for _ in range(2):
        with pytest.raises(InvalidDesiredState, match=r"broken\.yaml"):
            source.load()


def edit_in_place_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """An edit that ``stat``'s size and mtime do not show (``cp -p``, ``rsync -t``): only ctime moves."""
    assert len(old) == len(new)
    before = path.stat()
    path.write_text(path.read_text().replace(old, new, 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_files_unchanged_on_disk_are_not_read_again_and_an_edit_is_seen(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    source = DirectorySource(root=root)
    source.cache.racy_ns = 0  # the files were written just now: trust stat at once (the window has its test)
    time.sleep(0.05)
    first = source.load()
    files = len({r.file for r in first})
    second = source.load()
    assert source.cache.unread == files  # none read: stat showed each as it was
    assert second is first and second.revision == DirectorySource(root=root).load().revision

    time.sleep(0.05)
    wordpress = root / "services" / "wordpress.yaml"
    edit_in_place_keeping_size_and_mtime(wordpress, "desiredCount: 1", "desiredCount: 4")
    unread = source.cache.unread
    third = source.load()
    assert source.cache.unread - unread == files - 1  # the edited file was read: its ctime moved
    assert third.get("Service", "wordpress").spec["desiredCount"] == 4  # type: ignore[union-attr]
    assert third.revision == DirectorySource(root=root).load().revision != first.revision


def test_a_file_changed_just_before_it_was_read_is_read_again(tmp_path: Path) -> None:
    """Within RACY_NS of a read, an edit may leave every stat field as it was (the same clock tick): such a file is
    read again on the next load, whatever stat says."""
    root = tmp_path / "estate"
    shutil.copytree(ESTATE, root)
    source = DirectorySource(root=root)
    source.load()  # the files changed just now: none is trusted yet
    wordpress = root / "services" / "wordpress.yaml"
    edit_in_place_keeping_size_and_mtime(wordpress, "desiredCount: 1", "desiredCount: 4")
    loaded = source.load()
    assert source.cache.unread == 0
    assert loaded.get("Service", "wordpress").spec["desiredCount"] == 4  # type: ignore[union-attr]
