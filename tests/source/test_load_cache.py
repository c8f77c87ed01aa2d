"""A long-running source re-reads only the files that changed since its last load (``desired.loader.FileCache``):
what it returns is what a fresh load returns, and a change of variables re-reads everything."""

from __future__ import annotations

import shutil
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
