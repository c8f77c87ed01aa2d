"""Targets: the AWS accounts and Regions one reconciler manages, each reached with its own credentials.

``targets.yaml`` at the root of the desired state names each target (its account, Region, the role to assume,
optionally its own events queue and variables) and maps folders to targets; ``metadata.target`` overrides the
folder. Without ``targets.yaml`` there is one target, ``DEFAULT_TARGET``: the reconciler's own credentials and
Region. Names are unique per target, and references never cross targets: each target's documents form a
``DesiredState`` of their own (``DesiredState.parts``), planned, read and written with that target's clients.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TARGET = "default"  # the one target of a desired state without targets.yaml
# A target's name: it names the target in problems, logs, metrics and ``metadata.target``, never anything in AWS
TARGET_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")
TargetVariable = str | int | float | bool  # as in vars.yaml: ``desiredCount: ${COUNT}`` stays a number


@dataclass(frozen=True, slots=True)
class Target:
    """One entry of ``targets.yaml``, validated. ``account`` and ``region`` are None only for the default target
    (the process's own credentials and Region); ``role_arn`` None: the process's own credentials."""

    name: str
    account: str | None = None
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str | None = None
    events_queue_url: str | None = None  # this target's own events queue, if it has one
    vars: Mapping[str, TargetVariable] = field(default_factory=dict)  # win over vars.yaml for its documents
    file: str = ""  # where it is declared, for problems found later
    line: int = 0

    @property
    def default(self) -> bool:
        return self.name == DEFAULT_TARGET and self.role_arn is None and self.account is None


def default_target(region: str | None = None) -> Target:
    """The one target of a desired state without ``targets.yaml``."""
    return Target(name=DEFAULT_TARGET, region=region)
