"""The web UI in a real browser (Debian's chromium, headless, driven by Playwright) against the daemon on the example
estate in the emulator: every page loads, the estate leads to frontapp, a hand-made drift shows with its diff and
who made it, no page errs or runs a script it did not serve, a tag written to inject HTML shows as text, no secret
shows, and "Sync now" takes only the right token.

The estate is converged by ``reconciler apply``; the daemon then runs on the events queue, with wordpress's Service
in detect mode, so that the drift an IAM user makes stays on the page, put down to her. Screenshots go to
``.screenshots/`` (printed). Chromium is installed by ``make unit`` (``/usr/bin/chromium``); if it cannot start, the
test fails saying so.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import BrowserContext, Page, async_playwright, expect

from reconciler.events.queue import EventQueue
from reconciler.live.clients import AwsClients
from reconciler.plan.planner import PlanOptions
from reconciler.runtime.daemon import Daemon, DaemonOptions
from reconciler.runtime.engine import Engine
from reconciler.sandbox.seed import SECRET_PARAMETERS, create_events_queue
from reconciler.source.directory import DirectorySource
from tests.conftest import CLI, BotoFactory, wait_until_settled
from tests.e2e.conftest import REGION, REPO, Estate
from tests.e2e.test_daemon import eventually, free_port
from tests.e2e.test_drift_by import as_principal

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
SCREENSHOTS = REPO / ".screenshots"  # named at the end of the run (tests/conftest.py)
# Written into frontapp's Service tag in Git: a page that built HTML from it would run the script and the handler.
HOSTILE = '"><script>window.__x=1</script><img src=x onerror="window.__y=1">'
DRIFTED_COUNT = 3  # wordpress's desiredCount, by hand (Git says 1)
TOKEN = "ui-token-4f1c9a"
WEBHOOK_SECRET = "webhook-secret-9b2e77"


@pytest.fixture
def hostile(estate: Estate, cli: CLI, boto: BotoFactory) -> Estate:
    """The example estate, converged; then, in Git, frontapp's Service tag given the hostile value (which AWS
    refuses, echoing it in its error), and wordpress's Service put in detect mode (its drift stays to be seen)."""
    result = cli("apply", *estate.args())
    assert result.code == 0, result.out + result.err
    wait_until_settled(boto)
    estate.edit(
        "services/frontapp.yaml",
        "- {key: Service, value: frontapp}",
        f"- {{key: Service, value: '{HOSTILE}'}}",
    )
    estate.edit(
        "services/wordpress.yaml", "kind: Service\nmetadata:\n", "kind: Service\nmetadata:\n  mode: detect\n"
    )
    return estate


@asynccontextmanager
async def running_daemon(estate: Estate, boto: BotoFactory, aws: str) -> AsyncIterator[str]:
    """The daemon on the events queue, as in the sandbox; once frontapp's tag has failed, wordpress's
    desiredCount changed by an IAM user, alice: a drift the event puts down to her."""
    iam = boto("iam")
    iam.create_user(UserName="alice")
    alice = iam.create_access_key(UserName="alice")["AccessKey"]
    queue_url = await create_events_queue(endpoint_url=aws, region=REGION)
    port = free_port()
    options = DaemonOptions(interval=60, debounce_ms=50, host="127.0.0.1", port=port,
                            webhook_secret=WEBHOOK_SECRET.encode(), ui_sync_token=TOKEN.encode())  # fmt: skip
    source = DirectorySource(root=estate.dir, vars_files=(estate.vars_file,))
    async with AwsClients(region=None, endpoint_url=None) as clients:
        engine = Engine(clients, options=PlanOptions(), health=True)
        daemon = Daemon(source, engine, options, events=EventQueue(clients, queue_url))
        task = asyncio.create_task(daemon.run())
        try:
            await eventually(lambda: _state(daemon, "frontapp") == "Error", within=30)
            as_principal(boto, alice).update_service(cluster="myapp-prod", service="wordpress",
                                                     desiredCount=DRIFTED_COUNT)  # fmt: skip
            await eventually(lambda: _service(daemon.status(), "wordpress").get("lastDriftBy", {}).get("name")
                             == "alice", within=30)  # fmt: skip
            yield f"http://127.0.0.1:{port}"
        finally:
            daemon.stop()
            await asyncio.wait_for(task, timeout=10)


