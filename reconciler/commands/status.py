"""``reconciler status``: print a running daemon's ``/status`` as a table."""

from __future__ import annotations

import asyncio

from reconciler.runtime.status import print_status


def status(url: str, name: str | None, target: str | None) -> int:
    return asyncio.run(print_status(url, name, target))
