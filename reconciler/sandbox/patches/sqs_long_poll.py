"""SQS long polling must not stop the emulator.

AWS: ``ReceiveMessage`` with ``WaitTimeSeconds`` holds the caller's connection up to 20 s while every other call
goes on. moto waits inside the request (``Queue.wait_for_messages``), and our server runs one request at a time
(moto's backends are not thread-safe, see ``server.OneRequestAtATime``): a daemon long-polling its events queue
froze the whole emulator for 20 s a poll. Patched: while a receive waits, it lets go of the emulator's lock (and
looks again every 50 ms), so other calls — the very writes whose events it waits for — run meanwhile.
"""

from __future__ import annotations

import threading
import time

from moto.sqs.models import Queue

EMULATOR_LOCK = threading.Lock()  # one moto request at a time (server.OneRequestAtATime takes it)
POLL_SECONDS = 0.05


def apply() -> None:
    def wait_for_messages(self: Queue, timeout: int) -> None:
        deadline = time.monotonic() + timeout
        while not self.messages and time.monotonic() < deadline:
            EMULATOR_LOCK.release()
            try:
                time.sleep(POLL_SECONDS)
            finally:
                EMULATOR_LOCK.acquire()

    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]
