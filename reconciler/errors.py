"""The exception tree, in one place so that every layer raises the same few things.

    ReconcilerError
     ├── InvalidDesiredState   the desired-state directory cannot be used; carries FILE:LINE problems.
     │                         Nothing is written to AWS from such a revision.
     ├── TerminalError         an action that will fail the same way until something changes (bad request,
     │                         access denied, owned by another instance). Counted, not retried in a loop.
     └── TransientError        worth retrying on the next pass (throttling after retries, 5xx, timeouts,
                               a resource that is still draining).

Layers translate foreign exceptions (botocore's ClientError, yaml's errors) into these at their edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base of every error the reconciler raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the desired state, located as precisely as we can (``FILE:LINE: message``)."""

    file: str
    line: int
    message: str

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
