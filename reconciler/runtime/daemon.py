"""The daemon: a pass every interval (jittered), and at once when the source changes (a new commit, a changed
directory) or POST /sync asks (for a Git source, after fetching).

Events only say "look now" (DESIGN §1): bursts coalesce into one wake-up, and passes never overlap because one
task runs them one after the other. An invalid desired state leaves the last good one in force. SIGTERM and
SIGINT stop the loop; a pass in flight gets a few seconds to finish, then is cancelled, so the process exits
well within the 10 s ECS gives a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from reconciler import metrics
from reconciler.desired.secrets import secret_warnings
from reconciler.errors import InvalidDesiredState
from reconciler.model.resource import DesiredState
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.runtime.report import Tracker
from reconciler.server import Probe, start_server

log = structlog.get_logger(__name__)
GRACE_ON_STOP = 5.0  # seconds a pass in flight may still run after SIGTERM


class Coordinator(Protocol):
    """Who may write, with several replicas: the leader lease (``lease.py``) or shard leases (``shards.py``)."""

    answered: bool  # DynamoDB has answered once (readiness of a follower)
    on_change: Callable[[bool], None] | None

    def may_write(self) -> bool: ...

    async def run(self, stop: asyncio.Event) -> None: ...

    async def release(self) -> None: ...


class DesiredSource(Protocol):
    """Where passes load the desired state from (``source/``): a directory or a Git repository."""

    @property
    def description(self) -> str: ...

    async def load_async(self) -> DesiredState: ...

    def request_refresh(self) -> bool:
        """Fetch now if there is anything to fetch; True if the source then wakes the loop itself."""
        ...

    def status(self) -> dict[str, object]:
        """Where the desired state comes from and how fetching it goes, for ``GET /status``."""
        ...

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None: ...


@dataclass
class DaemonOptions:
    interval: float = 30.0
    pass_timeout: float = 300.0
    debounce_ms: int = 500
    host: str = "0.0.0.0"
    port: int = 8080
    webhook_secret: bytes | None = None


@dataclass
class Daemon:
    source: DesiredSource
    engine: Engine
    options: DaemonOptions
    tracker: Tracker = field(default_factory=Tracker)
    lease: Coordinator | None = None  # with several replicas: passes run only while this one may write
    last_good: DesiredState | None = None
    passes: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _last_tick: float = field(default_factory=time.monotonic)
    _aws_answered: bool = False

    def request_sync(self) -> None:
        if not self.source.request_refresh():
            self.wake("sync requested")

    def wake(self, reason: str) -> None:
        log.info("pass requested", reason=reason)
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def healthy(self) -> bool:
        """SPEC §3: the loop has ticked within 3 intervals (it ticks when a pass starts and when it ends)."""
        return time.monotonic() - self._last_tick < 3 * self.options.interval

    def status(self) -> dict[str, object]:
        """``GET /status``: the revision in force, the source, and one entry per resource (SPEC §3)."""
        revision = self.last_good.revision if self.last_good else None
        return {"revision": revision, "source": self.source.status(), "resources": self.tracker.as_json()}

    def ready(self) -> bool:
        answered = self._aws_answered or (self.lease is not None and self.lease.answered)
        return self.last_good is not None and answered

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        probe = Probe(self.healthy, self.ready, self.status, self.request_sync, self.options.webhook_secret)
        runner = await start_server(probe, host=self.options.host, port=self.options.port)
        log.info(
            "daemon started",
            listen=f"{self.options.host}:{self.options.port}",
            source=self.source.description,
        )
        if self.lease is None:
            metrics.LEADER.set(1)
        else:
            self.lease.on_change = lambda leader: self.wake("lease taken" if leader else "lease lost")
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._watch())
                if self.lease is not None:
                    group.create_task(self.lease.run(self._stop))
                await self._loop()
                if self.lease is not None:  # the last pass is over: the next replica need not wait
                    await self.lease.release()
        finally:
            await runner.cleanup()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            log.info("daemon stopped")

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._last_tick = time.monotonic()
            self._wake.clear()
            if self.lease is None or self.lease.may_write():
                await self._run_pass_until_stopped()
            else:
                await self._follow()
            self._last_tick = time.monotonic()
            await self._sleep()

    async def _run_pass_until_stopped(self) -> None:
        task = asyncio.create_task(self.run_pass())
        stopping = asyncio.create_task(self._stop.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=GRACE_ON_STOP)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _sleep(self) -> None:
        delay = self.options.interval * random.uniform(0.9, 1.1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def _follow(self) -> None:
        """Not the leader: keep the desired state loaded (readiness, ``desired_state_valid``), write nothing."""
        with contextlib.suppress(
            Exception
        ):  # an invalid state is logged by _load; the leader reports the rest
            await self._load()

    async def _watch(self) -> None:
        await self.source.watch(self.wake, self._stop, debounce_ms=self.options.debounce_ms)

    async def run_pass(self) -> PassOutcome | None:
        """One pass; never raises (a failed pass is logged and counted, and the loop goes on)."""
        self.passes += 1
        structlog.contextvars.bind_contextvars(pass_id=uuid.uuid4().hex[:8])
        started = time.perf_counter()
        try:
            outcome = await self._reconcile()
            self._account(outcome, time.perf_counter() - started)
        except Exception as exc:
            log.error("pass failed", error=str(exc), error_type=type(exc).__name__)
            metrics.CYCLES.labels(result="error").inc()
            return None
        finally:
            metrics.CYCLE_DURATION.observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("pass_id")
        return outcome

    async def _reconcile(self) -> PassOutcome:
        async with asyncio.timeout(self.options.pass_timeout):
            desired = await self._load()
            try:
                outcome = await self.engine.reconcile(desired)
            except InvalidDesiredState as exc:  # invalid against live AWS (an ALB's subnets in one zone)
                metrics.DESIRED_STATE_VALID.set(0)
                log.error("desired state invalid against live AWS", problems=[str(p) for p in exc.problems])
                raise
        self._aws_answered = True
        return outcome

    async def _load(self) -> DesiredState:
        try:
            desired = await self.source.load_async()
        except InvalidDesiredState as exc:
            metrics.DESIRED_STATE_VALID.set(0)
            log.error(
                "desired state invalid",
                revision=exc.revision or None,
                problems=[str(p) for p in exc.problems],
            )
            if self.last_good is None:
                raise
            log.warning("keeping the last good desired state", revision=self.last_good.revision)
            return self.last_good
        metrics.DESIRED_STATE_VALID.set(1)
        metrics.set_revision(desired.revision)
        if desired.is_empty:
            log.warning("the desired state has no documents: nothing is pruned", revision=desired.revision)
        if self.last_good is None or self.last_good.revision != desired.revision:
            for warning in secret_warnings(desired):
                log.warning("a value that looks secret is written in clear", problem=str(warning))
        self.last_good = desired
        return desired

    def _account(self, outcome: PassOutcome, seconds: float) -> None:
        self.tracker.record(outcome)
        metrics.DELETIONS_BLOCKED.set(outcome.plan.deletions_blocked)
        if outcome.plan.deletions_blocked:
            log.error("deletions held: this revision would delete more than --max-deletions; nothing deleted",
                      revision=outcome.plan.revision, deletions=outcome.plan.deletions_blocked)  # fmt: skip
        failed = bool(outcome.result.failed)
        metrics.CYCLES.labels(result="error" if failed else "success").inc()
        if not failed:
            metrics.LAST_SUCCESS.set(time.time())
        log.info(
            "pass done",
            revision=outcome.plan.revision,
            changes=len(outcome.plan.reported_changes),
            restamps=len(outcome.plan.restamps),
            applied=len(outcome.result.applied),
            failed=len(outcome.result.failed),
            not_applied=len(outcome.result.skipped),
            drifted=sorted(str(k) for k in self.tracker.drifted),
            seconds=round(seconds, 3),
        )
