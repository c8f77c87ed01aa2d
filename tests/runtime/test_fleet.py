"""The fleet of targets, without AWS: one load of the source serves every target that asks at once; targets start
and stop with the revisions that declare them; ``--allowed-targets`` leaves the others alone; an AWS event of the
shared queue goes to the target of its account and Region, by EventBridge's envelope, and no further."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from reconciler.errors import InvalidDesiredState, Problem, TerminalError
from reconciler.live.clients import AwsClients
from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.model.targets import Target
from reconciler.plan.planner import PlanOptions
from reconciler.plan.shards import shard_of, target_unit
from reconciler.plan.types import Plan
from reconciler.runtime.daemon import DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.runtime.fleet import Fleet, SharedLoad, TargetShare, TargetSource
from reconciler.runtime.shards import Shards

WEB = ResourceKey("Service", "web")
EAST = Target("east", account="111122223333", region="us-east-1", role_arn="arn:aws:iam::111122223333:role/r")
WEST = Target("west", account="111122223333", region="eu-west-1", role_arn="arn:aws:iam::111122223333:role/r")
OTHER = Target(
    "other", account="444455556666", region="us-east-1", role_arn="arn:aws:iam::444455556666:role/r"
)


def state(*targets: Target, revision: str = "r1", cluster: bool = False) -> DesiredState:
    """Each target with one Service ``web`` in cluster ``apps`` (declared too with ``cluster``, a resource no one
    application holds): the same names in every target."""
    declared = (
        (DesiredResource(kind="Cluster", name="apps", spec={}, file="apps.yaml", line=1),) if cluster else ()
    )
    parts = tuple(
        DesiredState(
            resources=(
                DesiredResource(
                    kind="Service", name="web", spec={"cluster": "apps"}, file="web.yaml", line=1
                ),
                *declared,
            ),
            revision=revision,
            target=target.name,
        )
        for target in targets
    )
    resources = tuple(r for part in parts for r in part.resources)
    return DesiredState(resources=resources, revision=revision, targets=targets, parts=parts)


class Source:
    """A desired state in memory, counting its loads; each takes a little while, as a tree walk does."""

    description = "in memory"

    def __init__(self, desired: DesiredState) -> None:
        self.desired, self.loads = desired, 0

    async def load_async(self) -> DesiredState:
        self.loads += 1
        await asyncio.sleep(0.05)
        return self.desired

    def request_refresh(self) -> bool:
        return False

    def status(self) -> dict[str, object]:
        return {}

    async def watch(self, wake: Callable[[str], None], stop: asyncio.Event, *, debounce_ms: int) -> None:
        await stop.wait()


def engine_of(target: Target) -> Engine:
    return Engine(
        AwsClients(region=target.region, endpoint_url=None), options=PlanOptions(), identity=target.name
    )


def fleet(desired: DesiredState, **options: Any) -> Fleet:
    return Fleet(source=Source(desired), make_engine=engine_of, options=DaemonOptions(), **options)


async def test_targets_asking_at_once_share_one_load_and_each_gets_its_part() -> None:
    desired = state(EAST, WEST, OTHER)
    source = Source(desired)
    shared = SharedLoad(source)
    parts = await asyncio.gather(*(TargetSource(shared, t.name).load_async() for t in (EAST, WEST, OTHER)))
    assert source.loads == 1
    assert [part.target for part in parts] == ["east", "west", "other"]
    assert parts[1] is desired.by_target()["west"]
    await TargetSource(shared, "east").load_async()
    assert source.loads == 1  # just loaded, and nothing changed since
    shared.changed()  # the watcher saw a change: the next ask loads again
    await TargetSource(shared, "east").load_async()
    assert source.loads == 2


async def test_targets_start_and_stop_with_the_revisions_that_declare_them() -> None:
    subject = fleet(state(EAST, WEST))
    subject._loaded(state(EAST, WEST))
    assert set(subject.loops) == {"east", "west"}
    west = subject.loops["west"].daemon
    assert west.engine.identity == "west" and west.engine.clients.region == "eu-west-1"
    assert west.tracker.target == "west"

    subject._loaded(state(EAST, OTHER, revision="r2"))
    assert set(subject.loops) == {"east", "other"}
    assert west._stop.is_set()  # its loop stops; nothing is deleted in it

    moved = Target("east", account="111122223333", region="us-west-2", role_arn=EAST.role_arn)
    east = subject.loops["east"].daemon
    subject._loaded(state(moved, OTHER, revision="r3"))
    assert east._stop.is_set() and subject.loops["east"].daemon.engine.clients.region == "us-west-2"


async def test_targets_not_allowed_are_never_started() -> None:
    subject = fleet(state(EAST, WEST), allowed=frozenset({"west"}))
    subject._loaded(state(EAST, WEST))
    assert set(subject.loops) == {"west"}


def envelope(account: str, region: str) -> dict[str, Any]:
    """EventBridge's envelope of a CloudTrail write call, as it delivers an ECS UpdateService made by hand."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ecs",
        "account": account,
        "time": "2026-12-05T17:00:00Z",
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventSource": "ecs.amazonaws.com",
            "eventName": "UpdateService",
            "awsRegion": region,
            "userAgent": "aws-cli/2.17",
            "userIdentity": {
                "type": "IAMUser",
                "accountId": account,
                "userName": "jane",
                "arn": f"arn:aws:iam::{account}:user/jane",
            },
            "requestParameters": {"cluster": "apps", "service": "web", "desiredCount": 5},
        },
    }


