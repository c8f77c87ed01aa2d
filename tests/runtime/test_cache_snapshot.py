"""When the caches' snapshot is written (``runtime/cache_snapshot.py``): after a full pass only when a cache
changed since the last write, at most every ``SAVE_EVERY`` seconds, and at once when stopping; and what it keeps
comes back as it was."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import structlog

from reconciler.live.clients import AwsClients
from reconciler.live.ecs import EcsReader
from reconciler.live.tag_cache import TagCache
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.cache_snapshot import SAVE_EVERY, CacheSnapshot, DirectoryStore, TableStore
from reconciler.runtime.engine import Engine

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:{}"
GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1"


def revision(number: int) -> dict[str, object]:
    return {"taskDefinitionArn": ARN.format(number), "family": "web", "revision": number, "tags": []}


def caches(tmp_path: Path, clock: list[float]) -> tuple[CacheSnapshot, EcsReader, TagCache]:
    ecs, tags = EcsReader(AwsClients(region="us-east-1", endpoint_url=None), instance="default"), TagCache()
    snapshot = CacheSnapshot(
        DirectoryStore(tmp_path),
        identity="us-east-1/default",
        ecs=ecs,
        tags={"elbv2": tags},
        clock=lambda: clock[0],
    )
    return snapshot, ecs, tags


async def test_written_when_changed_and_at_most_every_few_minutes(tmp_path: Path) -> None:
    clock = [1000.0]
    snapshot, ecs, _ = caches(tmp_path, clock)
    assert not await snapshot.save(), "nothing read yet"
    ecs.remember(revision(1))
    assert await snapshot.save(), "the first change is written at once"
    assert not await snapshot.save(), "nothing changed since"
    ecs.remember(revision(2))
    clock[0] += SAVE_EVERY - 1
    assert not await snapshot.save(), "changed, but written less than SAVE_EVERY ago"
    clock[0] += 1
    assert await snapshot.save()
    ecs.retag(ARN.format(2), [{"key": "team", "value": "web"}])
    assert await snapshot.save(now=True), "stopping: written whatever the time"
    assert not await snapshot.save(now=True), "... but only if something changed"


async def test_what_is_kept_comes_back_as_it_was(tmp_path: Path) -> None:
    snapshot, ecs, tags = caches(tmp_path, [0.0])
    ecs.remember(revision(1))
    tags.restore({GROUP: {"reconciler:instance": "default"}})
    tags.begin_pass()  # a pass asked for it: it stays
    assert await snapshot.save()
    again, ecs_again, tags_again = caches(tmp_path, [0.0])
    assert await again.restore()
    assert list(ecs_again.revisions()) == [revision(1)]
    assert dict(tags_again.entries()) == {GROUP: {"reconciler:instance": "default"}}
    assert not await again.save(), "what was restored is not written back"


async def test_restored_tags_stay_until_a_full_pass_does_not_ask_for_them(tmp_path: Path) -> None:
    tags = TagCache()
    tags.restore({GROUP: {"reconciler:instance": "default"}})
    tags.begin_pass()
    assert dict(tags.entries()) == {GROUP: {"reconciler:instance": "default"}}
    tags.begin_pass()  # the first pass did not ask for it: it is gone from AWS
    assert dict(tags.entries()) == {}


async def test_restored_tags_are_refreshed_from_the_second_pass_a_third_at_a_time() -> None:
    arns = [f"{GROUP[:-1]}{n}" for n in range(300)]
    tags = TagCache()
    tags.restore({arn: {"reconciler:instance": "default"} for arn in arns})
    read: list[list[str]] = []

    async def fetch(wanted: list[str]) -> dict[str, dict[str, str]]:
        read.append(wanted)
        return {arn: {"reconciler:instance": "default"} for arn in wanted}

    for _ in range(4):
        tags.begin_pass()
        await tags.read(fetch, arns)
    assert len(read[0]) == 0, "the first pass after a restart refreshes none"
    assert sorted(a for r in read[1:] for a in r) == sorted(arns), "then each once, over the next three"
    assert all(60 < len(r) < 140 for r in read[1:]), [len(r) for r in read]


async def test_a_store_that_does_not_answer_delays_the_first_pass_only_so_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DynamoDB takes the connection and never answers: the restore gives up after ``within`` and says why, and
    the caches stay empty."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        async with AwsClients(region="us-east-1", endpoint_url=url) as clients:
            ecs = EcsReader(clients, instance="default")
            store = TableStore(clients, "reconciler-lease")
            snapshot = CacheSnapshot(store, identity="us-east-1/default", ecs=ecs, tags={}, within=1.0)
            started = time.monotonic()
            with structlog.testing.capture_logs() as logs:
                assert not await snapshot.restore()
            assert time.monotonic() - started < 5
    (ignored,) = [e for e in logs if e["event"] == "cache snapshot ignored"]
    assert ignored["reason"] == "cannot be read: TimeoutError: no answer within 1 s"
    assert list(ecs.revisions()) == []


async def test_a_file_others_may_write_is_not_trusted(tmp_path: Path) -> None:
    """In a shared ``/tmp`` another user could plant revisions a plan would take for AWS's: a snapshot, or its
    directory, that others may write is ignored with a warning, and the directory is made for its owner only."""
    directory = tmp_path / "cache"
    snapshot, ecs, _ = caches(directory, [0.0])
    ecs.remember(revision(1))
    assert await snapshot.write()
    assert directory.stat().st_mode & 0o777 == 0o700
    planted = next(directory.iterdir())
    planted.chmod(0o666)
    again, restored, _ = caches(directory, [0.0])
    with structlog.testing.capture_logs() as logs:
        assert not await again.restore()
    assert list(restored.revisions()) == []
    assert any("others may write it" in str(line.get("reason")) for line in logs), logs
    planted.chmod(0o600)
    directory.chmod(0o777)
    with structlog.testing.capture_logs() as logs:
        assert not await again.restore()
    assert any("others may write it" in str(line.get("reason")) for line in logs), logs
    directory.chmod(0o700)
    assert await again.restore(), "its owner's alone again: trusted"
    assert [r["taskDefinitionArn"] for r in restored.revisions()] == [ARN.format(1)]


async def test_scopes_keep_apart_what_two_users_of_one_directory_keep(tmp_path: Path) -> None:
    ecs = EcsReader(AwsClients(region="us-east-1", endpoint_url=None), instance="default")
    ecs.remember(revision(1))
    one_shot = CacheSnapshot(DirectoryStore(tmp_path, scope="one-shot http://127.0.0.1:1"), identity="i",
                             ecs=ecs, tags={})  # fmt: skip
    assert await one_shot.write()
    other = EcsReader(AwsClients(region="us-east-1", endpoint_url=None), instance="default")
    for store in (DirectoryStore(tmp_path), DirectoryStore(tmp_path, scope="one-shot http://127.0.0.1:2")):
        assert not await CacheSnapshot(store, identity="i", ecs=other, tags={}).restore()
    assert list(other.revisions()) == []


@pytest.mark.parametrize(("aws_only", "kept"), [(True, False), (False, True)])
async def test_against_an_emulator_a_store_that_keeps_only_at_aws_is_not_used(
    aws: str, tmp_path: Path, aws_only: bool, kept: bool
) -> None:
    """``--cache-dir`` not given (``aws_only``): an engine whose clients talk to the emulator neither writes nor
    reads the snapshot, because an emulator that restarts gives the same task definition ARNs to other content.
    Given, it does."""
    store = DirectoryStore(tmp_path / "cache", aws_only=aws_only)
    async with AwsClients(region="us-east-1", endpoint_url=aws) as clients:
        engine = Engine(clients, options=PlanOptions(instance="default"), snapshots=store)
        engine._ecs_reader.remember(revision(1))  # as a pass that registered it would
        assert await engine.save_caches(now=True) is kept
        assert (tmp_path / "cache").exists() is kept
        assert await engine.restore_caches() is kept
