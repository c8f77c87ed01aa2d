"""Carrying out a plan: every change as its own task, each waiting only for the changes it depends on.

A failure is contained: the failed change is recorded, the changes that depend on it are skipped with the reason,
and every unrelated change still runs. Changes that must not write (``mode: detect``, the global
detect mode, held changes) are never handed to a writer, so detect mode makes zero write calls by construction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from reconciler.apply.context import ApplyContext
from reconciler.live.clients import WRITE_SCOPE
from reconciler.model.resource import DesiredResource, DesiredState, Mode, ResourceKey
from reconciler.plan.types import Action, Change, Plan

log = structlog.get_logger(__name__)
PARALLEL_WRITES = 8


@dataclass(frozen=True)
class Written:
    """What a write started that the plan could not know: the report says so (``runtime/report.py``)."""

    deployment_id: str = ""  # the CodeDeploy deployment a CODE_DEPLOY service's change went out through
    # what an UpdateService or CreateService answer shows of the service's deployments: its current service
    # deployment (an ARN) and its PRIMARY deployment's ID; the engine tells from them whether the write started one
    service_deployment: str = ""
    primary_deployment: str = ""


# kind → action → what a writer does to carry it out (each writer calls its own with the clients it uses)
Actions = Mapping[str, Mapping[Action, Callable[..., Awaitable[Written | None]]]]


class Writer(Protocol):
    @property
    def actions(self) -> Actions:
        """What it carries out, for each kind it writes: the executor fails a change whose action is not there
        without handing it over."""

    async def apply(
        self, change: Change, resource: DesiredResource | None, context: ApplyContext
    ) -> Written | None: ...


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    skipped: list[tuple[Change, str]] = field(default_factory=list)
    written: dict[ResourceKey, Written] = field(default_factory=dict)  # what applied changes started

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


@dataclass
class Executor:
    writers: dict[str, Writer]  # kind → writer
    instance: str
    mode: Mode = Mode.ENFORCE
    parallel: int = PARALLEL_WRITES
    scope_of: Callable[[Change], Hashable] | None = None  # sets WRITE_SCOPE around each change (shards)

    async def run(
        self, plan: Plan, desired: DesiredState, *, arns: dict[ResourceKey, str] | None = None
    ) -> ApplyResult:
        """Apply ``plan``; ``arns`` maps (kind, reference name) to the ARNs live had, to resolve names."""
        result = ApplyResult()
        to_write = [c for c in plan.changes if c.writes and self.mode is Mode.ENFORCE]
        for change in plan.changes:
            if change not in to_write:
                result.skipped.append((change, _why_not_written(change, self.mode)))
        done = {c.key: asyncio.Event() for c in plan.changes}
        for change in plan.changes:
            if change not in to_write:  # settled at once, and not a success: its dependents are skipped
                done[change.key].set()
        succeeded: set[ResourceKey] = set()
        context = ApplyContext(instance=self.instance, revision=plan.revision, arns=dict(arns or {}))
        semaphore = asyncio.Semaphore(self.parallel)
        async with asyncio.TaskGroup() as group:
            for change in to_write:
                step = _Step(change, desired, context, self.writers, done, succeeded, result, semaphore)
                step.scope = self.scope_of(change) if self.scope_of else None
                group.create_task(step.run())
        return result


def _why_not_written(change: Change, mode: Mode) -> str:
    if mode is Mode.DETECT:
        return "--mode detect: nothing is written"
    if change.mode is Mode.DETECT:
        return "mode: detect"
    return change.held


@dataclass
class _Step:
    change: Change
    desired: DesiredState
    context: ApplyContext
    writers: dict[str, Writer]
    done: dict[ResourceKey, asyncio.Event]
    succeeded: set[ResourceKey]
    result: ApplyResult
    semaphore: asyncio.Semaphore
    scope: Hashable | None = None

    async def run(self) -> None:
        try:
            blocker = await self._wait_for_dependencies()
            if blocker:
                self.result.skipped.append((self.change, blocker))
                return
            async with self.semaphore:
                await self._write()
        finally:
            self.done[self.change.key].set()

    async def _wait_for_dependencies(self) -> str:
        for dependency in self.change.depends_on:
            if dependency in self.done:
                await self.done[dependency].wait()
                if dependency not in self.succeeded:
                    return f"{dependency} was not applied"
        return ""

    async def _write(self) -> None:
        change = self.change
        resource = self.desired.get(change.kind, change.name)
        bound = log.bind(
            kind=change.kind, name=change.name, action=change.action.value, cause=change.cause.value
        )
        try:
            writer = self.writers[change.kind]
            if change.action not in writer.actions.get(change.kind, {}):
                raise NotImplementedError(f"{change.kind} {change.action.value}")
            WRITE_SCOPE.set(self.scope)  # this task's own context: other changes are not affected
            written = await writer.apply(change, resource, self.context)
        except Exception as exc:  # one resource's failure never stops the others
            bound.warning("apply failed", error=str(exc), error_type=type(exc).__name__)
            self.result.failed.append((change, f"{type(exc).__name__}: {exc}"))
            return
        bound.info("applied")
        self.succeeded.add(change.key)
        if written is not None:
            self.result.written[change.key] = written
        self.result.applied.append(change)
