"""``reconciler import``: desired-state YAML written from what an account already runs, so a team can adopt an
existing estate. ``read`` reads AWS, ``documents`` turns descriptions into documents, ``write`` writes files.

``import --target NAME`` reads a target of ``targets.yaml`` with that target's clients (its Region, its role).
Before anything is read, the account the clients reach is checked against the target's, so that credentials that
reach another account never import its estate as this target's. Each document written says ``metadata.target:
NAME``, wherever ``--out`` is: it stays the target's when the file is moved, and needs no folder of
``targets.yaml`` to be mapped to it first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from reconciler.importer.documents import imported_files
from reconciler.importer.read import NotFound, read_estate
from reconciler.importer.write import write_files
from reconciler.live.clients import AwsClients
from reconciler.model.targets import Target

__all__ = ["NotFound", "OtherAccount", "import_estate"]


class OtherAccount(Exception):
    """The clients of ``import --target`` reach another account than the target's."""


async def import_estate(
    clients: AwsClients, *, cluster: str, services: Sequence[str], out: Path, target: Target | None = None
) -> list[Path]:
    """Read the cluster and its services (all, or ``services``) and write their documents under ``out``.
    ``target``: the target ``clients`` reach (the module docstring); its documents say so."""
    if target is not None and target.account is not None:
        await _check_account(clients, target)
    estate = await read_estate(clients, cluster, services)
    files = imported_files(estate)
    if target is not None and not target.default:
        files = {
            path: [dataclasses.replace(d, target=target.name) for d in docs] for path, docs in files.items()
        }
    return write_files(out, files, cluster=cluster)


async def _check_account(clients: AwsClients, target: Target) -> None:
    sts = await clients.client("sts")
    reached = str((await sts.get_caller_identity())["Account"])
    if reached != target.account:
        raise OtherAccount(
            f"the credentials for target {target.name} reach account {reached}, not the target's account "
            f"{target.account}: nothing was imported"
        )
