"""Where a pass gets its desired state from: a directory on disk (a Git checkout or a git-sync volume).

The source loads and validates in a worker thread so that the HTTP server keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired import load_desired_state
from reconciler.model.resource import DesiredState
from reconciler.shapes import BotocoreSpecChecker


@dataclass(frozen=True)
class DirectorySource:
    root: Path
    vars_files: Sequence[Path] = ()
    extra_vars: Mapping[str, str] = field(default_factory=dict)

    def load(self) -> DesiredState:
        """Load and validate; raises ``InvalidDesiredState`` with every problem found."""
        return load_desired_state(
            self.root,
            vars_files=self.vars_files,
            extra_vars=self.extra_vars,
            check_spec=BotocoreSpecChecker(),
        )

    async def load_async(self) -> DesiredState:
        return await asyncio.to_thread(self.load)
