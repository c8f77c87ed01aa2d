"""The exception tree, in one place so that every layer raises the same few things.

    ReconcilerError
     ├── InvalidDesiredState   the desired-state directory cannot be used; carries FILE:LINE problems.
     │                         Nothing is written to AWS from such a revision.
     ├── TerminalError         an action that will fail the same way until something changes (bad request,
     │                         access denied, owned by another instance). Counted, not retried in a loop.
     └── TransientError        worth retrying on the next pass (throttling after retries, 5xx, timeouts,
                               a resource that is still draining).

Layers translate foreign exceptions (botocore's ClientError, yaml's errors) into these at their edge.

A message that quotes a value from the user's files (an unknown kind, a field or variable name, a resource name)
quotes it through ``echoed``: cut to ``ECHO_LIMIT`` characters, control characters written as escapes, so that
no output (text, JSON, logs, ``/status``, metric labels) carries a document's worth of text, or a terminal escape
sequence or a forged log line. Every ``Problem`` also goes through ``printable`` as a last guard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

ECHO_LIMIT = 100  # characters of a quoted value: a long ARN still fits whole
_ELLIPSIS = "..."
# C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional controls (which make a
# terminal or an editor show text in another order than it is)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with each control character written as its escape (``\\x1b``, ``\\u202e``)."""
    return _UNPRINTABLE.sub(_escape, text)


def echoed(value: object) -> str:
    """A value from the user's files, as a message quotes it: ``printable``, and at most ``ECHO_LIMIT``
    characters (longer ones end with ``...``)."""
    text = value if isinstance(value, str) else str(value)
    shown = printable(text[: ECHO_LIMIT + 1])  # the rest could be megabytes: never looked at
    if len(shown) <= ECHO_LIMIT and len(text) <= ECHO_LIMIT:
        return shown
    return shown[: ECHO_LIMIT - len(_ELLIPSIS)] + _ELLIPSIS


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class ReconcilerError(Exception):
    """Base of every error the reconciler raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the desired state, located as precisely as we can (``FILE:LINE: message``)."""

    file: str
    line: int
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "file", printable(self.file))
        object.__setattr__(self, "message", printable(self.message))

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class InvalidDesiredState(ReconcilerError):
    """The desired state failed to load or validate; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], *, revision: str = "") -> None:
        self.problems = tuple(problems)
        self.revision = revision  # the commit that is invalid, when the source knows it
        super().__init__("\n".join(str(p) for p in self.problems))


class TerminalError(ReconcilerError):
    """An action failed in a way that retrying the same request will not fix."""


class TransientError(ReconcilerError):
    """An action failed in a way that may succeed on a later pass."""
