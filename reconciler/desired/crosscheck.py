"""Checks that need every document at once: duplicate names per kind and references to undeclared
resources."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.errors import Problem, echoed
from reconciler.model.references import is_literal, iter_reference_values, reference_name
from reconciler.model.resource import DesiredResource, ResourceKey
from reconciler.model.targets import DEFAULT_TARGET


@dataclass(frozen=True, slots=True)
class Candidate:
    """A document that got far enough to have a kind, a name and a ``spec`` mapping (it may still be
    invalid)."""

    resource: DesiredResource
    name_line: int  # the line of ``metadata.name``
    spec_line: int  # the line of ``spec``
    target: str = (
        DEFAULT_TARGET  # the target it is for: names are unique, and references resolved, per target
    )

    def problem(self, path: str, message: str) -> Problem:
        """A problem at ``spec.<path>`` (at ``spec`` itself when ``path`` is empty), located at its line."""
        if not path:
            return Problem(self.resource.file, self.spec_line, f"spec: {message}")
        return Problem(self.resource.file, self.resource.line_of(path), f"spec.{path}: {message}")

    @property
    def where(self) -> str:
        """``FILE:LINE`` of the document, for messages that point at another document."""
        return f"{self.resource.file}:{self.name_line}"


def duplicate_problems(candidates: Sequence[Candidate]) -> list[Problem]:
    """Every second and later declaration of the same kind and name."""
    first_seen: dict[ResourceKey, Candidate] = {}
    problems = []
    for candidate in candidates:
        resource = candidate.resource
        first = first_seen.setdefault(resource.key, candidate)
        if first is not candidate:
            where = f"{first.resource.file}:{first.name_line}"
            message = f"duplicate {resource.kind} '{echoed(resource.name)}' (first defined at {where})"
            problems.append(Problem(resource.file, candidate.name_line, message))
    return problems


def dangling_reference_problems(
    candidates: Sequence[Candidate], elsewhere: Mapping[ResourceKey, Sequence[str]] | None = None
) -> list[Problem]:
    """Every reference by name to a resource the desired state does not declare (unless allowed), ``candidates``
    being one target's documents; ``elsewhere``: what other targets declare (by reference name), which none of
    them may refer to, even where a resource outside the repository is allowed."""
    declared = {ResourceKey(c.resource.kind, reference_name(c.resource)) for c in candidates}
    elsewhere = elsewhere or {}
    problems = []
    for candidate in candidates:
        resource = candidate.resource
        for found in iter_reference_values(resource):
            target = ResourceKey(found.reference.target_kind, found.value)
            if is_literal(found.value, found.reference.target_kind) or target in declared:
                continue
            if target in elsewhere:
                message = _crossing(candidate, found.path, target, elsewhere[target])
            elif found.reference.external_allowed:
                continue
            else:
                message = (
                    f"spec.{found.path}: no {target.kind} named '{echoed(found.value)}' is declared "
                    f"(declare it, or give its ARN)"
                )
            problems.append(Problem(resource.file, resource.line_of(found.path), message))
    return problems


def _crossing(candidate: Candidate, path: str, target: ResourceKey, others: Sequence[str]) -> str:
    resource = candidate.resource
    of = f"target {others[0]}" if len(others) == 1 else f"targets {', '.join(others)}"
    return (
        f"spec.{path}: {resource.kind}/{echoed(resource.name)} references {target.kind}/{echoed(target.name)} "
        f"of {of}; references never cross targets (this document is in {candidate.target}: declare it there, "
        "or give its ARN)"
    )
