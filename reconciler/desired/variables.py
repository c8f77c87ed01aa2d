"""``${NAME}`` and ``${NAME:=default}`` in string values, replaced before validation (docs/desired-state.md,
"Variables").

Values come from root ``vars.yaml``, then each ``--vars`` file, then ``extra_vars`` (later ones win); the
process environment is never read. Rules:
- Only string values are substituted; mapping keys never are. Variable values are not substituted again.
- ``$${NAME}`` is an escape: it becomes the literal text ``${NAME}``.
- Typed substitution: a string that is *exactly* one reference takes the variable's own type, so that
  ``desiredCount: ${COUNT}`` with ``COUNT: 3`` in vars.yaml is the integer 3. A default in such a reference is
  typed the way YAML would type it (``${COUNT:=2}`` → 2, ``${ON:=true}`` → True). Inside longer text every
  value is written as text (booleans as ``true``/``false``). ``extra_vars`` are strings and stay strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import echoed
from reconciler.model.shared_text import shared_text

VariableValue = str | int | float | bool

_REFERENCE = re.compile(r"\$(?P<escape>\$?)\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::=(?P<default>[^}]*))?\}")
VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INTEGER = re.compile(r"[-+]?[0-9]+")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}


@dataclass
class Substitution:
    """The result of substituting one document: its new value and the undefined variables, by path."""

    value: Any = None
    undefined: list[tuple[str, str]] = field(default_factory=list)  # (path, variable name)


def substitute(value: Any, *, variables: Mapping[str, VariableValue]) -> Substitution:
    """``value`` with every reference replaced; paths use the notation of ``YamlDocument.lines``."""
    result = Substitution()
    result.value = _substitute_value(value, path="", variables=variables, undefined=result.undefined)
    return result


def undefined_variable(name: str) -> str:
    """The problem of a reference to a variable no file defines."""
    name = echoed(name)
    hint = f"define it in vars.yaml or a --vars file, or write ${{{name}:=default}}"
    return f"undefined variable '{name}' ({hint})"


def as_text(value: VariableValue) -> str:
    """A variable's value written inside longer text, as YAML would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _substitute_value(
    value: Any, *, path: str, variables: Mapping[str, VariableValue], undefined: list[tuple[str, str]]
) -> Any:
    if isinstance(value, str):
        names: list[str] = []
        replaced = _substitute_text(value, variables=variables, undefined=names)
        undefined.extend((path, name) for name in names)
        return shared_text(replaced) if isinstance(replaced, str) else replaced
    if isinstance(value, dict):
        return {
            key: _substitute_value(
                item, path=f"{path}.{key}" if path else key, variables=variables, undefined=undefined
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute_value(item, path=f"{path}[{index}]", variables=variables, undefined=undefined)
            for index, item in enumerate(value)
        ]
    return value


def _substitute_text(text: str, *, variables: Mapping[str, VariableValue], undefined: list[str]) -> Any:
    whole = _REFERENCE.fullmatch(text)
    if whole is not None and not whole["escape"]:
        name, default = whole["name"], whole["default"]
        if name in variables:
            return variables[name]
        if default is not None:
            return _typed(default)
        undefined.append(name)
        return text

    def replace(match: re.Match[str]) -> str:
        if match["escape"]:
            return match[0][1:]
        if match["name"] in variables:
            return as_text(variables[match["name"]])
        if match["default"] is not None:
            return str(match["default"])
        undefined.append(match["name"])
        return match[0]

    return _REFERENCE.sub(replace, text)


def _typed(text: str) -> VariableValue:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return _BOOLEANS.get(text, text)
