"""Interning the texts that repeat across thousands of documents and answers.

A desired state of 3000 services, and the task definition revisions cached for the process's life, hold the same
keys ("containerDefinitions", "logConfiguration"…) and short values ("FARGATE", "awsvpc", a subnet ID) tens of
thousands of times, each parsed into its own string. Interned, each is stored once (the desired state of 3000
services went from 90 to 56 MiB). Long texts are left alone: they rarely repeat.
"""

from __future__ import annotations

import sys
from typing import Any

SHARED_TEXT_LENGTH = 64


def shared_text(text: str) -> str:
    return sys.intern(text) if len(text) <= SHARED_TEXT_LENGTH else text


def shared_strings(value: Any) -> Any:
    """``value`` (JSON-like) with its keys and short texts interned."""
    if isinstance(value, dict):
        return {sys.intern(k) if isinstance(k, str) else k: shared_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shared_strings(item) for item in value]
    if isinstance(value, str):
        return shared_text(value)
    return value
