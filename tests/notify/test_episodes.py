"""Which passes say what, once per episode: sequences of passes (``Seen``) and the events they tell."""

from __future__ import annotations

import pytest

from reconciler.model.resource import ResourceKey
from reconciler.notify.episodes import Drift, Episodes, Event, Seen, loaded, step

WEB = ResourceKey("Service", "web")
API = ResourceKey("Service", "api")
DIFF = Drift(diff=({"path": "desiredCount", "live": 3, "desired": 1},), by={"type": "user", "name": "alice"})


def drifted(key: ResourceKey = WEB, *, corrected: bool = True, fighting: bool = False) -> Seen:
    return Seen("r1", planned=frozenset({key}), drifted={key: DIFF},
                corrected=frozenset({key}) if corrected else frozenset(),
                applied=frozenset({key}) if corrected else frozenset(),
                fighting=frozenset({key}) if fighting else frozenset())  # fmt: skip


def in_sync(*keys: ResourceKey, fighting: frozenset[ResourceKey] = frozenset(), full: bool = True) -> Seen:
    return Seen("r1", full=full, planned=frozenset(keys), in_sync=frozenset(keys), fighting=fighting)


def health(key: ResourceKey, value: str) -> Seen:
    return Seen("r1", planned=frozenset({key}), in_sync=frozenset({key}), health={key: (value, "why")})


def failed(key: ResourceKey = WEB) -> Seen:
    return Seen("r1", planned=frozenset({key}), failed={key: "AccessDenied"})


def deployment(ident: str) -> Seen:
    return Seen("r1", planned=frozenset({WEB}), in_sync=frozenset({WEB}),
                deployments_failed={ident: (WEB, "circuit breaker")})  # fmt: skip


def blocked(count: int = 7, *, full: bool = True) -> Seen:
    return Seen("r1", full=full, blocked=(count, "more than --max-deletions"))


def told(*passes: Seen) -> list[list[str]]:
    """The events each pass tells, in order, starting with no episode open."""
    episodes, out = Episodes(), []
    for seen in passes:
        episodes, notices = step(episodes, seen, at="2026-01-01T00:00:00+00:00")
        out.append([n.event.value for n in notices])
    return out


D, C = "drift_detected", "drift_corrected"

CASES = {
    "drift found and corrected in one pass: both, once": ([drifted()], [[D, C]]),
    "each drift after an in-sync pass is an episode of its own": (
        [drifted(), in_sync(WEB), drifted()], [[D, C], [], [D, C]]),
    "drift in detect mode is told once however many passes see it": (
        [drifted(corrected=False)] * 4, [[D], [], [], []]),
    "detect mode: undone by hand closes the episode silently": (
        [drifted(corrected=False), in_sync(WEB), drifted(corrected=False)], [[D], [], [D]]),
    "fighting: the corrections are held open, told once when the fight is over": (
        [drifted(), drifted(fighting=True), drifted(fighting=True), drifted(fighting=True),
         in_sync(WEB, fighting=frozenset({WEB})), in_sync(WEB)],
        [[D, C], [D], [], [], [], [C]]),
    "an apply that fails every pass is told once, and again after it applied": (
        [failed(), failed(), in_sync(WEB), failed()], [["apply_failed"], [], [], ["apply_failed"]]),
    "a failed deployment is told once per deployment ID": (
        [deployment("ecs-svc/1"), deployment("ecs-svc/1"), deployment("ecs-svc/2")],
        [["deployment_failed"], [], ["deployment_failed"]]),
    "Degraded from entering until it leaves": (
        [health(WEB, "Degraded"), health(WEB, "Degraded"), health(WEB, "Healthy"), health(WEB, "Degraded")],
        [["degraded"], [], [], ["degraded"]]),
    "a pass that did not read its health keeps Degraded open": (
        [health(WEB, "Degraded"), in_sync(API, full=False), health(WEB, "Degraded")], [["degraded"], [], []]),
    "deletions blocked until a full pass is not": (
        [blocked(), blocked(), in_sync(WEB), blocked()],
        [["deletions_blocked"], [], [], ["deletions_blocked"]]),
    "a targeted pass neither blocks nor unblocks deletions": (
        [blocked(), in_sync(WEB, full=False), blocked(), blocked(full=False)],
        [["deletions_blocked"], [], [], []]),
    "a resource gone from the desired state closes its episodes": (
        [drifted(corrected=False), in_sync(API), drifted(corrected=False)], [[D], [], [D]]),
    "a targeted pass that did not cover it keeps its episode": (
        [drifted(corrected=False), in_sync(API, full=False), drifted(corrected=False)], [[D], [], []]),
}  # fmt: skip


@pytest.mark.parametrize("passes, expected", CASES.values(), ids=CASES.keys())
def test_each_episode_is_told_once(passes: list[Seen], expected: list[list[str]]) -> None:
    assert told(*passes) == expected


def test_drift_messages_carry_the_diff_and_who_made_it() -> None:
    _, notices = step(Episodes(), drifted(), at="t")
    detected, corrected = notices
    assert detected.resource == WEB and detected.by == {"type": "user", "name": "alice"}
    assert detected.details["paths"] == ["desiredCount"] and "desiredCount" in detected.summary
    assert corrected.details["corrections"] == 1


def test_the_correction_that_ends_a_fight_counts_the_corrections() -> None:
    episodes = Episodes()
    for seen in (drifted(fighting=True), drifted(fighting=True), drifted(fighting=True), in_sync(WEB)):
        episodes, notices = step(episodes, seen, at="t")
    assert [(n.event, n.details["corrections"]) for n in notices] == [(Event.DRIFT_CORRECTED, 3)]
    assert "3 corrections" in notices[0].summary


INVALID = ["services/web.yaml:3: spec.cluster: required"]


@pytest.mark.parametrize(
    "loads, expected",
    [
        ([("a", INVALID), ("a", INVALID), ("b", None), ("a", INVALID)], [1, 0, 0, 1]),
        ([("a", INVALID), ("b", INVALID), ("b", INVALID)], [1, 1, 0]),
        (
            [("a", None), ("a", INVALID), ("a", None), ("a", INVALID)],
            [0, 1, 0, 0],
        ),  # invalid against live AWS
        ([("", INVALID), ("", INVALID), ("", ["other.yaml:1: bad"])], [1, 0, 1]),  # no revision: by problems
    ],
    ids=["per revision until a valid one", "each invalid revision", "live-invalid stays told", "no revision"],
)
def test_an_invalid_desired_state_is_told_once_per_revision(
    loads: list[tuple[str, list[str] | None]], expected: list[int]
) -> None:
    episodes, counts = Episodes(), []
    for revision, problems in loads:
        episodes, notices = loaded(episodes, revision, problems, at="t")
        counts.append(len(notices))
        assert all(n.details["problems"] == problems for n in notices)
    assert counts == expected


def test_a_pass_of_a_revision_found_invalid_against_aws_ends_its_episode() -> None:
    episodes, _ = loaded(Episodes(), "r1", INVALID, at="t")
    episodes, _ = step(episodes, in_sync(WEB), at="t")
    _, notices = loaded(episodes, "r1", INVALID, at="t")
    assert [n.event for n in notices] == [Event.DESIRED_STATE_INVALID]
