"""Long-polling the events queue (``--events-queue-url``): each batch of AWS events becomes one wake-up of the
daemon with the keys of the resources they name (``keys.py``), for a targeted pass at once.

Messages are deleted once handed over: an event is a hint, and the interval pass is the safety net for one lost or
not understood. Receiving errors are logged, counted (``reconciler_events_received_total{result="error"}``) and
retried with a growing pause; they never stop the daemon. Only a replica that may write consumes events (with a
lease, the leader): another would take them from the queue and have nothing to do with them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import structlog

from reconciler import metrics
from reconciler.live.clients import AwsClients
from reconciler.model.resource import ResourceKey

log = structlog.get_logger(__name__)
WAIT_SECONDS = 20  # SQS's longest long poll: one call per 20 s on a quiet queue
BATCH = 10  # SQS's most messages a call
PAUSE_AFTER_ERROR = (1.0, 30.0)  # first and longest pause after a failed receive
FOLLOWER_PAUSE = 1.0  # seconds between checks while this replica may not write

Resolve = Callable[[object], tuple[str, set[ResourceKey]]]  # an event → (result, keys)
Touch = Callable[[set[ResourceKey], str], None]


class EventQueue:
    def __init__(
        self, clients: AwsClients, url: str, *, may_consume: Callable[[], bool] = lambda: True
    ) -> None:
        self._clients = clients
        self.url = url
        self._may_consume = may_consume

    async def run(self, resolve: Resolve, touch: Touch, stop: asyncio.Event) -> None:
        """Receive until ``stop``: each batch's keys go to ``touch`` in one call."""
        pause = PAUSE_AFTER_ERROR[0]
        while not stop.is_set():
            if not self._may_consume():
                await _sleep_unless(stop, FOLLOWER_PAUSE)
                continue
            try:
                await self.receive_once(resolve, touch)
                pause = PAUSE_AFTER_ERROR[0]
            except (
                Exception
            ) as exc:  # the queue gone, no permission, a network error: the interval pass goes on
                metrics.EVENTS_RECEIVED.labels(result="error").inc()
                log.error("cannot receive from the events queue", queue=self.url, error=str(exc),
                          error_type=type(exc).__name__, retry_in=pause)  # fmt: skip
                await _sleep_unless(stop, pause)
                pause = min(pause * 2, PAUSE_AFTER_ERROR[1])

    async def receive_once(self, resolve: Resolve, touch: Touch, *, wait: int = WAIT_SECONDS) -> int:
        """One long poll; returns how many messages it handled."""
        sqs = await self._clients.client("sqs")
        answer = await sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=wait)
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        keys: set[ResourceKey] = set()
        for message in messages:
            result, found = resolve(_body(message))
            metrics.EVENTS_RECEIVED.labels(result=result).inc()
            if result == "invalid":
                log.warning(
                    "an events-queue message is not an EventBridge event", message_id=message.get("MessageId")
                )
            keys |= found
        if keys:
            touch(keys, f"AWS events name {', '.join(sorted(map(str, keys))[:5])}")
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            await sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
        return len(messages)


def _body(message: dict[str, Any]) -> object:
    try:
        return json.loads(message.get("Body", ""))
    except ValueError:
        return None


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
