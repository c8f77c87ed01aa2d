"""Two places where moto's SQS and EventBridge were unlike AWS for the events queue, over HTTP: a long poll holds
only its own caller (not the whole emulator), and a disabled rule delivers nothing (patches/sqs_long_poll.py,
patches/events_disabled_rules.py)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from reconciler.sandbox.seed import EVENTS_RULE, create_events_queue
from tests.conftest import REGION, BotoFactory

EVENT = {"Source": "aws.ecs", "DetailType": "ECS Service Action",
         "Detail": json.dumps({"eventName": "SERVICE_STEADY_STATE"})}  # fmt: skip


def test_a_long_poll_lets_other_calls_run(aws: str, boto: BotoFactory) -> None:
    queue = asyncio.run(create_events_queue(endpoint_url=aws, region=REGION))
    waited: list[float] = []

    def long_poll() -> None:
        started = time.monotonic()
        answer = boto("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=5)
        waited.append(time.monotonic() - started)
        assert "Messages" in answer  # the event put meanwhile

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.3)  # the receive is waiting now
    started = time.monotonic()
    boto("ecs").list_clusters()
    boto("events").put_events(Entries=[EVENT])
    assert time.monotonic() - started < 2  # AWS: other calls do not wait for someone's long poll
    poller.join(timeout=10)
    assert waited and waited[0] < 4  # the receive returned when the event arrived, not after 5 s


async def test_a_disabled_rule_delivers_nothing(aws: str, boto: BotoFactory) -> None:
    queue = await create_events_queue(endpoint_url=aws, region=REGION)
    events, sqs = boto("events"), boto("sqs")
    events.disable_rule(Name=EVENTS_RULE)
    events.put_events(Entries=[EVENT])
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)
    events.enable_rule(Name=EVENTS_RULE)
    events.put_events(Entries=[EVENT])
    assert len(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", [])) == 1
