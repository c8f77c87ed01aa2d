"""A sink's rate limit and digest, and the retry schedule: pure, so that their tables are tested without time.

A sink sends at most ``limit`` messages a window (a minute). Beyond that, messages are held: counted by event, the
first few kept. When the next window opens, what was held goes out as one ``digest`` message, which is the first
of that window's messages.

A send that fails in a way that may pass (no connection, a timeout, 429, 5xx) is tried again after an
exponential delay with jitter, or after what ``Retry-After`` asks when that is longer (up to a bound), a few
times; then the message is given up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime

from reconciler.notify.episodes import Event, Notice

WINDOW_SECONDS = 60.0
DIGEST_ITEMS = 5  # held messages a digest lists; the rest are only counted
TRIES = 4  # sends of one message, the first included
BACKOFF_BASE = 0.5  # seconds before the first retry, before jitter
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 120.0  # a Retry-After longer than this is not waited for in full


@dataclass(frozen=True)
class Window:
    """One sink's rate window and what it holds."""

    limit: int
    span: float = WINDOW_SECONDS
    start: float = -math.inf
    sent: int = 0
    held: Mapping[str, int] = field(default_factory=dict)  # event → messages held
    first: tuple[Notice, ...] = ()  # the first DIGEST_ITEMS held

    @property
    def holding(self) -> bool:
        return bool(self.held)

    def opens_at(self) -> float:
        return self.start + self.span


def admit(window: Window, notice: Notice, now: float) -> tuple[Window, bool]:
    """Whether ``notice`` may go now; if not, it is held for the digest. Call ``digest`` first."""
    if now >= window.opens_at():
        window = replace(window, start=now, sent=0)
    if window.sent < window.limit:
        return replace(window, sent=window.sent + 1), True
    held = dict(window.held)
    held[notice.event.value] = held.get(notice.event.value, 0) + 1
    first = (*window.first, notice) if len(window.first) < DIGEST_ITEMS else window.first
    return replace(window, held=held, first=first), False


def digest(window: Window, now: float, *, at: str) -> tuple[Window, Notice | None]:
    """Once the window has passed, what it held as one message, which opens the next window."""
    if not window.holding or now < window.opens_at():
        return window, None
    total = sum(window.held.values())
    items = [
        {
            "event": n.event.value,
            "summary": n.summary,
            **({"resource": str(n.resource)} if n.resource else {}),
        }
        for n in window.first
    ]
    counts = dict(sorted(window.held.items()))
    summary = f"{total} notification{'s' if total != 1 else ''} held by the rate limit: " + ", ".join(
        f"{count} {event}" for event, count in counts.items()
    )
    notice = Notice(Event.DIGEST, summary, at, details={"counts": counts, "total": total, "first": items})
    return Window(limit=window.limit, span=window.span, start=now, sent=1), notice


def retriable(status: int) -> bool:
    """An HTTP answer worth trying again: 429 (rate limited) and 5xx."""
    return status == 429 or 500 <= status <= 599


def backoff(attempt: int, *, jitter: float, retry_after: float | None = None) -> float:
    """Seconds before try ``attempt + 1`` (``attempt`` counts from 0 for the first retry). ``jitter`` in [0, 1)
    spreads it over the upper half of the exponential delay; a ``Retry-After`` that asks longer wins (bounded)."""
    delay: float = min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt)
    jittered: float = delay / 2 + jitter * delay / 2
    if retry_after is not None:
        return max(jittered, min(retry_after, RETRY_AFTER_CAP))
    return jittered


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After``: delta-seconds or an HTTP date; None when absent or not understood."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
