"""A restarted reconciler's caches (``runtime/cache_snapshot.py``): the revisions and tags the process before it
read are used, from the cache directory or the lease table; a tag read back is never written on without being
read again; a snapshot that cannot be trusted is ignored, saying why, and the pass reads AWS as without one."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import structlog

from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime import cache_snapshot
from reconciler.runtime.cache_snapshot import DirectoryStore, SnapshotStore, TableStore
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.runtime.lease import Lease
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import Estate
from tests.e2e.test_daemon import eventually, free_port
from tests.e2e.test_load_balancers import (  # noqa: F401 - balanced is a fixture
    LOAD_BALANCING,
    SPARE_GROUP,
    _arn,
    balanced,
)

TABLE = "reconciler-lease"
Stores = Callable[[AwsClients], SnapshotStore]


@asynccontextmanager
async def process(store_of: Stores, **options: Any) -> AsyncIterator[Engine]:
    """A reconciler process: its own clients and a fresh engine, whose caches are kept in the store."""
    async with AwsClients(region=None, endpoint_url=None) as clients:
        await Lease(clients, table=TABLE, holder="test").ensure_table()
        yield Engine(clients, options=PlanOptions(), snapshots=store_of(clients), **options)


def stores(tmp_path: Path) -> dict[str, Stores]:
    return {
        "directory": lambda _: DirectoryStore(tmp_path / "cache"),
        "table": lambda clients: TableStore(clients, TABLE),
    }


@pytest.mark.parametrize("where", ["directory", "table"])
async def test_a_restarted_engine_reads_no_revision_or_history_again(
    estate: Estate, tmp_path: Path, boto: BotoFactory, where: str
) -> None:
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with process(stores(tmp_path / "converging")["directory"]) as engine:
        await engine.reconcile(source.load())  # from empty: it registered every revision, and described none
    wait_until_settled(boto)
    store_of = stores(tmp_path)[where]
    async with process(store_of) as engine:  # a restart with nothing kept: every running revision described
        assert not await engine.restore_caches()
        cold = await engine.reconcile(source.load())
        cold_calls = engine.clients.calls_by_operation()
        assert await engine.save_caches()
    with structlog.testing.capture_logs() as logs:
        async with process(store_of) as engine:  # a restart with the snapshot of the one before
            assert await engine.restore_caches()
            warm = await engine.reconcile(source.load())
            calls = engine.clients.calls_by_operation()
            assert not await engine.save_caches(), "nothing changed: nothing written"
    assert cold.plan.changes == warm.plan.changes == []
    assert cold_calls["ecs:DescribeTaskDefinition"] > 0
    assert calls["ecs:DescribeTaskDefinition"] == 0
    restored = next(e for e in logs if e["event"] == "cache snapshot restored")
    assert restored["revisions"] == cold_calls["ecs:DescribeTaskDefinition"] and restored["tags"] > 0
    # the services' deployments have not changed since: their histories are not listed again
    assert restored["histories"] >= cold_calls["ecs:ListServiceDeployments"] > 0
    assert calls["ecs:ListServiceDeployments"] == calls["ecs:DescribeServiceDeployments"] == 0
    assert warm.deployments == cold.deployments
    # tags read back are not refreshed by the first pass (then a third a pass: tests/runtime)
    assert cold_calls["elastic-load-balancing-v2:DescribeTags"] > 0
    assert calls["elastic-load-balancing-v2:DescribeTags"] == 0


@pytest.mark.parametrize("handed_over", [False, True])
async def test_a_tag_changed_while_the_daemon_was_down_is_not_acted_on(
    balanced: Estate,  # noqa: F811 - the fixture imported above
    boto: BotoFactory,
    tmp_path: Path,
    handed_over: bool,
) -> None:
    """The snapshot says the spare target group is ours; while no reconciler ran, its owner tag was removed by
    hand and its document too. The restarted reconciler's first pass must decide on the tag AWS holds: not ours,
    so not pruned. (Without the hand edit it is pruned: the snapshot's tags are what the pass started from.)"""
    manifest = balanced.dir / "load-balancing.yaml"
    manifest.write_text(LOAD_BALANCING + SPARE_GROUP)
    source = DirectorySource(root=balanced.dir, vars_files=(balanced.vars_file,))
    store_of = stores(tmp_path)["directory"]
    async with process(store_of) as engine:
        await engine.reconcile(source.load())  # creates it: its tags are read back by the next pass
        assert (await engine.reconcile(source.load())).plan.changes == []
        assert await engine.save_caches()
    manifest.write_text(LOAD_BALANCING)  # while down: the document is removed...
    spare = _arn(boto, "TargetGroup", "shop-spare")
    if handed_over:  # ...and the group handed over to someone else
        boto("elbv2").remove_tags(ResourceArns=[spare], TagKeys=["reconciler:instance"])
    async with process(store_of, tag_refresh_passes=100) as engine:  # no refresh due: only the check reads
        assert await engine.restore_caches()
        outcome = await engine.reconcile(source.load())
        calls = engine.clients.calls_by_operation()
    deleted = [(c.kind, c.name) for c in outcome.result.applied if c.action.value == "delete"]
    assert deleted == ([] if handed_over else [("TargetGroup", "shop-spare")])
    # the tags read back were read again before the deletion; when they had changed, read and planned again
    assert calls["elastic-load-balancing-v2:DescribeLoadBalancers"] == (2 if handed_over else 1)
    groups = {tg["TargetGroupName"] for tg in boto("elbv2").describe_target_groups()["TargetGroups"]}
    assert ("shop-spare" in groups) is handed_over


def _lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in zlib.decompress(data).splitlines()]


def _compressed(lines: list[dict[str, Any]]) -> bytes:
    return zlib.compress(b"".join(json.dumps(line).encode() + b"\n" for line in lines))


