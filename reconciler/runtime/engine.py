"""One reconcile pass, level-based: read AWS, plan against the desired state, apply. Nothing else.

The CLI's ``plan`` and ``apply`` and the daemon all go through here, so they can never disagree about what a
change is. A pass is full (the whole estate: orphans, rules added by hand) or targeted: given the keys a commit or
an AWS event touched, it reads, plans and applies only their scope (``plan/targets.py``), so that its cost does not
grow with the estate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

import structlog

from reconciler.errors import InvalidDesiredState, TerminalError
from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader
from reconciler.live.readers import make_readers
from reconciler.live.tag_cache import REFRESH_PASSES, TagCache
from reconciler.model.health import Verdict
from reconciler.model.history import DeploymentRecord, Starters
from reconciler.model.kinds import KINDS
from reconciler.model.live import LiveState
from reconciler.model.resource import DesiredResource, DesiredState, Mode, ResourceKey
from reconciler.model.targets import DEFAULT_TARGET
from reconciler.plan.ecs import RevisionMemo
from reconciler.plan.entries import entry_spec_hash, reference_arns
from reconciler.plan.health import HealthInputs, assess, unsettled_target_groups
from reconciler.plan.live_checks import live_problems
from reconciler.plan.planner import PlanOptions, make_plan
from reconciler.plan.rollouts import primary_deployment
from reconciler.plan.targets import ScopeIndex, changed_resources, subset
from reconciler.plan.types import Action, Change, Plan
from reconciler.runtime.cache_snapshot import CacheSnapshot, SnapshotStore

if TYPE_CHECKING:  # imported when used: ``plan`` writes nothing and judges no health (fast start)
    from reconciler.apply.executor import ApplyResult, Executor
    from reconciler.live.health import HealthReader
    from reconciler.runtime.shards import Shards

log = structlog.get_logger(__name__)

# an earlier desired state, and the documents changed since (``changed_resources``)
Changes = tuple[DesiredState, Mapping[ResourceKey, DesiredResource] | None]


@dataclass
class PassOutcome:
    plan: Plan
    result: ApplyResult
    scope: frozenset[ResourceKey] | None = None  # a targeted pass's keys; None for a full pass
    health: dict[ResourceKey, Verdict] = field(default_factory=dict)  # of the resources the pass covered
    deployments: dict[str, Sequence[DeploymentRecord]] = field(default_factory=dict)  # Service → its history
    starters: Starters | None = None  # who started which deployment, to say so in /status

    @property
    def targeted(self) -> bool:
        return self.scope is not None


class Engine:
    """Holds what must outlive a pass (the clients, the task definition cache) and runs passes."""

    def __init__(
        self,
        clients: AwsClients,
        *,
        options: PlanOptions,
        mode: Mode = Mode.ENFORCE,
        tag_refresh_passes: int = REFRESH_PASSES,
        health: bool = True,
        identity: str = DEFAULT_TARGET,
        snapshots: SnapshotStore | None = None,
        keep_tags: bool = True,
    ) -> None:
        """``health``: judge each resource's health after a pass (``plan/health.py``), reading what that needs
        (``live/health.py``); a daemon does, a one-off ``apply`` need not. ``identity``: the target this engine
        reads and writes (its name, ``model/targets.py``), stable across passes and processes: what it keeps is
        of that target only. ``snapshots``: where its caches are kept across restarts, under ``cache_identity``
        (``runtime/cache_snapshot.py``); None: they live as long as the engine. ``keep_tags``: the tag caches are
        kept too (the daemon's); without, only the task definition revisions, whose content never changes (the
        one-shot commands': what they show is what AWS holds now, and tags can change)."""
        self.clients = clients
        self.identity = identity
        # the region and instance too: the same target name in two regions, or of two instances, is two targets
        self.cache_identity = f"{clients.region or 'default-region'}/{options.instance}/{identity}"
        self.options = options
        self.mode = mode
        self.shards: Shards | None = None  # --shards auto: only the changes of the shards held are applied
        self._ecs_reader = EcsReader(clients, instance=options.instance)
        self._revisions = RevisionMemo()  # what plans worked out about task definition revisions, kept
        self._readers = make_readers(
            clients, self._ecs_reader, instance=options.instance, tag_refresh_passes=tag_refresh_passes
        )
        self._remembered: dict[tuple[str, str], str] = {}
        self.writing = False  # a pass is applying its plan (before that, cancelling it costs nothing)
        self.arn_keys: dict[str, ResourceKey] = {}  # live ARN → the document it was matched to (events' ARNs)
        self._scopes: ScopeIndex | None = None  # of the last desired state a targeted pass was asked for
        self._health: HealthReader | None = None
        if health:
            from reconciler.live.health import HealthReader  # noqa: PLC0415 - see TYPE_CHECKING above

            self._health = HealthReader(clients)
        self.starters = Starters()  # who started which deployment: this process, or whom an event named
        self._keep_tags = keep_tags
        self._at_aws: bool | None = None  # whether the clients talk to AWS itself (``_kept``), once asked
        self._snapshot = None if snapshots is None else self._snapshot_in(snapshots)

    @cached_property
    def _executor(self) -> Executor:
        """The writers and the executor, made (and imported) by the first pass that applies."""
        from reconciler.apply.executor import Executor  # noqa: PLC0415 - see TYPE_CHECKING above
        from reconciler.apply.writers import make_writers, writers_by_kind  # noqa: PLC0415

        writers = writers_by_kind(make_writers(self.clients, self._ecs_reader))
        return Executor(writers=writers, instance=self.options.instance, mode=self.mode)

    def _snapshot_in(self, store: SnapshotStore) -> CacheSnapshot:
        readers = self._readers if self._keep_tags else []
        tags = {KINDS[r.kinds[0]].aws_service: r.tags for r in readers if r.tags is not None}
        return CacheSnapshot(
            store, identity=self.cache_identity, ecs=self._ecs_reader, tags=tags, health=self._health
        )

    async def _kept(self) -> CacheSnapshot | None:
        """The snapshot, unless its store keeps only against AWS (``SnapshotStore.aws_only``: ``--cache-dir`` not
        given) and the clients talk to anything else: an emulator that restarts gives the same task definition
        ARNs to other content. Asked once; never raises (an endpoint that cannot be told: not AWS)."""
        if self._snapshot is None or not self._snapshot.store.aws_only:
            return self._snapshot
        if self._at_aws is None:
            try:
                self._at_aws = await self.clients.at_aws()
            except Exception:  # a client that cannot be made: keep nothing; the pass says why
                self._at_aws = False
            if not self._at_aws:
                log.info("caches not kept: the endpoint is not AWS's own; give --cache-dir to keep them",
                         where=self._snapshot.store.where)  # fmt: skip
        return self._snapshot if self._at_aws else None

    async def restore_caches(self) -> bool:
        """Fill the caches from the snapshot a previous process left, if there is one it can trust; before the
        first pass. Never raises."""
        snapshot = await self._kept()
        return await snapshot.restore() if snapshot is not None else False

    async def save_caches(self, *, now: bool = False, store: SnapshotStore | None = None) -> bool:
        """Write the caches' snapshot, if they changed since and (unless ``now``) the last write is old enough
        (``CacheSnapshot.save``); after a full pass, and when stopping. ``store``: into that one instead, now,
        changed or not. Never raises."""
        if store is not None:
            return await self._snapshot_in(store).write()
        snapshot = await self._kept()
        return await snapshot.save(now=now) if snapshot is not None else False

    async def read(self, desired: DesiredState, *, targeted: bool = False) -> LiveState:
        if desired.parts:  # names are unique per target only: each part has an engine of its own
            raise TerminalError(
                "a desired state with targets.yaml is read and planned per target (DesiredState.by_target()), "
                "never whole"
            )
        await self.clients.check_credentials()  # a target whose role cannot be assumed fails here, once
        live = LiveState(remembered=dict(self._remembered))
        first = [reader for reader in self._readers if not reader.after_others]
        later = [reader for reader in self._readers if reader.after_others]
        # Application Auto Scaling matches what it reads by the services' tags, so it reads after the others;
        # its pages need nothing of theirs and are fetched beside them (at AWS's rates, ~5 s less at 1000)
        ahead = asyncio.ensure_future(asyncio.gather(*(r.fetch(desired, targeted=targeted) for r in later)))
        try:
            await asyncio.gather(*(reader.read(desired, live, targeted=targeted) for reader in first))
            if problems := live_problems(desired, live):  # validation that needs AWS (an ALB's zones)
                raise InvalidDesiredState(problems)
            await ahead
        finally:
            if not ahead.done():
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await ahead
        for reader in later:
            await reader.read(desired, live, targeted=targeted)
        self._index_arns(live, full=not targeted)
        return live

    async def plan(self, desired: DesiredState) -> Plan:
        return (await self._plan(desired))[0]

    async def _plan(self, desired: DesiredState, *, targeted: bool = False) -> tuple[Plan, LiveState]:
        live = await self.read(desired, targeted=targeted)
        plan = make_plan(desired, live, self.options, targeted=targeted, memo=self._revisions)
        if not await self._tags_still_current(plan.changes):
            # A change to an ELBv2 resource (delete, adopt, update, replace) is decided on tags read this pass,
            # never on cached ones: whose a resource is may have changed by hand since. When a cached tag it rested
            # on has changed, read and plan again; the first read is let go before the second (holding both was
            # the process's peak of memory, +50 MiB at 3000 services).
            del live, plan
            live = await self.read(desired, targeted=targeted)
            plan = make_plan(desired, live, self.options, targeted=targeted, memo=self._revisions)
        if plan.families_to_read:
            await self._ecs_reader.read_families(plan.families_to_read, live)
            plan = make_plan(desired, live, self.options, targeted=targeted, memo=self._revisions)
        if plan.rollouts_to_read:
            await self._ecs_reader.read_failed_rollouts(plan.rollouts_to_read, live)
            plan = make_plan(desired, live, self.options, targeted=targeted, memo=self._revisions)
        return plan, live

    def scope_of(
        self, desired: DesiredState, touched: set[ResourceKey], *, changes: Changes | None = None
    ) -> frozenset[ResourceKey] | None:
        """What a targeted pass for ``touched`` covers; None when a full pass should run (``targets.py``).
        ``changes``: an earlier desired state and what changed since (``changed_resources``), when known."""
        return self._scope_index(desired, changes).scope(touched)

    def index_scopes(self, desired: DesiredState) -> None:
        """Build the targeted passes' scope index now (the daemon, after a full pass has let go of its live
        state), so that the next commit only moves it on by what it changed."""
        self._scope_index(desired)

    def _scope_index(self, desired: DesiredState, changes: Changes | None = None) -> ScopeIndex:
        if self._scopes is None:
            self._scopes = ScopeIndex(desired)
        elif self._scopes.desired is not desired:  # a new revision: moved on by what changed, when it can be
            since, changed = changes if changes is not None else (None, None)
            if since is not self._scopes.desired:
                changed = changed_resources(self._scopes.desired, desired)
            self._scopes = ScopeIndex(desired) if changed is None else self._scopes.updated(desired, changed)
        return self._scopes

    async def reconcile(
        self, desired: DesiredState, *, scope: frozenset[ResourceKey] | None = None
    ) -> PassOutcome:
        """A full pass; or, given a ``scope`` (from ``scope_of``), a targeted pass over those keys only."""
        if scope is None:
            # A full pass holds the whole live state: the targeted passes' scope index (~10 MiB at 3000
            # services) is let go meanwhile, and built again once the pass is over (``index_scopes``).
            self._scopes = None
            target = desired
        elif self._scopes is not None and self._scopes.desired is desired:
            target = self._scopes.subset(scope)
        else:
            target = subset(desired, scope)
        plan, live = await self._plan(target, targeted=scope is not None)
        if self.shards is not None:
            plan, self._executor.scope_of = self.shards.mine(plan, desired)
        self.writing = True  # set with no await before the first write: a pass may be cancelled until here
        try:
            result = await self._executor.run(plan, target, arns=reference_arns(target, live))
        finally:
            self.writing = False
        written = result.applied + [change for change, _ in result.failed]
        for cache in self._tag_caches():  # the next pass reads back the tags we wrote
            cache.forget(c.live_arn for c in written if c.live_arn)
        self._remember(target, plan, result, targeted=scope is not None)
        self._note_started(plan, result, live)
        health, deployments = await self._assess(target, live, plan, result, targeted=scope is not None)
        return PassOutcome(
            plan=plan,
            result=result,
            scope=scope,
            health=health,
            deployments=deployments,
            starters=self.starters,
        )

    def _note_started(self, plan: Plan, result: ApplyResult, live: LiveState) -> None:
        """The deployments this pass's writes started: a CodeDeploy deployment it created, or the deployment an
        UpdateService or CreateService answer shows that the service did not have before."""
        for change in result.applied:
            written = result.written.get(change.key)
            if written is None or change.kind != "Service":
                continue
            before = live.services.get((change.cluster, change.name)) or {}
            had = {
                str(before.get("currentServiceDeployment") or ""),
                str((primary_deployment(before) or {}).get("id") or ""),
            }
            shown = {written.service_deployment, written.primary_deployment} - had
            self.starters.started(shown | {written.deployment_id}, plan.revision)

    async def _assess(
        self, desired: DesiredState, live: LiveState, plan: Plan, result: ApplyResult, *, targeted: bool
    ) -> tuple[dict[ResourceKey, Verdict], dict[str, Sequence[DeploymentRecord]]]:
        """Each resource's health, from what the pass read and what it reads for that (only what may have
        changed: ``live/health.py``), and each service's deployment history."""
        if self._health is None:
            return {}, {}
        await self._health.read_histories(desired, live, targeted=targeted)
        created = frozenset(c.key for c in result.applied if c.action in (Action.CREATE, Action.REPLACE))
        inputs = HealthInputs(
            desired=desired, live=live, plan=plan, deadline=self.options.deployment_deadline,
            histories=self._health.histories, targets=self._health.targets, created=created,
        )  # fmt: skip
        await self._health.read_targets(desired, live, unsettled_target_groups(inputs), targeted=targeted)
        verdicts = assess(replace(inputs, targets=self._health.targets))
        histories = self._health.histories
        if not targeted:
            self.starters.keep(
                {key for records in histories.values() for record in records for key in record.keys}
            )
        return verdicts, {r.name: histories.get(r.name, ()) for r in desired.of_kind("Service")}

    def _index_arns(self, live: LiveState, *, full: bool) -> None:
        if full:  # ARNs of resources since replaced or deleted leave with the next full pass
            self.arn_keys = {}
        for (_cluster, name), service in live.services.items():
            if service.get("serviceArn"):
                self.arn_keys[service["serviceArn"]] = ResourceKey("Service", name)
        for kind, entries in live.entries.items():
            for name, entry in entries.items():
                if entry.arn:
                    self.arn_keys[entry.arn] = ResourceKey(kind, name)

    def _tag_caches(self) -> tuple[TagCache, ...]:
        return tuple(reader.tags for reader in self._readers if reader.tags is not None)

    async def _tags_still_current(self, changes: list[Change]) -> bool:
        """Whether the cached tags of resources a change is planned for are still AWS's (read again now); False:
        they were forgotten, and the plan must be made again on a fresh read."""
        arns = [c.live_arn for c in changes if c.live_arn]
        # every cache is asked (no short cut): each forgets what changed
        current = [await cache.still_current(arns) for cache in self._tag_caches()]
        return all(current)

    def _remember(self, desired: DesiredState, plan: Plan, result: ApplyResult, *, targeted: bool) -> None:
        """Resources seen in sync (or made so) this pass: if one vanishes later, that is drift, not "missing".
        A targeted pass updates what it covered and keeps the rest."""
        settled = set(plan.in_sync) | {c.key for c in result.applied}
        remembered: dict[tuple[str, str], str] = {
            r.key: entry_spec_hash(r) for r in desired if KINDS[r.kind].read_as_entry and r.key in settled
        }
        if not targeted:
            self._remembered = remembered
            return
        for resource in desired:  # what the targeted pass covered: forgotten, unless settled again
            self._remembered.pop(resource.key, None)
        self._remembered.update(remembered)
