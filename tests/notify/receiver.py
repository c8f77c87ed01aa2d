"""A local HTTP receiver for what the reconciler sends out: it records each request, and answers as told."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Receiver:
    """``answers``: the statuses of the first requests, in order (then 200); ``hang``: never answer."""

    answers: list[int] = field(default_factory=list)
    retry_after: str | None = None
    hang: bool = False
    received: list[Request] = field(default_factory=list)  # answered 2xx
    attempts: int = 0
    url: str = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.json()
        if self.hang:
            await asyncio.Event().wait()
        status = self.answers.pop(0) if self.answers else 200
        if status < 300:
            self.received.append(Request(request.path, dict(request.headers), body))
        headers = {"Retry-After": self.retry_after} if self.retry_after and status == 429 else {}
        return web.json_response({}, status=status, headers=headers)

    def events(self) -> list[str]:
        return [r.body["event"] for r in self.received if "event" in r.body]


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver._handle)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.shutdown()
        await runner.cleanup()
