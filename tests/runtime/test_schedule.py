"""The daemon's scheduling rules (``runtime/schedule.py``), one row each: a schedule and a wake-up → the schedule;
a pass that begins on a schedule and the desired state it loads → what it does; what came of a pass → the
schedule it leaves. Pure: no emulator, no clock."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.model.resource import DesiredResource, DesiredState, ResourceKey
from reconciler.runtime.schedule import (
    DUE,
    FIRST,
    LEASE_LOST,
    LEASE_TAKEN,
    MAX_STOPS,
    REMOVED,
    REPLACED,
    RETRY,
    STOPPED_FOR_THIS,
    SYNC,
    TOO_LARGE,
    Changed,
    Decision,
    Failed,
    Found,
    Full,
    Keys,
    LeaseChanged,
    Named,
    Outcome,
    Pass,
    Ran,
    Schedule,
    ScopeOf,
    Skip,
    Skipped,
    Stopped,
    SyncAsked,
    Targeted,
    Wakeup,
    after,
    begin,
    decide,
    delay,
    followed,
    new_round,
    received,
)

CLUSTER = ResourceKey("Cluster", "myapp-prod")
WORDPRESS = ResourceKey("Service", "wordpress")
FRONTAPP = ResourceKey("Service", "frontapp")
BY_HAND = ResourceKey("Service", "made-by-hand")  # in AWS, declared by no document


def desired(revision: str) -> DesiredState:
    documents = (CLUSTER, WORDPRESS, FRONTAPP)
    resources = tuple(
        DesiredResource(kind=k.kind, name=k.name, spec={}, file="x.yaml", line=1) for k in documents
    )
    return DesiredState(resources=resources, revision=revision)


R1, R2 = desired("r1"), desired("r2")
INTERVAL, JITTER = 30.0, 0.95
IDLE = Schedule(interval=INTERVAL, baseline=R1, next_full=100.0)  # r1 handled; the next full pass due at 100
NOT_DUE, DUE_AT = 50.0, 100.0
NOTHING: Keys = frozenset()


def with_cluster(wanted: Keys) -> Keys:
    """The engine's scope of touched keys: they and what they refer to."""
    return wanted | {CLUSTER}


def too_large(wanted: Keys) -> Keys | None:
    return None


def taken(state: Schedule, now: float) -> Pass:
    return begin(state, now, jitter=JITTER)[1]


def changed(*keys: ResourceKey) -> Found:
    """A new revision, r2, whose documents of ``keys`` changed."""
    return Found(R2, frozenset(keys))


# ---- a wake-up → the schedule


@pytest.mark.parametrize(
    ("state", "wakeup", "expected"),
    [
        pytest.param(IDLE, SyncAsked(), replace(IDLE, sync=True),
                     id="POST /sync is pending for the next pass; the source wakes the loop, after a fetch for Git"),
        pytest.param(IDLE, Changed("new commit"), replace(IDLE, woken=True),
                     id="a commit or a directory edit wakes the loop; the load says what changed"),
        pytest.param(replace(IDLE, touched=frozenset({WORDPRESS})), Named(frozenset({FRONTAPP}), "events"),
                     replace(IDLE, touched=frozenset({WORDPRESS, FRONTAPP}), woken=True),
                     id="AWS events add the keys they name to those pending, and wake the loop"),
        pytest.param(IDLE, LeaseChanged(leader=True), replace(IDLE, full=LEASE_TAKEN, woken=True),
                     id="the lease taken asks for a full pass at once"),
        pytest.param(IDLE, LeaseChanged(leader=False), replace(IDLE, full=LEASE_LOST, woken=True),
                     id="the lease lost asks for a full pass, run once it is taken again"),
    ],
)  # fmt: skip
def test_a_wake_up(state: Schedule, wakeup: Wakeup, expected: Schedule) -> None:
    assert received(state, wakeup) == expected


@pytest.mark.parametrize(
    ("wakeup", "stops_full_pass"),
    [
        pytest.param(Changed("new commit"), True, id="a commit stops a full pass still reading"),
        pytest.param(Named(frozenset({WORDPRESS}), "events"), True, id="an event stops a full pass still reading"),
        pytest.param(LeaseChanged(leader=True), False, id="a lease change does not stop a full pass"),
        pytest.param(SyncAsked(), False, id="POST /sync stops one through the wake-up that follows it"),
    ],
)  # fmt: skip
def test_which_wake_ups_stop_a_full_pass(wakeup: Wakeup, stops_full_pass: bool) -> None:
    assert wakeup.stops_full_pass is stops_full_pass


