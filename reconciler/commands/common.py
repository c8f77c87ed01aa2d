"""What several commands share: loading the desired state of ``dir``, printing why it is invalid, and one line
for a failure against AWS."""

from __future__ import annotations

import sys
from collections.abc import Awaitable

from reconciler.commands import EXIT_ERROR
from reconciler.desired.allowed_targets import allowed
from reconciler.errors import InvalidDesiredState
from reconciler.model.resource import DesiredState
from reconciler.model.secrets import redact
from reconciler.settings import Settings
from reconciler.source.directory import DirectorySource


def load(settings: Settings) -> DesiredState:
    """The desired state of ``settings.dir``; invalid, too, when ``--allowed-targets`` names a target it does not
    declare."""
    desired = directory_source(settings).load()
    allowed(desired, settings.allowed_targets)
    return desired


def directory_source(settings: Settings) -> DirectorySource:
    return DirectorySource(
        root=settings.dir,
        vars_files=tuple(settings.vars),
        allowed_clusters=frozenset(settings.allowed_clusters),
    )


def print_problems(exc: InvalidDesiredState) -> None:
    for problem in exc.problems:
        print(redact(str(problem)), file=sys.stderr)
    print(f"desired state invalid: {len(exc.problems)} problem(s); nothing was applied", file=sys.stderr)


async def reported(work: Awaitable[int]) -> int:
    """``work``'s exit code; 1 when it raises, with the problems or one clear line printed."""
    try:
        return await work
    except InvalidDesiredState as exc:  # found invalid against live AWS (an ALB's subnets in one zone)
        print_problems(exc)
        return EXIT_ERROR
    except Exception as exc:  # AWS unreachable, no credentials, access denied: one clear line, exit 1
        print(redact(f"error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_ERROR
