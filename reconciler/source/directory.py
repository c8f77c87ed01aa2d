"""A desired-state directory on disk: a checkout someone else keeps up to date (a git-sync sidecar, a CI job).

The revision is a hash of the content read. A git-sync volume swaps a symlink to each new checkout: the root is
resolved once at the start of a load, so one load reads one checkout, never half of two. Loading runs in a worker
thread so that the HTTP server keeps answering meanwhile. The directory is watched for changes; when the root is
a symlink (git-sync's layout), its parent is watched instead, since a swap changes the link, not the files below
the old target (which git-sync then deletes). The interval covers anything a watch misses.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.desired import FileCache, load_desired_state
from reconciler.model.resource import DesiredState
from reconciler.shapes import BotocoreSpecChecker

WATCH_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class DirectorySource:
    root: Path
    vars_files: Sequence[Path] = ()
    extra_vars: Mapping[str, str] = field(default_factory=dict)
    allowed_clusters: frozenset[str] = frozenset()  # --allowed-clusters; empty: any cluster
    cache: FileCache = field(default_factory=FileCache, compare=False)  # files unchanged since the last load

    @property
    def description(self) -> str:
        return str(self.root)

    def load(self) -> DesiredState:
        """Load and validate; raises ``InvalidDesiredState`` with every problem found."""
        return load_directory(
            self.root.resolve(),
            self.vars_files,
            self.extra_vars,
            self.allowed_clusters,
            cache=self.cache,
            shown_as=self.root,  # a git-sync link's files keep their names (and cache entries) across commits
        )

    async def load_async(self) -> DesiredState:
        return await asyncio.to_thread(self.load)

    def status(self) -> dict[str, object]:
        return {"dir": str(self.root)}

    def request_refresh(self) -> bool:
        """Nothing to fetch: False, the caller wakes the loop itself (POST /sync just asks for a pass)."""
        return False

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        """Call ``wake`` on every change below the root until ``stop``. The directory may not exist yet (a
        git-sync sidecar still cloning) or may vanish and come back: watching is retried meanwhile. Only the
        daemon watches: ``validate``, ``plan`` and ``apply`` import neither watchfiles nor structlog for it."""
        import structlog  # noqa: PLC0415
        from watchfiles import awatch  # noqa: PLC0415

        log = structlog.get_logger(__name__)
        while not stop.is_set():
            swapped = self.root.is_symlink()
            path = self.root.parent if swapped else self.root
            try:
                async for _ in awatch(path, debounce=debounce_ms, stop_event=stop, recursive=not swapped):
                    wake("desired-state directory changed")
            except OSError as exc:
                log.warning("cannot watch the desired-state directory", error=str(exc))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WATCH_RETRY_SECONDS):
                    await stop.wait()


def load_directory(
    root: Path,
    vars_files: Sequence[Path],
    extra_vars: Mapping[str, str],
    allowed_clusters: Collection[str] = (),
    *,
    cache: FileCache | None = None,
    shown_as: Path | None = None,
    repository: Path | None = None,
) -> DesiredState:
    return load_desired_state(
        root,
        vars_files=vars_files,
        extra_vars=extra_vars,
        check_spec=BotocoreSpecChecker(),
        allowed_clusters=allowed_clusters,
        cache=cache,
        shown_as=shown_as,
        repository=repository,
    )
