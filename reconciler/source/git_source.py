"""A Git repository as the desired state (``run --git-url``): fetched on an interval and on request, each commit
checked out whole into its own directory before a pass may use it (``source/git.py``).

The revision of a pass is the commit SHA. A pass loads the checkout that was current when it started, so a fetch
during a pass never changes what the pass reads. When a fetch or checkout fails, the last good checkout stays in
use and the failure is logged and counted (``reconciler_source_errors_total``), every interval, until Git answers
again; before the first good checkout there is nothing to load, and a pass that tries fails without writing.
Requests to fetch now (``POST /sync``, a webhook per push) are debounced, so that a burst of pushes costs one fetch
and one pass on the newest commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import structlog

from reconciler import metrics
from reconciler.desired import FileCache
from reconciler.errors import InvalidDesiredState, Problem, TransientError
from reconciler.model.resource import DesiredState
from reconciler.source.directory import load_directory
from reconciler.source.git import Checkout, GitCheckouts, GitError

log = structlog.get_logger(__name__)


class NoCheckoutYet(TransientError):
    """No revision could be checked out yet: there is no desired state to reconcile."""


@dataclass
class GitSource:
    checkouts: GitCheckouts
    description: str  # the URL (without credentials) and ref, for logs
    subdir: str = ""  # --git-path: the desired state's folder inside the repository
    interval: float = 30.0  # --git-interval: seconds between fetches
    vars_files: Sequence[Path] = ()
    extra_vars: Mapping[str, str] = field(default_factory=dict)
    allowed_clusters: frozenset[str] = frozenset()  # --allowed-clusters; empty: any cluster
    # Files unchanged since the last load, by their path in the repository: each commit is checked out into a
    # directory of its own, so a commit re-checks the files it changed, not the estate
    cache: FileCache = field(default_factory=FileCache)
    # the last load, and it with the commit as its revision
    _loaded: tuple[DesiredState, DesiredState] | None = None
    _requested: asyncio.Event = field(default_factory=asyncio.Event)
    _last_fetch: str | None = None  # ISO 8601, UTC, of the last good fetch
    _last_error: str = ""  # of the last fetch, "" when it succeeded

    def __post_init__(self) -> None:
        path = PurePosixPath(self.subdir)
        if path.is_absolute() or ".." in path.parts:
            raise ValueError(f"--git-path {self.subdir!r} must be a folder inside the repository")

    def load(self) -> DesiredState:
        """Load the current checkout; its revision is the commit SHA."""
        checkout = self.checkouts.current
        if checkout is None:
            raise NoCheckoutYet(f"no revision of {self.description} has been checked out yet")
        try:
            desired = load_directory(
                checkout.path / self.subdir,
                self.vars_files,
                self.extra_vars,
                self.allowed_clusters,
                cache=self.cache,
                shown_as=Path(self.subdir),  # named by their path in the repository
                repository=checkout.path,  # links may lead anywhere in the commit, never out of it
            )
        except InvalidDesiredState as exc:
            problems = [_in_repository(problem, checkout) for problem in exc.problems]
            raise InvalidDesiredState(problems, revision=checkout.sha) from None
        if self._loaded is None or self._loaded[0] is not desired or self._loaded[1].revision != checkout.sha:
            # the same commit loaded again is the same object, as from a directory (``FileCache.last_state``)
            self._loaded = (desired, desired.with_revision(checkout.sha))
        return self._loaded[1]

    async def load_async(self) -> DesiredState:
        if self.checkouts.current is None:  # the first pass need not wait for the first interval
            await self.fetch()
        return await asyncio.to_thread(self.load)

    def status(self) -> dict[str, object]:
        current = self.checkouts.current
        return {"git": self.description, "revision": current.sha if current else None,
                "lastFetch": self._last_fetch, "lastError": self._last_error}  # fmt: skip

    def request_refresh(self) -> bool:
        """Fetch now. True: ``watch`` wakes the loop once the fetch is done, so the pass runs on what it fetched."""
        self._requested.set()
        return True

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        """Fetch every ``interval`` and when asked, until ``stop``; wake the loop on a new commit or a request."""
        while not stop.is_set():
            requested = self._requested.is_set()
            if requested:
                await self._quiet(debounce_ms / 1000, stop)
            self._requested.clear()
            fetching = asyncio.ensure_future(self.fetch())
            await _first(asyncio.shield(fetching), stop.wait())
            if stop.is_set():  # SIGTERM: do not wait for a slow remote (up to the git timeout)
                fetching.cancel()
                return
            changed = fetching.result()
            if changed or requested:
                wake("new commit" if changed else "sync requested")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await _first(self._requested.wait(), stop.wait())

    async def fetch(self) -> bool:
        """Fetch and check out; True when the current commit changed. Never raises on a Git failure."""
        before = self.checkouts.current
        try:
            checkout = await self.checkouts.sync()
        except GitError as exc:
            self._last_error = str(exc)
            metrics.SOURCE_ERRORS.inc()
            log.warning("cannot fetch the desired state", source=self.description, error=str(exc),
                        keeping=before.sha if before else None)  # fmt: skip
            return False
        self._last_error = ""
        self._last_fetch = datetime.now(UTC).isoformat(timespec="seconds")
        metrics.SOURCE_LAST_FETCH.set(time.time())
        if _sha(before) == checkout.sha:
            return False
        log.info("new revision checked out", source=self.description, revision=checkout.sha,
                 previous=_sha(before))  # fmt: skip
        return True

    async def _quiet(self, seconds: float, stop: asyncio.Event) -> None:
        """Wait until no request has come for ``seconds`` (a burst of webhooks becomes one fetch)."""
        while self._requested.is_set() and not stop.is_set():
            self._requested.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await _first(self._requested.wait(), stop.wait())


def _in_repository(problem: Problem, checkout: Checkout) -> Problem:
    """A problem named by its path in the repository (``deploy/services/x.yaml:3``), not in the cache."""
    prefix = f"{checkout.path}/"
    if not problem.file.startswith(prefix):
        return problem
    return Problem(problem.file.removeprefix(prefix), problem.line, problem.message)


def _sha(checkout: Checkout | None) -> str | None:
    return checkout.sha if checkout else None


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
