"""Time in the emulator: how long what takes minutes in AWS takes in the sandbox, and the clock that makes it pass.

AWS does nothing at once: an ECS rolling deployment starts tasks, waits for them to be healthy, then drains the
old ones; a deleted service drains before it is INACTIVE; a CodeDeploy blue/green deployment shifts traffic, then
waits out ``terminationWaitTimeInMinutes``; an ECS blue/green, linear or canary deployment goes through its lifecycle
stages, bakes between traffic shifts and after the last one. The emulator keeps the shape of each and scales the minutes down to
seconds. Nothing runs in the background: each change is scheduled on the ``TIMELINE`` at the moment it is due,
and every request first applies what has come due (``TIMELINE.run_due``), inside the server's one-request lock.
A request therefore sees exactly the state that AWS would show at that moment, whatever came before it.

The times come from the emulator's environment (``SANDBOX_<NAME>_SECONDS``), so that ``reconciler sandbox`` and a
test session can set them; ``POST /reconciler-sandbox/timing`` with a JSON object of the same names (lower case,
e.g. ``{"ecs_rollout": 0}``) changes them until the next ``POST /moto-api/reset``. ``SANDBOX_INSTANT=1`` (or
``{"instant": true}``) makes every time 0: a change still happens on the request after the one that caused it,
never inside it, because AWS never answers with the end of a rollout.
"""

from __future__ import annotations

import heapq
import itertools
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

TIMING_PATH = "/reconciler-sandbox/timing"


@dataclass(frozen=True)
class Timing:
    """Seconds each step takes. The defaults keep AWS's shape at a scale a person can watch in ``make run``."""

    # An ECS task from PENDING to RUNNING and healthy: a rolling deployment completes after one such wave.
    ecs_rollout: float = 3.0
    # A task that never becomes healthy (an image with the crash-loop marker) fails after this long, again and again.
    ecs_task_failure: float = 1.0
    # A stopping task drains (load balancer deregistration, SIGTERM): DRAINING services, scale-in.
    ecs_drain: float = 2.0
    # Each step of a CodeDeploy ECS blue/green deployment (start, replacement task set, test traffic, production).
    codedeploy_step: float = 1.0
    # One minute of a deployment group's terminationWaitTimeInMinutes.
    codedeploy_wait_minute: float = 1.0
    # One minute of what an ECS blue/green, linear or canary deployment counts in minutes: bakeTimeInMinutes,
    # stepBakeTimeInMinutes, canaryBakeTimeInMinutes, a lifecycle hook's timeoutInMinutes.
    ecs_deployment_minute: float = 1.0
    # Each lifecycle stage of such a deployment without tasks to start or stop, and each of its hooks (a Lambda
    # function's run): PRE_SCALE_UP, POST_SCALE_UP, the traffic shifts, POST_PRODUCTION_TRAFFIC_SHIFT, ...
    ecs_lifecycle_stage: float = 0.5

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Timing:
        if environ.get("SANDBOX_INSTANT", "") not in ("", "0"):
            return cls.instant()
        given = {
            item.name: float(environ[f"SANDBOX_{item.name.upper()}_SECONDS"])
            for item in fields(cls)
            if f"SANDBOX_{item.name.upper()}_SECONDS" in environ
        }
        return cls(**given)

    @classmethod
    def instant(cls) -> Timing:
        return cls(**{item.name: 0.0 for item in fields(cls)})

    def changed(self, given: Mapping[str, Any]) -> Timing:
        """These times with ``given`` (names of fields → seconds; ``instant: true`` first makes them all 0)."""
        base = Timing.instant() if given.get("instant") else self
        known = {item.name for item in fields(self)}
        unknown = set(given) - known - {"instant"}
        if unknown:
            raise ValueError(f"unknown sandbox times: {sorted(unknown)} (known: {sorted(known)})")
        return replace(base, **{name: float(value) for name, value in given.items() if name in known})


class Timeline:
    """Changes due at a time, applied in time order by the first request that comes after them.

    ``at(when, change)`` schedules ``change(when)``; a change may schedule more (a task that fails again). Each change
    gets the time it was due, so the timestamps it writes are those AWS would have written, however late the
    request that applies it."""

    def __init__(self) -> None:
        self.timing = Timing.from_environment()
        self._due: list[tuple[float, int, Callable[[float], None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return time.time()

    def at(self, when: float, change: Callable[[float], None]) -> None:
        heapq.heappush(self._due, (when, next(self._order), change))

    def after(self, seconds: float, change: Callable[[float], None], *, start: float | None = None) -> float:
        """Schedule ``change`` ``seconds`` after ``start`` (default now); returns when it is due."""
        when = (self.now() if start is None else start) + seconds
        self.at(when, change)
        return when

    def run_due(self) -> None:
        now = self.now()
        while self._due and self._due[0][0] <= now:
            when, _, change = heapq.heappop(self._due)
            change(when)

    def reset(self) -> None:
        """Forget every change (the backends they belong to are gone) and go back to the environment's times."""
        self._due.clear()
        self.timing = Timing.from_environment()


TIMELINE = Timeline()


class TimePasses:
    """The WSGI layer that lets time pass: before each request, what has come due happens; after a reset, nothing
    is due any more; ``POST /reconciler-sandbox/timing`` changes the times (answering them as JSON). It runs
    inside the server's one-request lock, like every backend call."""

    def __init__(self, app: Any, timeline: Timeline = TIMELINE) -> None:
        self._app = app
        self._timeline = timeline

    def __call__(self, environ: Any, start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == TIMING_PATH:
            return self._timing(environ, start_response)
        self._timeline.run_due()
        answer = list(self._app(environ, start_response))
        if path == "/moto-api/reset":
            self._timeline.reset()
        return answer

    def _timing(self, environ: Any, start_response: Any) -> list[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                given = json.loads(environ["wsgi.input"].read(length) or b"{}")
                self._timeline.timing = self._timeline.timing.changed(given)
            except (ValueError, TypeError, AttributeError) as error:
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [str(error).encode()]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(asdict(self._timeline.timing)).encode()]
