"""When the daemon runs a pass, and which: its scheduling rules as pure functions over frozen values.

The daemon (``daemon.py``) holds one ``Schedule`` and does the I/O around it. It folds each wake-up in as it
arrives (``received``); when a pass begins, the pass takes what is pending (``begin``); once the desired state is
loaded, ``decide`` says whether to skip, run a full pass or a targeted one; what came of it is folded back in
(``after``), and ``delay`` says how long the loop may sleep. Nothing here awaits, reads a clock or draws a random
number (the daemon hands in the time and the jitter), so that every rule is one row of a table
(``tests/runtime/test_schedule.py``) rather than a race to stage end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

from reconciler.model.resource import DesiredState, ResourceKey

# A full pass stops for changes at most this many times in a row, so that it always runs in the end.
MAX_STOPS = 3
JITTER = (0.9, 1.0)  # the next full pass is due this share of the interval after the last one began

# Why a full pass runs (``Full.reason``).
FIRST = "no desired state handled yet"
LEASE_TAKEN = "lease taken"
LEASE_LOST = "lease lost"
REPLACED = "a targeted pass replaced a resource"
STOPPED_FOR_THIS = "the full pass that stopped for this change"
RETRY = "a pass failed: what it was for is tried again with the whole estate"
REMOVED = "a document was removed"
SYNC = "POST /sync with nothing changed"
DUE = "the interval is due"
TOO_LARGE = "the scope is a large share of the estate"

Keys = frozenset[ResourceKey]
# The engine's scope of touched keys (``Engine.scope_of``); None when it is too large for a targeted pass.
ScopeOf = Callable[[Keys], Keys | None]


@dataclass(frozen=True)
class Schedule:
    """What is pending, and what the passes so far leave for the next ones."""

    interval: float  # seconds between full passes
    full: str | None = None  # a full pass asked for, and why (a lease change, a replace, a failed pass)
    sync: bool = False  # POST /sync: the next pass answers it, full unless the desired state changed
    touched: Keys = frozenset()  # named by AWS events since the last pass began
    baseline: DesiredState | None = None  # what the passes so far handled: a new revision's changes are since
    next_full: float = 0.0  # monotonic time the next full pass is due
    stops: int = 0  # times in a row the full pass now due has stopped for a change
    full_after: bool = False  # a full pass asked for stopped for a change: it runs after the change's pass
    woken: bool = False  # since this round of the loop began: the next round does not wait for the interval


# Wake-ups: each class says whether it wakes the loop, and whether it may stop a full pass still reading and
# planning (a change should not wait seconds for a full pass at thousands of services; a lease change may).


@dataclass(frozen=True)
class SyncAsked:
    """POST /sync. It wakes nothing itself: the source does, at once for a directory and once its fetch is done
    for Git, so that the pass runs on what was fetched (``Changed``)."""

    wakes: ClassVar[bool] = False
    stops_full_pass: ClassVar[bool] = False
    reason: ClassVar[str] = "sync requested"


@dataclass(frozen=True)
class Changed:
    """The desired state may have changed: a new commit, an edited directory, POST /sync. Only the load says
    what changed (``Found``): since the baseline, however many commits that spans."""

    reason: str
    wakes: ClassVar[bool] = True
    stops_full_pass: ClassVar[bool] = True


@dataclass(frozen=True)
class Named:
    """AWS events named these resources: they may have drifted, and a targeted pass looks at them at once."""

    keys: Keys
    reason: str
    wakes: ClassVar[bool] = True
    stops_full_pass: ClassVar[bool] = True


@dataclass(frozen=True)
class LeaseChanged:
    """This replica took or lost the leader lease (or shards): what it may write changed, which only a full pass
    accounts for."""

    leader: bool
    wakes: ClassVar[bool] = True
    stops_full_pass: ClassVar[bool] = False

    @property
    def reason(self) -> str:
        return LEASE_TAKEN if self.leader else LEASE_LOST


Wakeup = SyncAsked | Changed | Named | LeaseChanged


@dataclass(frozen=True)
class Pass:
    """What a pass took from the schedule when it began: wake-ups after that are for the next pass."""

    started: float  # monotonic
    due: bool  # the interval's full pass was due when it began
    full: str | None  # a full pass, whatever the desired state says, and why
    touched: Keys
    sync: bool
    may_stop: bool  # a full pass it runs may stop for a change (one asked for never does)
    jitter: float  # the share of the interval after which the next full pass is due, if this pass is one


@dataclass(frozen=True)
class Found:
    """What loading the desired state found: the state, and the keys whose documents changed since the baseline
    (None: a document was removed, and deletions are judged on the whole estate)."""

    desired: DesiredState
    changed: Keys | None = frozenset()


@dataclass(frozen=True)
class Skip:
    """Nothing changed, nothing was asked for and the interval is not due: no pass."""


@dataclass(frozen=True)
class Full:
    reason: str
    may_stop: bool = False  # stops, before writing anything, for a change arriving while it reads and plans


@dataclass(frozen=True)
class Targeted:
    scope: Keys  # what the touched keys refer to, and what refers to them (``plan/targets.py``)
    trigger: str  # "desired", "event" or "both": reconciler_targeted_passes_total's label


Decision = Skip | Full | Targeted


@dataclass(frozen=True)
class Skipped:
    found: Found


@dataclass(frozen=True)
class Ran:
    """The pass ran to its end (some of its changes may have failed: it still covered its scope)."""

    pass_: Pass
    decision: Full | Targeted
    found: Found
    replaced: bool = False  # it replaced a resource


@dataclass(frozen=True)
class Stopped:
    """A full pass stopped, before writing anything, for a change that arrived meanwhile."""

    pass_: Pass
    found: Found


@dataclass(frozen=True)
class Failed:
    """The pass raised: an invalid first desired state, a timeout, a state invalid against live AWS. What it had
    decided, and found, when it did."""

    pass_: Pass
    decision: Decision | None = None
    found: Found | None = None
    terminal: bool = (
        False  # a failure retrying will not fix (``TerminalError``: access denied, a refused request)
    )


Outcome = Skipped | Ran | Stopped | Failed


def received(state: Schedule, wakeup: Wakeup) -> Schedule:
    """A wake-up folded in. Events coalesce: whatever arrives while a pass runs waits for the next one."""
    if isinstance(wakeup, SyncAsked):
        return replace(state, sync=True)
    if isinstance(wakeup, Named):
        return replace(state, touched=state.touched | wakeup.keys, woken=True)
    if isinstance(wakeup, LeaseChanged):
        return replace(state, full=wakeup.reason, woken=True)
    return replace(state, woken=True)


def new_round(state: Schedule) -> Schedule:
    """A round of the loop begins: wake-ups from now on make the next round start at once."""
    return replace(state, woken=False)


def begin(state: Schedule, now: float, *, jitter: float) -> tuple[Schedule, Pass]:
    """A pass begins: it takes the keys events named and POST /sync, and answers them, targeted or full."""
    full = state.full or (FIRST if state.baseline is None else None)
    taken = Pass(
        started=now,
        due=now >= state.next_full,
        full=full,
        touched=state.touched,
        sync=state.sync,
        may_stop=full is None and state.stops < MAX_STOPS,
        jitter=jitter,
    )
    return replace(state, touched=frozenset(), sync=False), taken


def decide(taken: Pass, found: Found, scope_of: ScopeOf) -> Decision:
    """What the pass does with the desired state it loaded. ``scope_of`` is the engine's, asked only when a
    targeted pass may do: a scope that is a large share of the estate costs no less than a full pass."""
    if taken.full is not None:
        return Full(taken.full)
    if found.changed is None:
        return Full(REMOVED, taken.may_stop)
    named = _named(taken, found)
    wanted = found.changed | named
    if not wanted:
        if taken.sync:
            return Full(SYNC, taken.may_stop)
        return Full(DUE, taken.may_stop) if taken.due else Skip()
    scope = scope_of(wanted)
    if scope is None:
        return Full(TOO_LARGE, taken.may_stop)
    return Targeted(scope, _trigger(found.changed, named))


def after(state: Schedule, outcome: Outcome) -> Schedule:
    """What a pass leaves for the next ones."""
    if isinstance(outcome, Skipped):  # a new revision that declares the same (a comment, a moved document)
        return replace(state, baseline=outcome.found.desired)
    if isinstance(outcome, Ran):
        state = replace(state, baseline=outcome.found.desired)
        if isinstance(outcome.decision, Full):
            return _full_over(state, outcome.pass_)
        return _targeted_over(state, outcome.pass_, replaced=outcome.replaced)
    if outcome.found is not None and _settled(outcome.pass_, outcome.found):
        state = replace(state, baseline=outcome.found.desired)
    if isinstance(outcome, Stopped):  # it runs again: the change that stopped it woke the loop
        return replace(
            state, stops=state.stops + 1, full_after=state.full_after or not outcome.pass_.due, woken=True
        )
    if _was_full(outcome):  # it is not tried again before the interval
        return _full_over(state, outcome.pass_)
    # what a targeted pass was for goes to a full pass: at once, unless it failed in a way that retrying will not
    # fix, when the full pass would read the whole estate only to fail the same way; then it comes when it is due
    touched = state.touched | outcome.pass_.touched
    return replace(
        state, full=state.full or RETRY, touched=touched, woken=state.woken or not outcome.terminal
    )


def followed(state: Schedule, now: float) -> Schedule:
    """A round in which this replica may not write (it only loaded the desired state): the next is an interval
    away, unless a wake-up comes first (the lease taken, which asks for a full pass)."""
    return replace(state, next_full=now + state.interval)


def delay(state: Schedule, now: float) -> float:
    """Seconds the loop may sleep before the next round, unless a wake-up comes first."""
    return 0.0 if state.woken else max(0.0, state.next_full - now)


def _full_over(state: Schedule, taken: Pass) -> Schedule:
    """A full pass is over, well or not: it covered what every request was for, and the next one is due an
    interval (jittered) after this one began."""
    next_full = taken.started + state.interval * taken.jitter
    return replace(state, full=None, full_after=False, stops=0, next_full=next_full)


def _targeted_over(state: Schedule, taken: Pass, *, replaced: bool) -> Schedule:
    """A targeted pass that replaced something may have left others pointing at the old one, and one that
    stopped a full pass asked for owes it: a full pass follows at once. So does the interval's, when due."""
    if replaced or state.full_after:
        reason = state.full or (REPLACED if replaced else STOPPED_FOR_THIS)
        return replace(state, full=reason, woken=True)
    return replace(state, woken=state.woken or taken.due)


def _named(taken: Pass, found: Found) -> Keys:
    """The keys events named that the desired state declares: an event about anything else is not ours."""
    if not taken.touched:
        return frozenset()
    declared = found.desired.by_key()
    return frozenset(key for key in taken.touched if key in declared)


def _settled(taken: Pass, found: Found) -> bool:
    """Nothing asked this pass for anything but the interval: the desired state it loaded declares what the
    baseline does, so it becomes the baseline, whether or not a full pass then ran to its end."""
    if taken.full is not None or taken.sync or found.changed is None:
        return False
    return not found.changed and not _named(taken, found)


def _was_full(outcome: Failed) -> bool:
    """Whether the pass that failed was a full one: as decided, or as asked for if it failed before deciding."""
    if outcome.decision is None:
        return outcome.pass_.full is not None
    return isinstance(outcome.decision, Full)


def _trigger(changed: Keys, named: Keys) -> str:
    if changed and named:
        return "both"
    return "desired" if changed else "event"
