"""``reconciler import``: desired-state YAML written from what an account already runs, so a team can adopt an
existing estate. ``read`` reads AWS, ``documents`` turns descriptions into documents, ``write`` writes files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.importer.documents import imported_files
from reconciler.importer.read import NotFound, read_estate
from reconciler.importer.write import write_files
from reconciler.live.clients import AwsClients

__all__ = ["NotFound", "import_estate"]


async def import_estate(
    clients: AwsClients, *, cluster: str, services: Sequence[str], out: Path
) -> list[Path]:
    """Read the cluster and its services (all, or ``services``) and write their documents under ``out``."""
    estate = await read_estate(clients, cluster, services)
    return write_files(out, imported_files(estate), cluster=cluster)
