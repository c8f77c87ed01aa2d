"""Collecting variable values: root ``vars.yaml``, then each ``--vars`` file, then ``extra_vars`` (later
wins). A target's own variables (``targets.yaml``) come between ``vars.yaml`` and the rest, for its documents.

A vars file is one flat mapping ``NAME: value`` with string, number or boolean values; anything else is a
problem at its line, because a silently ignored variable surfaces later as a confusing "undefined variable".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired.sources import SourceReader, SourceText
from reconciler.desired.spec_checker import describe_type
from reconciler.desired.tree import TreeFile
from reconciler.desired.variables import VARIABLE_NAME, VariableValue
from reconciler.desired.yaml_reader import DocumentBudget, YamlDocument, read_yaml
from reconciler.errors import Problem, echoed


@dataclass(frozen=True)
class VariableLayers:
    """The variables of one load, by where they come from: what a target's own variables go between."""

    root: dict[str, VariableValue] = field(default_factory=dict)  # vars.yaml
    given: dict[str, VariableValue] = field(default_factory=dict)  # --vars files, then extra_vars

    def merged(self, between: Mapping[str, VariableValue] | None = None) -> dict[str, VariableValue]:
        """Every variable, ``between`` (a target's own) winning over vars.yaml and losing to the others."""
        return {**self.root, **(between or {}), **self.given}


def load_variables(
    *,
    vars_file: TreeFile | None,
    vars_files: Sequence[Path],
    extra_vars: Mapping[str, str] | None,
    reader: SourceReader,
) -> tuple[VariableLayers, list[Problem]]:
    """Every variable, and every problem found in the files that define them: ``vars_file`` is the root's
    ``vars.yaml`` (as the walk found it), ``vars_files`` the ``--vars`` files."""
    layers = VariableLayers()
    problems: list[Problem] = []
    given = [(layers.root, vars_file)] if vars_file is not None else []
    for layer, file in [*given, *((layers.given, TreeFile.given(Path(p))) for p in vars_files)]:
        source = reader.read(file)
        if isinstance(source, Problem):
            problems.append(source)
            continue
        file_variables, file_problems = _variables_in(source)
        layer.update(file_variables)
        problems.extend(file_problems)
    layers.given.update(extra_vars or {})
    return layers, problems


def _variables_in(source: SourceText) -> tuple[dict[str, VariableValue], list[Problem]]:
    read = read_yaml(source.text, budget=DocumentBudget())
    problems = [Problem(source.display, line, message) for line, message in read.problems]
    if len(read.documents) > 1:
        second = read.documents[1]
        problems.append(
            Problem(source.display, second.line, "a vars file holds a single mapping, not documents")
        )
    if not read.documents:
        return {}, problems
    variables, mapping_problems = _variables_of(read.documents[0], file=source.display)
    return variables, problems + mapping_problems


def _variables_of(document: YamlDocument, *, file: str) -> tuple[dict[str, VariableValue], list[Problem]]:
    if not isinstance(document.value, dict):
        message = f"a vars file must be a flat mapping of NAME: value, not {describe_type(document.value)}"
        return {}, [Problem(file, document.line, message)]
    return variables_of(document.value, file=file, lines=document.lines, line=document.line)


def variables_of(
    mapping: Mapping[str, object], *, file: str, lines: Mapping[str, int], line: int, path: str = ""
) -> tuple[dict[str, VariableValue], list[Problem]]:
    """The variables of a flat mapping ``NAME: value`` found at ``path`` of a document (a vars file's, or a
    target's ``vars``), and a problem at its line for each entry that is not one."""
    variables: dict[str, VariableValue] = {}
    problems = []
    where = line
    for name, value in mapping.items():
        line = lines.get(f"{path}.{name}" if path else name, where)
        if not VARIABLE_NAME.fullmatch(name):
            problems.append(
                Problem(file, line, f"'{echoed(name)}' is not a variable name (letters, digits, '_')")
            )
        elif not isinstance(value, str | int | float):
            message = (
                f"variable '{echoed(name)}' must be a string, number or boolean, not {describe_type(value)}"
            )
            problems.append(Problem(file, line, message))
        else:
            variables[name] = value
    return variables, problems
