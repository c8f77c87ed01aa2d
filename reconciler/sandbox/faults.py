"""The fault-injection proxy: an HTTP proxy between the reconciler and the emulator that injects AWS's failures.

Every request is forwarded byte for byte (method, path, query, headers but the hop-by-hop ones, body) and the
answer sent back the same way, unless the rules (``fault_rules.FaultRules``) pick a fault for it:

- ``throttle`` / ``rate_limit``: AWS's throttling error in the call's protocol, not forwarded;
- ``server_error``: 500/503 with AWS's InternalFailure/ServiceUnavailable, not forwarded;
- ``latency_ms``: a delay before anything else;
- ``reset``: the connection is reset (RST) without an answer; by default before forwarding;
- ``read_timeout``: forwarded, then the answer is held ``read_timeout_seconds`` and the connection dropped;
- ``truncate``: forwarded, then the headers with the full Content-Length and only part of the body, then EOF.

Writes (calls that are not Describe/List/Get/…) are recorded in a write log with the caller's identity (the
``reconciler-replica/<id>`` token of its User-Agent, else the whole User-Agent); every request is counted per
(service, operation, outcome), and per (account, Region, service, operation, outcome): the account is the one the
rules' engine learned from STS answers (``fault_rules.issued_keys``). Control endpoints live under ``/__faults/``, a path AWS
never uses: ``GET /__faults/log``, ``GET /__faults/counts``, ``GET|PUT /__faults/rules``, ``POST /__faults/reset``.

``FaultProxy`` runs on the current event loop; ``FaultProxyProcess`` runs it in a process of its own
(``python -m reconciler.sandbox.faults --upstream URL``), for a reconciler that runs its own ``asyncio.run``
in the test's process, and for benchmarks, where the proxy must not compete with the reconciler's loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from pydantic import ValidationError

from reconciler.sandbox.child import READY_PREFIX, ChildProcess, read_bound_port
from reconciler.sandbox.fault_rules import (
    AwsCall,
    Decision,
    Fault,
    FaultEngine,
    FaultRules,
    error_answer,
    identify,
)

CONTROL_PREFIX = "/__faults"
DEFAULT_HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
FORWARDED = "forwarded"
UPSTREAM_ERROR = "upstream_error"
UNPARSED = "unparsed"

# RFC 9110 §7.6.1, plus the ones the proxy sets itself (the length of what it sends, 100-continue handling).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
    }
)
_REPLICA = re.compile(r"reconciler-replica/(\S+)")


@dataclass(frozen=True)
class WriteRecord:
    """One write call that reached the proxy. Monotonic times are the OS clock (comparable across processes
    on one machine); ``reached_upstream`` says whether the emulator saw the call (and so may have applied it)."""

    seq: int
    started: float  # time.monotonic() when the request arrived
    finished: float  # … when the proxy was done with it (answered, or dropped the connection)
    wall_time: float  # time.time() at arrival
    service: str
    operation: str
    caller: str
    outcome: str  # "forwarded", "upstream_error" or a Fault value
    status: int | None  # HTTP status the caller got (None: no answer)
    reached_upstream: bool


def caller_identity(user_agent: str) -> str:
    """The replica id from ``reconciler-replica/<id>`` in the User-Agent, else the whole User-Agent."""
    found = _REPLICA.search(user_agent)
    return found.group(1) if found else user_agent


@dataclass
class _Upstream:
    status: int
    reason: str | None
    headers: CIMultiDict[str]
    body: bytes


class FaultProxy:
    """The proxy on the running event loop. ``url = await proxy.start()`` … ``await proxy.stop()``, or
    ``async with FaultProxy(upstream, rules) as proxy``."""

    def __init__(
        self, upstream: str, rules: FaultRules | None = None, *, host: str = DEFAULT_HOST, port: int = 0
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.engine = FaultEngine(rules or FaultRules())
        self.host, self.port, self.url = host, port, ""
        self.write_log: list[WriteRecord] = []
        self.counts: Counter[tuple[str, str, str]] = Counter()
        # (account, Region, service, operation, outcome)
        self.target_counts: Counter[tuple[str, str, str, str, str]] = Counter()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[web.StreamResponse]] = set()
        self._stopping = asyncio.Event()

    @property
    def rules(self) -> FaultRules:
        return self.engine.rules

    def set_rules(self, rules: FaultRules) -> None:
        """Replace the rules: new randomness from the seed, full buckets; the accounts learned are kept (a key's
        account never changes)."""
        self.engine = FaultEngine(rules, accounts=self.engine.accounts)

    def reset(self) -> None:
        """Empty the write log and counts; reseed and refill, keeping the rules and the accounts learned."""
        self.write_log.clear()
        self.counts.clear()
        self.target_counts.clear()
        self.engine = FaultEngine(self.rules, accounts=self.engine.accounts)

    async def start(self) -> str:
        self._stopping.clear()
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=64),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=300),
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", f"{CONTROL_PREFIX}/log", self._get_log)
        app.router.add_route("GET", f"{CONTROL_PREFIX}/counts", self._get_counts)
        app.router.add_route("GET", f"{CONTROL_PREFIX}/rules", self._get_rules)
        app.router.add_route("PUT", f"{CONTROL_PREFIX}/rules", self._put_rules)
        app.router.add_route("POST", f"{CONTROL_PREFIX}/reset", self._post_reset)
        app.router.add_route("*", "/{tail:.*}", self._proxy)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.url = f"http://{self.host}:{self.port}"
        return self.url

    async def stop(self) -> None:
        """Release held requests, stop serving, close the upstream connections. Safe to call twice."""
        self._stopping.set()
        if self._handlers:
            _, pending = await asyncio.wait(set(self._handlers), timeout=STOP_TIMEOUT_SECONDS)
            for task in pending:
                task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- control endpoints ------------------------------------------------------------------------------

    async def _get_log(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"writes": [asdict(r) for r in self.write_log if r.seq > since]})

    async def _get_counts(self, _: web.Request) -> web.Response:
        rows = [
            {"service": s, "operation": o, "outcome": outcome, "count": n}
            for (s, o, outcome), n in sorted(self.counts.items())
        ]
        targets = [
            {"account": a, "region": r, "service": s, "operation": o, "outcome": outcome, "count": n}
            for (a, r, s, o, outcome), n in sorted(self.target_counts.items())
        ]
        return web.json_response({"counts": rows, "targets": targets})

    async def _get_rules(self, _: web.Request) -> web.Response:
        return web.json_response(self.rules.model_dump(mode="json"))

    async def _put_rules(self, request: web.Request) -> web.Response:
        try:
            rules = FaultRules.model_validate_json(await request.read())
        except ValidationError as error:
            return web.json_response({"error": json.loads(error.json())}, status=400)
        self.set_rules(rules)
        return web.json_response(rules.model_dump(mode="json"))

    async def _post_reset(self, _: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})

    # ---- the proxy --------------------------------------------------------------------------------------

    async def _proxy(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            return await self._handle(request)
        finally:
            self._handlers.discard(task)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started, wall_time = time.monotonic(), time.time()
        body = await request.read()
        call = identify(
            method=request.method, query_string=request.query_string, headers=request.headers, body=body
        )
        if call is None:
            answer = await self._forward_or_502(request, body)
            self.counts[("", "", UNPARSED)] += 1
            return answer
        decision = self.engine.decide(call)
        if decision.latency > 0:
            await asyncio.sleep(decision.latency)
        outcome, status, reached, response = await self._apply(request, body, call, decision)
        self.counts[(call.service, call.operation, outcome)] += 1
        account = self.engine.account_of(call.access_key)
        self.target_counts[(account, call.region, call.service, call.operation, outcome)] += 1
        if call.is_write:
            record = WriteRecord(
                seq=len(self.write_log) + 1,
                started=started,
                finished=time.monotonic(),
                wall_time=wall_time,
                service=call.service,
                operation=call.operation,
                caller=caller_identity(request.headers.get("User-Agent", "")),
                outcome=outcome,
                status=status,
                reached_upstream=reached,
            )
            self.write_log.append(record)
        return response

    async def _apply(
        self, request: web.Request, body: bytes, call: AwsCall, decision: Decision
    ) -> tuple[str, int | None, bool, web.StreamResponse]:
        """(outcome, status the caller gets, whether the emulator saw the call, the response to return)."""
        fault = decision.fault
        if fault in (Fault.THROTTLE, Fault.RATE_LIMIT, Fault.SERVER_ERROR):
            error = error_answer(call, status=decision.status)
            response = web.Response(status=error.status, body=error.body, headers=error.headers)
            return fault.value, error.status, False, response
        upstream: _Upstream | None = None
        if self._forwards(fault):
            try:
                upstream = await self._forward(request, body)
            except (aiohttp.ClientError, TimeoutError):
                return UPSTREAM_ERROR, 502, False, _bad_gateway()
        if fault is None or fault is Fault.TRUNCATE:
            assert upstream is not None
            if fault is None:
                if upstream.status == 200:
                    self.engine.learn(call, upstream.body)
                return FORWARDED, upstream.status, True, _answer(upstream)
            return fault.value, upstream.status, True, await self._truncated(request, upstream)
        if fault is Fault.READ_TIMEOUT:
            await self._hold()
        return fault.value, None, upstream is not None, _drop(request, reset=True)

    def _forwards(self, fault: Fault | None) -> bool:
        """Whether a call with this fault reaches the emulator."""
        if fault is Fault.RESET:
            return self.rules.reset_forwards
        if fault is Fault.READ_TIMEOUT:
            return self.rules.read_timeout_forwards
        return True

    async def _forward_or_502(self, request: web.Request, body: bytes) -> web.StreamResponse:
        try:
            return _answer(await self._forward(request, body))
        except (aiohttp.ClientError, TimeoutError):
            return _bad_gateway()

    async def _forward(self, request: web.Request, body: bytes) -> _Upstream:
        assert self._session is not None, "FaultProxy not started"
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP)
        async with self._session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            data=body,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        ) as upstream:
            content = await upstream.read()
            response_headers = CIMultiDict(
                (k, v) for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP
            )
            return _Upstream(upstream.status, upstream.reason, response_headers, content)

    async def _hold(self) -> None:
        """Keep the caller waiting past its read timeout (or until the proxy stops)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.rules.read_timeout_seconds)

    async def _truncated(self, request: web.Request, upstream: _Upstream) -> web.StreamResponse:
        response = web.StreamResponse(
            status=upstream.status, reason=upstream.reason, headers=upstream.headers
        )
        response.content_length = len(upstream.body)
        await response.prepare(request)
        cut = min(int(len(upstream.body) * self.rules.truncate_fraction), max(len(upstream.body) - 1, 0))
        if cut:
            await response.write(upstream.body[:cut])
        return _drop(request, reset=False, response=response)


