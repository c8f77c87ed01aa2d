"""One process, many targets (``model/targets.py``): a loop per target, and what the loops share, once.

Each target has its own ``Daemon`` loop (``daemon.py``): its own engine (its own clients, credentials, API budget
and caches), tracker and schedule, so a target whose role cannot be assumed, whose Region is down or whose API
rates are spent only fails its own passes, and the others go on. The fleet holds what there is one of: the HTTP
port, the desired-state source (loaded once per revision for every target: ``SharedLoad``), its watcher and
``POST /sync`` (which wake every target), the lease or shard leases (which guard every target's writes), the
events queue (each event goes to the target of its account and Region), and the notifier's sending.

The targets follow the desired state: a revision that declares a new target starts its loop, one that drops a
target stops its loop (nothing in it is deleted: its resources are only no longer managed, which is logged), one
that changes where a target is (its account, Region or role) starts it again. An invalid revision changes
nothing: every target keeps its last good state. ``--allowed-targets`` leaves the others loaded and validated,
but never read or written.

Readiness (``/readyz``): a desired state is loaded and at least one target has had an answer from AWS (or the
lease table has answered); ``/status`` says, per target, whether it has (``targets[].answered``) and why its last
pass failed (``targets[].error``). ``/healthz``: every target's loop has ticked lately.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog

from reconciler import metrics
from reconciler.desired.allowed_targets import allowed
from reconciler.errors import InvalidDesiredState, ReconcilerError
from reconciler.events.queue import EventQueue
from reconciler.model.health import Health
from reconciler.model.resource import DesiredState, ResourceKey
from reconciler.model.targets import DEFAULT_TARGET, Target, default_target
from reconciler.notify.sender import Notifier
from reconciler.runtime.daemon import Coordinator, Daemon, DaemonOptions, DesiredSource, serving
from reconciler.runtime.engine import Engine
from reconciler.runtime.notices import Notices
from reconciler.runtime.report import State
from reconciler.runtime.schedule import Changed, LeaseChanged, SyncAsked
from reconciler.runtime.shards import Shards
from reconciler.server import Probe

log = structlog.get_logger(__name__)
REUSE_SECONDS = 1.0  # a load this fresh, with no change since it began, serves a target that asks for one
STOP_GRACE = 10.0  # seconds a stopping target's loop may take (its pass in flight gets daemon.GRACE_ON_STOP)

EngineFactory = Callable[[Target], Engine]  # a target → its engine, on clients of its own (not yet entered)


class TargetRemoved(ReconcilerError):
    """The desired state no longer declares this target: its loop is stopping."""


@dataclass
class SharedLoad:
    """The source, loaded once for every target that asks at about the same time: a load in flight is joined,
    and a finished one is reused for ``REUSE_SECONDS`` unless a change came since it began. ``loaded`` is told of
    each valid desired state first (the fleet starts and stops targets by it)."""

    source: DesiredSource
    loaded: Callable[[DesiredState], None] = lambda _: None
    # more validation of each revision loaded: raises InvalidDesiredState (``--allowed-targets`` naming a target
    # the revision does not declare)
    check: Callable[[DesiredState], object] = lambda _: None
    generation: int = 0  # moved on by every change the watcher (or POST /sync) reports
    loads: int = 0  # loads started, for tests
    _flight: asyncio.Task[DesiredState] | None = None
    _flight_generation: int = -1
    _finished_at: float = 0.0
    _reported: InvalidDesiredState | None = None

    def first_to_see(self, problem: InvalidDesiredState) -> bool:
        """True once per failed load: the targets that shared it log and notify it once, not once each."""
        if problem is self._reported:
            return False
        self._reported = problem
        return True

    def changed(self) -> None:
        self.generation += 1

    async def load_async(self) -> DesiredState:
        flight = self._flight
        fresh = (
            flight is not None
            and self._flight_generation == self.generation
            and (not flight.done() or time.monotonic() - self._finished_at < REUSE_SECONDS)
        )
        if not fresh or flight is None:
            self.loads += 1
            self._flight_generation = self.generation
            # a context of its own: not the log bindings (target, pass_id) of whichever target asked first
            flight = self._flight = asyncio.create_task(self._load(), context=contextvars.Context())
        return await asyncio.shield(flight)

    async def _load(self) -> DesiredState:
        try:
            desired = await self.source.load_async()
            self.check(desired)
        finally:
            self._finished_at = time.monotonic()
        self.loaded(desired)
        return desired


@dataclass
class TargetSource:
    """One target's view of the shared source: its part of each revision (``DesiredState.by_target``)."""

    shared: SharedLoad
    target: str

    @property
    def description(self) -> str:
        return self.shared.source.description

    async def load_async(self) -> DesiredState:
        desired = await self.shared.load_async()
        part = desired.by_target().get(self.target)
        if part is None:
            raise TargetRemoved(f"target {self.target} is no longer in the desired state")
        return part

    def request_refresh(self) -> bool:
        return self.shared.source.request_refresh()

    def status(self) -> dict[str, object]:
        return self.shared.source.status()

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        await stop.wait()  # the fleet watches the source once, for every target


