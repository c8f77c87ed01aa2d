"""The exception tree, in one place so that every layer raises the same few things.

    ReconcilerError
     ├── InvalidDesiredState   the desired-state directory cannot be used; carries FILE:LINE problems.
     │                         Nothing is written to AWS from such a revision.
     ├── TerminalError         fails the same way until something changes (a field no update call can
     │                         set, a bad request, access denied, a quota). Reported with its class; a pass
     │                         that fails on one is not run again at once (runtime/daemon.py).
     ├── TransientError        may succeed on a later pass (no checkout yet, throttling, 5xx, a resource
     │                         still draining).
     └── AwsError              an AWS call failed: AWS's answer (service, operation, code, message), or
          │                    none came.
          ├── NotFound         something the request names does not exist (gone, or not made yet).
          ├── Conflict         the resource's present state refuses the request (a TransientError);
          │    ├── InUse            something still uses it (a listener its target group, tasks
          │    │                    their Cloud Map service, services their cluster),
          │    ├── AlreadyExists    what a create would make is there already,
          │    └── ConditionFailed  a condition on an item's present value failed (DynamoDB).
          ├── Throttled        over AWS's request rate after botocore's retries (a TransientError).
          ├── Retriable        AWS failed on its side (5xx) after botocore's retries (a TransientError);
          │    └── Unreachable      no answer came: the connection failed or the answer timed out.
          └── Terminal         the request is refused as sent: invalid, access denied, a quota reached
                               (a TerminalError).

Layers translate foreign exceptions into these at their edge: botocore's in ``live/clients.py``, where every
AWS call is made, by the table of AWS's error codes in ``live/aws_errors.py``; yaml's in ``desired``. Callers
catch the class that means what they handle (``except NotFound``); none compares codes.

A message that quotes a value from the user's files (an unknown kind, a field or variable name, a resource name)
quotes it through ``echoed``: cut to ``ECHO_LIMIT`` characters, control characters written as escapes, so that
no output (text, JSON, logs, ``/status``, metric labels) carries a document's worth of text, or a terminal escape
sequence or a forged log line. Every ``Problem`` also goes through ``printable`` as a last guard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    """An action failed in a way that retrying the same request will not fix: only a change to the document,
    the permissions or a quota will."""


class TransientError(ReconcilerError):
    """An action failed in a way that may succeed on a later pass."""


class AwsError(ReconcilerError):
    """An AWS call failed, after botocore's retries. ``code`` and ``message`` are AWS's (when no answer came:
    botocore's exception class and text); ``response`` is AWS's whole error answer, parsed, for the few fields
    beyond those (DynamoDB's ``Item`` of a failed condition). The subclass says what it means for the caller,
    so that no caller compares codes; the botocore exception it was made from is its ``__cause__``.

    ``str()`` is botocore's own wording, which names the operation and the code and is what AWS's
    documentation and people's searches know: ``An error occurred (ServiceNotFoundException) when calling the
    UpdateService operation: Service not found.``"""

    def __init__(
        self,
        service: str,
        operation: str,
        code: str,
        message: str,
        *,
        text: str = "",
        response: Mapping[str, Any] | None = None,
    ) -> None:
        self.service = service  # botocore's name: ecs, elbv2, servicediscovery…
        self.operation = operation  # AWS's: DescribeServices
        self.code = code
        self.message = message
        self.response: Mapping[str, Any] = response or {}
        super().__init__(
            text or f"An error occurred ({code}) when calling the {operation} operation: {message}"
        )


class NotFound(AwsError):
    """Something the request names does not exist: gone already (a delete's work is done), or not made yet."""


class Conflict(AwsError, TransientError):
    """The resource's present state refuses the request; the same request may pass once that state moves on (a
    service draining, an update in progress)."""


class InUse(Conflict):
    """Something still uses the resource: a listener its target group, tasks their Cloud Map service, services
    their cluster. It can go once they have."""


class AlreadyExists(Conflict):
    """What a create would make exists already."""


class ConditionFailed(Conflict):
    """A condition on an item's present value was not met (DynamoDB's ``ConditionExpression``): someone else's
    write came first."""


class Throttled(AwsError, TransientError):
    """Over AWS's request rate, still after botocore's adaptive retries."""


class Retriable(AwsError, TransientError):
    """AWS failed on its side (a 5xx, a request timeout it reports), after botocore's retries."""


class Unreachable(Retriable):
    """No answer came, after botocore's retries: the connection failed or was cut, or the answer timed out.
    Unlike every other ``AwsError``, AWS may never have seen the request."""


class Terminal(AwsError, TerminalError):
    """The request is refused as sent: invalid, not allowed (access denied), or over a quota. It fails the
    same way until the document, the permissions or the quota change."""
