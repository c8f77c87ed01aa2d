"""``reconciler plan`` and ``apply``: the desired state against live AWS, planned or applied in one pass of each
target. They import neither the daemon nor what only it uses (``runtime/one_shot.py``)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence

from reconciler.commands import EXIT_CHANGES, EXIT_ERROR, EXIT_OK
from reconciler.commands.common import load, print_problems, reported
from reconciler.desired.allowed_targets import allowed
from reconciler.errors import InvalidDesiredState
from reconciler.live.clients import AwsClients
from reconciler.model.resource import DesiredState, Mode
from reconciler.model.secrets import redact
from reconciler.plan.render import plan_as_json, plan_as_text, plans_as_json, plans_as_text
from reconciler.plan.types import Plan
from reconciler.runtime.cache_snapshot import DirectoryStore
from reconciler.runtime.engine import Engine, PassOutcome
from reconciler.runtime.one_shot import clients_of, plan_options
from reconciler.settings import Settings

Handler = Callable[[Engine, DesiredState], Awaitable[Plan | PassOutcome]]


def plan_command(settings: Settings) -> int:
    return asyncio.run(with_source(plan, settings))


def apply_command(settings: Settings) -> int:
    return asyncio.run(with_source(apply, settings))


async def with_source(handler: Handler, settings: Settings) -> int:
    """``handler`` (``plan`` or ``apply``) over the desired state of ``dir``."""
    try:
        desired = load(settings)
    except InvalidDesiredState as exc:
        print_problems(exc)
        return EXIT_ERROR
    return await reported(each_target(handler, settings, desired))


async def each_target(handler: Handler, settings: Settings, desired: DesiredState) -> int:
    """``plan`` or ``apply`` over every target (``--allowed-targets``: those only), each with its own clients,
    all at once; then what they did, in the order targets.yaml declares them (``plans_as_text``, …). The exit
    code is the worst: 1 if a target failed (named on stderr), else 2 if one has changes (``plan``). Without
    targets.yaml, the one default target, exactly as before targets existed."""
    if not desired.targets:
        async with clients_of(settings) as clients:
            store = await revision_store(settings, clients)
            engine = Engine(clients, options=plan_options(settings), mode=settings.mode, health=False,
                            snapshots=store, keep_tags=False)  # fmt: skip
            only = await kept(engine, handler, desired)
        return report(settings, desired, [only])
    parts = allowed(desired, settings.allowed_targets)
    declared = {target.name: target for target in desired.targets}
    for name in declared.keys() - parts.keys():
        print(f"target {name}: not in --allowed-targets, not planned", file=sys.stderr)

    async def one(name: str) -> Plan | PassOutcome | Exception:
        try:
            async with clients_of(settings, declared[name]) as clients:
                store = await revision_store(settings, clients)
                engine = Engine(clients, options=plan_options(settings), mode=settings.mode, health=False,
                                identity=name, snapshots=store, keep_tags=False)  # fmt: skip
                done: Plan | PassOutcome = await kept(engine, handler, parts[name])
                return done
        except Exception as exc:  # this target only: the others are planned (or applied) still
            return exc

    outcomes = dict(zip(parts, await asyncio.gather(*(one(name) for name in parts)), strict=True))
    failed = []
    for name, outcome in outcomes.items():
        if isinstance(outcome, InvalidDesiredState):
            print(f"target {name}:", file=sys.stderr)
            print_problems(outcome)
        elif isinstance(outcome, Exception):
            print(redact(f"error: target {name}: {type(outcome).__name__}: {outcome}"), file=sys.stderr)
        else:
            continue
        failed.append(name)
    done = [outcome for outcome in outcomes.values() if not isinstance(outcome, Exception)]
    code = report(settings, desired, done) if done else EXIT_OK
    if failed:
        print(f"error: {len(failed)} target(s) failed: {', '.join(failed)}", file=sys.stderr)
        return EXIT_ERROR
    return code


async def revision_store(settings: Settings, clients: AwsClients) -> DirectoryStore:
    """Where ``plan`` and ``apply`` keep the task definition revisions they described, for the next run: in
    ``--cache-dir``, apart from a daemon's snapshot there, and per endpoint. A revision's ARN names content that
    never changes, so a kept one is as good as one described now, and a fresh process does not describe every
    running revision again (at 100 services, 100 calls: most of a plan's time). Tags are not kept: what a plan
    shows of them is read now. Against anything but AWS itself (an emulator, a proxy), used only when
    ``--cache-dir`` is given (``aws_only``, ``Engine._kept``): an emulator that restarts gives the same ARNs to
    other content."""
    endpoint = (await clients.client("ecs")).meta.endpoint_url
    given = "cache_dir" in settings.model_fields_set
    return DirectoryStore(settings.cache_dir, scope=f"one-shot {endpoint}", aws_only=not given)


async def kept(engine: Engine, handler: Handler, desired: DesiredState) -> Plan | PassOutcome:
    """``handler``'s pass, with the revisions kept by the last run restored first and what it described written
    after (a cache that cannot be read or written is said on stderr and costs only the calls)."""
    await engine.restore_caches()
    done = await handler(engine, desired)
    await engine.save_caches(now=True)
    return done


def report(settings: Settings, desired: DesiredState, done: Sequence[Plan | PassOutcome]) -> int:
    """Print what ``plan`` (plans) or ``apply`` (outcomes) did, over one target or several; the exit code."""
    plans = [item if isinstance(item, Plan) else item.plan for item in done]
    outcomes = [item for item in done if isinstance(item, PassOutcome)]
    if outcomes or settings.output not in ("json", "markdown"):
        print(plan_as_text(plans[0], desired) if not desired.targets else plans_as_text(plans, desired))
    elif settings.output == "markdown":  # it ends in a newline, and its size is the comment's
        from reconciler.plan.markdown import plans_as_markdown  # noqa: PLC0415 - for this output only

        print(plans_as_markdown(plans, desired), end="")
    else:
        print(plan_as_json(plans[0], desired) if not desired.targets else plans_as_json(plans, desired))
    if not outcomes:
        return EXIT_CHANGES if any(plan.has_changes for plan in plans) else EXIT_OK
    for outcome in outcomes:
        if desired.targets:
            print(f"target {outcome.plan.target}:")
        print_apply_result(outcome)
    failing = any(outcome.result.failed or blocked(outcome, settings) for outcome in outcomes)
    return EXIT_ERROR if failing else EXIT_OK


async def plan(engine: Engine, desired: DesiredState) -> Plan:
    return await engine.plan(desired)


async def apply(engine: Engine, desired: DesiredState) -> PassOutcome:
    return await engine.reconcile(desired)


def blocked(outcome: PassOutcome, settings: Settings) -> bool:
    """Not converged: a change that should have been written was held or skipped (detect mode aside)."""
    if settings.mode is Mode.DETECT:
        return False
    return any(change.mode is Mode.ENFORCE for change, _ in outcome.result.skipped)


def print_apply_result(outcome: PassOutcome) -> None:
    result = outcome.result
    applied = [c for c in result.applied if not c.restamp]
    for change in applied:
        print(f"applied: {change.kind} {change.name} ({change.action.value}, cause: {change.cause.value})")
    for change, error in result.failed:
        print(
            redact(f"failed: {change.kind} {change.name} ({change.action.value}): {error}"), file=sys.stderr
        )
    for change, why in result.skipped:
        print(redact(f"not applied: {change.kind} {change.name}: {why}"))
    restamped = len(result.applied) - len(applied)
    print(
        f"Apply: {len(applied)} applied, {len(result.failed)} failed, {len(result.skipped)} not applied."
        + (f" {restamped} spec-hash tags refreshed." if restamped else "")
    )
