"""``${NAME}`` substitution: typed whole references, defaults, escapes, undefined names with their paths."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.desired.variables import substitute

VARIABLES = {"NAME": "web", "COUNT": 3, "RATIO": 0.5, "ON": True, "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${NAME}", "web"),
        ("${COUNT}", 3),
        ("${RATIO}", 0.5),
        ("${ON}", True),
        ("n=${COUNT}", "n=3"),
        ("on=${ON}", "on=true"),
        ("${NAME}-${COUNT}", "web-3"),
        ("${EMPTY}", ""),
        ("${MISSING:=fallback}", "fallback"),
        ("${MISSING:=2}", 2),
        ("${MISSING:=false}", False),
        ("${MISSING:=}", ""),
        ("x${MISSING:=2}", "x2"),
        ("${NAME:=other}", "web"),
        ("$${NAME}", "${NAME}"),
        ("$${NAME} and ${NAME}", "${NAME} and web"),
        ("${not valid}", "${not valid}"),
        ("$NAME", "$NAME"),
        ("plain", "plain"),
    ],
)
def test_substitution_of_one_string(text: str, expected: Any) -> None:
    result = substitute({"value": text}, variables=VARIABLES)
    assert result.value == {"value": expected}
    assert type(result.value["value"]) is type(expected)
    assert result.undefined == []


def test_keys_and_non_strings_are_untouched() -> None:
    document = {"${NAME}": [1, None, True, {"k": "${NAME}"}]}
    assert substitute(document, variables=VARIABLES).value == {"${NAME}": [1, None, True, {"k": "web"}]}


def test_undefined_variables_are_reported_with_their_paths() -> None:
    result = substitute({"spec": {"items": ["ok", "${A}-${B}"], "c": "${C}"}}, variables=VARIABLES)
    assert result.undefined == [("spec.items[1]", "A"), ("spec.items[1]", "B"), ("spec.c", "C")]


def test_the_environment_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_ENV", "leak")
    assert substitute({"v": "${FROM_ENV}"}, variables={}).undefined == [("v", "FROM_ENV")]
