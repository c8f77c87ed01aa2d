"""The daemon following a Git repository: a real repository on disk behind a ``file://`` remote, the
example estate in its ``deploy/`` folder, and moto's server. Pushes go live within two fetch intervals or at once on
a signed ``POST /sync``; force-pushes, invalid commits, an unreachable remote, an emptied repository, too many
deletions and bursts of pushes are each handled as a user expects."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from reconciler.live.clients import AwsClients
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.runtime.one_shot import plan_options
from reconciler.runtime.options import desired_source
from reconciler.settings import Settings
from tests.conftest import BotoFactory
from tests.e2e.conftest import Estate, Repo, count_api_calls
from tests.e2e.test_daemon import desired_count, eventually, free_port, metric

SECRET = b"webhook-secret-for-tests"
WORDPRESS = "deploy/services/wordpress.yaml"


@asynccontextmanager
async def git_daemon(
    estate: Estate, repo: Repo, tmp_path: Path, *, git_interval: float = 60, **settings: object
) -> AsyncIterator[tuple[Daemon, str]]:
    """The daemon as ``run --git-url`` builds it, on a free port; yields it once its first pass is done."""
    port = free_port()
    config = Settings(git_url=repo.url, git_ref="main", git_path="deploy", git_interval=git_interval,
                      git_cache_dir=tmp_path / "cache", vars=[estate.vars_file], git_allow_local=True,
                      **settings)  # type: ignore[arg-type]  # fmt: skip
    options = DaemonOptions(interval=60, debounce_ms=500, host="127.0.0.1", port=port, webhook_secret=SECRET)
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=plan_options(config))
        daemon = Daemon(desired_source(config), engine, options)
        task = asyncio.create_task(daemon.run())
        try:
            await eventually(daemon.ready, within=30)
            yield daemon, f"http://127.0.0.1:{port}"
        finally:
            daemon.stop()
            await asyncio.wait_for(task, timeout=10)


async def post_sync(base: str, *, signature: str | None) -> int:
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    body = b'{"ref": "refs/heads/main"}'
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/sync", data=body, headers=headers) as response,
    ):
        return response.status


def signed(body: bytes = b'{"ref": "refs/heads/main"}') -> str:
    return "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()


async def status(base: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as http, http.get(f"{base}/status") as response:
        body: dict[str, object] = await response.json()
        return body


def service_tags(boto: BotoFactory, name: str) -> dict[str, str]:
    arn = boto("ecs").describe_services(cluster="myapp-prod", services=[name])["services"][0]["serviceArn"]
    return {t["key"]: t["value"] for t in boto("ecs").list_tags_for_resource(resourceArn=arn)["tags"]}


async def test_pushes_go_live_within_two_intervals_and_bad_commits_change_nothing(
    estate: Estate, repo: Repo, tmp_path: Path, boto: BotoFactory
) -> None:
    interval = 2.0
    first = repo.git("rev-parse", "HEAD")
    async with git_daemon(estate, repo, tmp_path, git_interval=interval) as (daemon, base):
        assert daemon.last_good is not None and daemon.last_good.revision == first
        assert service_tags(boto, "wordpress")["reconciler:revision"] == first

        # A pushed commit is live within twice --git-interval; only what it changes gets the new revision tag.
        repo.edit(WORDPRESS, "desiredCount: 1", "desiredCount: 2")
        pushed = time.monotonic()
        second = repo.commit("wordpress: two tasks")
        await eventually(
            lambda: (
                desired_count(boto) == 2 and service_tags(boto, "wordpress")["reconciler:revision"] == second
            ),
            within=2 * interval,
        )  # the tag is written right after the update: wait for both
        print(f"pushed commit live after {time.monotonic() - pushed:.2f} s (--git-interval {interval})")
        assert service_tags(boto, "frontapp")["reconciler:revision"] == first  # unchanged: not rewritten
        assert (await status(base))["revision"] == second

        # A force-push back to the first commit applies the first commit.
        repo.git("reset", "-q", "--hard", first)
        repo.git("push", "-q", "--force", "origin", "HEAD:main")
        await eventually(lambda: desired_count(boto) == 1, within=2 * interval)
        assert daemon.last_good.revision == first

        # A commit with one invalid file applies nothing, and the previous revision stays live.
        repo.edit(WORDPRESS, "desiredCount: 1", "desiredCount: 3")
        (repo.work / "deploy" / "services" / "broken.yaml").write_text("kind: Service\nspec: {cluster: [\n")
        invalid = repo.commit("an invalid file")
        await eventually(
            lambda: _equals(metric(base, "reconciler_desired_state_valid"), 0.0), within=2 * interval
        )
        assert desired_count(boto) == 1
        assert daemon.last_good.revision == first and (await status(base))["revision"] == first

        # Git unreachable for several intervals: the last revision stays in force and the failure is reported.
        errors = await metric(base, "reconciler_source_errors_total")
        repo.remote.rename(repo.remote.with_name("moved.git"))
        await asyncio.sleep(3 * interval)
        assert await metric(base, "reconciler_source_errors_total") >= errors + 2
        source = (await status(base))["source"]
        assert isinstance(source, dict) and source["revision"] == invalid and "fetch" in source["lastError"]
        boto("ecs").update_service(cluster="myapp-prod", service="wordpress", desiredCount=7)
        assert await post_sync(base, signature=signed()) == 202
        await eventually(lambda: desired_count(boto) == 1)  # the last good revision is still enforced
        assert daemon.last_good.revision == first


async def test_webhooks_signed_bursts_and_wrong_signatures(
    estate: Estate, repo: Repo, tmp_path: Path, boto: BotoFactory
) -> None:
    async with git_daemon(estate, repo, tmp_path) as (daemon, base):  # no fetch by interval in this test
        # A wrong or missing signature: 401, and nothing is fetched or run.
        repo.edit(WORDPRESS, "desiredCount: 1", "desiredCount: 2")
        repo.commit("wordpress: two tasks")
        passes = daemon.passes
        assert await post_sync(base, signature=None) == 401
        assert await post_sync(base, signature="sha256=" + "0" * 64) == 401
        await asyncio.sleep(1.0)
        assert daemon.passes == passes and desired_count(boto) == 1

        # A signed POST /sync: live within 2 s.
        started = time.monotonic()
        assert await post_sync(base, signature=signed()) == 202
        await eventually(lambda: desired_count(boto) == 2, within=2.0)
        print(f"signed /sync live after {time.monotonic() - started:.2f} s")

        # 20 commits pushed within a second, each with its webhook: at most 2 passes, the last on the newest.
        passes = daemon.passes
        started = time.monotonic()
        for count in range(3, 23):
            repo.edit(WORDPRESS, f"desiredCount: {count - 1}", f"desiredCount: {count}")
            newest = repo.commit(f"wordpress: {count} tasks")
            assert await post_sync(base, signature=signed()) == 202
        burst = time.monotonic() - started
        await eventually(lambda: daemon.last_good is not None and daemon.last_good.revision == newest)
        await asyncio.sleep(1.5)  # anything still to come would have come by now
        print(f"20 pushes in {burst:.2f} s → {daemon.passes - passes} passes")
        assert daemon.passes - passes <= 2
        assert daemon.last_good.revision == newest and desired_count(boto) == 22


SIX_SERVICES = "".join(
    f"""---