def _answer(upstream: _Upstream) -> web.Response:
    return web.Response(
        status=upstream.status, reason=upstream.reason, headers=upstream.headers, body=upstream.body
    )


def _bad_gateway() -> web.Response:
    return web.Response(status=502, text="fault proxy: the upstream emulator did not answer")


def _drop(
    request: web.Request, *, reset: bool, response: web.StreamResponse | None = None
) -> web.StreamResponse:
    """Close the caller's connection: a reset (RST, unsent data discarded) or a plain close (what was written is
    delivered, then EOF). The returned response is never delivered: aiohttp finds the transport closed and
    treats it as a client that went away."""
    transport = request.transport
    if transport is not None and not transport.is_closing():
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return response if response is not None else web.Response(status=500)


# ----------------------------------------------------------------------------------------------------------
# The proxy in a process of its own


class FaultProxyError(RuntimeError):
    """The proxy process did not start, or its control endpoint refused a request."""


class FaultProxyProcess(ChildProcess):
    """A proxy process and its URL; synchronous, for pytest fixtures and benchmarks. Stops with its parent."""

    @classmethod
    def start(
        cls,
        upstream: str,
        rules: FaultRules | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        start_timeout: float = START_TIMEOUT_SECONDS,
    ) -> FaultProxyProcess:
        command = [sys.executable, "-m", "reconciler.sandbox.faults", "--upstream", upstream]
        command += ["--host", host, "--port", str(port), "--exit-on-stdin-eof"]
        if rules is not None:
            command += ["--rules", rules.model_dump_json()]
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        proxy = cls(process=process, url="")
        try:
            bound_port = read_bound_port(
                process, timeout=start_timeout, what="fault proxy", error=FaultProxyError
            )
            proxy.url = f"http://{host}:{bound_port}"
        except BaseException:
            proxy.stop()
            raise
        return proxy

    def rules(self) -> FaultRules:
        return FaultRules.model_validate(self._control("GET", "rules"))

    def set_rules(self, rules: FaultRules) -> None:
        self._control("PUT", "rules", rules.model_dump_json().encode())

    def write_log(self, *, since: int = 0) -> list[WriteRecord]:
        return [WriteRecord(**row) for row in self._control("GET", f"log?since={since}")["writes"]]

    def counts(self) -> Counter[tuple[str, str, str]]:
        rows = self._control("GET", "counts")["counts"]
        return Counter({(r["service"], r["operation"], r["outcome"]): r["count"] for r in rows})

    def target_counts(self) -> Counter[tuple[str, str, str, str, str]]:
        """Requests per (account, Region, service, operation, outcome), the account as the proxy's rates charge
        it."""
        rows = self._control("GET", "counts")["targets"]
        keys = ("account", "region", "service", "operation", "outcome")
        return Counter({tuple(r[k] for k in keys): r["count"] for r in rows})

    def reset(self) -> None:
        self._control("POST", "reset", b"")

    def _control(self, method: str, path: str, data: bytes | None = None) -> Any:
        url = f"{self.url}{CONTROL_PREFIX}/{path}"
        request = urllib.request.Request(url, method=method, data=data)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise FaultProxyError(
                f"{method} {url}: {error.code} {error.read().decode(errors='replace')}"
            ) from error


