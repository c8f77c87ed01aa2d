"""Notifications end to end: the daemon on the example estate in the emulator, sending to local receivers. Drift
(with a secret in its diff) that fails to apply until the fault proxy lets it, an invalid desired state,
deletions blocked, a failed deployment and Degraded are each told exactly once per episode across many passes, in
the documented JSON and as Slack Block Kit; a receiver that answers 500 first gets the message after a retry, and
one that never answers holds no pass. A Git source on a local "GitHub" gets one commit status per state change."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from reconciler.live.clients import AwsClients
from reconciler.notify.github import repository_of
from reconciler.notify.sender import Notifier
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.runtime.notices import Notices
from reconciler.runtime.one_shot import plan_options
from reconciler.runtime.options import desired_source, notices_of
from reconciler.sandbox.emulator import EmulatorProcess
from reconciler.sandbox.fault_rules import FaultRules, OperationFaults
from reconciler.sandbox.faults import FaultProxyProcess
from reconciler.settings import Settings
from reconciler.source.directory import DirectorySource
from tests.conftest import BotoFactory, wait_until_settled
from tests.e2e.conftest import Estate, Repo
from tests.e2e.test_daemon import INVALID_DOCUMENT, _answers, eventually, free_port, status_code
from tests.e2e.test_security import add_secret_variable, move_wordpress_to_a_revision_with
from tests.notify.receiver import Receiver, receiving
from tests.notify.schemas import check_notification, check_slack

WORDPRESS = "services/wordpress.yaml"
IN_GIT, BY_HAND = "s3cr3t-from-git-0001", "s3cr3t-by-hand-0002"


@asynccontextmanager
async def notifying_daemon(
    estate: Estate, notifier: Notifier, *, endpoint_url: str | None = None, max_attempts: int = 8
) -> AsyncIterator[tuple[Daemon, str]]:
    port = free_port()
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=endpoint_url, max_attempts=max_attempts) as clients:
        engine = Engine(clients, options=PlanOptions(max_deletions=0))
        options = DaemonOptions(interval=0.3, debounce_ms=50, host="127.0.0.1", port=port)
        daemon = Daemon(source, engine, options, notices=Notices(notifier))
        task = asyncio.create_task(daemon.run())
        base = f"http://127.0.0.1:{port}"
        try:
            await eventually(lambda: _answers(base), within=30)
            yield daemon, base
        finally:
            daemon.stop()
            await asyncio.wait_for(task, timeout=10)


async def passes_go_by(daemon: Daemon, count: int = 2) -> None:
    """Several more full passes: an episode still open must not be told again."""
    start = daemon.tracker.passes
    await eventually(lambda: daemon.tracker.passes >= start + count, within=15)


@asynccontextmanager
async def fault_proxy(emulator: EmulatorProcess) -> AsyncIterator[FaultProxyProcess]:
    """The fault proxy in front of the emulator, passing everything until told otherwise."""
    with FaultProxyProcess.start(emulator.url, FaultRules()) as proxy:
        yield proxy


def told(receiver: Receiver) -> Counter[str]:
    return Counter(receiver.events())


async def test_each_event_is_told_once_per_episode(
    estate: Estate, boto: BotoFactory, emulator: EmulatorProcess
) -> None:
    add_secret_variable(estate, IN_GIT)
    async with (
        fault_proxy(emulator) as proxy,
        receiving(Receiver(answers=[500])) as webhook,
        receiving(Receiver()) as slack,
        receiving(Receiver(hang=True)) as hanging,
    ):
        notifier = Notifier(instance="default", ui_url="https://reconciler.example.com")
        notifier.webhook(webhook.url + "/hook", limit=None)
        notifier.webhook(hanging.url, limit=None)
        notifier.slack(slack.url + "/services/T0/B0/X", limit=None)
        async with notifying_daemon(estate, notifier, endpoint_url=proxy.url, max_attempts=1) as (
            daemon,
            base,
        ):
            await asyncio.to_thread(wait_until_settled, boto)
            await passes_go_by(daemon)
            assert told(webhook) == {}, webhook.events()  # creating the estate is no news

            # Drift, by hand, of a secret value, while ECS answers every UpdateService with 500: the correction
            # fails at every pass, told once; once ECS answers again, it is corrected. No secret in any message.
            proxy.set_rules(
                FaultRules(operations=[OperationFaults(match="ecs:UpdateService", server_error=1.0)])
            )
            move_wordpress_to_a_revision_with(boto, BY_HAND)
            await status_code(base, "/sync", method="POST")
            await eventually(lambda: told(webhook)["apply_failed"] == 1)
            await passes_go_by(daemon, 3)
            assert told(webhook) == {"drift_detected": 1, "apply_failed": 1}, webhook.events()
            proxy.set_rules(FaultRules())
            await eventually(lambda: told(webhook)["drift_corrected"] == 1)
            await passes_go_by(daemon)
            assert told(webhook) == {"drift_detected": 1, "apply_failed": 1, "drift_corrected": 1}
            assert webhook.attempts == len(webhook.received) + 1  # the 500, then a retry that got through

            # An invalid desired state: once, however many passes keep the last good one.
            (estate.dir / "services" / "broken.yaml").write_text(INVALID_DOCUMENT)
            await eventually(lambda: told(webhook)["desired_state_invalid"] == 1)
            await passes_go_by(daemon)
            (estate.dir / "services" / "broken.yaml").unlink()

            # A replacement over --max-deletions 0: deletions blocked until the document is back.
            estate.edit(WORDPRESS, "launchType: FARGATE", "launchType: EC2")
            await eventually(lambda: told(webhook)["deletions_blocked"] == 1)
            await passes_go_by(daemon)
            estate.edit(WORDPRESS, "launchType: EC2", "launchType: FARGATE")
            await passes_go_by(daemon)

            # A crash-looping image, circuit breaker on without rollback: the deployment fails, Degraded.
            estate.edit(
                WORDPRESS,
                "      enable: true\n      rollback: true",
                "      enable: true\n      rollback: false",
            )
            estate.edit(WORDPRESS, "${WORDPRESS_TAG:=6.6-apache}", "6.6-crashloop")
            await eventually(
                lambda: told(webhook)["deployment_failed"] == 1 and told(webhook)["degraded"] == 1, within=20
            )
            started = time.monotonic()
            await passes_go_by(daemon, 5)
            assert time.monotonic() - started < 5, "passes were held"  # the hanging receiver holds none

        expected = {"drift_detected": 1, "apply_failed": 1, "drift_corrected": 1, "desired_state_invalid": 1,
                    "deletions_blocked": 1, "deployment_failed": 1, "degraded": 1}  # fmt: skip
        assert told(webhook) == expected, webhook.events()
        assert told(slack) == {}  # Slack's bodies carry no event field: counted below
        assert len(slack.received) == sum(expected.values())
        for request in webhook.received:
            check_notification(request.body)
            assert request.body["reconciler"]["instance"] == "default"
            assert request.body["url"].startswith("https://reconciler.example.com/")
        for request in slack.received:
            check_slack(request.body)
        everything = json.dumps([r.body for r in (*webhook.received, *slack.received)])
        assert IN_GIT not in everything and BY_HAND not in everything

        by_event = {r.body["event"]: r.body for r in webhook.received}
        drift = by_event["drift_detected"]
        assert drift["resource"] == {"kind": "Service", "name": "wordpress"}, drift
        assert drift["by"]["foundBy"] == "periodic pass", drift  # who made it: no event named anyone here
        problems = by_event["desired_state_invalid"]["details"]["problems"]
        assert problems and all("broken.yaml:" in p for p in problems)
        assert by_event["deployment_failed"]["resource"]["name"] == "wordpress"
        assert (
            by_event["apply_failed"]["resource"]["name"] == "wordpress"
            and by_event["apply_failed"]["details"]["error"]
        )


TOKEN = "ghp_test_token_not_real_0123456789"


async def test_a_commit_status_per_state_change_of_each_revision(
    estate: Estate, repo: Repo, tmp_path: Path, boto: BotoFactory
) -> None:
    """A Git source on "GitHub" (a local receiver as --github-api-url): each revision gets pending, then success
    once converged and healthy; an invalid one gets failure; no state is posted twice for a revision."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    async with receiving(Receiver()) as github:
        config = Settings(git_url=repo.url, git_ref="main", git_path="deploy", git_interval=0.3,
                          git_cache_dir=tmp_path / "cache", vars=[estate.vars_file], git_allow_local=True,
                          github_token_file=tmp_path / "token", github_api_url=github.url + "/api/v3",
                          ui_url="https://reconciler.example.com")  # fmt: skip
        notices = notices_of(config)
        port = free_port()
        async with AwsClients(region=None, endpoint_url=None) as clients:
            engine = Engine(clients, options=plan_options(config))
            options = DaemonOptions(interval=0.3, debounce_ms=50, host="127.0.0.1", port=port)
            daemon = Daemon(desired_source(config), engine, options, notices=notices)
            task = asyncio.create_task(daemon.run())
            try:
                first = repo.git("rev-parse", "HEAD")
                await eventually(lambda: states(github).get(first, [])[-1:] == ["success"], within=30)
                repo.edit("deploy/services/wordpress.yaml", "desiredCount: 1", "desiredCount: 2")
                (repo.work / "deploy" / "services" / "broken.yaml").write_text(INVALID_DOCUMENT)
                invalid = repo.commit("an invalid document")
                await eventually(lambda: states(github).get(invalid) == ["failure"], within=10)
                (repo.work / "deploy" / "services" / "broken.yaml").unlink()
                fixed = repo.commit("without the invalid document")
                await eventually(lambda: states(github).get(fixed, [])[-1:] == ["success"], within=30)
                await passes_go_by(daemon)
            finally:
                daemon.stop()
                await asyncio.wait_for(task, timeout=10)
    owner, name = repository_of(repo.url) or ("", "")
    assert states(github) == {
        first: ["pending", "success"],
        invalid: ["failure"],
        fixed: ["pending", "success"],
    }
    for request in github.received:
        assert request.path.startswith(f"/api/v3/repos/{owner}/{name}/statuses/")
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.body["context"] == "reconciler/default"
        assert request.body["target_url"] == "https://reconciler.example.com/"
        assert len(request.body["description"]) <= 140
    failure = next(r.body for r in github.received if r.body["state"] == "failure")
    assert "desired state invalid" in failure["description"] and "broken.yaml" in failure["description"]


def states(github: Receiver) -> dict[str, list[str]]:
    """The states posted for each commit, in order."""
    posted: dict[str, list[str]] = {}
    for request in github.received:
        posted.setdefault(request.path.rsplit("/", 1)[1], []).append(request.body["state"])
    return posted
