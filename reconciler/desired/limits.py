"""The bounds that keep loading a hostile or broken desired-state directory cheap.

The loader runs inside a daemon that re-reads the repository every pass, so a bad commit must cost a clear
problem, never a crash, a hang or unbounded memory. Each limit below is reported as a ``FILE:LINE`` problem.

Aliases policy: YAML anchors and aliases are allowed (users share blocks such as ``environment``), but a
document's *expanded* tree may hold at most ``MAX_NODES_PER_DOCUMENT`` nodes and ``MAX_DEPTH`` nesting levels,
counted after alias expansion. A "billion laughs" document is refused as soon as the count passes the limit,
so the work done is bounded by the limit, not by the bomb.
"""

from __future__ import annotations

MAX_FILE_BYTES = 1024 * 1024  # one YAML file
MAX_TOTAL_BYTES = 64 * 1024 * 1024  # all files of one desired state together
MAX_FILES = 2000
MAX_DOCUMENTS = 25_000  # across all files: 5000 services with task definition, target group, rule and scaling
MAX_DEPTH = 50  # nested mappings/sequences, after alias expansion
MAX_NODES_PER_DOCUMENT = 10_000  # after alias expansion


def describe_bytes(size: int) -> str:
    """``5242880`` → ``"5.0 MiB"``: sizes in problems are read by people."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
