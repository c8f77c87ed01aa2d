"""``reconciler sandbox``: the emulator, its base infrastructure and the daemon (needs the [sandbox] extra)."""

from __future__ import annotations

import asyncio

from reconciler.sandbox.runner import run_sandbox
from reconciler.settings import Settings


def sandbox(settings: Settings, emulator_port: int) -> int:
    return asyncio.run(run_sandbox(settings, emulator_port=emulator_port))
