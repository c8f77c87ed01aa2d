"""What a desired resource is once it has been loaded and validated.

These are the values that flow from ``desired`` into ``plan``; they carry where they came from (file and line)
so that any later layer can still point a user at the line to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from reconciler.model.targets import DEFAULT_TARGET, Target

API_VERSION = "reconciler/v1"


class Mode(StrEnum):
    """What the reconciler may do about a difference."""

    ENFORCE = "enforce"  # correct drift and apply changes
    DETECT = "detect"  # report only, never write


class DeletionPolicy(StrEnum):
    """What removing a document from the repository does to the live resource."""

    RETAIN = "Retain"
    DELETE = "Delete"


class ResourceKey(NamedTuple):
    """A resource's identity inside one desired state: its kind and ``metadata.name``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True, slots=True, weakref_slot=True)
class DesiredResource:
    """One validated document: the envelope's facts plus ``spec`` with variables already substituted.

    A plain frozen dataclass: the loader has validated every value, and thousands of them live for the daemon's
    life (slots and no per-instance model state keep each small). ``dataclasses.replace`` makes a changed copy."""

    kind: str
    name: str
    spec: dict[str, Any]
    file: str
    line: int
    mode: Mode = Mode.ENFORCE
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    labels: dict[str, str] = field(default_factory=dict)
    # metadata.pruneUnmanagedRules (Listener only): delete rules on the listener that no document declares
    prune_unmanaged_rules: bool = False
    # metadata.ignoreDifferences: paths, as the plan prints them, where a difference is never a change
    ignore_differences: tuple[str, ...] = ()
    # spec path ("containerDefinitions[0].image") → its line less ``line``, for problems found after loading.
    # Relative, so that documents of one shape (services written from one template) share one map
    # (``shared_text.shared_offsets``).
    line_offsets: Mapping[str, int] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.kind, self.name)

    @property
    def lines(self) -> dict[str, int]:
        """spec path → its line in the file."""
        return {path: self.line + offset for path, offset in self.line_offsets.items()}

    def line_of(self, path: str) -> int:
        """The line of ``path`` in the document, or of the closest enclosing path that has one."""
        while path:
            if path in self.line_offsets:
                return self.line + self.line_offsets[path]
            path = _parent_path(path)
        return self.line


def _parent_path(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


class DesiredState(BaseModel):
    """Every resource of one revision of the desired-state directory."""

    model_config = ConfigDict(frozen=True)

    resources: tuple[DesiredResource, ...]
    revision: str  # a Git SHA, or a content hash of the files for a plain directory
    target: str = DEFAULT_TARGET  # the target (account and Region) of these resources: ``model/targets.py``
    # With targets.yaml: every target it declares, and each target's own desired state (its resources, its
    # ``target``, this revision). This state's ``resources`` are then all of them, in file order, and it is never
    # planned as one: names are unique per target only. Without: empty, and this state is the only part.
    targets: tuple[Target, ...] = ()
    parts: tuple[DesiredState, ...] = ()

    def by_target(self) -> dict[str, DesiredState]:
        """Each target's desired state by the target's name: this state alone when there is no targets.yaml."""
        if not self.parts:
            return {self.target: self}
        return {part.target: part for part in self.parts}

    def with_resources(self, resources: Iterable[DesiredResource]) -> DesiredState:
        """Other resources for this state's target and revision: a part of it (a targeted pass's scope)."""
        return DesiredState(resources=tuple(resources), revision=self.revision, target=self.target)

    def with_revision(self, revision: str) -> DesiredState:
        """This state named by another revision (a commit's SHA), and so is each of its parts."""
        parts = tuple(part.with_revision(revision) for part in self.parts)
        return self.model_copy(update={"revision": revision, "parts": parts})

    def __iter__(self) -> Iterator[DesiredResource]:  # type: ignore[override]
        return iter(self.resources)

    def of_kind(self, kind: str) -> list[DesiredResource]:
        return list(self._index()[0].get(kind, ()))

    def get(self, kind: str, name: str) -> DesiredResource | None:
        return self._index()[1].get(ResourceKey(kind, name))

    def by_key(self) -> Mapping[ResourceKey, DesiredResource]:
        """Every resource by its key, built once per desired state (do not change it)."""
        return self._index()[1]

    def _index(self) -> tuple[dict[str, list[DesiredResource]], dict[ResourceKey, DesiredResource]]:
        """Built once per ``resources``: the planner asks for a kind per resource, which scanning made O(N²).
        Kept with the tuple it indexes, so a copy with other resources (``model_copy``) never uses it."""
        cached = self.__dict__.get("_indexed")
        if cached is not None and cached[0] is self.resources:
            return cached[1], cached[2]
        by_kind: dict[str, list[DesiredResource]] = {}
        by_key: dict[ResourceKey, DesiredResource] = {}
        for resource in self.resources:
            by_kind.setdefault(resource.kind, []).append(resource)
            by_key.setdefault(resource.key, resource)  # the first, as a scan found it
        self.__dict__["_indexed"] = (self.resources, by_kind, by_key)
        return by_kind, by_key

    @property
    def is_empty(self) -> bool:
        return not self.resources
