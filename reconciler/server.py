"""The daemon's one HTTP port (docs/metrics.md, "Endpoints"): /metrics, /healthz, /readyz, /status and
POST /sync, and the web UI (docs/ui.md): ``/``, ``/applications``, ``/applications/<name>``, ``/shared``, its
static files under ``/ui/static/``, and ``POST /ui/sync`` with ``--ui-sync``.

The server knows nothing of the loop; it is handed a ``Probe`` of callables, which keeps it testable on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from reconciler.metrics import REGISTRY
from reconciler.ui import assets, pages


@dataclass(frozen=True)
class Probe:
    healthy: Callable[[], bool]
    ready: Callable[[], bool]
    status: Callable[[], dict[str, object]]  # the body of GET /status
    request_sync: Callable[[], None]
    webhook_secret: bytes | None = None
    ui_sync_token: bytes | None = None  # --ui-sync: the UI's "Sync now" posts it to POST /ui/sync


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

    app = web.Application(middlewares=[_ui_headers])
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/status", status)
    app.router.add_post("/sync", sync)
    _add_ui(app, probe)
    return app


# The UI's pages load scripts and styles from the daemon only (/ui/static/), and may not be framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
UI_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
UI_STATUS_MAX_AGE = 1.0  # seconds
_STATIC = {
    "ui.css": (assets.CSS, "text/css"),
    "ui.js": (assets.JS, "text/javascript"),
    "favicon.svg": (assets.FAVICON, "image/svg+xml"),
}


@web.middleware
async def _ui_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer of the port, the UI's and the API's, carries the UI's security headers."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(UI_HEADERS)
        raise
    response.headers.update(UI_HEADERS)
    return response


class _RecentStatus:
    """The status body the UI's pages render, built at most once per ``UI_STATUS_MAX_AGE``: at thousands of
    resources building it costs more than rendering a page, and every open page refreshes every few seconds."""

    def __init__(self, status: Callable[[], dict[str, object]]) -> None:
        self._status = status
        self._body: dict[str, object] = {}
        self._at = -UI_STATUS_MAX_AGE

    def __call__(self) -> dict[str, object]:
        now = time.monotonic()
        if now - self._at >= UI_STATUS_MAX_AGE:
            self._body, self._at = self._status(), now
        return self._body


def _add_ui(app: web.Application, probe: Probe) -> None:
    options = pages.Options(sync=probe.ui_sync_token is not None)
    status_of = _RecentStatus(probe.status)

    def page(text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")

    async def estate(_: web.Request) -> web.Response:
        return page(pages.estate_page(status_of(), options))

    async def applications(request: web.Request) -> web.Response:
        return page(pages.applications_page(status_of(), dict(parse_qsl(request.query_string)), options))

    async def application(request: web.Request) -> web.Response:
        status, name = status_of(), request.match_info["name"]
        found = pages.application_page(status, name, options, target=_target_of(request))
        if found is None:
            return page(pages.not_found_page(status, f"no application named {name}", options), status=404)
        return page(found)

    async def resource(request: web.Request) -> web.Response:
        status, kind, name = status_of(), request.match_info["kind"], request.match_info["name"]
        found = pages.resource_page_path(status, kind, name, _target_of(request))
        if found is None:
            return page(pages.not_found_page(status, f"no resource {kind}/{name}", options), status=404)
        raise web.HTTPFound(found)

    async def shared(request: web.Request) -> web.Response:
        return page(pages.shared_page(status_of(), options, target=_target_of(request)))

    async def static(request: web.Request) -> web.Response:
        found = _STATIC.get(request.match_info.get("file", "favicon.svg"))
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(text=found[0], content_type=found[1], charset="utf-8")

    async def ui_sync(request: web.Request) -> web.Response:
        return await _ui_sync(request, probe)

    app.router.add_get("/", estate)
    app.router.add_get("/applications", applications)
    app.router.add_get("/applications/{name}", application)
    app.router.add_get("/resources/{kind}/{name}", resource)  # where notifications link (?target=: whose)
    app.router.add_get("/shared", shared)
    app.router.add_get("/ui/static/{file}", static)
    app.router.add_get("/favicon.ico", static)
    app.router.add_post("/ui/sync", ui_sync)


def _target_of(request: web.Request) -> str | None:
    """``?target=``: the target a page or a resource link is of, with several targets."""
    return dict(parse_qsl(request.query_string)).get("target")


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


async def _ui_sync(request: web.Request, probe: Probe) -> web.Response:
    """The UI's "Sync now": the token, from the form (``token``) or ``Authorization: Bearer``, must be the
    one of ``--ui-token-file``; then a pass is requested as ``POST /sync`` requests it."""
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not given and request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        given = str(form.get("token", ""))
    if probe.ui_sync_token is None or not hmac.compare_digest(given.encode(), probe.ui_sync_token):
        return web.json_response(
            {"error": "missing or invalid token (--ui-sync, --ui-token-file)"}, status=401
        )
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
