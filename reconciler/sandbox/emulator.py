"""Starting and stopping the emulator: moto's server, patched, in a process of its own.

moto's server is single-threaded Python; in the reconciler's process it would compete with the event loop,
so it gets its own process. The process is tied to ours three ways: its stdin is a pipe from us
and it exits when that pipe closes (which also covers SIGKILL of the parent), ``stop()`` terminates it, and
an ``atexit`` hook stops whatever is still running when the interpreter exits. Nothing is left listening
after a test run.

``EmulatorProcess`` is the synchronous handle (pytest session fixtures); ``Emulator`` and ``start_emulator``
are the asyncio face of the same thing (``reconciler sandbox``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from reconciler.sandbox.child import ChildProcess, read_bound_port
from reconciler.sandbox.timing import TIMING_PATH

DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


class EmulatorError(RuntimeError):
    """The emulator process did not start, or did not answer."""


class EmulatorProcess(ChildProcess):
    """A running emulator process and its URL (``http://127.0.0.1:PORT``)."""

    @classmethod
    def start(
        cls,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        start_timeout: float = START_TIMEOUT_SECONDS,
        extra_env: Mapping[str, str] | None = None,
        verbose: bool = False,
    ) -> EmulatorProcess:
        """Start the server and return once it answers HTTP; port 0 lets the OS pick a free port."""
        command = [sys.executable, "-m", "reconciler.sandbox.server", "--host", host, "--port", str(port)]
        command += ["--exit-on-stdin-eof", *(["--verbose"] if verbose else [])]
        environment = {**os.environ, **(extra_env or {})}
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environment)
        emulator = cls(process=process, url="")
        try:
            bound_port = read_bound_port(process, timeout=start_timeout, what="emulator", error=EmulatorError)
            emulator.url = f"http://{host}:{bound_port}"
            _wait_until_answering(emulator.url, timeout=start_timeout)
        except BaseException:
            emulator.stop()
            raise
        return emulator

    def reset(self) -> None:
        """Wipe every resource in every moto backend (``POST /moto-api/reset``); the times go back to those of the
        emulator's environment."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def set_timing(self, **seconds: float | bool) -> dict[str, float]:
        """Change how long the emulator's steps take until the next reset (``sandbox/timing.py``):
        ``set_timing(ecs_rollout=0.5)``, or ``set_timing(instant=True)`` for every step on the next request."""
        body = json.dumps(seconds).encode()
        request = urllib.request.Request(f"{self.url}{TIMING_PATH}", method="POST", data=body)
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, float] = json.loads(response.read())
        return answer


class Emulator:
    """The asyncio face of a running emulator; an async context manager that stops it on exit."""

    def __init__(self, process: EmulatorProcess) -> None:
        self.process = process

    @property
    def url(self) -> str:
        return self.process.url

    async def reset(self) -> None:
        await asyncio.to_thread(self.process.reset)

    async def stop(self) -> None:
        await asyncio.to_thread(self.process.stop)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


async def start_emulator(
    *,
    host: str = DEFAULT_HOST,
    port: int = 0,
    start_timeout: float = START_TIMEOUT_SECONDS,
    extra_env: Mapping[str, str] | None = None,
    verbose: bool = False,
) -> Emulator:
    """Start the patched moto server in its own process and return once it answers."""
    process = await asyncio.to_thread(
        EmulatorProcess.start,
        host=host,
        port=port,
        start_timeout=start_timeout,
        extra_env=extra_env,
        verbose=verbose,
    )
    return Emulator(process)


def _wait_until_answering(url: str, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/moto-api/", timeout=5) as response:
                response.read()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is serving
        except OSError as error:
            if time.monotonic() > deadline:
                raise EmulatorError(f"emulator at {url} does not answer: {error}") from error
            time.sleep(0.05)
