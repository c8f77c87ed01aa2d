"""The UI's routes on the daemon's port, with a Probe of plain callables: read-only by default, "Sync now" only
with a token and only for the right one, the security headers on every page, the static files."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from reconciler.server import CONTENT_SECURITY_POLICY, Probe, start_server
from tests.ui.test_pages_targets import status as targets_status

TOKEN = b"s3cret-token"
STATUS: dict[str, object] = {
    "revision": "abc",
    "source": {"dir": "/estate"},
    "applications": [{"name": "web", "resources": ["Service/web"]}],
    "shared": [],
    "resources": [{"kind": "Service", "name": "web", "state": "Synced", "health": "Healthy"}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serving(token: bytes | None) -> AsyncIterator[tuple[str, list[str]]]:
    asked: list[str] = []
    probe = Probe(
        lambda: True, lambda: True, lambda: STATUS, lambda: asked.append("sync"), ui_sync_token=token
    )
    port = free_port()
    runner = await start_server(probe, host="127.0.0.1", port=port)
    try:
        yield f"http://127.0.0.1:{port}", asked
    finally:
        await runner.cleanup()


async def fetch(url: str, method: str = "GET", **options: Any) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.request(method, url, **options) as response:
        return response.status, await response.text(), dict(response.headers)


@pytest.mark.parametrize("path", ["/", "/applications", "/applications?state=Synced&q=w", "/applications/web",
                                  "/shared"])  # fmt: skip
async def test_pages_are_read_only_by_default_and_carry_the_security_headers(path: str) -> None:
    async with serving(None) as (base, _):
        status, text, headers = await fetch(base + path)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "<form" not in text and "<button" not in text
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("token", "options", "expected"),
    [
        (None, {}, 401),
        (None, {"data": {"token": ""}}, 401),  # no token configured: nothing is valid, not even empty
        (None, {"headers": {"Authorization": "Bearer "}}, 401),
        (TOKEN, {}, 401),
        (TOKEN, {"data": {"token": "wrong"}}, 401),
        (TOKEN, {"data": {"token": TOKEN.decode()[:-1]}}, 401),
        (TOKEN, {"headers": {"Authorization": "Bearer wrong"}}, 401),
        (TOKEN, {"data": {"token": TOKEN.decode()}}, 202),
        (TOKEN, {"headers": {"Authorization": f"Bearer {TOKEN.decode()}"}}, 202),
    ],
)
async def test_ui_sync_needs_the_token(token: bytes | None, options: dict[str, Any], expected: int) -> None:
    async with serving(token) as (base, asked):
        status, _, _ = await fetch(base + "/ui/sync", "POST", **options)
    assert status == expected
    assert asked == (["sync"] if expected == 202 else [])


async def test_the_sync_button_shows_with_a_token_only() -> None:
    async with serving(TOKEN) as (base, _):
        _, text, _ = await fetch(base + "/")
    assert 'action="/ui/sync"' in text and TOKEN.decode() not in text


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/ui/static/ui.js", 200, "text/javascript"),
        ("/ui/static/ui.css", 200, "text/css"),
        ("/favicon.ico", 200, "image/svg+xml"),
        ("/ui/static/../server.py", 404, None),
        ("/ui/static/nothing.js", 404, None),
        ("/applications/nothing", 404, "text/html"),
    ],
)
async def test_static_files_and_missing_pages(path: str, status: int, content_type: str | None) -> None:
    async with serving(None) as (base, _):
        answered, _, headers = await fetch(base + path)
    assert answered == status
    if content_type:
        assert headers["Content-Type"].startswith(content_type)


@pytest.mark.parametrize(
    ("path", "location"),
    [("/resources/Service/web", "/applications/web"), ("/resources/Cluster/prod", "/shared")],
)
async def test_a_resource_link_of_a_notification_leads_to_its_page(path: str, location: str) -> None:
    status = STATUS | {"shared": ["Cluster/prod"]}
    probe = Probe(lambda: True, lambda: True, lambda: status, lambda: None)
    port = free_port()
    runner = await start_server(probe, host="127.0.0.1", port=port)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}{path}", allow_redirects=False) as response:
                assert (response.status, response.headers["Location"]) == (302, location)
            async with http.get(f"http://127.0.0.1:{port}/resources/Service/nothing") as response:
                assert response.status == 404
    finally:
        await runner.cleanup()


async def test_with_several_targets_links_and_pages_name_the_target() -> None:
    status = targets_status()
    probe = Probe(lambda: True, lambda: True, lambda: status, lambda: None)
    port = free_port()
    runner = await start_server(probe, host="127.0.0.1", port=port)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for path, location in (
                ("/resources/Service/web?target=staging", "/applications/web?target=staging"),
                ("/resources/Cluster/main?target=prod-eu", "/shared?target=prod-eu"),
            ):
                async with http.get(base + path, allow_redirects=False) as response:
                    assert (response.status, response.headers["Location"]) == (302, location)
            async with http.get(base + "/resources/Service/api?target=prod-eu") as response:
                assert response.status == 404
        _, staging, _ = await fetch(base + "/applications/web?target=staging")
        _, prod, _ = await fetch(base + "/applications/web?target=prod-eu")
        assert "target <strong>staging</strong>" in staging and "target <strong>prod-eu</strong>" in prod
        _, shared, _ = await fetch(base + "/shared?target=staging")
        assert shared.count("<strong>main</strong>") == 1
        answered, _, _ = await fetch(base + "/applications/api?target=prod-eu")
        assert answered == 404
    finally:
        await runner.cleanup()
