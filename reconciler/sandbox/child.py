"""Helpers for the sandbox's child processes (the emulator, the fault proxy): each prints ``LISTENING <port>`` on
stdout once it is bound; the parent reads that line with a deadline."""

from __future__ import annotations

import atexit
import os
import select
import subprocess
import time
from types import TracebackType
from typing import IO, Self

READY_PREFIX = "LISTENING "
STOP_TIMEOUT_SECONDS = 5.0


class ChildProcess:
    """A running child and its URL. Stops with its parent (atexit), or when asked: close its stdin (it stops by
    itself), else terminate, else kill. Safe to stop more than once."""

    def __init__(self, *, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        atexit.unregister(self.stop)
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        for escalate in (self.process.terminate, self.process.kill):
            try:
                self.process.wait(timeout=timeout)
                break
            except subprocess.TimeoutExpired:
                escalate()
        self.process.wait(timeout=timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def read_bound_port(
    process: subprocess.Popen[bytes], *, timeout: float, what: str, error: type[Exception]
) -> int:
    """The port from the child's ``LISTENING <port>`` line; ``error`` when it does not come in time."""
    assert process.stdout is not None
    line = _read_line(process.stdout, deadline=time.monotonic() + timeout, what=what, error=error)
    text = line.decode(errors="replace").strip()
    if not text.startswith(READY_PREFIX):
        raise error(f"{what} did not start (exit status {process.poll()}, said {text!r})")
    return int(text.removeprefix(READY_PREFIX))


def _read_line(stream: IO[bytes], *, deadline: float, what: str, error: type[Exception]) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise error(f"{what} did not report its port in time")
        readable, _, _ = select.select([stream], [], [], remaining)
        if readable:
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                break
            line += chunk
    return line
