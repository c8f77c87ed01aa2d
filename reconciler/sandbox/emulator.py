"""Starting and stopping the emulator: moto's server, patched, in a process of its own.

moto's server is single-threaded Python; in the reconciler's process it would compete with the event loop,
so it gets its own process (DESIGN §5). The process is tied to ours three ways: its stdin is a pipe from us
and it exits when that pipe closes (which also covers SIGKILL of the parent), ``stop()`` terminates it, and
an ``atexit`` hook stops whatever is still running when the interpreter exits. Nothing is left listening
after a test run.

``EmulatorProcess`` is the synchronous handle (pytest session fixtures); ``Emulator`` and ``start_emulator``
are the asyncio face of the same thing (``reconciler sandbox``).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from types import TracebackType
from typing import IO, Self

from reconciler.sandbox.server import READY_PREFIX

DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


class EmulatorError(RuntimeError):
    """The emulator process did not start, or did not answer."""


class EmulatorProcess:
    """A running emulator process and its URL (``http://127.0.0.1:PORT``)."""

    def __init__(self, *, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url

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
        atexit.register(emulator.stop)
        try:
            bound_port = _read_bound_port(process, timeout=start_timeout)
            emulator.url = f"http://{host}:{bound_port}"
            _wait_until_answering(emulator.url, timeout=start_timeout)
        except BaseException:
            emulator.stop()
            raise
        return emulator

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def reset(self) -> None:
        """Wipe every resource in every moto backend (``POST /moto-api/reset``)."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def stop(self, *, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop the process: close its stdin, then terminate, then kill. Safe to call more than once."""
        atexit.unregister(self.stop)
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        if self.running:
            self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


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


def _read_bound_port(process: subprocess.Popen[bytes], *, timeout: float) -> int:
    """The port from the server's ``LISTENING <port>`` line, or ``EmulatorError`` when it does not come."""
    assert process.stdout is not None
    line = _read_line(process.stdout, deadline=time.monotonic() + timeout)
    text = line.decode(errors="replace").strip()
    if not text.startswith(READY_PREFIX):
        raise EmulatorError(f"emulator did not start (exit status {process.poll()}, said {text!r})")
    return int(text.removeprefix(READY_PREFIX))


def _read_line(stream: IO[bytes], *, deadline: float) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EmulatorError("emulator did not report its port in time")
        readable, _, _ = select.select([stream], [], [], remaining)
        if readable:
            chunk = os.read(stream.fileno(), 1)
            if not chunk:
                break
            line += chunk
    return line


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
