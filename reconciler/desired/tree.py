"""Which files a load reads: the walk of a desired-state tree, every entry decided by ``lstat``/``stat`` before
anything is opened.

A tree may be hostile or broken (a commit, a git-sync volume, a shared mount), so:
- A symbolic link is resolved (``realpath`` reads links, with ``lstat`` and ``readlink``; it opens nothing) and
  must stay inside the tree, or inside the repository it was checked out of when there is one (``bound``): else
  it is a problem at its path, and its target is never opened.
- A file that is neither a regular file nor a folder (a FIFO, a socket, a device) is a problem at its path when
  its name makes it a document: it is never opened, so a FIFO cannot block a load.
- Linked folders are followed when they stay inside. The tree is walked first without following them, then each
  linked folder in turn; every folder is read at most once, by its (device, inode): a link back to a parent (a
  loop) or to a folder read already adds nothing, so no link can make the walk endless, or longer than the tree.

What is found is a ``TreeFile``: the name the load gives it, and the path it opens (``target``: every link on
the way resolved), which ``SourceReader`` opens with ``O_NOFOLLOW | O_NONBLOCK`` and checks again with ``fstat``.
"""

from __future__ import annotations

import os
import stat
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.limits import MAX_FILES
from reconciler.errors import Problem, printable

DisplayName = Callable[[Path], str]  # how a path is named in problems (``SourceReader.display``)

YAML_SUFFIXES = (".yaml", ".yml")
VARS_FILE_NAME = "vars.yaml"
TARGETS_FILE_NAME = "targets.yaml"
ROOT_FILES = (VARS_FILE_NAME, TARGETS_FILE_NAME)  # at the root: not documents, returned apart

_SPECIAL = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@dataclass(frozen=True, slots=True)
class TreeFile:
    """A file to read: ``path`` names it (below the root as given, through any linked folder); ``target`` is
    what is opened, with every link resolved, found inside the tree and a regular file when it was walked."""

    path: Path
    target: Path

    @classmethod
    def given(cls, path: Path) -> TreeFile:
        """A file named on the command line (``--vars``): anywhere, links followed, but still never a FIFO."""
        return cls(path, Path(os.path.realpath(path)))


@dataclass
class Tree:
    files: list[TreeFile] = field(default_factory=list)  # the documents' files, in a stable order
    vars_file: TreeFile | None = None  # ``vars.yaml`` at the root, when there is one
    targets_file: TreeFile | None = None  # ``targets.yaml`` at the root, when there is one
    problems: list[Problem] = field(default_factory=list)


def walk_tree(root: Path, *, display: DisplayName, bound: Path | None = None) -> Tree:
    """Every ``*.yaml``/``*.yml`` below ``root`` in a stable order, skipping ``.``/``_`` names and root
    vars.yaml and targets.yaml (returned apart). Links may lead anywhere inside ``bound`` (default: ``root``)."""
    real_root = Path(os.path.realpath(root))
    real_bound = Path(os.path.realpath(bound)) if bound is not None else real_root
    walk = _Walk(root=root, real_root=real_root, bound=real_bound, display=display, outside=_outside(bound))
    if not real_root.is_relative_to(real_bound):
        walk.tree.problems.append(Problem(display(root), 1, f"is a symbolic link {walk.outside}"))
        return walk.tree
    walk.run()
    return walk.tree


def _outside(bound: Path | None) -> str:
    where = "the desired-state directory" if bound is None else "the repository"
    return f"pointing outside {where}: not followed"