def _state(daemon: Daemon, service: str) -> str | None:
    return _service(daemon.status(), service).get("state")


def _service(status: dict[str, Any], name: str) -> dict[str, Any]:
    resources: list[dict[str, Any]] = status["resources"]
    return next((r for r in resources if r["kind"] == "Service" and r["name"] == name), {})


@asynccontextmanager
async def browser(tmp_path: Path) -> AsyncIterator[tuple[BrowserContext, list[str]]]:
    """A fresh headless chromium; yields its context and the problems seen (page errors, console errors,
    dialogs, answers ≥ 500), which the test asserts empty."""
    async with async_playwright() as playwright:
        try:
            context = await playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
            )
        except Exception as exc:
            pytest.fail(
                f"chromium ({CHROMIUM}) cannot start: {exc}\n`make unit` installs it (apt-get install chromium)"
            )
        problems: list[str] = []

        def watch(page: Page) -> None:
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text} ({m.location.get('url')})")
                    if m.type == "error"
                    else None
                ),
            )
            page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
            page.on(
                "response", lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 500 else None
            )

        context.on("page", watch)
        try:
            yield context, problems
        finally:
            await context.close()


async def no_injection(page: Page) -> None:
    """Nothing the hostile value carries ran or became an element."""
    assert await page.evaluate("typeof window.__x") == "undefined"
    assert await page.evaluate("typeof window.__y") == "undefined"
    assert await page.locator("img").count() == 0
    assert await page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))") == [
        "/ui/static/ui.js"
    ]


async def no_secret(page: Page) -> None:
    content = await page.content()
    for _, _, value in SECRET_PARAMETERS:
        assert value not in content
    assert TOKEN not in content and WEBHOOK_SECRET not in content


