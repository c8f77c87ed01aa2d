"""The daemon's one HTTP port (docs/metrics.md, "Endpoints"): /metrics, /healthz, /readyz, /status and
POST /sync.

The server knows nothing of the loop; it is handed a ``Probe`` of callables, which keeps it testable on its own.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reconciler.metrics import REGISTRY


@dataclass(frozen=True)
class Probe:
    healthy: Callable[[], bool]
    ready: Callable[[], bool]
    status: Callable[[], dict[str, object]]  # the body of GET /status
    request_sync: Callable[[], None]
    webhook_secret: bytes | None = None


def make_app(probe: Probe) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return _flag(probe.healthy(), "ok", "reconcile loop has not ticked recently")

    async def readyz(_: web.Request) -> web.Response:
        return _flag(
            probe.ready(), "ready", "not ready: no valid desired state loaded, or AWS not answered yet"
        )

    async def status(_: web.Request) -> web.Response:
        return web.json_response(probe.status())

    async def sync(request: web.Request) -> web.Response:
        return await _sync(request, probe)

    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status)
    app.router.add_post("/sync", sync)
    return app


async def _metrics(_: web.Request) -> web.Response:
    response = web.Response(body=generate_latest(REGISTRY))
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


def _flag(ok: bool, yes: str, no: str) -> web.Response:
    return web.Response(text=yes if ok else no, status=200 if ok else 503)


async def _sync(request: web.Request, probe: Probe) -> web.Response:
    body = await request.read()
    if probe.webhook_secret is not None and not signature_valid(
        probe.webhook_secret, body, request.headers.get("X-Hub-Signature-256", "")
    ):
        return web.json_response({"error": "missing or invalid X-Hub-Signature-256"}, status=401)
    probe.request_sync()
    return web.json_response({"sync": "requested"}, status=202)


def signature_valid(secret: bytes, body: bytes, header: str) -> bool:
    """GitHub's ``sha256=<hex HMAC-SHA256 of the body>``, compared in constant time."""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def start_server(probe: Probe, *, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(make_app(probe), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