async def test_an_event_goes_to_the_target_of_its_account_and_region_only() -> None:
    desired = state(EAST, WEST, OTHER)
    subject = fleet(desired)
    subject._loaded(desired)
    for name, part in desired.by_target().items():
        subject.loops[name].daemon.last_good = part

    assert subject.route(envelope("111122223333", "eu-west-1")) == (
        "matched",
        set(),
    )  # the target is woken here
    touched = {name: running.daemon._schedule.touched for name, running in subject.loops.items()}
    assert touched == {"east": frozenset(), "west": frozenset({WEB}), "other": frozenset()}
    assert subject.loops["west"].daemon._wake.is_set()

    assert subject.route(envelope("999999999999", "us-east-1")) == ("unmatched", set())
    assert subject.route(envelope("444455556666", "eu-west-1")) == (
        "unmatched",
        set(),
    )  # its account, not Region
    assert subject.route("not an event") == ("invalid", set())


def test_with_targets_a_replica_holds_whole_targets() -> None:
    """--shards auto with targets.yaml: a target is one unit, in one shard; its loop passes and writes only on the
    replica holding that shard, and every resource of it has that shard's lease as its write scope."""
    shards = Shards(AwsClients(region=None, endpoint_url=None), table="leases", holder="r1")
    east, west = (shard_of(target_unit(name), shards.count) for name in ("east", "west"))
    assert east != west
    shards.held = lambda: frozenset({east})  # type: ignore[method-assign]
    desired = state(EAST, WEST)
    for name, held in (("east", True), ("west", False)):
        part = desired.by_target()[name]
        mine, _ = shards.mine(Plan(revision="r1", in_sync=[WEB]), part)
        assert mine.in_sync == ([WEB] if held else [])
        assert TargetShare(shards, name).may_write() is held
    part = desired.by_target()["east"]
    assert shards._shard_of_key(part)(ResourceKey("Cluster", "anything")) == east


class Invalid(Source):
    """A revision that does not validate: each load raises a new InvalidDesiredState."""

    async def load_async(self) -> DesiredState:
        self.loads += 1
        await asyncio.sleep(0.05)
        raise InvalidDesiredState(
            [Problem("web.yaml", 3, "unknown kind 'Servce'")], revision=f"r{self.loads}"
        )


