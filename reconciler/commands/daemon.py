"""``reconciler run``: the daemon, a loop per target (``runtime/fleet.py``)."""

from __future__ import annotations

import asyncio
import sys

from reconciler.commands import EXIT_OK
from reconciler.commands.common import reported
from reconciler.runtime.one_shot import clients_of
from reconciler.runtime.options import daemon_options, fleet_of, notices_of
from reconciler.settings import Settings


def options_usable(settings: Settings) -> bool:
    """The daemon's options that read files or name URLs (``--webhook-secret-file``, ``--ui-token-file``, the
    notification options), checked before anything starts: False, with the reason printed, when one cannot be used."""
    try:
        daemon_options(settings)
        notices_of(settings)  # the notification options: files, URLs, a repository for commit statuses
    except (OSError, ValueError) as exc:  # StartupError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return False
    return True


def run(settings: Settings) -> int:
    return asyncio.run(reported(_run(settings)))


async def _run(settings: Settings) -> int:
    """The fleet on ``home``, the process's own clients, which hold the lease and the events queue."""
    async with clients_of(settings) as home:
        await fleet_of(settings, home).run()
    return EXIT_OK
