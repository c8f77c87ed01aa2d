"""What a bad-input case is, shared by the corpus modules (``test_desired_bad_inputs`` gathers every case)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    file: str  # relative to the desired-state directory
    line: int
    message: str  # a substring of the problem's message
