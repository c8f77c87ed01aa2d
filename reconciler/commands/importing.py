"""``reconciler import``: read a cluster, write its documents (``importer/``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from reconciler.commands import EXIT_ERROR, EXIT_OK
from reconciler.commands.common import load, print_problems
from reconciler.desired.allowed_targets import unknown_target_problems
from reconciler.errors import InvalidDesiredState, echoed
from reconciler.importer import NotFound, OtherAccount, import_estate
from reconciler.live.clients import AwsClients
from reconciler.live.credentials import RoleToAssume
from reconciler.model.targets import Target, default_target
from reconciler.settings import Settings


def import_command(
    settings: Settings, cluster: str, services: list[str], out: Path, target_name: str | None = None
) -> int:
    return asyncio.run(_import(settings, cluster, services, out, target_name))


async def _import(
    settings: Settings, cluster: str, services: list[str], out: Path, target_name: str | None = None
) -> int:
    try:
        target = _import_target(settings, target_name) if target_name is not None else None
    except InvalidDesiredState as exc:
        print_problems(exc)
        return EXIT_ERROR
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        async with _clients_of(settings, target) as clients:
            written = await import_estate(clients, cluster=cluster, services=services, out=out, target=target)
    except (NotFound, FileExistsError, OtherAccount) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # AWS unreachable, no credentials, access denied: one clear line, exit 1
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for path in written:
        print(f"wrote {path}")
    print(f"Imported cluster {cluster} into {out}: {len(written)} files. Run `reconciler plan {out}` next.")
    return EXIT_OK


def _import_target(settings: Settings, name: str) -> Target:
    """The target ``import --target NAME`` reads: declared in the desired state of ``--desired`` (loaded and
    validated), and among ``--allowed-targets`` when that is given."""
    if settings.allowed_targets and name not in settings.allowed_targets:
        allowed_names = ", ".join(sorted(settings.allowed_targets))
        raise ValueError(f"target {echoed(name)} is not in --allowed-targets ({allowed_names})")
    desired = load(settings)
    if problems := unknown_target_problems(desired, [name], option="--target"):
        raise InvalidDesiredState(problems, revision=desired.revision)
    return next((t for t in desired.targets if t.name == name), default_target(settings.region))


def _clients_of(settings: Settings, target: Target | None) -> AwsClients:
    """The clients ``import`` reads with: the target's Region, else ``--region``; its role's credentials when it
    has a role (``live/credentials.py``)."""
    region = target.region if target is not None and target.region else settings.region
    role = RoleToAssume.of(target, instance=settings.instance) if target is not None else None
    return AwsClients(region=region, endpoint_url=settings.endpoint_url, role=role)
