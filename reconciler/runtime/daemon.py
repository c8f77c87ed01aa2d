"""The daemon: a full pass every interval (jittered, counted from the start of the last), and at once when the
source changes (a new commit, a changed directory), an AWS event names a resource, or POST /sync asks (for a Git
source, after fetching).

Events only say "look now": bursts coalesce into one wake-up, and passes never overlap because one
task runs them one after the other. What a wake-up between full passes touched — the documents a new revision
added or changed, the resources AWS events named — gets a *targeted* pass over just those and what they refer to
(``plan/targets.py``); a removed document, a scope that is a large share of the estate, or POST /sync with
nothing changed gets a full pass. Which pass, and when, is decided by pure functions over one value
(``schedule.py``); this module does the I/O around them. An invalid desired state leaves the last good one in
force. SIGTERM and SIGINT stop the loop; a pass in flight gets a few seconds to finish, then is cancelled, so the
process exits well within the 10 s ECS gives a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import structlog

from reconciler import metrics
from reconciler.desired.secrets import secret_warnings
from reconciler.errors import InvalidDesiredState, TerminalError
from reconciler.events.keys import actor_of, deployments_named, keys_of_event
from reconciler.events.queue import EventQueue
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.model.secrets import redact
from reconciler.model.targets import DEFAULT_TARGET, Target, default_target
from reconciler.plan.applications import applications
from reconciler.plan.targets import changed_resources, fresh_documents
from reconciler.plan.types import Action
from reconciler.runtime import schedule
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.runtime.gc_policy import CollectorPolicy
from reconciler.runtime.notices import Notices
from reconciler.runtime.report import Tracker
from reconciler.runtime.schedule import (
    Changed,
    Decision,
    Failed,
    Found,
    Full,
    LeaseChanged,
    Named,
    Pass,
    Ran,
    Schedule,
    Skip,
    Skipped,
    Stopped,
    SyncAsked,
    Targeted,
    Wakeup,
)
from reconciler.server import Probe, start_server

log = structlog.get_logger(__name__)
GRACE_ON_STOP = 5.0  # seconds a pass in flight may still run after SIGTERM
SAVE_ON_STOP = 2.0  # seconds the caches' snapshot may take to be written when stopping


class Coordinator(Protocol):
    """Who may write, with several replicas: the leader lease (``lease.py``) or shard leases (``shards.py``)."""

    answered: bool  # DynamoDB has answered once (readiness of a follower)
    on_change: Callable[[bool], None] | None

    def may_write(self) -> bool: ...

    def check_write(self, service: str, operation: str) -> None:
        """A write guard (``live/clients.py``): raises when this replica may not send this write now."""
        ...

    def speaks_for_estate(self) -> bool: ...

    def status(self) -> dict[str, object]: ...

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


@asynccontextmanager
async def serving(
    probe: Probe, options: DaemonOptions, source: DesiredSource, *, stop: Callable[[], None]
) -> AsyncIterator[None]:
    """The HTTP port open and SIGTERM and SIGINT calling ``stop`` while the body runs; both undone after it."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    runner = await start_server(probe, host=options.host, port=options.port)
    log.info("daemon started", listen=f"{options.host}:{options.port}", source=source.description)
    try:
        yield
    finally:
        await runner.cleanup()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("daemon stopped")


@dataclass
class DaemonOptions:
    interval: float = 30.0
    pass_timeout: float = 300.0
    debounce_ms: int = 500
    host: str = "0.0.0.0"
    port: int = 8080
    webhook_secret: bytes | None = None
    ui_sync_token: bytes | None = None  # --ui-sync: the token of the web UI's "Sync now"
    instance: str = "default"  # the target's name in GET /status