async def test_an_invalid_revision_is_reported_once_for_every_target() -> None:
    subject = fleet(state(EAST, WEST, OTHER))
    subject.shared = SharedLoad(Invalid(state()))
    subject._loaded(state(EAST, WEST, OTHER))
    daemons = [running.daemon for running in subject.loops.values()]
    for daemon in daemons:  # each keeps its last good state
        daemon.last_good = state(EAST, WEST, OTHER).by_target()[daemon.name]
        daemon.source = TargetSource(subject.shared, daemon.name)
    reported: list[str] = []
    for daemon in daemons:
        daemon._invalid = lambda exc, revision, d=daemon: reported.append(d.name)  # type: ignore[method-assign]
    loaded = await asyncio.gather(*(daemon._load() for daemon in daemons))
    assert [part.target for part in loaded] == ["east", "west", "other"]  # the last good, each
    assert len(reported) == 1  # logged and notified once, by whichever loop came first
    subject.shared.changed()
    await asyncio.gather(*(daemon._load() for daemon in daemons))
    assert len(reported) == 2  # the next invalid revision: once again


async def test_the_shared_load_runs_without_the_log_bindings_of_the_target_that_asked_first() -> None:
    seen: list[dict[str, Any]] = []

    class Watched(Source):
        async def load_async(self) -> DesiredState:
            seen.append(structlog.contextvars.get_contextvars())
            return await super().load_async()

    shared = SharedLoad(Watched(state(EAST)))

    async def as_east() -> DesiredState:
        structlog.contextvars.bind_contextvars(target="east", pass_id="1234")
        return await TargetSource(shared, "east").load_async()

    await asyncio.create_task(as_east())
    assert seen == [{}]


async def test_status_lists_every_declared_target_and_whose_each_resource_is() -> None:
    subject = fleet(state(EAST, WEST, OTHER), allowed=frozenset({"east", "west"}))
    desired = state(EAST, WEST, OTHER)
    subject._loaded(desired)
    subject.loops["west"].daemon.last_good = desired.by_target()["west"]
    subject.loops[
        "west"
    ].daemon.last_error = "Terminal: target west: cannot assume role arn:aws:iam::1:role/r"
    body = subject.status()
    targets = body["targets"]
    assert isinstance(targets, list)
    assert [(t["name"], t["reconciled"], t["error"]) for t in targets] == [
        ("east", True, None), ("west", True, "Terminal: target west: cannot assume role arn:aws:iam::1:role/r"),
        ("other", False, None),
    ]  # fmt: skip
    assert [(r["target"], r["name"], r["state"], r["health"]) for r in body["resources"]] == [  # type: ignore[attr-defined]
        ("west", "web", "Error", "Unknown"),
    ]


async def test_status_says_whose_each_shared_resource_is() -> None:
    """The same cluster shared in two targets is two resources: each entry of ``shared`` names its target. With one
    target, ``shared`` is the ``Kind/name`` list it always was."""
    desired = state(EAST, WEST, cluster=True)
    subject = fleet(desired)
    subject._loaded(desired)
    for name in ("east", "west"):
        subject.loops[name].daemon.last_good = desired.by_target()[name]
    assert subject.status()["shared"] == [
        {"target": "east", "kind": "Cluster", "name": "apps"},
        {"target": "west", "kind": "Cluster", "name": "apps"},
    ]
    alone = state(EAST, cluster=True)
    single = fleet(alone)
    single._loaded(alone)
    single.loops["east"].daemon.last_good = alone.by_target()["east"]
    assert single.status()["shared"] == ["Cluster/apps"]


async def test_an_engine_never_plans_a_state_of_several_targets_whole() -> None:
    """Names are unique per target only: planning the whole state as one would mix the targets' resources."""
    desired = state(EAST, WEST)
    with pytest.raises(TerminalError, match="per target"):
        await engine_of(EAST).plan(desired)  # refused before any call to AWS


async def test_allowing_a_target_the_revision_does_not_declare_makes_it_invalid() -> None:
    """As plan and apply say it: the loops keep their last good state, and start nothing new."""
    subject = fleet(state(EAST, WEST), allowed=frozenset({"east", "nowhere"}))
    with pytest.raises(InvalidDesiredState, match="--allowed-targets names 'nowhere', which is not a target"):
        await subject.shared.load_async()
    assert subject.loops == {}
