"""Sending, at the edge: one bounded queue and one worker per sink, so that a pass never waits for a receiver
and one slow receiver never holds another.

The pass only offers (``Notifier.offer``, ``Notifier.commit_status``): a full queue drops the message and counts
it. A worker sends one message at a time, within its sink's rate limit (``limits.py``), trying again on a
connection error, a timeout, 429 (after ``Retry-After``) or 5xx, then giving up with a log line. Logs name a sink
by its kind and number, never by its URL (a Slack webhook's URL is its secret), and never carry a token.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
import structlog

from reconciler import __version__, metrics
from reconciler.notify.episodes import Notice
from reconciler.notify.limits import TRIES, Window, admit, backoff, digest, retriable, retry_after_seconds
from reconciler.notify.message import as_json, as_slack

log = structlog.get_logger(__name__)
QUEUE_SIZE = 1000  # messages a sink holds before dropping
COMMIT_STATUS = "commit_status"  # the event label of GitHub statuses


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Post:
    """One request ready to go: where (``path`` is appended to the sink's URL), what, and what it is."""

    event: str
    body: Mapping[str, object]
    path: str = ""


@dataclass
class Sink:
    """One receiver. ``render`` turns a notice into its body; ``limit`` messages a minute (None: no limit)."""

    kind: str  # webhook | slack | github: the metric's label
    name: str  # what logs call it: the kind and its number, never its URL
    url: str = field(repr=False)  # a webhook's URL may carry its token
    render: Callable[[Notice], Mapping[str, object]] | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # GitHub's: the bearer token
    limit: int | None = None
    timeout: float = 10.0
    queue: asyncio.Queue[Notice | Post] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    window: Window = field(init=False)
    dropping: bool = False

    def __post_init__(self) -> None:
        self.window = Window(limit=self.limit or 0)

    def offer(self, item: Notice | Post) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            _count(self, _event(item), "dropped")
            if not self.dropping:  # one line per run of drops; the metric counts each
                log.warning(
                    "notifications dropped: the sink's queue is full", sink=self.name, size=QUEUE_SIZE
                )
            self.dropping = True
        else:
            self.dropping = False

    async def run(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        while True:
            wait = max(0.0, self.window.opens_at() - loop.time()) if self.window.holding else None
            item: Notice | Post | None = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    item = await self.queue.get()
            self.window, held = digest(self.window, loop.time(), at=now_iso())
            if held is not None:
                await self._deliver(http, held)
            if item is None:
                continue
            if isinstance(item, Notice) and self.limit is not None:
                self.window, now = admit(self.window, item, loop.time())
                if not now:
                    _count(self, item.event.value, "held")
                    continue
            await self._deliver(http, item)

    async def _deliver(self, http: aiohttp.ClientSession, item: Notice | Post) -> None:
        """Render and send one message; whatever goes wrong is this message's failure, never the daemon's."""
        try:
            await self._send(http, self._post(item) if isinstance(item, Notice) else item)
        except Exception as exc:  # a message that cannot be rendered or sent at all: counted, logged, dropped
            _count(self, _event(item), "failed")
            log.error("notification given up", sink=self.name, notification=_event(item), tries=0,
                      error=type(exc).__name__)  # fmt: skip

    def _post(self, notice: Notice) -> Post:
        assert self.render is not None
        return Post(notice.event.value, self.render(notice))

    async def _send(self, http: aiohttp.ClientSession, post: Post) -> bool:
        why = ""
        for attempt in range(TRIES):
            retry_after: float | None = None
            try:
                async with http.post(
                    self.url + post.path,
                    json=dict(post.body),
                    headers=dict(self.headers),
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as answer:
                    if answer.status < 300:
                        _count(self, post.event, "sent")
                        return True
                    why = f"HTTP {answer.status}"
                    if not retriable(answer.status):
                        break
                    retry_after = retry_after_seconds(answer.headers.get("Retry-After"), datetime.now(UTC))
            except (aiohttp.ClientError, TimeoutError) as exc:  # the message says no URL: only the type
                why = type(exc).__name__
            if attempt + 1 < TRIES:
                _count(self, post.event, "retried")
                await asyncio.sleep(backoff(attempt, jitter=random.random(), retry_after=retry_after))
        _count(self, post.event, "failed")
        log.error("notification given up", sink=self.name, notification=post.event, tries=TRIES, error=why)
        return False


def _event(item: Notice | Post) -> str:
    return item.event.value if isinstance(item, Notice) else item.event


def _count(sink: Sink, event: str, outcome: str) -> None:
    metrics.NOTIFICATIONS.labels(sink=sink.kind, event=event, outcome=outcome).inc()


@dataclass
class GitHubTarget:
    """Where commit statuses go: the API, the repository, and the status's context."""

    owner: str
    repo: str
    context: str

    def path(self, sha: str) -> str:
        return f"/repos/{self.owner}/{self.repo}/statuses/{sha}"


@dataclass
class Notifier:
    """Every sink of the daemon; ``run`` is its task beside the loop."""

    instance: str
    ui_url: str | None = None
    sinks: list[Sink] = field(default_factory=list)
    github: Sink | None = None
    target: GitHubTarget | None = None

    def webhook(self, url: str, *, limit: int | None, timeout: float = 10.0) -> None:
        number = sum(s.kind == "webhook" for s in self.sinks) + 1
        self.sinks.append(
            Sink("webhook", f"webhook {number}", url, self.message, limit=limit, timeout=timeout)
        )

    def slack(self, url: str, *, limit: int | None, timeout: float = 10.0) -> None:
        self.sinks.append(
            Sink("slack", "slack", url, lambda n: as_slack(self.message(n)), limit=limit, timeout=timeout)
        )

    def commit_statuses(
        self, api_url: str, token: str, target: GitHubTarget, *, timeout: float = 10.0
    ) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}  # fmt: skip
        self.github = Sink("github", "github", api_url.rstrip("/"), headers=headers, timeout=timeout)
        self.target = target

    def message(self, notice: Notice) -> dict[str, object]:
        return as_json(notice, instance=self.instance, version=__version__, ui_url=self.ui_url)

    def offer(self, notices: Sequence[Notice]) -> None:
        for notice in notices:
            for sink in self.sinks:
                sink.offer(notice)

    def commit_status(self, sha: str, body: Mapping[str, object]) -> None:
        if self.github is not None and self.target is not None:
            self.github.offer(Post(COMMIT_STATUS, body, self.target.path(sha)))

    async def run(self) -> None:
        sinks = [*self.sinks, *([self.github] if self.github else [])]
        if not sinks:
            return
        agent = {"User-Agent": f"reconciler/{__version__}"}
        async with aiohttp.ClientSession(headers=agent) as http, asyncio.TaskGroup() as group:
            for sink in sinks:
                group.create_task(sink.run(http))
