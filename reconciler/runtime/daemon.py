"""The daemon: a full pass every interval (jittered, counted from the start of the last), and at once when the
source changes (a new commit, a changed directory), an AWS event names a resource, or POST /sync asks (for a Git
source, after fetching).

Events only say "look now": bursts coalesce into one wake-up, and passes never overlap because one
task runs them one after the other. What a wake-up between full passes touched — the documents a new revision
added or changed, the resources AWS events named — gets a *targeted* pass over just those and what they refer to
(``plan/targets.py``); a removed document, a scope that is a large share of the estate, or POST /sync with
nothing changed gets a full pass. An invalid desired state leaves the last good one in force. SIGTERM and
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
from reconciler.events.keys import keys_of_event
from reconciler.events.queue import EventQueue
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.plan.targets import changed_resources, fresh_documents
from reconciler.plan.types import Action
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.runtime.heap import Heap
from reconciler.runtime.report import Tracker
from reconciler.server import Probe, start_server

log = structlog.get_logger(__name__)
_NOTHING = object()  # nothing changed and nothing asked: no pass
MAX_YIELDS = 3  # a full pass stops for changes at most this many times in a row


class _Yielded(Exception):
    """A full pass stopped, before writing anything, for a change that arrived meanwhile."""


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
    events: EventQueue | None = None  # --events-queue-url
    last_good: DesiredState | None = None
    passes: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _last_tick: float = field(default_factory=time.monotonic)
    _aws_answered: bool = False
    _next_full: float = 0.0  # monotonic time the next full pass is due
    _full_requested: bool = True
    _sync_requested: bool = False  # POST /sync: a full pass unless the desired state changed
    _touched: set[ResourceKey] = field(default_factory=set)  # named by AWS events since the last pass
    _baseline: DesiredState | None = None  # the desired state the passes so far have handled
    _change: asyncio.Event = field(default_factory=asyncio.Event)  # a change arrived (see ``wake``)
    _yielded: int = 0  # times the full pass now due has stopped for a change
    _full_after: bool = False  # a full pass that stopped for a change runs right after the change's pass
    _heap: Heap = field(default_factory=Heap)

    def request_sync(self) -> None:
        self._sync_requested = True
        if not self.source.request_refresh():
            self.wake("sync requested", change=True)

    def touch(self, keys: set[ResourceKey], reason: str) -> None:
        """Reconcile ``keys`` at once (an AWS event named them), in a targeted pass."""
        self._touched |= keys
        self.wake(reason, change=True)

    def wake(self, reason: str, *, change: bool = False) -> None:
        """Look now. A ``change`` (a commit, a directory edit, an event, POST /sync) may also stop a full pass
        that is still reading and planning, so that it goes first (``_full_pass``)."""
        log.info("pass requested", reason=reason)
        self._wake.set()
        if change:
            self._change.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def healthy(self) -> bool:
        """For ``GET /healthz``: the loop has ticked within 3 intervals (it ticks when a pass starts and
        when it ends)."""
        return time.monotonic() - self._last_tick < 3 * self.options.interval

    def status(self) -> dict[str, object]:
        """``GET /status``: the revision in force, the source, and one entry per resource."""
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
            self.lease.on_change = self._lease_changed
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._watch())
                if self.lease is not None:
                    group.create_task(self.lease.run(self._stop))
                events = None
                if self.events is not None:
                    events = group.create_task(self.events.run(self._resources_named, self.touch, self._stop))
                await self._loop()
                if events is not None:  # a long poll would hold the stop for up to 20 s
                    events.cancel()
                if self.lease is not None:  # the last pass is over: the next replica need not wait
                    await self.lease.release()
        finally:
            await runner.cleanup()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            log.info("daemon stopped")

    def _resources_named(self, event: object) -> tuple[str, set[ResourceKey]]:
        if self.last_good is None:
            return "unmatched", set()
        instance = self.engine.options.instance
        return keys_of_event(event, self.last_good, self.engine.arn_keys, instance=instance)

    def _lease_changed(self, leader: bool) -> None:
        self._full_requested = True
        self.wake("lease taken" if leader else "lease lost")

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._last_tick = time.monotonic()
            self._wake.clear()
            if self.lease is None or self.lease.may_write():
                await self._run_pass_until_stopped()
            else:
                await self._follow()
                self._next_full = time.monotonic() + self.options.interval
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
        delay = max(0.0, self._next_full - time.monotonic())
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
        def changed(reason: str) -> None:
            self.wake(reason, change=True)

        await self.source.watch(changed, self._stop, debounce_ms=self.options.debounce_ms)

    async def run_pass(self) -> PassOutcome | None:
        """One pass, full or targeted, or none when nothing asked for one; never raises (a failed pass is
        logged and counted, and the loop goes on)."""
        structlog.contextvars.bind_contextvars(pass_id=uuid.uuid4().hex[:8])
        started, started_at = time.perf_counter(), time.monotonic()
        touched, self._touched = self._touched, set()
        sync, self._sync_requested = self._sync_requested, False  # this pass answers it, targeted or full
        forced = full = self._full_requested or self._baseline is None
        due = started_at >= self._next_full
        ran = False
        self.passes += 1  # attempts, failed loads included
        try:
            async with asyncio.timeout(self.options.pass_timeout):
                desired = await self._load()
                scope = None if full else self._scope(desired, touched, sync=sync)
                if scope is _NOTHING and not due:
                    self.passes -= 1
                    return None
                full, ran = not isinstance(scope, frozenset), True
                if not full and due:  # what a change touched first; the full pass due right after it
                    self._wake.set()
                if isinstance(scope, frozenset):
                    outcome = await self._reconcile(desired, scope)
                else:
                    outcome = await self._full_pass(desired, may_yield=not forced)
            self._account(outcome, time.perf_counter() - started)
            self._handled(desired, outcome)
            if not outcome.targeted:
                self._heap.settle()
        except _Yielded:
            log.info("full pass stopped before writing: a change goes first", times=self._yielded)
            full = ran = False  # it runs again after the change's targeted pass
            self._full_after |= not due  # asked for (POST /sync, a removal): not left to the clock
            self._wake.set()
            return None
        except Exception as exc:
            log.error("pass failed", error=str(exc), error_type=type(exc).__name__)
            metrics.CYCLES.labels(result="error").inc()
            if not full:  # what it was for is tried again at once, with the whole estate
                self._full_requested = True
                self._touched |= touched
                self._wake.set()
            return None
        finally:
            if full:
                self._next_full = started_at + self.options.interval * random.uniform(0.9, 1.0)
                self._full_requested = self._full_after = False
                self._yielded = 0
            if ran:
                metrics.CYCLE_DURATION.observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("pass_id")
        return outcome

    def _scope(
        self, desired: DesiredState, touched: set[ResourceKey], *, sync: bool
    ) -> frozenset[ResourceKey] | object | None:
        """A targeted pass's scope; None for a full pass; ``_NOTHING`` when nothing needs a pass."""
        assert self._baseline is not None
        changes: dict[ResourceKey, DesiredResource] | None = {}
        if self._baseline.revision != desired.revision:
            changes = changed_resources(self._baseline, desired)
        if changes is None:  # a document was removed: deletions are judged on the whole estate
            return None
        changed = set(changes)
        declared = desired.by_key().keys() if touched else set()  # (touched: by events, rarely by a commit)
        wanted = changed | (touched & declared)
        if not wanted:
            if sync:
                return None
            self._baseline = desired  # a new revision that declares the same (a comment, a moved document)
            return _NOTHING
        scope = self.engine.scope_of(desired, wanted, changes=(self._baseline, changes))
        if scope is not None:  # counted only when it is one: a scope too large gets a full pass
            metrics.TARGETED_PASSES.labels(trigger=_trigger(changed, touched & declared)).inc()
        return scope

    async def _full_pass(self, desired: DesiredState, *, may_yield: bool) -> PassOutcome:
        """A full pass that, when ``may_yield``, stops for a change arriving while it still reads and plans (it
        has written nothing then): at thousands of services a full pass takes seconds, and a commit or an event
        should not wait for it. It yields at most ``MAX_YIELDS`` times in a row, so it always runs in the end."""
        self._change.clear()
        work = asyncio.create_task(self._reconcile(desired, None))
        if not may_yield or self._yielded >= MAX_YIELDS:
            return await work
        change = asyncio.create_task(self._change.wait())
        try:
            await asyncio.wait({work, change}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the daemon stops: the pass stops with it (asyncio.wait would not)
            work.cancel()
            raise
        finally:
            change.cancel()
        if work.done() or self.engine.writing:
            return await work
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        self._yielded += 1
        raise _Yielded

    def _handled(self, desired: DesiredState, outcome: PassOutcome) -> None:
        """After a pass: its desired state is the baseline for the next one's changes. A targeted pass that
        replaced something may have left others pointing at the old one: a full pass follows at once."""
        self._baseline = desired
        if not outcome.targeted:  # built now, off the path of the next commit (which only moves it on)
            self.engine.index_scopes(desired)
        if outcome.targeted and any(c.action is Action.REPLACE for c in outcome.result.applied):
            self._full_requested = True
            self.wake("a targeted pass replaced a resource")
        if outcome.targeted and self._full_after:
            self._full_requested = True
            self.wake("the full pass that stopped for this change")

    async def _reconcile(self, desired: DesiredState, scope: frozenset[ResourceKey] | None) -> PassOutcome:
        try:
            outcome = await self.engine.reconcile(desired, scope=scope)
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
            # each document once: all on the first load, then those a new revision adds or changes
            new = desired.resources if self.last_good is None else fresh_documents(self.last_good, desired)
            for warning in secret_warnings(new):
                log.warning("a value that looks secret is written in clear", problem=str(warning))
        self.last_good = desired
        return desired

    def _account(self, outcome: PassOutcome, seconds: float) -> None:
        self.tracker.record(outcome)
        if not outcome.targeted:
            metrics.DELETIONS_BLOCKED.set(outcome.plan.deletions_blocked)
        if outcome.plan.deletions_blocked:
            log.error("deletions held: this revision would delete more than --max-deletions; nothing deleted",
                      revision=outcome.plan.revision, deletions=outcome.plan.deletions_blocked)  # fmt: skip
        failed = bool(outcome.result.failed)
        metrics.CYCLES.labels(result="error" if failed else "success").inc()
        if not failed and not outcome.targeted:
            metrics.LAST_SUCCESS.set(time.time())
        log.info(
            "pass done",
            revision=outcome.plan.revision,
            scope=sorted(str(k) for k in outcome.scope) if outcome.scope is not None else "full",
            changes=len(outcome.plan.reported_changes),
            restamps=len(outcome.plan.restamps),
            applied=len(outcome.result.applied),
            failed=len(outcome.result.failed),
            not_applied=len(outcome.result.skipped),
            drifted=sorted(str(k) for k in self.tracker.drifted),
            seconds=round(seconds, 3),
        )


def _trigger(changed: set[ResourceKey], named: set[ResourceKey]) -> str:
    if changed and named:
        return "both"
    return "desired" if changed else "event"
