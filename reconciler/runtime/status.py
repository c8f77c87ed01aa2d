"""``reconciler status``: a running daemon's ``GET /status`` as a table, for a person at a terminal."""

from __future__ import annotations

import sys
from typing import Any

import aiohttp

COLUMNS = ("kind", "name", "state", "revision", "lastChange", "lastError")
HEADINGS = ("KIND", "NAME", "STATE", "REVISION", "LAST CHANGE", "LAST ERROR")
REVISION_WIDTH = 12  # a Git SHA's usual short form
TIMEOUT_SECONDS = 10


async def print_status(url: str) -> int:
    """Print the table; 0, or 1 when the daemon cannot be reached or answers with an error."""
    address = url.rstrip("/") + "/status"
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(address) as response:
            response.raise_for_status()
            body: dict[str, Any] = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        print(f"error: cannot read {address}: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    print(status_table(body))
    return 0


def status_table(body: dict[str, Any]) -> str:
    """The resources of a ``GET /status`` body as aligned columns, under the revision and the source's state."""
    entries: list[dict[str, Any]] = body.get("resources") or []
    rows = [HEADINGS] + [tuple(_cell(entry, column) for column in COLUMNS) for entry in entries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
    lines = ["  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
             for row in rows]  # fmt: skip
    counts: dict[str, int] = {}
    for entry in entries:
        counts[str(entry.get("state"))] = counts.get(str(entry.get("state")), 0) + 1
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no resources yet"
    header = [f"revision {body.get('revision') or '-'}", *_source_lines(body.get("source") or {}), ""]
    return "\n".join([*header, *lines, "", f"{len(entries)} resources: {summary}"])


def _source_lines(source: dict[str, Any]) -> list[str]:
    if "git" not in source:
        return [f"source {source.get('dir', '-')}"]
    lines = [f"source {source['git']} (checked out {source.get('revision') or '-'}, "
             f"last fetch {source.get('lastFetch') or 'never'})"]  # fmt: skip
    if source.get("lastError"):
        lines.append(f"last fetch failed: {source['lastError']}")
    return lines


def _cell(entry: dict[str, Any], column: str) -> str:
    value = entry.get(column)
    if value in (None, ""):
        return "-"
    text = str(value)
    return text[:REVISION_WIDTH] if column == "revision" else text.replace("\n", " ")