apiVersion: reconciler/v1
kind: Service
metadata: {{name: batch-{i}, deletionPolicy: Delete}}
spec:
  cluster: myapp-prod
  taskDefinition: wordpress
  desiredCount: 0
  launchType: FARGATE
  networkConfiguration:
    awsvpcConfiguration: {{subnets: ["${{PRIVATE_SUBNET_A}}"], securityGroups: ["${{APP_SECURITY_GROUP}}"]}}
"""
    for i in range(6)
)


async def test_emptied_repository_and_too_many_deletions_delete_nothing(
    estate: Estate, repo: Repo, tmp_path: Path, boto: BotoFactory
) -> None:
    (repo.work / "deploy" / "services" / "batch.yaml").write_text(SIX_SERVICES)
    repo.commit("six batch services")

    def active() -> set[str]:
        arns = boto("ecs").list_services(cluster="myapp-prod")["serviceArns"]
        return {arn.rsplit("/", 1)[1] for arn in arns}

    async with git_daemon(estate, repo, tmp_path, max_deletions=5) as (daemon, base):
        assert {f"batch-{i}" for i in range(6)} <= active()
        everything = active()

        # Six deletionPolicy: Delete services gone from Git, with --max-deletions 5: none deleted, and it says why.
        (repo.work / "deploy" / "services" / "batch.yaml").unlink()
        without_batch = repo.commit("remove the batch services")
        writes = count_api_calls(writes_only=True)
        assert await post_sync(base, signature=signed()) == 202
        await eventually(lambda: daemon.last_good is not None and daemon.last_good.revision == without_batch)
        await eventually(lambda: _equals(metric(base, "reconciler_deletions_blocked"), 6.0))
        assert active() == everything and count_api_calls(writes_only=True) == writes

        # A commit that deletes every document: nothing is pruned or written.
        shutil.rmtree(repo.work / "deploy")
        (repo.work / "deploy").mkdir()
        (repo.work / "deploy" / "README").write_text("moved elsewhere\n")
        emptied = repo.commit("delete every document")
        assert await post_sync(base, signature=signed()) == 202
        await eventually(lambda: daemon.last_good is not None and daemon.last_good.revision == emptied)
        await asyncio.sleep(0.5)
        assert active() == everything and count_api_calls(writes_only=True) == writes


async def _equals(value: object, expected: float) -> bool:
    return await value == expected  # type: ignore[misc]
