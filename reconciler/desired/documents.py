"""One YAML document → its problems and, when it names a kind, a name and a ``spec``, a candidate resource.

The checks run in this order: variables first (so that validation sees final values), then the
envelope, then ``spec`` against the AWS request shape and the rules of one document (Fargate, attributes,
capacities, deployment strategies). Every check runs even when an
earlier one failed, so a user sees all of a document's problems at once.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.desired.autoscaling import capacity_problems
from reconciler.desired.crosscheck import Candidate
from reconciler.desired.envelope import Envelope, Metadata, parse_envelope
from reconciler.desired.fargate import fargate_problems
from reconciler.desired.load_balancing import attribute_problems
from reconciler.desired.spec_checker import SpecChecker, SpecProblem, describe_type, unknown_field_path
from reconciler.desired.strategies import strategy_problems
from reconciler.desired.variables import VariableValue, substitute, undefined_variable
from reconciler.desired.yaml_reader import YamlDocument
from reconciler.errors import Problem, echoed
from reconciler.model.kinds import KINDS, KindInfo
from reconciler.model.resource import DesiredResource
from reconciler.model.shared_text import shared_offsets
from reconciler.model.targets import DEFAULT_TARGET

_SPEC_PREFIX = "spec."
_TARGET_PATH = "metadata.target"


@dataclass(slots=True)
class CheckedDocument:
    problems: list[Problem] = field(default_factory=list)
    candidate: Candidate | None = None


@dataclass(frozen=True)
class _Locator:
    """Turns a document path (``spec.containerDefinitions[0]``) into a ``Problem`` at the closest known
    line."""

    file: str
    document: YamlDocument

    def problem(self, path: str, message: str) -> Problem:
        return Problem(self.file, self.line_of(path), message)

    def line_of(self, path: str) -> int:
        while path:
            if path in self.document.lines:
                return self.document.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.document.line


def check_document(
    document: YamlDocument,
    *,
    file: str,
    variables: Mapping[str, VariableValue],
    check_spec: SpecChecker,
    target: str = DEFAULT_TARGET,
) -> CheckedDocument:
    """Every problem of one document, and the candidate resource it declares (if it got that far) for ``target``
    (``targets.Assignment`` works it out, and the ``variables`` that apply)."""
    locator = _Locator(file, document)
    if not isinstance(document.value, dict):
        message = (
            "a document must be a mapping of apiVersion, kind, metadata and spec, "
            f"not {describe_type(document.value)}"
        )
        return CheckedDocument([locator.problem("", message)])
    substitution = substitute(document.value, variables=variables)
    result = CheckedDocument(
        [
            locator.problem(path, undefined_variable(name))
            for path, name in substitution.undefined
            if path != _TARGET_PATH  # read as written, before substitution: ``targets.Assignment`` says so
        ]
    )
    envelope = parse_envelope(substitution.value)
    if isinstance(envelope, list):
        result.problems.extend(locator.problem(path, message) for path, message in envelope)
    kind = _known_kind(substitution.value)
    spec = substitution.value.get("spec")
    if kind is not None and isinstance(spec, dict):
        spec_problems = _spec_problems(kind=kind, spec=spec, check_spec=check_spec)
        result.problems.extend(_located(problem, locator=locator) for problem in spec_problems)
        if isinstance(envelope, Envelope):
            for index, path in enumerate(envelope.metadata.ignoreDifferences):
                if why := unknown_field_path(kind, path, check_spec):
                    where = f"metadata.ignoreDifferences[{index}]"
                    result.problems.append(locator.problem(where, f"{where}: '{echoed(path)}' {why}"))
        result.candidate = _candidate(substitution.value, envelope=envelope, locator=locator, target=target)
    return result


def _known_kind(document: Mapping[str, Any]) -> KindInfo | None:
    kind = document.get("kind")
    return KINDS.get(kind) if isinstance(kind, str) else None


def _spec_problems(*, kind: KindInfo, spec: Mapping[str, Any], check_spec: SpecChecker) -> list[SpecProblem]:
    problems = []
    if kind.name_field in spec:
        message = f"'{kind.name_field}' is not allowed in spec; set metadata.name instead"
        problems.append(SpecProblem(kind.name_field, message))
    for missing in sorted(kind.required_fields - spec.keys()):
        problems.append(SpecProblem(missing, f"required field '{missing}' is missing"))
    problems.extend(check_spec(kind, spec))
    problems.extend(fargate_problems(kind=kind.kind, spec=spec))
    problems.extend(attribute_problems(kind=kind.kind, spec=spec))
    problems.extend(capacity_problems(kind=kind.kind, spec=spec))
    problems.extend(strategy_problems(kind=kind.kind, spec=spec))
    return problems


def _located(problem: SpecProblem, *, locator: _Locator) -> Problem:
    path = f"{_SPEC_PREFIX}{problem.path}" if problem.path else "spec"
    return locator.problem(path, f"{echoed(path)}: {problem.message}")


def _candidate(
    document: Mapping[str, Any], *, envelope: Envelope | list[tuple[str, str]], locator: _Locator, target: str
) -> Candidate | None:
    metadata = document.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name.strip():
        return None
    # When the envelope is invalid the document fails anyway; defaults let it still take part in the
    # checks across documents (duplicates, references). Not validated again: the name may be the problem.
    facts = envelope.metadata if isinstance(envelope, Envelope) else Metadata.model_construct(name=name)
    resource = DesiredResource(
        kind=str(document["kind"]),
        name=name,
        spec=document["spec"],
        mode=facts.mode,
        deletion_policy=facts.deletionPolicy,
        labels=facts.labels,
        prune_unmanaged_rules=facts.pruneUnmanagedRules,
        ignore_differences=tuple(facts.ignoreDifferences),
        file=locator.file,
        line=locator.document.line,
        line_offsets=_spec_line_offsets(locator.document.lines, first=locator.document.line),
    )
    name_line, spec_line = locator.line_of("metadata.name"), locator.line_of("spec")
    return Candidate(resource, name_line=name_line, spec_line=spec_line, target=target)


def _spec_line_offsets(document_lines: Mapping[str, int], *, first: int) -> Mapping[str, int]:
    return shared_offsets(
        {
            sys.intern(path.removeprefix(_SPEC_PREFIX)): line - first
            for path, line in document_lines.items()
            if path.startswith(_SPEC_PREFIX)
        }
    )