@dataclass
class _Walk:
    root: Path
    real_root: Path
    bound: Path
    display: DisplayName
    outside: str  # the end of the problem of a link out of bounds
    tree: Tree = field(default_factory=Tree)
    _seen: set[tuple[int, int]] = field(default_factory=set)  # folders walked, by (device, inode)
    _linked: deque[tuple[Path, Path]] = field(default_factory=deque)  # linked folders to walk: (path, real)

    def run(self) -> None:
        for name in ROOT_FILES:
            self._root_file(name)
        folders = [(self.root, self.real_root)]
        while folders or self._linked:
            if not folders:  # the tree itself is done: now each linked folder, in the order found
                folders.append(self._linked.popleft())
            path, real = folders.pop()
            identity = _identity(real)
            if identity is None or identity in self._seen:
                continue  # gone meanwhile, or read already (a loop, or a second link to one folder)
            self._seen.add(identity)
            subfolders = self._folder(path, real)
            folders.extend(reversed(subfolders))  # depth first, in name order
            if len(self.tree.files) > MAX_FILES:
                message = f"more than {MAX_FILES} YAML files in the desired state; split it or skip folders with '_'"
                self.tree.files, self.tree.problems = [], [Problem(self.display(self.root), 1, message)]
                return

    def _root_file(self, name: str) -> None:
        path = self.root / name
        try:
            found = path.lstat()
        except OSError:
            return  # none (or unreadable: then it is as if there were none, as before)
        if stat.S_ISLNK(found.st_mode):
            self._link(path, real_parent=self.real_root, document=True)
        elif stat.S_ISREG(found.st_mode):
            self._set_root_file(name, TreeFile(path, self.real_root / name))
        elif not stat.S_ISDIR(found.st_mode):
            self._problem(path, f"is {_special(found.st_mode)}, not a regular file: not read")

    def _folder(self, path: Path, real: Path) -> list[tuple[Path, Path]]:
        """Add the documents of one folder; returns its subfolders (not linked ones: those are queued)."""
        try:
            with os.scandir(path) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            self._problem(path, f"cannot read the folder: {error.strerror or error}")
            return []
        subfolders = []
        for entry in entries:
            if _is_hidden(entry.name):
                continue
            child = path / entry.name
            document = self._is_document_name(child)
            if printable(entry.name) != entry.name and (document or entry.is_dir()):
                self._problem(child, "has control characters in its name: not read")
                continue
            if entry.is_symlink():
                self._link(child, real_parent=real, document=document)
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append((child, real / entry.name))
            elif entry.is_file(follow_symlinks=False):
                if document:
                    self.tree.files.append(TreeFile(child, real / entry.name))
            elif document:
                mode = entry.stat(follow_symlinks=False).st_mode
                self._problem(child, f"is {_special(mode)}, not a regular file: not read")
        return subfolders

    def _link(self, path: Path, *, real_parent: Path, document: bool) -> None:
        """A symbolic link: a document, a folder to walk, a problem, or nothing (another kind of file)."""
        if not document and not _is_folder(path):
            return  # not read whatever it is (README.md -> ...): not looked at further
        target = Path(os.path.realpath(real_parent / path.name))
        if not target.is_relative_to(self.bound):
            self._problem(path, f"is a symbolic link {self.outside}")
            return
        try:
            found = target.lstat()  # resolved: a link here was put there meanwhile
        except OSError as error:
            self._problem(path, _unreadable_link(error))
            return
        if stat.S_ISLNK(found.st_mode):  # ``realpath`` stops in a loop (a.yaml -> b.yaml -> a.yaml)
            self._problem(path, "is a symbolic link in a loop: not followed")
        elif stat.S_ISDIR(found.st_mode):
            self._linked.append((path, target))
        elif stat.S_ISREG(found.st_mode):
            if path.parent == self.root and path.name in ROOT_FILES:
                self._set_root_file(path.name, TreeFile(path, target))
            elif document:
                self.tree.files.append(TreeFile(path, target))
        elif document:
            self._problem(
                path, f"is a symbolic link to {_special(found.st_mode)}, not a regular file: not read"
            )

    def _set_root_file(self, name: str, file: TreeFile) -> None:
        if name == VARS_FILE_NAME:
            self.tree.vars_file = file
        else:
            self.tree.targets_file = file

    def _is_document_name(self, path: Path) -> bool:
        return path.suffix in YAML_SUFFIXES and not (path.parent == self.root and path.name in ROOT_FILES)

    def _problem(self, path: Path, message: str) -> None:
        self.tree.problems.append(Problem(self.display(path), 1, message))


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _is_folder(path: Path) -> bool:
    """Whether a link leads to a folder (``stat``: the target's type, never its content)."""
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.lstat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISDIR(found.st_mode) else None


def _special(mode: int) -> str:
    return _SPECIAL.get(stat.S_IFMT(mode), "a special file")


def _unreadable_link(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "is a broken symbolic link (its target does not exist)"
    return f"is a symbolic link that cannot be followed: {error.strerror or error}"
