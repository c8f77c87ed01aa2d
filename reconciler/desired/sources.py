"""Finding and reading the files of a desired-state directory, within the limits, and hashing what was read.

Everything the load depends on passes through ``SourceReader.read``, so the revision (a content hash) covers
exactly the bytes that produced the desired state: the same content gives the same revision.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.limits import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES, describe_bytes
from reconciler.errors import Problem

YAML_SUFFIXES = (".yaml", ".yml")
VARS_FILE_NAME = "vars.yaml"
REVISION_HEX_CHARS = 16


def display_path(path: Path, *, cwd: Path | None = None) -> str:
    """``path`` relative to the working directory (``cwd``, when known) when it lies below it, else as given."""
    cwd = cwd or Path.cwd()
    try:
        return str(cwd.joinpath(path).relative_to(cwd))
    except ValueError:
        return str(path)


def find_yaml_files(root: Path) -> tuple[list[Path], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` below ``root`` in a stable order, skipping ``.``/``_`` names and root
    vars.yaml."""
    found: list[Path] = []
    for directory, subdirectories, file_names in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if not _is_hidden(name))
        here = Path(directory)
        found.extend(here / name for name in sorted(file_names) if _is_document_file(here / name, root=root))
        if len(found) > MAX_FILES:
            message = (
                f"more than {MAX_FILES} YAML files in the desired state; split it or skip folders with '_'"
            )
            return [], [Problem(display_path(root), 1, message)]
    return found, []


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _is_document_file(path: Path, *, root: Path) -> bool:
    if _is_hidden(path.name) or path.suffix not in YAML_SUFFIXES:
        return False
    return path != root / VARS_FILE_NAME


@dataclass(frozen=True)
class SourceText:
    display: str  # the file name problems use
    text: str


@dataclass
class SourceReader:
    """Reads files as UTF-8 within the size limits, feeding every byte read into the revision hash."""

    root: Path
    bytes_left: int = MAX_TOTAL_BYTES
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    shown_as: Path | None = None  # what ``root`` is called in file names (default: its own path)
    _cwd: Path = field(default_factory=Path.cwd)  # asked once per load, not once per file

    def read(self, path: Path) -> SourceText | Problem:
        display = display_path(self._shown(path), cwd=self._cwd)
        data = self._read_bytes(path, display=display)
        if isinstance(data, Problem):
            return data
        self._hash.update(self._hash_name(path).encode() + b"\0" + data + b"\0")
        try:
            return SourceText(display, data.decode("utf-8").removeprefix("\ufeff"))
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            return Problem(
                display, line, f"not valid UTF-8 (byte {data[error.start]:#04x} at offset {error.start})"
            )

    def revision(self) -> str:
        return self._hash.hexdigest()[:REVISION_HEX_CHARS]

    def _read_bytes(self, path: Path, *, display: str) -> bytes | Problem:
        try:
            with path.open("rb") as stream:
                data = stream.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            return Problem(display, 1, f"cannot read: {error.strerror or error}")
        if len(data) > MAX_FILE_BYTES:
            size = _size_of(path, at_least=len(data))
            limit = describe_bytes(MAX_FILE_BYTES)
            return Problem(display, 1, f"file is too large ({describe_bytes(size)}; the limit is {limit})")
        self.bytes_left -= len(data)
        if self.bytes_left < 0:
            limit = describe_bytes(MAX_TOTAL_BYTES)
            return Problem(display, 1, f"the desired state is larger than {limit} in total")
        return data

    def _shown(self, path: Path) -> Path:
        if self.shown_as is None or not path.is_relative_to(self.root):
            return path
        return self.shown_as / path.relative_to(self.root)

    def _hash_name(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def _size_of(path: Path, *, at_least: int) -> int:
    try:
        return max(path.stat().st_size, at_least)
    except OSError:
        return at_least
