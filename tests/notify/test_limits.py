"""The rate limit and its digest, and the retry schedule, as tables over time given by the test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconciler.model.resource import ResourceKey
from reconciler.notify.episodes import Event, Notice
from reconciler.notify.limits import (
    BACKOFF_CAP,
    DIGEST_ITEMS,
    RETRY_AFTER_CAP,
    Window,
    admit,
    backoff,
    digest,
    retriable,
    retry_after_seconds,
)


def notice(event: Event = Event.DRIFT_DETECTED, name: str = "web") -> Notice:
    return Notice(event, f"{event} on {name}", "t", resource=ResourceKey("Service", name))


def run(limit: int, arrivals: list[tuple[float, Event]], *, until: float) -> list[tuple[float, str]]:
    """What a sink sends, and when: each arrival admitted or held; a digest as soon as the window opens again."""
    window, sent = Window(limit=limit), []
    times = sorted({t for t, _ in arrivals} | {float(s) for s in range(0, int(until) + 1)})
    pending = list(arrivals)
    for now in times:
        window, held = digest(window, now, at="t")
        if held is not None:
            sent.append((now, f"digest {held.details['counts']}"))
        while pending and pending[0][0] == now:
            _, event = pending.pop(0)
            window, ok = admit(window, notice(event), now)
            if ok:
                sent.append((now, event.value))
    return sent


D, F = Event.DRIFT_DETECTED, Event.APPLY_FAILED

CASES = {
    "under the limit: everything at once": (3, [(0, D), (1, D), (2, F)], 10, [(0, "drift_detected"),
        (1, "drift_detected"), (2, "apply_failed")]),
    "over the limit: the rest held, one digest when the window opens": (
        2, [(0, D), (1, D), (2, D), (3, F), (4, D)], 130,
        [(0, "drift_detected"), (1, "drift_detected"), (60, "digest {'apply_failed': 1, 'drift_detected': 2}")]),
    "the digest counts in its window": (
        1, [(0, D), (1, D), (61, F), (70, D)], 200,
        [(0, "drift_detected"), (60, "digest {'drift_detected': 1}"),
         (120, "digest {'apply_failed': 1, 'drift_detected': 1}")]),
    "a new window without anything held": (1, [(0, D), (61, F)], 100, [(0, "drift_detected"), (61, "apply_failed")]),
}  # fmt: skip


@pytest.mark.parametrize("limit, arrivals, until, expected", CASES.values(), ids=CASES.keys())
def test_rate_limit_and_digest(
    limit: int, arrivals: list[tuple[float, Event]], until: float, expected: list[tuple[float, str]]
) -> None:
    assert run(limit, arrivals, until=until) == expected


def test_a_digest_lists_the_first_few_and_counts_all() -> None:
    window = Window(limit=1)
    for index in range(DIGEST_ITEMS + 7):
        window, _ = admit(window, notice(name=f"s{index}"), 0.0)
    window, held = digest(window, 60.0, at="t")
    assert held is not None and held.event is Event.DIGEST
    assert held.details["total"] == DIGEST_ITEMS + 6  # the first was sent
    assert [i["resource"] for i in held.details["first"]] == [
        f"Service/s{i}" for i in range(1, DIGEST_ITEMS + 1)
    ]  # type: ignore[attr-defined]
    assert not window.holding and window.sent == 1


@pytest.mark.parametrize(
    "attempt, jitter, retry_after, expected",
    [
        (0, 0.0, None, 0.25),
        (0, 0.999999, None, 0.5),
        (1, 0.5, None, 0.75),
        (3, 0.0, None, 2.0),
        (20, 0.99999999, None, BACKOFF_CAP),
        (0, 0.0, 7.0, 7.0),  # Retry-After asks longer: it wins
        (5, 1.0, 1.0, 16.0),  # the backoff is longer
        (0, 0.0, 10_000.0, RETRY_AFTER_CAP),  # bounded
    ],
)
def test_backoff_schedule(attempt: int, jitter: float, retry_after: float | None, expected: float) -> None:
    assert backoff(attempt, jitter=jitter, retry_after=retry_after) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    "status, expected", [(200, False), (400, False), (404, False), (429, True), (500, True), (503, True)]
)
def test_what_is_retried(status: int, expected: bool) -> None:
    assert retriable(status) is expected


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, expected",
    [("5", 5.0), (" 0 ", 0.0), ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0), ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),
     ("soon", None), ("", None), (None, None)],
)  # fmt: skip
def test_retry_after(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW) == expected