@dataclass
class Daemon:
    """The loop of one target (``model/targets.py``): its engine (its own clients, caches and API budget), its
    tracker and its schedule. ``run`` serves the HTTP port, watches the source and runs the lease beside the loop;
    a fleet of targets (``fleet.py``) does those once and runs each target's ``run_loop``."""

    source: DesiredSource
    engine: Engine
    options: DaemonOptions
    tracker: Tracker = field(default_factory=Tracker)
    lease: Coordinator | None = None  # with several replicas: passes run only while this one may write
    events: EventQueue | None = None  # --events-queue-url
    notices: Notices | None = None  # --notify-url, --notify-slack-url-file, --github-token-file
    last_good: DesiredState | None = None
    passes: int = 0
    target: Target | None = None  # None: the default target (the process's own credentials and Region)
    last_error: str = ""  # why the last pass failed, redacted; "" once a pass succeeds
    # whether this loop logs and notifies an invalid desired state: in a fleet, the first loop to load it only
    reports_invalid: Callable[[InvalidDesiredState], bool] = lambda _: True
    # what is pending, and what the passes so far leave for the next ones: read and replaced, never changed
    _schedule: Schedule = field(init=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)  # rung by wake-ups: the loop stops sleeping
    _change: asyncio.Event = field(default_factory=asyncio.Event)  # rung by changes: a full pass may stop
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _last_tick: float = field(default_factory=time.monotonic)
    _aws_answered: bool = False
    _collector: CollectorPolicy = field(default_factory=CollectorPolicy)
    _last_pass: dict[str, object] | None = None  # GET /status's lastPass
    _applications: tuple[str, dict[str, object]] | None = None  # last_good's revision → its grouping, as JSON

    def __post_init__(self) -> None:
        self._schedule = Schedule(interval=self.options.interval)
        self.tracker.target = self.name

    @property
    def name(self) -> str:
        """The target's name: ``default`` without targets.yaml."""
        return self.target.name if self.target is not None else DEFAULT_TARGET

    def request_sync(self) -> None:
        self._receive(SyncAsked())
        if not self.source.request_refresh():
            self._receive(Changed("sync requested"))

    def touch(self, keys: set[ResourceKey], reason: str) -> None:
        """Reconcile ``keys`` at once (an AWS event named them), in a targeted pass."""
        self._receive(Named(frozenset(keys), reason))

    def _receive(self, wakeup: Wakeup) -> None:
        """Fold a wake-up into the schedule, and ring for it: the loop looks now, and a change may also stop a
        full pass that is still reading and planning, so that it goes first (``_full_pass``)."""
        self._schedule = schedule.received(self._schedule, wakeup)
        if wakeup.wakes:
            log.info("pass requested", reason=wakeup.reason)
            self._wake.set()
        if wakeup.stops_full_pass:
            self._change.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def healthy(self) -> bool:
        """For ``GET /healthz``: the loop has ticked within 3 intervals (it ticks when a pass starts and
        when it ends)."""
        return time.monotonic() - self._last_tick < 3 * self.options.interval

    def status(self) -> dict[str, object]:
        """``GET /status``: the revision in force, the source, the last pass, who writes, the targets, the
        applications, and one entry per resource."""
        revision = self.last_good.revision if self.last_good else None
        return {
            "revision": revision,
            "source": self.source.status(),
            "lastPass": self._last_pass,
            "coordination": self.lease.status() if self.lease is not None else None,
            "targets": [self.target_status()],
            **self._grouped(),
            "resources": self.tracker.as_json(),
        }

    def target_status(self) -> dict[str, object]:
        """This target in ``GET /status``'s ``targets``: where it is, whether AWS has answered it, why its last
        pass failed. ``instance`` and ``region`` as before targets existed."""
        target = self.target or default_target(self.engine.clients.region)
        return {
            "instance": self.options.instance,
            "region": target.region or self.engine.clients.region,
            "name": target.name,
            "account": target.account,
            "roleArn": target.role_arn,
            "answered": self._aws_answered,
            "error": self.last_error or None,
            "lastPass": self._last_pass,
            "reconciled": True,
        }

    @property
    def answered(self) -> bool:
        """AWS has answered a pass of this target."""
        return self._aws_answered

    def _grouped(self) -> dict[str, object]:
        """The applications of the desired state in force, grouped once per revision (``plan/applications.py``)."""
        if self.last_good is None:
            return {"applications": [], "shared": []}
        revision = self.last_good.revision
        if self._applications is None or self._applications[0] != revision:
            self._applications = revision, applications(self.last_good).as_json()
        return self._applications[1]

    def ready(self) -> bool:
        answered = self._aws_answered or (self.lease is not None and self.lease.answered)
        return self.last_good is not None and answered

    async def run(self) -> None:
        probe = Probe(self.healthy, self.ready, self.status, self.request_sync, self.options.webhook_secret,
                      self.options.ui_sync_token)  # fmt: skip
        async with serving(probe, self.options, self.source, stop=self.stop):
            if self.lease is None:
                metrics.LEADER.set(1)
            else:
                self.lease.on_change = self._lease_changed
            async with asyncio.TaskGroup() as group:
                group.create_task(self._watch())
                if self.lease is not None:
                    group.create_task(self.lease.run(self._stop))
                events = None
                if self.events is not None:
                    events = group.create_task(self.events.run(self._resources_named, self.touch, self._stop))
                sending = group.create_task(self.notices.run()) if self.notices is not None else None
                await self.engine.restore_caches()  # what the process before this one had read
                await self._loop()
                await self._save_caches_on_stop()
                if events is not None:  # a long poll would hold the stop for up to 20 s
                    events.cancel()
                if sending is not None:  # what is still queued or being retried is not waited for
                    sending.cancel()
                if self.lease is not None:  # the last pass is over: the next replica need not wait
                    await self.lease.release()

    async def run_loop(self) -> None:
        """The loop alone, until ``stop``: a fleet's target, whose HTTP port, source watch, lease and notifier are
        the fleet's. Every log line of it names the target."""
        structlog.contextvars.bind_contextvars(target=self.name)
        await self.engine.restore_caches()  # what the process before this one had read of this target
        await self._loop()
        await self._save_caches_on_stop()

    async def _save_caches_on_stop(self) -> None:
        """What the passes since the last write of the caches' snapshot read, for the next process (a deploy of
        the reconciler stops this one): written now if anything changed, within ``SAVE_ON_STOP``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SAVE_ON_STOP):
                await self.engine.save_caches(now=True)

    def _resources_named(self, event: object) -> tuple[str, set[ResourceKey]]:
        if self.last_good is None:
            return "unmatched", set()
        instance = self.engine.options.instance
        principal, deployments = deployments_named(event, instance=instance)
        if deployments:  # who started a deployment, for the services' deployment history
            self.engine.starters.named(deployments, principal)
        result, keys = keys_of_event(event, self.last_good, self.engine.arn_keys, instance=instance)
        if keys and (actor := actor_of(event, instance=instance)) is not None:  # who, if it proves a drift
            self.tracker.revealed(keys, *actor)
        return result, keys

    def _lease_changed(self, leader: bool) -> None:
        self._receive(LeaseChanged(leader))

    async def _loop(self) -> None:
        while not self._stop.is_set():
            self._last_tick = time.monotonic()
            self._wake.clear()
            self._schedule = schedule.new_round(self._schedule)
            if self.lease is None or self.lease.may_write():
                await self._run_pass_until_stopped()
            else:
                await self._follow()
                self._schedule = schedule.followed(self._schedule, time.monotonic())
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
        if self._schedule.woken:  # a wake-up came during the round, or its pass asked for another at once
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(schedule.delay(self._schedule, time.monotonic())):
                await self._wake.wait()

    async def _follow(self) -> None:
        """Not the leader: keep the desired state loaded (readiness, ``desired_state_valid``), write nothing."""
        with contextlib.suppress(
            Exception
        ):  # an invalid state is logged by _load; the leader reports the rest
            await self._load()

    async def _watch(self) -> None:
        def changed(reason: str) -> None:
            self._receive(Changed(reason))

        await self.source.watch(changed, self._stop, debounce_ms=self.options.debounce_ms)

    async def run_pass(self) -> PassOutcome | None:
        """One pass, full or targeted, or none when nothing asked for one (``schedule.decide``); never raises (a
        failed pass is logged and counted, and the loop goes on)."""
        structlog.contextvars.bind_contextvars(pass_id=uuid.uuid4().hex[:8])
        started, began = time.perf_counter(), time.monotonic()
        jitter = random.uniform(*schedule.JITTER)
        self._schedule, taken = schedule.begin(self._schedule, time.monotonic(), jitter=jitter)
        found: Found | None = None
        decision: Decision | None = None
        outcome: PassOutcome | None = None
        ran = False
        self.passes += 1  # attempts, failed loads included
        try:
            async with asyncio.timeout(self.options.pass_timeout):
                desired = await self._load()
                found, scope_of = self._found(desired)
                decision = schedule.decide(taken, found, scope_of)
                if isinstance(decision, Skip):
                    self.passes -= 1
                    self._schedule = schedule.after(self._schedule, Skipped(found))
                    return None
                ran = True
                if isinstance(decision, Targeted):
                    metrics.TARGETED_PASSES.labels(trigger=decision.trigger).inc()
                    outcome = await self._reconcile(desired, decision.scope)
                else:
                    outcome = await self._full_pass(desired, may_stop=decision.may_stop)
            if outcome is None:  # it runs again after the change's pass
                ran = False
                self._schedule = schedule.after(self._schedule, Stopped(taken, found))
                log.info("full pass stopped before writing: a change goes first", times=self._schedule.stops)
                return None
            self._account(outcome, time.perf_counter() - started, began)
            self._handled(taken, decision, found, outcome)
            self.last_error = ""
            if not outcome.targeted:  # when it changed, at most every few minutes (``cache_snapshot.py``)
                await self.engine.save_caches()
        except Exception as exc:
            terminal = isinstance(exc, TerminalError)  # retrying at once would only fail the same way
            if self._stop.is_set():  # a target removed from the desired state: its loop is ending
                log.info("pass not run: the loop stops", reason=str(exc))
                return None
            self.last_error = redact(f"{type(exc).__name__}: {exc}")
            log.error("pass failed", error=str(exc), error_type=type(exc).__name__, terminal=terminal)
            metrics.CYCLES.labels(result="error").inc()
            self._schedule = schedule.after(self._schedule, Failed(taken, decision, found, terminal=terminal))
            return None
        finally:
            if ran:
                metrics.CYCLE_DURATION.observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("pass_id")
        return outcome

    def _found(self, desired: DesiredState) -> tuple[Found, schedule.ScopeOf]:
        """What ``desired`` changed since the baseline, and the engine's scope of touched keys told as much: its
        index of the baseline moves on by those changes rather than being built again."""
        baseline = self._schedule.baseline
        changes: Mapping[ResourceKey, DesiredResource] | None = {}
        if baseline is not None and baseline.revision != desired.revision:
            changes = changed_resources(baseline, desired)
        since = None if baseline is None else (baseline, changes)

        def scope_of(wanted: frozenset[ResourceKey]) -> frozenset[ResourceKey] | None:
            return self.engine.scope_of(desired, set(wanted), changes=since)

        return Found(desired, None if changes is None else frozenset(changes)), scope_of

    async def _full_pass(self, desired: DesiredState, *, may_stop: bool) -> PassOutcome | None:
        """A full pass that, when ``may_stop``, stops for a change arriving while it still reads and plans (it
        has written nothing then): at thousands of services a full pass takes seconds, and a commit or an event
        should not wait for it. None when it stopped (``schedule.after`` runs it again, and lets it stop at most
        ``MAX_STOPS`` times in a row)."""
        self._change.clear()
        work = asyncio.create_task(self._reconcile(desired, None))
        if not may_stop:
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
        return None

    def _handled(self, taken: Pass, decision: Full | Targeted, found: Found, outcome: PassOutcome) -> None:
        """After a pass: what it leaves for the next ones (``schedule.after``), and, after a full one, the
        targeted passes' scope index built again (off the path of the next commit, which only moves it on) and
        the heap that survived it frozen (``gc_policy.py``)."""
        replaced = outcome.targeted and any(c.action is Action.REPLACE for c in outcome.result.applied)
        asked = self._schedule.full
        self._schedule = schedule.after(self._schedule, Ran(taken, decision, found, replaced=replaced))
        if self._schedule.full is not None and self._schedule.full != asked:
            log.info("pass requested", reason=self._schedule.full)
        if not outcome.targeted:
            self.engine.index_scopes(found.desired)
            self._collector.after_full_pass()

    async def _reconcile(self, desired: DesiredState, scope: frozenset[ResourceKey] | None) -> PassOutcome:
        try:
            outcome = await self.engine.reconcile(desired, scope=scope)
        except InvalidDesiredState as exc:  # invalid against live AWS (an ALB's subnets in one zone)
            metrics.DESIRED_STATE_VALID.set(0)
            log.error("desired state invalid against live AWS", problems=[str(p) for p in exc.problems])
            self._invalid(exc, desired.revision)
            raise
        self._aws_answered = True
        return outcome

    async def _load(self) -> DesiredState:
        try:
            desired = await self.source.load_async()
        except InvalidDesiredState as exc:
            metrics.DESIRED_STATE_VALID.set(0)
            if self.reports_invalid(exc):
                log.error(
                    "desired state invalid",
                    revision=exc.revision or None,
                    problems=[str(p) for p in exc.problems],
                )
                self._invalid(exc, exc.revision)
            if self.last_good is None:
                raise
            log.warning("keeping the last good desired state", revision=self.last_good.revision)
            return self.last_good
        metrics.DESIRED_STATE_VALID.set(1)
        metrics.set_revision(desired.revision)
        if (notices := self._estate_notices()) is not None:
            notices.loaded(desired.revision, None)
        if desired.is_empty:
            log.warning("the desired state has no documents: nothing is pruned", revision=desired.revision)
        if self.last_good is None or self.last_good.revision != desired.revision:
            # each document once: all on the first load, then those a new revision adds or changes
            new = desired.resources if self.last_good is None else fresh_documents(self.last_good, desired)
            for warning in secret_warnings(new):
                log.warning("a value that looks secret is written in clear", problem=str(warning))
        self.last_good = desired
        return desired

    def _notices(self) -> Notices | None:
        """The notices, when this replica is the one that tells (it may write): a follower keeps quiet."""
        return self.notices if self.lease is None or self.lease.may_write() else None

    def _estate_notices(self) -> Notices | None:
        """The notices, when this replica tells what every replica sees alike (the desired state it loads): the
        leader, or the holder of shard 0."""
        return self.notices if self.lease is None or self.lease.speaks_for_estate() else None

    def _invalid(self, exc: InvalidDesiredState, revision: str) -> None:
        if (notices := self._estate_notices()) is not None:
            notices.loaded(revision, [redact(str(p)) for p in exc.problems])

    def _account(self, outcome: PassOutcome, seconds: float, began: float) -> None:
        self.tracker.record(outcome, started=began)
        if (notices := self._notices()) is not None:  # only queued: sending is the notifier's task
            empty = (
                self.last_good is not None and self.last_good.is_empty and self._estate_notices() is not None
            )
            notices.after_pass(outcome, self.tracker, empty=empty)
        self._last_pass = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "targeted": outcome.targeted,
            "seconds": round(seconds, 3),
            "revision": outcome.plan.revision,
            "applied": len(outcome.result.applied),
            "failed": len(outcome.result.failed),
            "notApplied": len(outcome.result.skipped),
        }
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