def targets_of(desired: DesiredState, *, region: str | None = None) -> tuple[Target, ...]:
    """The targets a desired state declares; without targets.yaml, the default target."""
    return desired.targets or (default_target(region),)


def _where(target: Target) -> tuple[object, ...]:
    """What makes a target another one for its loop: a change to any of these starts it again."""
    return (target.account, target.region, target.role_arn, target.external_id, target.session_name,
            target.events_queue_url)  # fmt: skip


@dataclass
class TargetShare:
    """A target's view of the coordinator: with ``--shards auto`` and targets.yaml, passes of the target run (and
    write) only on the replica that holds its shard; otherwise the coordinator's own answer."""

    coordinator: Coordinator
    target: str

    @property
    def answered(self) -> bool:
        return self.coordinator.answered

    @answered.setter
    def answered(self, value: bool) -> None:
        self.coordinator.answered = value

    @property
    def on_change(self) -> Callable[[bool], None] | None:
        return self.coordinator.on_change

    @on_change.setter
    def on_change(self, value: Callable[[bool], None] | None) -> None:
        self.coordinator.on_change = value

    def may_write(self) -> bool:
        if isinstance(self.coordinator, Shards) and self.target != DEFAULT_TARGET:
            return self.coordinator.holds_target(self.target)
        return self.coordinator.may_write()

    def check_write(self, service: str, operation: str) -> None:
        self.coordinator.check_write(service, operation)

    def speaks_for_estate(self) -> bool:
        return self.coordinator.speaks_for_estate()

    def status(self) -> dict[str, object]:
        return self.coordinator.status()

    async def run(self, stop: asyncio.Event) -> None:
        await self.coordinator.run(stop)

    async def release(self) -> None:
        await self.coordinator.release()


@dataclass
class _Running:
    daemon: Daemon
    task: asyncio.Task[None] | None = None