def test_a_pass_takes_what_is_pending_and_what_arrives_later_is_for_the_next() -> None:
    state = received(received(IDLE, SyncAsked()), Named(frozenset({WORDPRESS}), "events"))
    state, first = begin(state, NOT_DUE, jitter=JITTER)
    assert (first.touched, first.sync, first.due) == (frozenset({WORDPRESS}), True, False)
    state = received(state, Named(frozenset({FRONTAPP}), "events"))  # while the first pass runs
    assert state.touched == {FRONTAPP} and not state.sync
    assert begin(state, DUE_AT, jitter=JITTER)[1].touched == {FRONTAPP}


# ---- a pass begins on a schedule and loads a desired state → what it does


@pytest.mark.parametrize(
    ("state", "now", "found", "scope_of", "expected"),
    [
        pytest.param(Schedule(interval=INTERVAL), 0.0, Found(R1), with_cluster, Full(FIRST),
                     id="the first pass is a full one, and never stops for a change"),
        pytest.param(IDLE, NOT_DUE, Found(R1), with_cluster, Skip(),
                     id="no change and the interval not yet due: skip"),
        pytest.param(IDLE, DUE_AT, Found(R1), with_cluster, Full(DUE, may_stop=True),
                     id="no change and the interval due: a full pass, which a change may stop"),
        pytest.param(IDLE, NOT_DUE, changed(), with_cluster, Skip(),
                     id="a commit that declares the same (a comment, a moved document): skip"),
        pytest.param(IDLE, NOT_DUE, changed(WORDPRESS), with_cluster,
                     Targeted(frozenset({WORDPRESS, CLUSTER}), "desired"),
                     id="a commit that changes a service: a targeted pass of it and what it refers to"),
        pytest.param(replace(IDLE, touched=frozenset({WORDPRESS})), NOT_DUE, Found(R1), with_cluster,
                     Targeted(frozenset({WORDPRESS, CLUSTER}), "event"),
                     id="an event for a declared service during an idle interval: a targeted pass of that service"),
        pytest.param(replace(IDLE, touched=frozenset({BY_HAND})), NOT_DUE, Found(R1), with_cluster, Skip(),
                     id="an event for a resource no document declares: skip"),
        pytest.param(replace(IDLE, touched=frozenset({FRONTAPP})), NOT_DUE, changed(WORDPRESS), with_cluster,
                     Targeted(frozenset({WORDPRESS, FRONTAPP, CLUSTER}), "both"),
                     id="a commit and an event before one pass: one targeted pass of both"),
        pytest.param(IDLE, NOT_DUE, Found(R2, None), with_cluster, Full(REMOVED, may_stop=True),
                     id="a commit that removes a document: a full pass, deletions are judged on the whole estate"),
        pytest.param(replace(IDLE, sync=True), NOT_DUE, Found(R1), with_cluster, Full(SYNC, may_stop=True),
                     id="POST /sync with nothing changed: a full pass"),
        pytest.param(replace(IDLE, sync=True), NOT_DUE, changed(WORDPRESS), with_cluster,
                     Targeted(frozenset({WORDPRESS, CLUSTER}), "desired"),
                     id="POST /sync after a commit: the commit's targeted pass answers it"),
        pytest.param(IDLE, NOT_DUE, changed(WORDPRESS), too_large, Full(TOO_LARGE, may_stop=True),
                     id="a scope that is a large share of the estate: a full pass"),
        pytest.param(IDLE, DUE_AT, changed(WORDPRESS), with_cluster,
                     Targeted(frozenset({WORDPRESS, CLUSTER}), "desired"),
                     id="a commit when the interval is due: its targeted pass first"),
        pytest.param(replace(IDLE, full=LEASE_TAKEN), NOT_DUE, changed(WORDPRESS), with_cluster, Full(LEASE_TAKEN),
                     id="a full pass asked for (the lease taken) runs whatever changed, and never stops"),
        pytest.param(replace(IDLE, stops=MAX_STOPS - 1), DUE_AT, Found(R1), with_cluster, Full(DUE, may_stop=True),
                     id="a full pass that stopped twice in a row may stop again"),
        pytest.param(replace(IDLE, stops=MAX_STOPS), DUE_AT, Found(R1), with_cluster, Full(DUE),
                     id="a full pass that stopped three times in a row runs to its end"),
    ],
)  # fmt: skip
def test_what_a_pass_does(
    state: Schedule, now: float, found: Found, scope_of: ScopeOf, expected: Decision
) -> None:
    assert decide(taken(state, now), found, scope_of) == expected


