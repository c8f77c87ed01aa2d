"""Collecting variable values: root ``vars.yaml``, then each ``--vars`` file, then ``extra_vars`` (later
wins).

A vars file is one flat mapping ``NAME: value`` with string, number or boolean values; anything else is a
problem at its line, because a silently ignored variable surfaces later as a confusing "undefined variable".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reconciler.desired.sources import SourceReader, SourceText
from reconciler.desired.spec_checker import describe_type
from reconciler.desired.tree import TreeFile
from reconciler.desired.variables import VARIABLE_NAME, VariableValue
from reconciler.desired.yaml_reader import DocumentBudget, YamlDocument, read_yaml
from reconciler.errors import Problem, echoed


def load_variables(
    *,
    vars_file: TreeFile | None,
    vars_files: Sequence[Path],
    extra_vars: Mapping[str, str] | None,
    reader: SourceReader,
) -> tuple[dict[str, VariableValue], list[Problem]]:
    """Every variable, and every problem found in the files that define them: ``vars_file`` is the root's
    ``vars.yaml`` (as the walk found it), ``vars_files`` the ``--vars`` files."""
    files = ([vars_file] if vars_file is not None else []) + [TreeFile.given(Path(p)) for p in vars_files]
    variables: dict[str, VariableValue] = {}
    problems: list[Problem] = []
    for file in files:
        source = reader.read(file)
        if isinstance(source, Problem):
            problems.append(source)
            continue
        file_variables, file_problems = _variables_in(source)
        variables.update(file_variables)
        problems.extend(file_problems)
    variables.update(extra_vars or {})
    return variables, problems


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
    variables: dict[str, VariableValue] = {}
    problems = []
    for name, value in document.value.items():
        line = document.lines.get(name, document.line)
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