@dataclass
class Fleet:
    """Every target's loop in one process, sharing one port, one source, one lease and one notifier."""

    source: DesiredSource
    make_engine: EngineFactory
    options: DaemonOptions
    lease: Coordinator | None = None
    events: EventQueue | None = None  # --events-queue-url: one queue, events routed by account and Region
    notifier: Notifier | None = None
    allowed: frozenset[str] = frozenset()  # --allowed-targets; empty: every target
    region: str | None = None  # the default target's Region (--region, or the AWS environment's)
    # a target's own events queue (eventsQueueUrl) by its URL: read, as the shared one, with the process's own
    # credentials (the task role), which the queue's policy lets in; its events are that target's alone
    make_events: Callable[[str], EventQueue] | None = None
    loops: dict[str, _Running] = field(default_factory=dict)
    shared: SharedLoad = field(init=False)
    declared: tuple[Target, ...] = ()  # the targets of the desired state in force, in its order
    _group: asyncio.TaskGroup | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _woken: asyncio.Event = field(default_factory=asyncio.Event)  # a change or a stop, for the first load
    _stopping: dict[str, asyncio.Task[None]] = field(default_factory=dict)  # loops stopped, still ending
    _stopped: set[str] = field(default_factory=set)  # targets not allowed: logged once
    _last_good: DesiredState | None = None

    def __post_init__(self) -> None:
        self.shared = SharedLoad(self.source, self._loaded, lambda desired: allowed(desired, self.allowed))

    # ---- the targets follow the desired state ----------------------------------------------------------------

    def _loaded(self, desired: DesiredState) -> None:
        self._last_good = desired
        self.declared = targets_of(desired, region=self.region)
        wanted = {target.name: target for target in self.declared}
        for name in list(self.loops):
            running = self.loops[name]
            target = wanted.get(name)
            if target is None:
                log.warning("target removed from the desired state: its loop stops, nothing in it is deleted",
                            target=name, revision=desired.revision)  # fmt: skip
                self._stop_target(name)
            elif running.daemon.target is not None and _where(running.daemon.target) != _where(target):
                log.info("target changed: its loop starts again", target=name, revision=desired.revision)
                self._stop_target(name)
        for name, target in wanted.items():
            if self.allowed and name not in self.allowed:
                if name not in self._stopped:
                    self._stopped.add(name)
                    log.info("target not reconciled: not in --allowed-targets", target=name)
                continue
            if name not in self.loops:
                self._start(target)

    def _start(self, target: Target) -> None:
        engine = self.make_engine(target)
        if self.lease is not None:
            engine.clients.write_guard = self.lease.check_write
        daemon = Daemon(
            source=TargetSource(self.shared, target.name),
            engine=engine,
            options=self.options,
            lease=TargetShare(self.lease, target.name) if self.lease is not None else None,
            notices=Notices(self.notifier, target=target.name) if self.notifier is not None else None,
            target=target,
            reports_invalid=self.shared.first_to_see,
        )
        # a target started again (its account, Region or role changed) waits for its old loop's last pass
        before = self._stopping.pop(target.name, None)
        running = self.loops[target.name] = _Running(daemon)
        if self._group is not None:
            work = self._run_target(running, after=before)
            running.task = self._group.create_task(work, name=f"target {target.name}")
        log.info("target started", target=target.name, account=target.account, region=target.region,
                 role=target.role_arn)  # fmt: skip

    def _stop_target(self, name: str) -> None:
        running = self.loops.pop(name)
        running.daemon.stop()
        if running.task is not None and not running.task.done():
            self._stopping[name] = running.task

    async def _run_target(self, running: _Running, *, after: asyncio.Task[None] | None = None) -> None:
        if after is not None:
            await asyncio.wait({after})
        daemon = running.daemon
        target = daemon.target or default_target(self.region)
        structlog.contextvars.bind_contextvars(target=target.name)
        own_queue = None
        async with daemon.engine.clients:
            if target.events_queue_url and self.make_events is not None:
                queue = self.make_events(target.events_queue_url)
                own_queue = asyncio.create_task(
                    queue.run(daemon._resources_named, daemon.touch, daemon._stop)
                )
            try:
                await daemon.run_loop()
            except Exception as exc:  # never the others' end: the loop catches a pass's failures itself
                log.exception("target loop stopped by an error", target=target.name, error=str(exc))
            finally:
                if own_queue is not None:
                    own_queue.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await own_queue
        log.info("target stopped", target=target.name)

    # ---- what the loops share -------------------------------------------------------------------------------

    def daemons(self) -> list[Daemon]:
        return [running.daemon for running in self.loops.values()]

    def request_sync(self) -> None:
        for daemon in self.daemons():
            daemon._receive(SyncAsked())
        if not self.source.request_refresh():
            self._changed("sync requested")

    def _changed(self, reason: str) -> None:
        self.shared.changed()
        self._woken.set()
        for daemon in self.daemons():
            daemon._receive(Changed(reason))

    def _lease_changed(self, leader: bool) -> None:
        for daemon in self.daemons():
            daemon._receive(LeaseChanged(leader))

    def stop(self) -> None:
        self._stop.set()
        self._woken.set()
        for daemon in self.daemons():
            daemon.stop()

    def healthy(self) -> bool:
        """Every target's loop has ticked lately (a failing target's loop still ticks: it is alive)."""
        return all(daemon.healthy() for daemon in self.daemons())

    def ready(self) -> bool:
        """A desired state is loaded, and AWS has answered at least one target (or the lease table has)."""
        answered = any(d.answered for d in self.daemons()) or (self.lease is not None and self.lease.answered)
        return self._last_good is not None and answered

    def route(self, event: object) -> tuple[str, set[ResourceKey]]:
        """An event of the shared queue, handed to the target of its account and Region (EventBridge's envelope
        fields ``account`` and ``region``); with only the default target, to it. The target is woken here, so
        the queue is given no keys."""
        daemon = self._target_of(event)
        if daemon is None:
            if isinstance(event, dict) and "detail-type" in event:
                log.info(
                    "an AWS event names no target", account=event.get("account"), region=event.get("region")
                )
                return "unmatched", set()
            return "invalid", set()
        result, keys = daemon._resources_named(event)
        if keys:
            daemon.touch(keys, f"AWS events name {', '.join(sorted(map(str, keys))[:5])}")
        return result, set()

    def _target_of(self, event: object) -> Daemon | None:
        daemons = self.daemons()
        if len(daemons) == 1 and daemons[0].target is not None and daemons[0].target.default:
            return daemons[0]
        if not isinstance(event, dict):
            return None
        for daemon in daemons:
            target = daemon.target
            if target is not None and (target.account, target.region) == (
                event.get("account"),
                event.get("region"),
            ):
                return daemon
        return None

    def status(self) -> dict[str, object]:
        """``GET /status``: as one daemon's, with every target in ``targets`` and every resource naming its
        target. With one target, exactly that target's daemon's body (plus what failing adds)."""
        daemons = self._in_order()
        if not daemons:
            return {"revision": self._last_good.revision if self._last_good else None,
                    "source": self.source.status(), "lastPass": None,
                    "coordination": self.lease.status() if self.lease is not None else None,
                    "targets": self._not_reconciled(), "applications": [], "shared": [],
                    "resources": []}  # fmt: skip
        if len(daemons) == 1:
            body = daemons[0].status()
            body["resources"] = _reported(daemons[0])
            if left_out := self._not_reconciled():
                body["targets"] = [daemons[0].target_status(), *left_out]
            return body
        bodies = [daemon.status() for daemon in daemons]
        passes = [p for b in bodies if isinstance(p := b.get("lastPass"), dict)]
        applications: list[object] = []
        shared: list[object] = []
        resources: list[object] = []
        for daemon, body in zip(daemons, bodies, strict=True):
            for entry in _listed(body.get("applications")):
                applications.append(entry | {"target": daemon.name} if isinstance(entry, dict) else entry)
            shared += [_shared_of(daemon.name, key) for key in _listed(body.get("shared"))]
            resources += _reported(daemon)
        return {
            "revision": self._last_good.revision if self._last_good else bodies[0]["revision"],
            "source": self.source.status(),
            "lastPass": max(passes, key=lambda p: str(p.get("at"))) if passes else None,
            "coordination": bodies[0]["coordination"],
            "targets": [daemon.target_status() for daemon in daemons] + self._not_reconciled(),
            "applications": applications,
            "shared": shared,
            "resources": resources,
        }

    def _not_reconciled(self) -> list[dict[str, object]]:
        """The targets ``--allowed-targets`` leaves out: declared, loaded and validated, never read or written."""
        return [
            {"instance": self.options.instance, "region": t.region, "name": t.name, "account": t.account,
             "roleArn": t.role_arn, "answered": False, "error": None, "lastPass": None, "reconciled": False}
            for t in self.declared if t.name not in self.loops and t.name in self._stopped
        ]  # fmt: skip

    def _in_order(self) -> list[Daemon]:
        order = {target.name: i for i, target in enumerate(self.declared)}
        return sorted(self.daemons(), key=lambda d: order.get(d.name, len(order)))

    # ---- running ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        probe = Probe(self.healthy, self.ready, self.status, self.request_sync, self.options.webhook_secret,
                      self.options.ui_sync_token)  # fmt: skip
        async with serving(probe, self.options, self.source, stop=self.stop):
            if self.lease is None:
                metrics.LEADER.set(1)
            else:
                self.lease.on_change = self._lease_changed
            try:
                async with asyncio.TaskGroup() as group:
                    self._group = group
                    await self._serve(group)
            finally:
                self._group = None

    async def _serve(self, group: asyncio.TaskGroup) -> None:
        """Beside the loops: the watcher, the lease, the events queue and the notifier; the loops from the first
        valid desired state on; at the stop, the loops' last passes, then the lease released."""
        watch = self.source.watch(self._changed, self._stop, debounce_ms=self.options.debounce_ms)
        group.create_task(watch)
        if self.lease is not None:
            group.create_task(self.lease.run(self._stop))
        beside = []
        if self.events is not None:
            beside.append(group.create_task(self.events.run(self.route, lambda *_: None, self._stop)))
        if self.notifier is not None:
            beside.append(group.create_task(self.notifier.run()))
        await self._first_load()
        await self._stop.wait()
        for daemon in self.daemons():
            daemon.stop()
        if tasks := [r.task for r in self.loops.values() if r.task is not None]:
            await asyncio.wait(tasks, timeout=STOP_GRACE)
        for task in beside:  # a long poll would hold the stop; what is still queued to send is not waited for
            task.cancel()
        if self.lease is not None:  # the last passes are over: the next replica need not wait
            await self.lease.release()

    async def _first_load(self) -> None:
        """Load until a valid desired state names the targets (each wake-up or interval tries again); the loops
        start from it. Until then the process serves /healthz and says not ready."""
        while not self._stop.is_set() and self._last_good is None:
            self._woken.clear()
            try:
                await self.shared.load_async()
            except Exception as exc:  # invalid, or the source not there yet: logged, tried again
                log.error("desired state not loaded; no target runs yet", error=str(exc),
                          error_type=type(exc).__name__)  # fmt: skip
                metrics.DESIRED_STATE_VALID.set(0)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.options.interval):
                        await self._woken.wait()