def test_the_engine_is_asked_for_a_scope_only_when_a_targeted_pass_may_do() -> None:
    asked: list[Keys] = []

    def scope_of(wanted: Keys) -> Keys | None:
        asked.append(wanted)
        return wanted

    decide(taken(IDLE, DUE_AT), Found(R1), scope_of)
    decide(taken(replace(IDLE, full=LEASE_TAKEN), NOT_DUE), changed(WORDPRESS), scope_of)
    decide(taken(IDLE, NOT_DUE), Found(R2, None), scope_of)
    assert asked == []
    decide(taken(IDLE, NOT_DUE), changed(WORDPRESS), scope_of)
    assert asked == [{WORDPRESS}]


# ---- what came of a pass → the schedule it leaves

AFTER_FULL = replace(IDLE, baseline=R2, next_full=DUE_AT + INTERVAL * JITTER)
FULL_DUE = Full(DUE, may_stop=True)
WORDPRESS_ONLY = Targeted(frozenset({WORDPRESS, CLUSTER}), "desired")


@pytest.mark.parametrize(
    ("state", "outcome", "expected"),
    [
        pytest.param(replace(IDLE, full_after=True, stops=2), Ran(taken(IDLE, DUE_AT), FULL_DUE, changed()),
                     AFTER_FULL,
                     id="a full pass: the next is due an interval (jittered) after it began; what asked for it is done"),
        pytest.param(replace(IDLE, full=LEASE_TAKEN), Ran(taken(IDLE, DUE_AT), FULL_DUE, changed()), AFTER_FULL,
                     id="a lease change during a full pass: that full pass answers it"),
        pytest.param(IDLE, Failed(taken(IDLE, DUE_AT), FULL_DUE, Found(R1)),
                     replace(IDLE, next_full=DUE_AT + INTERVAL * JITTER),
                     id="a full pass that failed is not tried again before the interval"),
        pytest.param(Schedule(interval=INTERVAL), Failed(taken(Schedule(interval=INTERVAL), 0.0)),
                     Schedule(interval=INTERVAL, next_full=INTERVAL * JITTER),
                     id="the first pass failing (its desired state invalid): the next an interval later"),
        pytest.param(IDLE, Ran(taken(IDLE, NOT_DUE), WORDPRESS_ONLY, changed(WORDPRESS)), replace(IDLE, baseline=R2),
                     id="a targeted pass: the next commit's changes are counted from its revision"),
        pytest.param(IDLE, Ran(taken(IDLE, NOT_DUE), WORDPRESS_ONLY, changed(WORDPRESS), replaced=True),
                     replace(IDLE, baseline=R2, full=REPLACED, woken=True),
                     id="a targeted pass that replaced a resource: a full pass at once, for what pointed at it"),
        pytest.param(replace(IDLE, full_after=True), Ran(taken(IDLE, NOT_DUE), WORDPRESS_ONLY, changed(WORDPRESS)),
                     replace(IDLE, baseline=R2, full=STOPPED_FOR_THIS, full_after=True, woken=True),
                     id="the targeted pass of a change that stopped a full pass asked for: that full pass at once"),
        pytest.param(IDLE, Ran(taken(IDLE, DUE_AT), WORDPRESS_ONLY, changed(WORDPRESS)),
                     replace(IDLE, baseline=R2, woken=True),
                     id="a targeted pass when the interval is due: the interval's full pass at once"),
        pytest.param(IDLE, Stopped(taken(IDLE, DUE_AT), Found(R1)), replace(IDLE, stops=1, woken=True),
                     id="the interval's full pass stopped by a commit: it runs again, after the commit's pass"),
        pytest.param(IDLE, Stopped(taken(replace(IDLE, sync=True), NOT_DUE), Found(R1)),
                     replace(IDLE, stops=1, full_after=True, woken=True),
                     id="a full pass asked for (POST /sync) that stopped: right after the change's pass, not at the interval"),
        pytest.param(IDLE, Stopped(taken(IDLE, DUE_AT), changed()), replace(IDLE, baseline=R2, stops=1, woken=True),
                     id="a revision that declares the same is the baseline even if the full pass it got stopped"),
        pytest.param(IDLE, Stopped(taken(IDLE, NOT_DUE), Found(R2, None)),
                     replace(IDLE, stops=1, full_after=True, woken=True),
                     id="a removal's full pass that stopped: the baseline stays, so the next pass sees the removal"),
        pytest.param(replace(IDLE, touched=frozenset({FRONTAPP})),
                     Failed(taken(replace(IDLE, touched=frozenset({WORDPRESS})), NOT_DUE), WORDPRESS_ONLY, Found(R1)),
                     replace(IDLE, full=RETRY, touched=frozenset({WORDPRESS, FRONTAPP}), woken=True),
                     id="a targeted pass that failed: a full pass at once, with the keys it was for"),
        pytest.param(IDLE,
                     Failed(taken(replace(IDLE, touched=frozenset({WORDPRESS})), NOT_DUE), WORDPRESS_ONLY, Found(R1),
                            terminal=True),
                     replace(IDLE, full=RETRY, touched=frozenset({WORDPRESS})),
                     id="a targeted pass that failed for good (access denied): its full pass comes when it is due"),
        pytest.param(IDLE, Failed(taken(IDLE, NOT_DUE)), replace(IDLE, full=RETRY, woken=True),
                     id="a pass that failed before deciding (a timeout loading): a full pass at once"),
        pytest.param(IDLE, Skipped(changed()), replace(IDLE, baseline=R2),
                     id="a skip over a revision that declares the same: it becomes the baseline"),
    ],
)  # fmt: skip
def test_what_a_pass_leaves(state: Schedule, outcome: Outcome, expected: Schedule) -> None:
    assert after(state, outcome) == expected


