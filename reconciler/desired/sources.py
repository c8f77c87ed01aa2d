"""Reading the files of a desired-state directory (found by ``tree.walk_tree``), within the limits, and hashing
what was read.

Everything the load depends on passes through ``SourceReader``, so the revision (a hash of each file's name and
content digest) covers exactly the bytes that produced the desired state: the same content gives the same
revision. A file that ``stat`` shows unchanged since a digest was taken of it is counted by that digest without
being read again (``SourceReader.unchanged``, ``FileStamp``). A file is opened at the path the walk resolved, with
``O_NOFOLLOW`` (a link put there since is not followed) and ``O_NONBLOCK`` (a FIFO put there since cannot block),
and read only when ``fstat`` says it is a regular file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.limits import MAX_FILE_BYTES, MAX_TOTAL_BYTES, describe_bytes
from reconciler.desired.tree import TreeFile
from reconciler.errors import Problem

REVISION_HEX_CHARS = 16
# never blocks on a FIFO, never follows a link in the last step (the walk resolved them all)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def display_path(path: Path, *, cwd: Path | None = None) -> str:
    """``path`` relative to the working directory (``cwd``, when known) when it lies below it, else as given."""
    cwd = cwd or Path.cwd()
    try:
        return str(cwd.joinpath(path).relative_to(cwd))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class SourceText:
    display: str  # the file name problems use
    text: str
    digest: str  # SHA-256 of the bytes read


# A file changed less than this before it was read is read again next time, whatever ``stat`` says: an edit in
# the same clock tick as the read can leave every field of ``stat`` as it was (git's "racy clean" entries).
RACY_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class FileStamp:
    """A file as ``stat`` saw it just before it was read, and the digest of what was read then."""

    signature: tuple[int, ...]  # device, inode, size, mtime and ctime (ns)
    digest: str
    read_at_ns: int  # the wall clock when it was read


def stat_before_reading(file: TreeFile) -> tuple[tuple[int, ...], int] | None:
    """(signature, now) for a ``FileStamp``: taken before the read, so that an edit during it shows next time."""
    signature = _signature(file.target)
    return None if signature is None else (signature, time.time_ns())


def _signature(path: Path) -> tuple[int, ...] | None:
    try:
        found = path.lstat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


@dataclass
class SourceReader:
    """Reads files as UTF-8 within the size limits, feeding each file's name and digest into the revision hash."""

    root: Path
    bytes_left: int = MAX_TOTAL_BYTES
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    shown_as: Path | None = None  # what ``root`` is called in file names (default: its own path)
    _cwd: Path = field(default_factory=Path.cwd)  # asked once per load, not once per file
    _folder_names: dict[Path, str] = field(default_factory=dict)

    def display(self, path: Path) -> str:
        """The name problems and resources give ``path`` (worked out once per folder: a load names every file)."""
        folder = self._folder_names.get(path.parent)
        if folder is None:
            folder = self._folder_names[path.parent] = display_path(self._shown(path.parent), cwd=self._cwd)
        return path.name if folder == "." else f"{folder}/{path.name}"

    def read(self, file: TreeFile) -> SourceText | Problem:
        display = self.display(file.path)
        data = self._read_bytes(file.target, display=display)
        if isinstance(data, Problem):
            return data
        digest = hashlib.sha256(data).hexdigest()
        self._count(file.path, digest)
        try:
            return SourceText(display, data.decode("utf-8").removeprefix("\ufeff"), digest)
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            return Problem(
                display, line, f"not valid UTF-8 (byte {data[error.start]:#04x} at offset {error.start})"
            )

    def unchanged(self, file: TreeFile, stamp: FileStamp, *, racy_ns: int = RACY_NS) -> bool:
        """True when ``stat`` says ``file`` still holds the bytes ``stamp`` read, and it had not changed for
        ``racy_ns`` before they were read; it is then counted as read (revision, total size) without reading it.
        An edit changes ``ctime`` (which no tool can set back), and a replaced file has another inode."""
        signature = _signature(file.target)
        if signature != stamp.signature or stamp.signature[4] >= stamp.read_at_ns - racy_ns:
            return False
        if self.bytes_left - stamp.signature[2] < 0:
            return False  # read: the problem is reported there
        self.bytes_left -= stamp.signature[2]
        self._count(file.path, stamp.digest)
        return True

    def _count(self, path: Path, digest: str) -> None:
        """The revision hashes each file's name and content digest, whether read this time or not."""
        self._hash.update(f"{self._hash_name(path)}\0{digest}\0".encode())

    def revision(self) -> str:
        return self._hash.hexdigest()[:REVISION_HEX_CHARS]

    def _read_bytes(self, target: Path, *, display: str) -> bytes | Problem:
        try:
            data, size = _read_regular_file(target)
        except OSError as error:
            return Problem(display, 1, f"cannot read: {error.strerror or error}")
        if data is None:
            return Problem(
                display, 1, "not a regular file (was it replaced while the desired state was loaded?)"
            )
        if len(data) > MAX_FILE_BYTES:
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


def _read_regular_file(target: Path) -> tuple[bytes | None, int]:
    """Up to ``MAX_FILE_BYTES + 1`` bytes of ``target`` and its size, or None when it is no regular file."""
    descriptor = os.open(target, _OPEN_FLAGS)
    with os.fdopen(descriptor, "rb") as stream:  # closes the descriptor
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            return None, found.st_size
        data = stream.read(MAX_FILE_BYTES + 1)
    return data, max(found.st_size, len(data))