async def test_every_page_of_the_example_estate_in_a_browser(
    hostile: Estate, boto: BotoFactory, aws: str, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    print(f"screenshots in {SCREENSHOTS}")
    async with running_daemon(hostile, boto, aws) as base, browser(tmp_path) as (context, problems):
        page = await context.new_page()
        response = await page.goto(base + "/")
        assert response is not None and response.status == 200
        headers = await response.all_headers()
        assert "default-src 'self'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"
        estate_text = await page.locator("main").inner_text()
        assert "Drifted" in estate_text and "frontapp" in estate_text
        await page.screenshot(path=SCREENSHOTS / "estate.png", full_page=True)
        watcher = await context.new_page()  # left open while the rest runs: it refreshes itself meanwhile
        await watcher.goto(base + "/applications/frontapp")

        await page.get_by_role("link", name="Applications", exact=True).first.click()
        await page.wait_for_url(re.compile(r"/applications$"))
        names = await page.locator("main table a").all_inner_texts()
        assert names == ["catalog", "frontapp", "scorekeep-api", "scorekeep-frontend", "wordpress"]
        await page.get_by_role("link", name="frontapp", exact=True).click()
        await page.wait_for_url(re.compile(r"/applications/frontapp$"))
        text = await page.locator("main").inner_text()
        for resource in ("frontapp-tg02", "frontapp-https", "frontapp-cpu60", "frontapp-night-scale-in"):
            assert resource in text  # its application's resources, on its page
        assert HOSTILE in text  # as text: AWS's error echoes the tag value (and the diff shows it)
        await no_injection(page)
        await page.screenshot(path=SCREENSHOTS / "frontapp.png", full_page=True)

        # The drift by hand: its diff (live → desired) and who made it, as /status has them.
        await page.goto(base + "/applications/wordpress")
        text = await page.locator("main").inner_text()
        assert "Drifted" in text
        async with aiohttp.ClientSession() as http, http.get(base + "/status") as answer:
            status = await answer.json()
        wordpress = _service(status, "wordpress")
        assert (
            status["lastPass"]["targeted"] is True and status["lastPass"]["notApplied"] == 1
        )  # alice's event
        assert [a["name"] for a in status["applications"]] == names and status["coordination"] is None
        assert wordpress["diff"] == [{"path": "desiredCount", "live": DRIFTED_COUNT, "desired": 1}]
        assert f"desiredCount\t{DRIFTED_COUNT}\t1" in text  # the diff's row: path, live, desired
        assert "last drift by alice (user), found by event" in text
        assert re.search(
            r"not corrected\tService wordpress\talice \(user\)\tdesiredCount", text
        )  # the episode
        await page.screenshot(path=SCREENSHOTS / "wordpress.png", full_page=True)

        # The filters are links, and the name filter an input: Enter filters.
        await page.goto(base + "/applications?state=Drifted")
        assert await page.locator("main table a").all_inner_texts() == ["wordpress"]
        await page.locator("#name-filter").fill("front")
        await page.locator("#name-filter").press("Enter")
        await page.wait_for_url(re.compile(r"q=front"))
        assert await page.locator("main table a").all_inner_texts() == []  # Drifted and "front": none
        await page.goto(base + "/applications?q=score")
        assert await page.locator("main table a").all_inner_texts() == ["scorekeep-api", "scorekeep-frontend"]

        for path in ("/", "/applications", "/shared", "/applications/catalog", "/applications/scorekeep-api",
                     "/applications/scorekeep-frontend", "/applications/frontapp"):  # fmt: skip
            response = await page.goto(base + path)
            assert response is not None and response.status == 200, path
            await no_injection(page)
            await no_secret(page)
        missing = await page.goto(base + "/applications/nothing-of-that-name")
        assert missing is not None and missing.status == 404

        # The page opened early has refreshed itself (its script runs under the Content-Security-Policy).
        await expect(watcher.locator("#refresh-state")).to_have_text(re.compile("^refreshed"), timeout=15_000)
        assert HOSTILE in await watcher.locator("main").inner_text()
        await no_injection(watcher)
        await no_secret(watcher)
        await watcher.close()
        await page.goto(base + "/applications/frontapp")

        # "Sync now" shows with --ui-sync, and takes the right token only.
        await page.locator("#sync-form input[name=token]").fill("wrong")
        await page.get_by_role("button", name="Sync now").click()
        await expect(page.locator("#sync-result")).to_have_text("wrong token")
        await page.locator("#sync-form input[name=token]").fill(TOKEN)
        await page.get_by_role("button", name="Sync now").click()
        await expect(page.locator("#sync-result")).to_have_text("sync requested")
        await no_secret(page)
        await page.close()
        expected = [
            p
            for p in problems
            if ("/ui/sync" in p and "401" in p) or ("nothing-of-that-name" in p and "404" in p)
        ]
        assert [
            p for p in problems if p not in expected
        ] == []  # the wrong token and the missing page, as asked

        async with aiohttp.ClientSession() as http:
            statuses = []
            for headers, data in (({}, None), ({}, {"token": "wrong"}), ({"Authorization": "Bearer wrong"}, None),
                                  ({}, {"token": TOKEN}), ({"Authorization": f"Bearer {TOKEN}"}, None)):  # fmt: skip
                async with http.post(base + "/ui/sync", headers=headers, data=data) as answer:
                    statuses.append(answer.status)
        assert statuses == [401, 401, 401, 202, 202]


def test_ui_sync_without_a_token_file_is_a_startup_error(cli: CLI, estate: Estate, tmp_path: Path) -> None:
    empty = tmp_path / "empty-token"
    empty.write_text("\n")
    started = time.monotonic()
    for token_file in (tmp_path / "missing-token", empty):
        result = cli("run", *estate.args(), "--ui-sync", "--ui-token-file", str(token_file))
        assert result.code == 1
        assert str(token_file) in result.err
    result = cli("run", *estate.args(), "--ui-sync")
    assert result.code == 1 and "--ui-token-file" in result.err
    assert time.monotonic() - started < 5  # refused before anything starts
