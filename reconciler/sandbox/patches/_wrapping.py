"""The one way our patches replace a method of a moto class, so that each patch reads as a plain function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Method = Callable[..., Any]


def replace_method(owner: type, name: str, make: Callable[[Method], Method]) -> None:
    """Set ``owner.name`` to ``make(original)``, where ``original`` is the method ``owner`` defines now."""
    original: Method = owner.__dict__[name]
    setattr(owner, name, make(original))


def add_method(owner: type, name: str, method: Method) -> None:
    """Give ``owner`` a method that moto lacks."""
    setattr(owner, name, method)