# ----------------------------------------------------------------------------------------------------------
# python -m reconciler.sandbox.faults


def main(argv: list[str] | None = None) -> int:
    args = _parse_arguments(argv)
    rules = FaultRules.model_validate_json(_rules_text(args.rules)) if args.rules else FaultRules()
    asyncio.run(_serve(args, rules))
    return 0


async def _serve(args: argparse.Namespace, rules: FaultRules) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if args.exit_on_stdin_eof:
        threading.Thread(
            target=_set_when_stdin_closes, args=(loop, stop), daemon=True, name="parent-watch"
        ).start()
    async with FaultProxy(args.upstream, rules, host=args.host, port=args.port) as proxy:
        print(f"{READY_PREFIX}{proxy.port}", flush=True)
        await stop.wait()


def _set_when_stdin_closes(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # os.read, not sys.stdin: a daemon thread blocked in a buffered read aborts the interpreter's shutdown.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    loop.call_soon_threadsafe(stop.set)


def _rules_text(value: str) -> str:
    """The rules JSON, given inline or as ``@path``."""
    return Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="fault-injection proxy in front of the AWS emulator")
    parser.add_argument("--upstream", required=True, help="the emulator's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rules", default="", help="FaultRules as JSON, or @file")
    parser.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes (the parent let go of us)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
