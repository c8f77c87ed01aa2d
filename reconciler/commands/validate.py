"""``reconciler validate``: load and validate the desired state, offline (no AWS library is imported)."""

from __future__ import annotations

import sys

from reconciler.commands import EXIT_ERROR, EXIT_OK
from reconciler.commands.common import load, print_problems
from reconciler.desired.secrets import secret_warnings
from reconciler.errors import InvalidDesiredState
from reconciler.settings import Settings


def validate(settings: Settings) -> int:
    try:
        desired = load(settings)
    except InvalidDesiredState as exc:
        print_problems(exc)
        return EXIT_ERROR
    for warning in secret_warnings(desired):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{settings.dir}: {len(desired.resources)} resources valid (revision {desired.revision})")
    for part in desired.parts:  # none without targets.yaml
        count = len(part.resources)
        print(f"  target {part.target}: {count} resource{'' if count == 1 else 's'}")
    return EXIT_OK