def _header(change: dict[str, Any]) -> Callable[[bytes], bytes]:
    def rewrite(data: bytes) -> bytes:
        lines = _lines(data)
        return _compressed([lines[0] | change, *lines[1:]])

    return rewrite


UNTRUSTED: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "another format": (
        _header({"format": cache_snapshot.FORMAT + 1, "reconciler": "9.9"}),
        "written in format 2",
    ),
    "revisions trimmed otherwise": (_header({"trimmed": ["registeredAt"]}), "trimmed of other fields"),
    "another target": (_header({"identity": "eu-west-1/default"}), "another target's: 'eu-west-1/default'"),
    "truncated": (lambda data: data[: len(data) // 2], "truncated: its compressed stream ends early"),
    "corrupt": (
        lambda data: data[:40] + bytes(b ^ 0x5A for b in data[40:80]) + data[80:],
        "corrupt|unparseable",
    ),
    "not JSON": (lambda data: zlib.compress(b"{not json\n"), "unparseable: a line is not JSON"),
    "its last line lost": (
        lambda data: _compressed(_lines(data)[:-1]),
        "truncated: it ends before its last line",
    ),
    "an entry lost": (lambda data: _compressed(_lines(data)[:1] + _lines(data)[2:]), "its end says"),
    "empty": (lambda data: b"", "truncated: its compressed stream ends early"),
}


async def test_a_snapshot_that_cannot_be_trusted_is_ignored_saying_why(
    estate: Estate, tmp_path: Path
) -> None:
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    store = DirectoryStore(tmp_path / "cache")
    async with process(stores(tmp_path / "converging")["directory"]) as engine:
        await engine.reconcile(source.load())  # from empty
    async with process(lambda _: store) as engine:
        await engine.reconcile(source.load())
        revisions = engine.clients.calls_by_operation()["ecs:DescribeTaskDefinition"]
        assert await engine.save_caches()
        path = store.path(engine.cache_identity)
    good = path.read_bytes()
    for case, (spoil, reason) in UNTRUSTED.items():
        path.write_bytes(spoil(good))
        with structlog.testing.capture_logs() as logs:
            async with process(lambda _: store) as engine:
                assert not await engine.restore_caches(), case
                outcome = await engine.reconcile(source.load())
                described = engine.clients.calls_by_operation()["ecs:DescribeTaskDefinition"]
        ignored = [e for e in logs if e["event"] == "cache snapshot ignored"]
        assert len(ignored) == 1 and ignored[0]["log_level"] == "warning", case
        assert any(r in ignored[0]["reason"] for r in reason.split("|")), (case, ignored[0]["reason"])
        assert described == revisions, f"{case}: the pass read every revision"
        assert outcome.plan.changes == [], case


async def test_the_lease_table_holds_a_snapshot_in_chunks_of_one_generation(
    estate: Estate, tmp_path: Path, boto: BotoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_snapshot, "CHUNK_BYTES", 300)  # several chunks from a small estate
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    table = stores(tmp_path)["table"]
    async with process(table) as engine:
        await engine.reconcile(source.load())
        assert await engine.save_caches(now=True)
        first = _cache_items(boto)
        # the same process writes again: a new generation replaces the first
        assert await engine.save_caches(store=TableStore(engine.clients, TABLE))
        second = _cache_items(boto)
    generations = {key.split("#")[2] for key in first if key.count("#") == 3}
    assert len(first) > 3 and len(generations) == 1  # a head and its chunks
    assert len(second) == len(first) and not set(second) & (set(first) - {"cache#us-east-1/default/default"})
    async with process(table) as engine:
        assert await engine.restore_caches()
    boto("dynamodb").delete_item(
        TableName=TABLE, Key={"pk": {"S": sorted(k for k in second if k.count("#") == 3)[1]}}
    )
    with structlog.testing.capture_logs() as logs:
        async with process(table) as engine:
            assert not await engine.restore_caches()
    ignored = [e for e in logs if e["event"] == "cache snapshot ignored"]
    assert len(ignored) == 1 and "chunks of generation" in ignored[0]["reason"]


def _cache_items(boto: BotoFactory) -> set[str]:
    items = boto("dynamodb").scan(TableName=TABLE)["Items"]
    return {item["pk"]["S"] for item in items if item["pk"]["S"].startswith("cache#")}


async def test_the_daemon_restores_at_start_and_writes_when_it_stops(estate: Estate, tmp_path: Path) -> None:
    """The daemon's wiring: the snapshot is read before the first pass and written after it (it changed: the
    first process had none), and the next daemon's first pass describes no revision."""
    store = DirectoryStore(tmp_path / "cache")
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    described = []
    for _ in range(2):
        with structlog.testing.capture_logs() as logs:
            async with AwsClients(region=None, endpoint_url=None) as clients:
                engine = Engine(clients, options=PlanOptions(), snapshots=store)
                options = DaemonOptions(interval=300.0, debounce_ms=50, host="127.0.0.1", port=free_port())
                daemon = Daemon(source, engine, options)
                task = asyncio.create_task(daemon.run())
                await eventually(lambda: daemon.tracker.passes >= 1, within=60)  # noqa: B023 - awaited here
                daemon.stop()
                await asyncio.wait_for(task, timeout=10)
                described.append(clients.calls_by_operation()["ecs:DescribeTaskDefinition"])
        assert any(e["event"] in ("cache snapshot restored", "no cache snapshot") for e in logs)
        assert store.path(engine.cache_identity).exists()
    assert described[0] == 0  # the first daemon converged from empty: it registered every revision
    assert [e["event"] for e in logs if e["event"].startswith(("cache snapshot", "no cache"))] == [
        "cache snapshot restored"
    ]
    assert described[1] == 0