def _listed(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _shared_of(target: str, key: object) -> object:
    """A shared resource of ``target`` in the body of several targets: ``{"target", "kind", "name"}``, since the
    same ``Kind/name`` can be shared in two targets and be two resources."""
    kind, _, name = str(key).partition("/")
    return {"target": target, "kind": kind, "name": name}


def _reported(daemon: Daemon) -> list[object]:
    """A target's resources in ``/status``; while its last pass failed, each of its documents is said to be in
    error for that reason (health unknown), those no pass has seen yet included: nothing is known of them."""
    entries = daemon.tracker.as_json()
    if not daemon.last_error:
        return list(entries)
    reason = daemon.last_error
    failed = {"state": State.ERROR.value, "lastError": reason, "health": Health.UNKNOWN.value,
              "healthReason": reason, "target": daemon.name}  # fmt: skip
    reported: list[object] = [entry | failed for entry in entries]
    known = {(e.get("kind"), e.get("name")) for e in entries}
    for resource in _documents(daemon):
        if (resource.kind, resource.name) not in known:
            reported.append({"kind": resource.kind, "name": resource.name, "revision": "", "lastChange": None,
                             **failed})  # fmt: skip
    return reported


def _documents(daemon: Daemon) -> Iterable[ResourceKey]:
    return (resource.key for resource in daemon.last_good or ())