# ---- the loop's rounds


@pytest.mark.parametrize(
    ("state", "now", "seconds"),
    [
        pytest.param(replace(IDLE, woken=True), NOT_DUE, 0.0, id="woken during the round: the next at once"),
        pytest.param(IDLE, NOT_DUE, 50.0, id="nothing pending: sleep until the interval's full pass"),
        pytest.param(IDLE, 150.0, 0.0, id="the interval overdue: no sleep"),
    ],
)  # fmt: skip
def test_how_long_the_loop_sleeps(state: Schedule, now: float, seconds: float) -> None:
    assert delay(state, now) == seconds


def test_a_round_forgets_the_last_ones_wake_ups() -> None:
    assert new_round(replace(IDLE, woken=True)) == IDLE


def test_a_follower_looks_again_an_interval_later() -> None:
    assert followed(IDLE, 120.0) == replace(IDLE, next_full=120.0 + INTERVAL)


# ---- rules in sequence


def test_a_commit_while_a_full_pass_runs_stops_it_and_it_runs_again_on_the_new_revision() -> None:
    state = new_round(IDLE)
    state, full = begin(state, DUE_AT, jitter=JITTER)
    assert decide(full, Found(R1), with_cluster) == FULL_DUE
    state = received(state, Changed("new commit"))  # while it reads: it stops
    state = new_round(after(state, Stopped(full, Found(R1))))
    state, commit = begin(state, DUE_AT + 1, jitter=JITTER)
    assert decide(commit, changed(WORDPRESS), with_cluster) == WORDPRESS_ONLY
    state = after(state, Ran(commit, WORDPRESS_ONLY, changed(WORDPRESS)))
    assert delay(state, DUE_AT + 2) == 0.0
    state, again = begin(new_round(state), DUE_AT + 2, jitter=JITTER)
    assert decide(again, Found(R2), with_cluster) == FULL_DUE
    state = after(state, Ran(again, FULL_DUE, Found(R2)))
    assert state == replace(IDLE, baseline=R2, next_full=DUE_AT + 2 + INTERVAL * JITTER)


def test_a_full_pass_stops_for_changes_at_most_three_times_in_a_row() -> None:
    state = IDLE
    for _ in range(MAX_STOPS):
        state, full = begin(new_round(state), DUE_AT, jitter=JITTER)
        assert decide(full, Found(R1), with_cluster) == FULL_DUE
        state = after(state, Stopped(full, Found(R1)))
    state, full = begin(new_round(state), DUE_AT, jitter=JITTER)
    assert decide(full, Found(R1), with_cluster) == Full(DUE)
    assert after(state, Ran(full, Full(DUE), Found(R1))).stops == 0
