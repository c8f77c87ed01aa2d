"""Interning the texts (and line maps) that repeat across thousands of documents and answers.

A desired state of 3000 services, and the task definition revisions cached for the process's life, hold the same
keys ("containerDefinitions", "logConfiguration"…) and short values ("FARGATE", "awsvpc", a subnet ID) tens of
thousands of times, each parsed into its own string. Interned, each is stored once (the desired state of 3000
services went from 90 to 56 MiB). Long texts are left alone: they rarely repeat. Documents of one shape (services
written from one template) also share one map of their spec paths' lines, relative to the document's first line.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Mapping
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


class _LineOffsets(dict[str, int]):
    """A dict that can be referred to weakly: a map stays shared only while some document uses it."""


_OFFSETS: weakref.WeakValueDictionary[tuple[tuple[str, int], ...], _LineOffsets] = (
    weakref.WeakValueDictionary()
)


def shared_offsets(offsets: Mapping[str, int]) -> Mapping[str, int]:
    """``offsets``, or an equal map already in use: one object for every document of the same shape."""
    key = tuple(offsets.items())
    found = _OFFSETS.get(key)
    if found is None:
        found = _OFFSETS[key] = _LineOffsets(offsets)
    return found
