"""Sending against a local receiver: retried on 5xx and 429 (after Retry-After), given up after a few tries,
never waited for by whoever offers, rate-limited into a digest; the token and the URL never in a log line."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import structlog

from reconciler.model.resource import ResourceKey
from reconciler.notify import limits
from reconciler.notify.episodes import Event, Notice
from reconciler.notify.sender import GitHubTarget, Notifier
from tests.notify.receiver import Receiver, receiving
from tests.notify.schemas import check_notification, check_slack


def notice(name: str = "web") -> Notice:
    return Notice(Event.DRIFT_DETECTED, f"Drift detected on Service/{name}", "2026-01-01T00:00:00+00:00",
                  "abc", ResourceKey("Service", name), {"paths": ["desiredCount"], "diff": []})  # fmt: skip


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "BACKOFF_BASE", 0.02)


@asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[None]:
    task = asyncio.create_task(notifier.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: object, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.01)


async def test_a_500_then_200_gets_there_after_a_retry() -> None:
    async with receiving(Receiver(answers=[500])) as receiver:
        notifier = Notifier(instance="prod")
        notifier.webhook(receiver.url + "/hook", limit=None)
        async with running(notifier):
            notifier.offer([notice()])
            await until(lambda: receiver.received)
        assert receiver.attempts == 2 and receiver.events() == ["drift_detected"]
        check_notification(receiver.received[0].body)


async def test_429_waits_for_retry_after() -> None:
    async with receiving(Receiver(answers=[429], retry_after="1")) as receiver:
        notifier = Notifier(instance="prod")
        notifier.webhook(receiver.url, limit=None)
        async with running(notifier):
            started = time.monotonic()
            notifier.offer([notice()])
            await until(lambda: receiver.received)
        assert time.monotonic() - started >= 1.0


async def test_given_up_after_a_few_tries_and_a_4xx_is_not_retried() -> None:
    async with receiving(Receiver(answers=[503] * 10)) as failing, receiving(Receiver(answers=[404])) as gone:
        notifier = Notifier(instance="prod")
        notifier.webhook(failing.url, limit=None)
        notifier.webhook(gone.url, limit=None)
        with structlog.testing.capture_logs() as logs:
            async with running(notifier):
                notifier.offer([notice()])
                await until(lambda: failing.attempts == limits.TRIES and gone.attempts == 1)
                await until(lambda: len([e for e in logs if e["event"] == "notification given up"]) == 2)
                await asyncio.sleep(0.2)
        assert (failing.attempts, gone.attempts, failing.received) == (limits.TRIES, 1, [])
        given_up = [e for e in logs if e["event"] == "notification given up"]
        assert {e["sink"] for e in given_up} == {"webhook 1", "webhook 2"}
        assert not any(failing.url in str(e) or gone.url in str(e) for e in logs)


async def test_a_receiver_that_never_answers_holds_nobody() -> None:
    async with receiving(Receiver(hang=True)) as hanging, receiving(Receiver()) as fine:
        notifier = Notifier(instance="prod")
        notifier.webhook(hanging.url, limit=None, timeout=0.2)
        notifier.webhook(fine.url, limit=None)
        async with running(notifier):
            started = time.perf_counter()
            for index in range(5000):  # more than a queue holds: the rest is dropped, not waited for
                notifier.offer([notice(f"s{index}")])
            assert time.perf_counter() - started < 1.0
            await until(lambda: len(fine.received) >= 100)  # the other sink goes on


async def test_over_the_rate_limit_one_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    async with receiving(Receiver()) as receiver:
        notifier = Notifier(instance="prod")
        notifier.webhook(receiver.url, limit=2)
        notifier.sinks[0].window = limits.Window(limit=2, span=0.5)
        async with running(notifier):
            notifier.offer([notice(f"s{i}") for i in range(6)])
            await until(lambda: len(receiver.received) == 3)
            await asyncio.sleep(0.7)
        assert receiver.events() == ["drift_detected", "drift_detected", "digest"]
        digest = receiver.received[2].body
        check_notification(digest)
        assert digest["details"]["counts"] == {"drift_detected": 4}


async def test_slack_gets_block_kit() -> None:
    async with receiving(Receiver()) as receiver:
        notifier = Notifier(instance="prod")
        notifier.slack(receiver.url + "/services/T0/B0/XXXX", limit=None)
        async with running(notifier):
            notifier.offer([notice("a<b>")])
            await until(lambda: receiver.received)
        body = receiver.received[0].body
        check_slack(body)
        assert "a&lt;b&gt;" in body["text"]


async def test_a_commit_status_carries_the_token_as_bearer_and_no_log_line_does() -> None:
    async with receiving(Receiver()) as receiver:
        notifier = Notifier(instance="prod")
        notifier.commit_statuses(
            receiver.url + "/api/v3",
            "ghp_token_value_123456",
            GitHubTarget("acme", "deploy", "reconciler/prod"),
        )
        with structlog.testing.capture_logs() as logs:
            async with running(notifier):
                notifier.commit_status("0123abc", {"state": "pending", "description": "d", "context": "c"})
                await until(lambda: receiver.received)
        request = receiver.received[0]
        assert request.path == "/api/v3/repos/acme/deploy/statuses/0123abc"
        assert request.headers["Authorization"] == "Bearer ghp_token_value_123456"
        assert not any("ghp_token_value_123456" in str(e) for e in logs)


async def test_a_message_that_cannot_be_sent_at_all_costs_only_itself() -> None:
    async with receiving(Receiver()) as receiver:
        notifier = Notifier(instance="prod")
        notifier.webhook(receiver.url, limit=None)
        sink = notifier.sinks[0]
        render = sink.render
        assert render is not None
        sink.render = lambda n: (
            {"not json": {1, 2}} if n.resource == ResourceKey("Service", "bad") else render(n)
        )
        async with running(notifier):
            notifier.offer([notice("bad"), notice("good")])
            await until(lambda: receiver.received)
        assert [r.body["resource"]["name"] for r in receiver.received] == ["good"]
